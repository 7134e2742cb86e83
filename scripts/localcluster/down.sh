#!/usr/bin/env bash
# down.sh: stops the cluster up.sh started and puts the host back as it was: deletes the
# pods (so that the CNI plugins release their addresses), stops every daemon by the PID
# up.sh recorded, kills what containers are left, unmounts what is mounted under the
# cluster's folder and the network namespaces the pods had, deletes the CNI bridge and
# kube-proxy's nftables tables, removes the kubelet's cgroups, restores the sysctls the
# kubelet and the CNI plugins changed, and removes the cluster's folder but for its logs.
# Safe to run twice, and after a failed up.sh.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"

[ -d "$DIR" ] || { say "nothing to stop: $DIR does not exist"; exit 0; }
export PATH="$KUBE_BIN:$PATH" KUBECONFIG="$KUBECONFIG_ADMIN"
pidof_() { cat "$DIR/pid/$1" 2>/dev/null; }
alive() { local p; p=$(pidof_ "$1") && kill -0 "$p" 2>/dev/null; }

# stop NAME: SIGTERM to the daemon's timeout(1), which passes it on; after 20 s, SIGKILL
# to both it and its child.
stop() {
  local name=$1 pid child i
  pid=$(pidof_ "$name") || return 0
  if kill -0 "$pid" 2>/dev/null; then
    child=$(cat "/proc/$pid/task/$pid/children" 2>/dev/null)
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then
      say "$name did not stop in 20s: killing it"
      kill -KILL $child "$pid" 2>/dev/null
    fi
  fi
  rm -f "$DIR/pid/$name"
}

# 1. The pods, through the API while it is up, so that the kubelet tears their networks
#    down; the controllers and the scheduler stop first, so that none is made again.
stop kube-controller-manager
stop kube-scheduler
if alive kube-apiserver && alive kubelet; then
  timeout 90 kubectl delete pods --all --all-namespaces --wait=true --timeout=60s >/dev/null 2>&1 ||
    say "some pods did not go within 60s; their containers are killed below"
fi

# 2. The node's daemons.
stop clusterdns
stop kube-proxy
stop kubelet

# 3. Containers left behind (a kubelet that stopped mid-way): kill and delete them while
#    containerd runs, so that their shims exit.
if alive containerd; then
  ctr() { timeout 30 command ctr --address "$DIR/containerd/containerd.sock" --namespace k8s.io "$@"; }
  for c in $(ctr containers list -q 2>/dev/null); do
    ctr tasks kill -s SIGKILL "$c" >/dev/null 2>&1
    ctr tasks delete -f "$c" >/dev/null 2>&1
    ctr containers delete "$c" >/dev/null 2>&1
  done
fi
stop containerd
# Shims of this containerd that outlived it (they name its socket): by PID.
for p in /proc/[0-9]*; do
  if { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qF -- "-address $DIR/containerd/containerd.sock"; then
    kill -KILL "${p#/proc/}" 2>/dev/null
  fi
done

# 4. The control plane.
stop kube-apiserver
stop etcd

# 5. Mounts: under the cluster's folder (containers' root file systems, pods' volumes),
#    deepest first, and the network namespaces made since up.sh.
awk -v d="$DIR/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do
  umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || say "cannot unmount $m"
done
if [ -f "$DIR/host/netns" ]; then
  for ns in $(ls /var/run/netns 2>/dev/null | sort | comm -13 "$DIR/host/netns" -); do
    ip netns delete "$ns" 2>/dev/null || say "cannot delete network namespace $ns"
  done
fi

# 6. The pod network: veths on the bridge, then the bridge; kube-proxy's nftables tables
#    (and any table that appeared while the cluster ran).
if [ ! -e "$DIR/host/bridge-existed" ] && ip link show "$CNI_BRIDGE" >/dev/null 2>&1; then
  for v in $(ip -o link show master "$CNI_BRIDGE" 2>/dev/null | awk -F': ' '{sub(/@.*/, "", $2); print $2}'); do
    ip link delete "$v" 2>/dev/null
  done
  ip link delete "$CNI_BRIDGE" 2>/dev/null || say "cannot delete the bridge $CNI_BRIDGE"
fi
if [ -f "$DIR/host/nft-tables" ]; then
  nft list tables 2>/dev/null | sort | comm -13 "$DIR/host/nft-tables" - | while read -r _ family name; do
    nft delete table "$family" "$name" 2>/dev/null || say "cannot delete nftables table $family $name"
  done
fi

# 7. The kubelet's cgroups (cgroupfs driver: kubepods in every v1 hierarchy), leaves first.
for h in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
  [ -d "$h" ] || continue
  find "$h" -depth -type d -exec rmdir {} \; 2>/dev/null
  [ -d "$h" ] && say "cannot remove cgroup $h (processes left in it?)"
done

# 8. Sysctls, as up.sh found them.
if [ -f "$DIR/host/sysctl" ]; then
  while IFS='=' read -r k v; do
    now=$(sysctl -n "$k" 2>/dev/null) || continue
    if [ "$now" != "$v" ]; then
      sysctl -q -w "$k=$v" >/dev/null 2>&1 && say "restored $k=$v (was $now)" || say "cannot restore $k=$v"
    fi
  done <"$DIR/host/sysctl"
fi
# The kubelet's links to the pods' logs, and the CNI library's cache of this network.
find /var/log/containers -maxdepth 1 -type l -lname "$DIR/*" -delete 2>/dev/null
rm -f /var/lib/cni/results/ltk-localcluster-* 2>/dev/null
for d in /run/containerd /var/log/containers /var/lib/cni; do
  [ -e "$DIR/host/existed$(tr / - <<<"$d")" ] || rm -rf "$d" 2>/dev/null
done

# 9. The folder, but for the logs.
left=$(awk -v d="$DIR/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo)
if [ -n "$left" ]; then
  say "still mounted, so $DIR stays: $left"
  exit 1
elif [ -z "$(ls -A "$DIR/pid" 2>/dev/null)" ]; then
  find "$DIR" -mindepth 1 -maxdepth 1 ! -name log -exec rm -rf {} + 2>/dev/null ||
    say "could not remove everything under $DIR"
  say "cluster down; logs kept in $DIR/log"
else
  say "some daemons are still recorded in $DIR/pid: $(ls "$DIR/pid")"
  exit 1
fi
