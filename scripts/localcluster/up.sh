#!/usr/bin/env bash
# up.sh: brings up a real single-node Kubernetes cluster on this machine, offline:
# Debian's etcd, containerd, runc and CNI plugins; kube-apiserver, kube-controller-manager,
# kube-scheduler, kubelet, kube-proxy (nftables mode) and kubectl built from the
# k8s.io/kubernetes module (build-kube.sh, cached); a small DNS server for
# *.svc.cluster.local (tools/clusterdns); a pause image from a static Go program.
#
# Everything it writes lives under $LTK_LOCALCLUSTER_DIR; the host settings it (or the
# kubelet) changes are recorded first, and down.sh puts them back. Run as root.
#
#   scripts/localcluster/up.sh && export KUBECONFIG=~/.local/state/ltk-localcluster/kubeconfig/admin.conf
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/env.sh"

[ "$(id -u)" = 0 ] || die "run as root: the kubelet, containerd and the CNI plugins need it"
[ -n "$NODE_IP" ] || die "no IPv4 address on a global interface: set NODE_IP"
if [ -d "$DIR/pid" ] && [ -n "$(ls -A "$DIR/pid" 2>/dev/null)" ]; then
  die "a cluster is up already (PID files in $DIR/pid): stop it with $here/down.sh"
fi

# --- packages ---------------------------------------------------------------------------
need=()
command -v etcd >/dev/null || need+=(etcd-server)
command -v containerd >/dev/null || need+=(containerd)
command -v runc >/dev/null || need+=(runc)
[ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)
command -v nft >/dev/null || need+=(nftables)
command -v openssl >/dev/null || need+=(openssl)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null
fi

# --- binaries ---------------------------------------------------------------------------
"$here/build-kube.sh"
mkdir -p "$TOOLS_BIN"
(cd "$here/tools" && CGO_ENABLED=0 GOFLAGS=-mod=mod GOWORK=off go build -trimpath -ldflags '-s -w' -o "$TOOLS_BIN/" ./...)
export PATH="$KUBE_BIN:$PATH"

mkdir -p "$DIR"/{pid,log,host,pki,kubeconfig,etcd,containerd,kubelet,cni/net.d,cni/ipam,images}
start_time=$(date +%s)

# --- the host's settings, for down.sh -----------------------------------------------------
: >"$DIR/host/sysctl"
for k in "${HOST_SYSCTLS[@]}"; do
  v=$(sysctl -n "$k" 2>/dev/null) && printf '%s=%s\n' "$k" "$v" >>"$DIR/host/sysctl"
done
ls /var/run/netns 2>/dev/null | sort >"$DIR/host/netns" || true
nft list tables 2>/dev/null | sort >"$DIR/host/nft-tables" || true
ip link show "$CNI_BRIDGE" >/dev/null 2>&1 && touch "$DIR/host/bridge-existed"
# Places outside $DIR that the kubelet and the CNI library write to whatever they are told.
for d in /run/containerd /var/log/containers /var/lib/cni; do
  [ -d "$d" ] && touch "$DIR/host/existed$(tr / - <<<"$d")"
done

# --- certificates ---------------------------------------------------------------------------
pki="$DIR/pki"
key() { openssl ecparam -name prime256v1 -genkey -noout -out "$1" 2>/dev/null; }
# cert NAME SUBJECT EXTENDED_KEY_USAGE [SUBJECT_ALT_NAMES]
cert() {
  key "$pki/$1.key"
  { echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$3"
    [ -z "${4:-}" ] || echo "subjectAltName=$4"
  } >"$pki/$1.ext"
  openssl req -new -key "$pki/$1.key" -subj "$2" -out "$pki/$1.csr"
  openssl x509 -req -in "$pki/$1.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 7 -extfile "$pki/$1.ext" -out "$pki/$1.crt" 2>/dev/null
}
key "$pki/ca.key"
openssl req -x509 -new -key "$pki/ca.key" -subj "/CN=ltk-localcluster-ca" -days 7 -out "$pki/ca.crt"
svc_ip=$(awk -F'[./]' '{print $1"."$2"."$3"."$4+1}' <<<"$SERVICE_CIDR") # the kubernetes Service's ClusterIP
cert apiserver "/CN=kube-apiserver" serverAuth \
  "IP:127.0.0.1,IP:$NODE_IP,IP:$svc_ip,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.$CLUSTER_DOMAIN"
cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
cert admin "/O=system:masters/CN=ltk-localcluster-admin" clientAuth
cert kcm "/CN=system:kube-controller-manager" clientAuth
cert scheduler "/CN=system:kube-scheduler" clientAuth
cert kubelet "/O=system:nodes/CN=system:node:$NODE_NAME" clientAuth
cert kubelet-serving "/CN=$NODE_NAME" serverAuth "IP:$NODE_IP,DNS:$NODE_NAME"
cert kube-proxy "/CN=system:kube-proxy" clientAuth
key "$pki/sa.key"
openssl ec -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null

