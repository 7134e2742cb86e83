# env.sh: the settings the localcluster scripts share (sourced, not run).
# Every one can be overridden from the environment.

# Kubernetes 1.34: this kind of machine runs cgroup v1, which 1.35's kubelet refuses by default.
KUBE_VERSION=${KUBE_VERSION:-v1.34.2}
# Built binaries, kept between runs so that a second run only starts daemons.
LTK_LOCALCLUSTER_CACHE=${LTK_LOCALCLUSTER_CACHE:-$HOME/.cache/ltk-localcluster}
KUBE_CACHE="$LTK_LOCALCLUSTER_CACHE/kubernetes-$KUBE_VERSION"
KUBE_BIN="$KUBE_CACHE/bin"
TOOLS_BIN="$LTK_LOCALCLUSTER_CACHE/tools"
# Everything a running cluster writes (etcd data, certificates, containerd's and the
# kubelet's roots, logs, PID files, the host settings to restore). down.sh removes it
# but for its log/ folder.
LTK_LOCALCLUSTER_DIR=${LTK_LOCALCLUSTER_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/ltk-localcluster}
DIR="$LTK_LOCALCLUSTER_DIR"
KUBECONFIG_ADMIN="$DIR/kubeconfig/admin.conf"

# The node: its name and the address of the machine's own interface (the kubelet
# refuses a loopback node IP). Pods reach the cluster DNS there too.
NODE_NAME=${NODE_NAME:-ltk-node}
NODE_IP=${NODE_IP:-$(ip -4 -o addr show scope global 2>/dev/null | awk '{sub(/\/.*/, "", $4); print $4; exit}')}
POD_CIDR=${POD_CIDR:-10.244.0.0/24}
SERVICE_CIDR=${SERVICE_CIDR:-10.0.0.0/24}
CNI_BRIDGE=${CNI_BRIDGE:-ltkbr0}
CLUSTER_DOMAIN=${CLUSTER_DOMAIN:-cluster.local}

# Ports, away from the usual ones so that a cluster already on the machine is not disturbed.
ETCD_PORT=${ETCD_PORT:-22379}
APISERVER_PORT=${APISERVER_PORT:-26443}
KCM_PORT=${KCM_PORT:-20257}
SCHEDULER_PORT=${SCHEDULER_PORT:-20259}
KUBELET_PORT=${KUBELET_PORT:-20250}
KUBELET_HEALTHZ_PORT=${KUBELET_HEALTHZ_PORT:-20248}
PROXY_HEALTHZ_PORT=${PROXY_HEALTHZ_PORT:-20256}
PROXY_METRICS_PORT=${PROXY_METRICS_PORT:-20249}
DNS_PORT=${DNS_PORT:-53}

# Every daemon runs under timeout(1): a cluster left behind by a killed script stops by itself.
DAEMON_TIMEOUT=${DAEMON_TIMEOUT:-3h}

# The pause image the pod sandboxes run (built from tools/pause).
PAUSE_IMAGE=${PAUSE_IMAGE:-localhost/ltk-localcluster-pause:1}

# The kubelet and the CNI bridge plugin change these; up.sh records them, down.sh restores them.
HOST_SYSCTLS=(
  vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
  kernel.keys.root_maxkeys kernel.keys.root_maxbytes
  net.ipv4.ip_forward net.ipv4.conf.all.route_localnet
  net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables
  net.netfilter.nf_conntrack_max
)

say() { printf 'localcluster: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
