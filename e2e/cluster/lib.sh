# shellcheck shell=bash
# Shared helpers for e2e/cluster scripts. Sourced, not executed.
# shellcheck disable=SC2034  # variables are used by the sourcing scripts
CLUSTER_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
. "$CLUSTER_LIB_DIR/versions.env"
CACHE="${TRACEJOB_CACHE:-/var/cache/tracejob}"
STATE="${TRACEJOB_CLUSTER_DIR:-/var/lib/tracejob-cluster}"
K8S_BIN="$CACHE/kubernetes-$K8S_VERSION/bin"
ETCD_BIN="$CACHE/etcd-$ETCD_VERSION/bin"
CRICTL_BIN="$CACHE/crictl-$CRICTL_VERSION/bin"
HELM_BIN="$CACHE/helm-$HELM_VERSION/bin"
CACHE_PATH="$K8S_BIN:$ETCD_BIN:$CRICTL_BIN:$HELM_BIN"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }
