#!/usr/bin/env bash
# e2e.sh (make e2e-kube): the tutorial's distributed flow on a real single-node Kubernetes
# cluster on this machine, offline, and the cluster down again:
#
#   up.sh (Kubernetes built once and cached) → the ltk binary and its image, built without
#   a Docker engine and imported into containerd → ltk devices create → ltk setup
#   --use-context --target (workers are ready only once they reached the master through
#   its Service) → a headless test started through the master's REST API (POST /swarm)
#   → the master's totals are the workers' sum, each worker ran its ordinal's block, no
#   failures → the results store copied out of the master pod (kubectl exec ... ltk runs
#   --export -) and ltk harvest on it → ltk teardown --yes → down.sh.
#
# It prints how long each step took. Run as root; the cluster is torn down on any exit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/env.sh"

E2E_DEVICES=${E2E_DEVICES:-12}
E2E_WORKERS=${E2E_WORKERS:-3}
E2E_RUN_TIME=${E2E_RUN_TIME:-30}            # seconds of test
E2E_WEB_PORT=${E2E_WEB_PORT:-28089}         # the port-forwarded web UI on this machine
E2E_TARGET_PORT=${E2E_TARGET_PORT:-29883}   # the port-forwarded target's metrics (execution times)
E2E_IMAGE=${E2E_IMAGE:-localhost/ltk:e2e}
E2E_KEEP=${E2E_KEEP:-}                      # set: leave the cluster up after a failure, to look at it

work="$DIR/e2e"
ltk="$LTK_LOCALCLUSTER_CACHE/ltk-e2e/ltk"
export PATH="$KUBE_BIN:$PATH" KUBECONFIG="$KUBECONFIG_ADMIN"
command -v jq >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q jq >/dev/null

timings=()
t_step=$(date +%s)
t_all=$t_step
lap() { local now; now=$(date +%s); timings+=("$(printf '%-54s %4ds' "$1" $((now - t_step)))"); t_step=$now; }
print_timings() {
  say "timings:"
  for l in "${timings[@]}"; do printf '  %s\n' "$l" >&2; done
  printf '  %-54s %4ds\n' "total" $(( $(date +%s) - t_all )) >&2
}
fail() { say "FAILED: $*"; exit 1; }

pf_pid=
tpf_pid=
set_up=
finish() {
  local rc=$?
  [ -z "$pf_pid" ] || kill "$pf_pid" 2>/dev/null || true
  [ -z "$tpf_pid" ] || kill "$tpf_pid" 2>/dev/null || true
  if [ "$rc" != 0 ] && [ -n "$E2E_KEEP" ]; then
    say "failed; the cluster stays up (E2E_KEEP): KUBECONFIG=$KUBECONFIG_ADMIN; stop it with $here/down.sh"
    exit "$rc"
  fi
  if [ -n "$set_up" ]; then
    (cd "$work" && LTK_ROOT="$work" "$ltk" teardown --yes >&2) || say "ltk teardown failed"
  fi
  "$here/down.sh" && lap "cluster down (down.sh)"
  print_timings
  [ "$rc" = 0 ] && say "e2e-kube passed" || say "e2e-kube failed (logs: $DIR/log)"
  exit "$rc"
}

# --- the cluster ----------------------------------------------------------------------------
kube_cached=cached
for b in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl; do
  [ -x "$KUBE_BIN/$b" ] || kube_cached=built
done
"$here/build-kube.sh"
lap "kubernetes $KUBE_VERSION binaries ($kube_cached)"
trap finish EXIT
"$here/up.sh"
lap "cluster up (up.sh)"

# --- ltk and its image -------------------------------------------------------------------------
mkdir -p "$(dirname "$ltk")"
make -s -C "$repo" build BIN="$ltk"
"$TOOLS_BIN/ociimage" -o "$DIR/images/ltk.tar" -tag "$E2E_IMAGE" -user 65532:65532 "$ltk"
command ctr --address "$DIR/containerd/containerd.sock" --namespace k8s.io images import "$DIR/images/ltk.tar" >/dev/null
lap "ltk binary + image, imported into containerd"

# --- the tutorial: devices, setup --------------------------------------------------------------
rm -rf "$work" && mkdir -p "$work" && cd "$work"
export LTK_ROOT="$work"
"$ltk" devices create 1 "$E2E_DEVICES" --alg ES256 >&2
lap "ltk devices create 1 $E2E_DEVICES"
set_up=1
# Small requests: the master (500m) and the target (1 CPU) leave 0.5 CPU of this 2-core node.
"$ltk" setup --use-context --target --image "$E2E_IMAGE" --build=false --ui-service ClusterIP \
  --workers "$E2E_WORKERS" --worker-cpu 50m --worker-memory 64Mi --worker-cpu-limit 500m --worker-memory-limit 256Mi \
  --wait 5m >&2
lap "ltk setup (pods ready: workers reached the master)"
# deploy/, the same manifests as a kustomize overlay, against the real API server's schema
# (strict: an unknown field fails). Namespace ltk exists now, as a server-side dry run needs.
kubectl apply --server-side --force-conflicts --field-manager=ltk-e2e-check --dry-run=server \
  --validate=strict --warnings-as-errors -k "$repo/deploy/example" >/dev/null
lap "deploy/example: server-side dry run, strict"

# --- a headless test through the REST API -------------------------------------------------------
setsid timeout 30m kubectl -n ltk port-forward svc/ltk-master-web "$E2E_WEB_PORT:8089" >"$DIR/log/port-forward.log" 2>&1 </dev/null &
pf_pid=$!
web="http://127.0.0.1:$E2E_WEB_PORT"
pass=$(kubectl -n ltk get secret ltk-web -o jsonpath='{.data.password}' | base64 -d)
api() { curl -fsS -u "ltk:$pass" "$@"; }
deadline=$(( $(date +%s) + 60 ))
until curl -fsS "$web/healthz" >/dev/null 2>&1; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "the web UI did not answer through kubectl port-forward in 60s"
  sleep 0.5
done
workers=$(api "$web/stats/requests" | jq .worker_count)
[ "$workers" = "$E2E_WORKERS" ] || fail "the master has $workers workers, want $E2E_WORKERS"
api -X POST -d "user_count=$E2E_DEVICES" -d "spawn_rate=$E2E_DEVICES" -d "run_time=${E2E_RUN_TIME}s" "$web/swarm" | jq -c . >&2
say "test started: $E2E_DEVICES devices on $E2E_WORKERS workers for ${E2E_RUN_TIME}s"
deadline=$(( $(date +%s) + E2E_RUN_TIME + 120 ))
while :; do
  state=$(api "$web/stats/requests" | jq -r .state)
  [ "$state" != stopped ] || break
  [ "$(date +%s)" -lt "$deadline" ] || fail "the test is $state $((E2E_RUN_TIME + 120))s after it started"
  sleep 1
done
stats=$(api "$web/stats/requests")
master_requests=$(jq '.stats[-1].num_requests' <<<"$stats")
master_failures=$(jq '.stats[-1].num_failures' <<<"$stats")
jq -r '.stats[] | "  \(.method) \(.name): \(.num_requests) requests, \(.num_failures) failures"' <<<"$stats" >&2
lap "test: POST /swarm, ${E2E_RUN_TIME}s, until stopped"

# --- the results, out of the master's pod -------------------------------------------------------
# The image has no tar (kubectl cp needs one): ltk copies its own results store.
kubectl -n ltk exec deploy/ltk-master -c master -- /ltk runs --export - >"$work/results.db"
"$ltk" runs --results "$work/results.db" >&2
# The echo app's execution times stay in the target's pod: harvest fetches them from its metrics port.
setsid timeout 30m kubectl -n ltk port-forward svc/ltk-target "$E2E_TARGET_PORT:9883" >"$DIR/log/port-forward-target.log" 2>&1 </dev/null &
tpf_pid=$!
deadline=$(( $(date +%s) + 60 ))
until curl -fsS "http://127.0.0.1:$E2E_TARGET_PORT/metrics" >/dev/null 2>&1; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "the target's metrics did not answer through kubectl port-forward in 60s"
  sleep 0.5
done
harvested=$("$ltk" harvest e2e --run last --results "$work/results.db" --target "http://127.0.0.1:$E2E_TARGET_PORT")
echo "$harvested" >&2
for f in driver_times.csv function_times.csv; do
  [ -s "$work/runs/e2e/$f" ] || fail "ltk harvest wrote no runs/e2e/$f"
done
exec_times=$(sed -n 's/.* \([0-9][0-9]*\) execution times.*/\1/p' <<<"$harvested" | head -n 1)
[ "${exec_times:-0}" -gt 0 ] || fail "ltk harvest found no execution times of the target's echo app"
lap "results copied out (kubectl exec) + ltk harvest"

# --- what each worker did: they print it when the master tells them to quit ----------------------
kubectl -n ltk scale deploy/ltk-master --replicas=0 >/dev/null
mapfile -t ids < <(cut -d, -f1 "$work/devicelist.csv")
block=$(( (E2E_DEVICES + E2E_WORKERS - 1) / E2E_WORKERS ))
sum=0
for k in $(seq 0 $((E2E_WORKERS - 1))); do
  pod="ltk-worker-$k"
  deadline=$(( $(date +%s) + 90 ))
  until [ "$(kubectl -n ltk get pod "$pod" -o jsonpath='{.status.containerStatuses[0].restartCount}')" -ge 1 ] 2>/dev/null; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "$pod did not quit within 90s of the master stopping"
    sleep 1
  done
  log=$(kubectl -n ltk logs "$pod" --previous)
  lo=$((k * block)); hi=$(( (k + 1) * block < E2E_DEVICES ? (k + 1) * block : E2E_DEVICES ))
  want="Worker $k has its block: $((hi - lo)) devices, ${ids[$lo]}–${ids[$((hi - 1))]}"
  grep -qF "Connected to master ltk-master:5557 as worker $k" <<<"$log" || fail "$pod did not connect as worker $k:"$'\n'"$log"
  grep -qF "$want" <<<"$log" || fail "$pod: want \"$want\":"$'\n'"$log"
  line=$(grep -E "^Worker $k recorded [0-9]+ requests \([0-9]+ failures\)$" <<<"$log") || fail "$pod printed no totals:"$'\n'"$log"
  read -r n f < <(sed -E 's/.* recorded ([0-9]+) requests \(([0-9]+) failures\)/\1 \2/' <<<"$line")
  [ "$f" = 0 ] || fail "$pod recorded $f failures"
  [ "$n" -gt 0 ] || fail "$pod recorded no requests"
  say "worker $k: block ${ids[$lo]}–${ids[$((hi - 1))]}, $n requests, $f failures"
  sum=$((sum + n))
done
say "master: $master_requests requests, $master_failures failures; workers' sum: $sum"
[ "$master_failures" = 0 ] || fail "the master counted $master_failures failures"
[ "$master_requests" = "$sum" ] || fail "the master's total $master_requests is not the workers' sum $sum"
lap "checks: blocks by ordinal, master total = workers' sum"

# --- teardown ----------------------------------------------------------------------------------
"$ltk" teardown --yes >&2
set_up=
lap "ltk teardown --yes"