server="https://$NODE_IP:$APISERVER_PORT"
# kubeconfig NAME: a kubeconfig for the client certificate NAME.
kubeconfig() {
  cat >"$DIR/kubeconfig/$1.conf" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: ltk-localcluster
  cluster:
    certificate-authority: $pki/ca.crt
    server: $server
users:
- name: $1
  user:
    client-certificate: $pki/$1.crt
    client-key: $pki/$1.key
contexts:
- name: ltk-localcluster
  context: {cluster: ltk-localcluster, user: $1}
current-context: ltk-localcluster
EOF
}
for n in admin kcm scheduler kubelet kube-proxy; do kubeconfig "$n"; done
export KUBECONFIG="$KUBECONFIG_ADMIN"

# --- daemons ------------------------------------------------------------------------------
# Root here lacks CAP_SYS_RESOURCE: nothing may raise a hard limit, so every daemon starts
# with the open-files limit at the hard limit, explicitly.
ulimit -n "$(ulimit -Hn)"

# start NAME COMMAND...: runs COMMAND under timeout, logs to log/NAME.log, PID in pid/NAME.
start() {
  local name=$1; shift
  setsid timeout --kill-after=15s "$DAEMON_TIMEOUT" "$@" >"$DIR/log/$name.log" 2>&1 </dev/null &
  echo $! >"$DIR/pid/$name"
}
# await WHAT SECONDS COMMAND...: polls COMMAND every half second until it succeeds.
await() {
  local what=$1 secs=$2; shift 2
  local deadline=$(( $(date +%s) + secs ))
  until "$@" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      say "$what: not ready after ${secs}s; the logs are in $DIR/log"
      exit 1
    fi
    sleep 0.5
  done
  say "$what: ready after $(( $(date +%s) - start_time ))s"
}
alive() { kill -0 "$(cat "$DIR/pid/$1")" 2>/dev/null; }
# Called on failure: stop whatever started, restore the host.
trap '[ $? = 0 ] || { say "up failed; stopping what started"; "$here/down.sh"; }' EXIT

start etcd etcd --name ltk-localcluster --data-dir "$DIR/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" \
  --initial-cluster "ltk-localcluster=http://127.0.0.1:$((ETCD_PORT + 1))" \
  --listen-metrics-urls "http://127.0.0.1:$((ETCD_PORT + 2))"
await etcd 30 curl -fsS "http://127.0.0.1:$ETCD_PORT/health"

start kube-apiserver kube-apiserver \
  --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
  --bind-address="$NODE_IP" --advertise-address="$NODE_IP" --secure-port="$APISERVER_PORT" \
  --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
  --client-ca-file="$pki/ca.crt" \
  --kubelet-client-certificate="$pki/apiserver-kubelet-client.crt" --kubelet-client-key="$pki/apiserver-kubelet-client.key" \
  --kubelet-certificate-authority="$pki/ca.crt" --kubelet-preferred-address-types=InternalIP \
  --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
  --service-account-issuer="https://kubernetes.default.svc.$CLUSTER_DOMAIN" \
  --service-cluster-ip-range="$SERVICE_CIDR" \
  --authorization-mode=Node,RBAC --allow-privileged=true \
  --cert-dir="$DIR/pki/apiserver-generated" --v=1
await kube-apiserver 120 kubectl get --raw /readyz

start kube-controller-manager kube-controller-manager \
  --kubeconfig="$DIR/kubeconfig/kcm.conf" \
  --authentication-kubeconfig="$DIR/kubeconfig/kcm.conf" --authorization-kubeconfig="$DIR/kubeconfig/kcm.conf" \
  --bind-address=127.0.0.1 --secure-port="$KCM_PORT" \
  --service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
  --cluster-signing-cert-file="$pki/ca.crt" --cluster-signing-key-file="$pki/ca.key" \
  --service-cluster-ip-range="$SERVICE_CIDR" \
  --use-service-account-credentials=true --controllers='*,-nodeipam' --leader-elect=false --v=1
start kube-scheduler kube-scheduler \
  --kubeconfig="$DIR/kubeconfig/scheduler.conf" \
  --authentication-kubeconfig="$DIR/kubeconfig/scheduler.conf" --authorization-kubeconfig="$DIR/kubeconfig/scheduler.conf" \
  --bind-address=127.0.0.1 --secure-port="$SCHEDULER_PORT" --leader-elect=false --v=1

