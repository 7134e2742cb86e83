#!/usr/bin/env bash
# soak.sh — a bounded soak test of ltk: SOAK_DEVICES devices (JWT, QoS 1)
# drive `ltk target` in its own process for SOAK_DURATION; halfway through,
# the target is stopped and started again. It samples the load generator's
# RSS and, at the end, checks:
#   - every device reconnected after the restart (the target counts
#     SOAK_DEVICES connections again within SOAK_RECONNECT_WAIT);
#   - every publish is accounted for: publishes = echo receives + echo
#     timeouts + last message timeouts (in flight at the stop) + failed
#     publishes (PUBACK missing, connection lost);
#   - the generator's RSS is flat after the ramp: its least-squares slope is
#     at most SOAK_MAX_SLOPE MB per hour. A window shorter than
#     SOAK_SLOPE_WINDOW seconds (600) is mostly the runtime's and the
#     results store's warm-up: its slope is reported, not judged.
# It prints what it measured and exits 0 when every check holds, 1 when one
# fails, 2 when it could not run.
#
#   scripts/soak.sh                                        # 30 minutes, 1,000 devices
#   SOAK_DURATION=2m SOAK_DEVICES=200 scripts/soak.sh       # a short run
#   make soak SOAK_DURATION=2m SOAK_DEVICES=200
#
# Settings (environment): SOAK_DURATION (30m; Go-style h/m/s, e.g. 1h, 90s),
# SOAK_DEVICES (1000), SOAK_RATE (spawn rate, devices/s; default devices/10),
# SOAK_PORT (18830), SOAK_METRICS_PORT (19883), SOAK_SAMPLE (RSS sample
# period in seconds, 5), SOAK_RECONNECT_WAIT (seconds, 120), SOAK_MAX_SLOPE
# (MB/h, 20), SOAK_SLOPE_WINDOW (s, 600), SOAK_DIR (work directory, kept;
# default a new temporary one),
# LTK (the binary; see ltk.sh).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/ltk.sh"

duration=${SOAK_DURATION:-30m}
devices=${SOAK_DEVICES:-1000}
rate=${SOAK_RATE:-$(( devices / 10 > 0 ? devices / 10 : 1 ))}
port=${SOAK_PORT:-18830}
metrics_port=${SOAK_METRICS_PORT:-19883}
sample=${SOAK_SAMPLE:-5}
reconnect_wait=${SOAK_RECONNECT_WAIT:-120}
max_slope=${SOAK_MAX_SLOPE:-20}
slope_window=${SOAK_SLOPE_WINDOW:-600}
dir=${SOAK_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/ltk-soak.XXXXXX")}

# seconds converts a duration such as 30m, 1h30m or 90s to seconds.
seconds() {
  local s=$1 total=0 n unit
  [[ $s =~ ^([0-9]+[hms])+$ ]] || { echo "soak: duration '$1': want e.g. 30m, 1h30m or 90s" >&2; exit 2; }
  while [[ $s =~ ^([0-9]+)([hms])(.*)$ ]]; do
    n=${BASH_REMATCH[1]} unit=${BASH_REMATCH[2]} s=${BASH_REMATCH[3]}
    case $unit in h) total=$(( total + n * 3600 ));; m) total=$(( total + n * 60 ));; s) total=$(( total + n ));; esac
  done
  echo "$total"
}
secs=$(seconds "$duration")
(( secs >= 60 )) || { echo "soak: SOAK_DURATION $duration: want at least 1m (a restart in the middle needs time on both sides)" >&2; exit 2; }

mkdir -p "$dir"
cd "$dir"
echo "soak: $devices devices, QoS 1, $duration, spawn $rate/s, target on 127.0.0.1:$port, in $dir"

target_pid='' run_pid='' sampler_pid=''
cleanup() {
  for p in $sampler_pid $run_pid $target_pid; do
    kill "$p" 2>/dev/null || true
  done
}
trap cleanup EXIT

[ -s devicelist.csv ] || "$LTK" devices create 1 "$devices" --alg ES256 --quiet

start_target() {
  "$LTK" target --addr "127.0.0.1:$port" --metrics-addr "127.0.0.1:$metrics_port" >>target.log 2>&1 &
  target_pid=$!
}

# metric prints the target's value of an unlabelled metric, or nothing.
metric() {
  curl -fsS "http://127.0.0.1:$metrics_port/metrics" 2>/dev/null | awk -v m="$1" '$1 == m { printf "%d\n", $2 }'
}

# wait_connections waits up to $2 seconds for the target to count $1
# connections; it prints the seconds it took, or fails.
wait_connections() {
  local want=$1 limit=$2 begin=$SECONDS n
  while (( SECONDS - begin < limit )); do
    n=$(metric ltk_target_connections)
    if [[ $n == "$want" ]]; then
      echo $(( SECONDS - begin ))
      return 0
    fi
    sleep 1
  done
  return 1
}

start_target
wait_connections 0 30 >/dev/null || { echo "soak: ltk target did not start; target.log:" >&2; cat target.log >&2; exit 2; }

t0=$SECONDS
"$LTK" run --headless -c "$devices" -r "$rate" -t "$duration" --broker "tcp://127.0.0.1:$port" --qos 1 \
  --echo-timeout 10s --only-summary --csv soak >run.log 2>&1 &
run_pid=$!

# The sampler: seconds since the start and RSS in kB, every $sample s.
(
  while kill -0 "$run_pid" 2>/dev/null; do
    rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$run_pid/status" 2>/dev/null || true)
    [ -n "$rss" ] && echo "$(( SECONDS - t0 )) $rss"
    sleep "$sample"
  done
) >rss.txt &
sampler_pid=$!

ramp=$(( devices / rate + 1 ))
if ! up=$(wait_connections "$devices" $(( ramp + reconnect_wait ))); then
  echo "soak: FAIL the $devices devices never were all connected before the restart; run.log:" >&2
  tail -20 run.log >&2
  exit 1
fi
echo "soak: all $devices devices connected $(( SECONDS - t0 )) s after the start"

# The restart, halfway.
half=$(( secs / 2 ))
while (( SECONDS - t0 < half )); do sleep 1; done
received_before=$(metric ltk_target_messages_received_total)
kill -TERM "$target_pid"
wait "$target_pid" 2>/dev/null || true
restart_at=$(( SECONDS - t0 ))
start_target
if back=$(wait_connections "$devices" "$reconnect_wait"); then
  echo "soak: target restarted at ${restart_at} s (it had received ${received_before} messages); all $devices devices reconnected within ${back} s"
  reconnected=1
else
  echo "soak: FAIL target restarted at ${restart_at} s; only $(metric ltk_target_connections) of $devices devices reconnected within ${reconnect_wait} s"
  reconnected=0
fi

set +e
wait "$run_pid"
code=$?
set -e
run_pid=''
wait "$sampler_pid" 2>/dev/null || true
sampler_pid=''
echo "soak: ltk run exited with $code after $(( SECONDS - t0 )) s (1: failures recorded, which the restart's lost connections are)"
if (( code != 0 && code != 1 )); then
  echo "soak: FAIL ltk run failed; run.log:" >&2
  tail -20 run.log >&2
  exit 1
fi

# Counts from soak_stats.csv: Type,Name,Request Count,Failure Count,...
count() { awk -F, -v name="$1" -v col="$2" '$2 == name { print $col; found = 1 } END { if (!found) print 0 }' soak_stats.csv; }
publishes=$(count "MQTT publish" 3)
failed_publishes=$(count "MQTT publish" 4)
receives=$(count "echo receive" 3)
timeouts=$(count "echo timeout" 3)
last=$(count "last message timeout" 3)
connects=$(count "MQTT connect" 3)
failed_connects=$(count "MQTT connect" 4)
disconnects=$(count "MQTT disconnect" 3)
late=$(count "echo late" 3)
accounted=$(( receives + timeouts + last + failed_publishes ))
echo "soak: publishes $publishes = receives $receives + echo timeouts $timeouts + in flight at the stop $last + failed publishes $failed_publishes ($accounted); echo late $late"
echo "soak: connects $connects ($failed_connects failed), lost connections $disconnects"

# RSS: least-squares slope over the samples after the ramp (and 10 % of the run).
skip=$(( ramp + 10 > secs / 10 ? ramp + 10 : secs / 10 ))
read -r n slope first last_rss max_rss < <(awk -v skip="$skip" '
  $1 >= skip { n++; x += $1; y += $2; xx += $1 * $1; xy += $1 * $2; if (n == 1) first = $2; last = $2; if ($2 > max) max = $2 }
  END {
    if (n < 2) { print n, 0, first + 0, last + 0, max + 0; exit }
    s = (n * xy - x * y) / (n * xx - x * x)   # kB per second
    printf "%d %.2f %d %d %d\n", n, s * 3600 / 1024, first, last, max
  }' rss.txt)
echo "soak: generator RSS after ${skip} s: ${n} samples, $(( first / 1024 )) MB first, $(( last_rss / 1024 )) MB last, $(( max_rss / 1024 )) MB max; slope ${slope} MB/h"

ok=1
(( reconnected )) || ok=0
if (( publishes != accounted )); then echo "soak: FAIL $(( publishes - accounted )) publishes unaccounted for"; ok=0; fi
if (( connects - failed_connects < 2 * devices )); then
  echo "soak: FAIL $(( connects - failed_connects )) successful connects: want at least $(( 2 * devices )) (each device before and after the restart)"; ok=0
fi
if (( n < 2 )); then echo "soak: FAIL too few RSS samples after the ramp"; ok=0; fi
window=$(( secs - skip ))
if (( window < slope_window )); then
  echo "soak: the RSS slope is not judged: ${window} s after the ramp is mostly warm-up (SOAK_SLOPE_WINDOW ${slope_window} s)"
elif awk -v s="$slope" -v m="$max_slope" 'BEGIN { exit !(s > m) }'; then
  echo "soak: FAIL RSS grows by ${slope} MB/h (limit ${max_slope})"; ok=0
else
  echo "soak: RSS flat: ${slope} MB/h within the limit of ${max_slope}"
fi
if (( ok )); then
  echo "soak: PASS"
  exit 0
fi
exit 1
