#!/usr/bin/env bash
# build-kube.sh: builds kube-apiserver, kube-controller-manager, kube-scheduler, kubelet,
# kube-proxy and kubectl from the k8s.io/kubernetes Go module (through the Go module proxy)
# into $LTK_LOCALCLUSTER_CACHE/kubernetes-$KUBE_VERSION/bin. A second run finds the six
# binaries there and does nothing.
#
# The build module is a throwaway go.mod next to the binaries, outside the repository.
# k8s.io/kubernetes replaces its k8s.io/* staging modules with ./staging directories, and a
# dependency's replaces do not apply to the main module, so this go.mod repeats them as
# module versions (k8s.io/api => k8s.io/api v0.34.x, ...). Cold, this is about 15 CPU-minutes
# (2 cores: 8-20 minutes, depending on what else runs); it runs under nice.
set -euo pipefail
. "$(dirname "$0")/env.sh"

bins=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
missing=0
for b in "${bins[@]}"; do [ -x "$KUBE_BIN/$b" ] || missing=1; done
if [ "$missing" = 0 ]; then
  echo "kubernetes $KUBE_VERSION: binaries cached in $KUBE_BIN"
  exit 0
fi

src="$KUBE_CACHE/src"
mkdir -p "$src" "$KUBE_BIN"
export GOFLAGS=-mod=mod GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0

# The staging modules are versioned v0.<minor>.<patch> for Kubernetes v1.<minor>.<patch>.
staging="v0.${KUBE_VERSION#v1.}"
modfile=$(cd "$src" && rm -f go.mod go.sum && \
  go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/^\s*"GoMod": "\(.*\)",\?$/\1/p')
[ -s "$modfile" ] || { echo "build-kube: the module proxy did not serve k8s.io/kubernetes@$KUBE_VERSION" >&2; exit 1; }

{
  echo "module ltk-localcluster/kubebuild"
  echo
  echo "go 1.24.0"
  echo
  echo "require k8s.io/kubernetes $KUBE_VERSION"
  echo
  grep -E '^\s*k8s\.io/\S+ => \./staging/' "$modfile" | awk -v v="$staging" '{print "replace " $1 " => " $1 " " v}'
} >"$src/go.mod"

cat >"$src/tools.go" <<'GO'
//go:build tools

// Package tools only names the commands the build needs, so go mod tidy keeps their modules.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
GO

cd "$src"
echo "kubernetes $KUBE_VERSION: resolving modules"
go mod tidy

# Without these the binaries call themselves v0.0.0-master+$Format:%H$, which kubectl version
# cannot parse. Both version packages are set, as Kubernetes' own build does.
minor="${KUBE_VERSION#v1.}"; minor="${minor%%.*}"
ld="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ld+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ld+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

echo "kubernetes $KUBE_VERSION: building ${bins[*]} (cold: about 15 CPU-minutes)"
start=$(date +%s)
# shellcheck disable=SC2046
nice -n 10 go build -trimpath -ldflags "$ld" -o "$KUBE_BIN/" $(printf 'k8s.io/kubernetes/cmd/%s ' "${bins[@]}")
echo "kubernetes $KUBE_VERSION: built in $(( $(date +%s) - start )) s into $KUBE_BIN"