# containerd: the CRI plugin with runc and the cgroupfs driver (the kubelet's), and
# restrict_oom_score_adj, since lowering a sandbox's oom_score_adj needs CAP_SYS_RESOURCE.
cat >"$DIR/containerd/config.toml" <<EOF
version = 2
root = "$DIR/containerd/root"
state = "$DIR/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "$DIR/containerd/containerd.sock"
[ttrpc]
  address = "$DIR/containerd/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$DIR/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  restrict_oom_score_adj = true
  enable_cdi = false
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$DIR/containerd/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$DIR/cni/net.d"
EOF
# The pod network: one bridge with host-local addresses; the bridge is the pods' gateway.
cat >"$DIR/cni/net.d/10-ltk-localcluster.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "ltk-localcluster",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$CNI_BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$POD_CIDR"}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": "$DIR/cni/ipam"
      }
    }
  ]
}
EOF
start containerd containerd --config "$DIR/containerd/config.toml"
ctr() { command ctr --address "$DIR/containerd/containerd.sock" --namespace k8s.io "$@"; }
await containerd 30 ctr version

# The pause image: a static binary that waits for SIGTERM.
"$TOOLS_BIN/ociimage" -o "$DIR/images/pause.tar" -tag "$PAUSE_IMAGE" "$TOOLS_BIN/pause"
ctr images import "$DIR/images/pause.tar" >/dev/null

cat >"$DIR/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ_PORT
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $pki/ca.crt}
authorization:
  mode: Webhook
tlsCertFile: $pki/kubelet-serving.crt
tlsPrivateKeyFile: $pki/kubelet-serving.key
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://$DIR/containerd/containerd.sock
failSwapOn: false
failCgroupV1: false
protectKernelDefaults: false
makeIPTablesUtilChains: false
clusterDNS: [$NODE_IP]
clusterDomain: $CLUSTER_DOMAIN
resolvConf: /etc/resolv.conf
evictionHard:
  memory.available: "100Mi"
  nodefs.available: "1%"
  imagefs.available: "1%"
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
maxPods: 30
podPidsLimit: -1
podLogsDir: $DIR/kubelet/pod-logs
EOF
start kubelet kubelet --config="$DIR/kubelet/config.yaml" --kubeconfig="$DIR/kubeconfig/kubelet.conf" \
  --root-dir="$DIR/kubelet/root" --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" --v=1
await "node $NODE_NAME registered" 120 kubectl get node "$NODE_NAME"
await "node $NODE_NAME Ready" 120 kubectl wait --for=condition=Ready "node/$NODE_NAME" --timeout=1s

# kube-proxy in nftables mode: its rules live in its own tables (ip/ip6 kube-proxy), which
# down.sh deletes. Masquerading all Service traffic lets a pod reach a Service whose pod
# sits on the same bridge. Conntrack sizes and timeouts of 0 leave the host's alone.
cat >"$DIR/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: $DIR/kubeconfig/kube-proxy.conf
mode: nftables
clusterCIDR: $POD_CIDR
hostnameOverride: $NODE_NAME
healthzBindAddress: 127.0.0.1:$PROXY_HEALTHZ_PORT
metricsBindAddress: 127.0.0.1:$PROXY_METRICS_PORT
masqueradeAll: true
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
  udpTimeout: 0s
  udpStreamTimeout: 0s
EOF
start kube-proxy kube-proxy --config="$DIR/kube-proxy.yaml" --v=1
await kube-proxy 60 curl -fsS "http://127.0.0.1:$PROXY_HEALTHZ_PORT/healthz"

# Cluster DNS on the node's address (the kubelet's clusterDNS); names outside the cluster
# go to the host's first resolver.
upstream=$(awk '$1 == "nameserver" {print $2; exit}' /etc/resolv.conf)
start clusterdns "$TOOLS_BIN/clusterdns" -listen "$NODE_IP:$DNS_PORT" -server "$server" \
  -ca "$pki/ca.crt" -cert "$pki/admin.crt" -key "$pki/admin.key" -domain "$CLUSTER_DOMAIN" \
  ${upstream:+-upstream "$upstream:53"}
dns_answers() {
  local ans
  ans=$("$TOOLS_BIN/clusterdns" -query "kubernetes.default.svc.$CLUSTER_DOMAIN" -listen "$NODE_IP:$DNS_PORT")
  [ "$ans" = "$svc_ip" ]
}
await "cluster DNS (kubernetes.default.svc.$CLUSTER_DOMAIN → $svc_ip)" 30 dns_answers

for d in "$DIR"/pid/*; do alive "$(basename "$d")" || die "$(basename "$d") exited; see $DIR/log/$(basename "$d").log"; done
say "cluster up in $(( $(date +%s) - start_time ))s: export KUBECONFIG=$KUBECONFIG_ADMIN"
