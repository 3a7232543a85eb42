#!/usr/bin/env bash
# Lifecycle self-test for cluster.sh (issue item 5):
#   up -> second up is a quick no-op -> a pod runs -> down leaves no process, mount,
#   netns or bridge behind -> up again works -> a pod runs again.
# Leaves the cluster RUNNING. Usage: e2e/cluster/selftest.sh [--smoke]  (--smoke also runs the smoke suite)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$HERE/lib.sh"
REPO="$(cd "$HERE/../.." && pwd)"
C="$HERE/cluster.sh"
KC=("$K8S_BIN/kubectl" --kubeconfig "$STATE/kubeconfig")
fail() { log "SELFTEST FAIL: $*"; exit 1; }
pass() { log "ok: $*"; }

run_pod() { # name -> asserts the pod runs to completion and prints its marker
  local ns; ns=selftest-$1-$(date +%s)
  "${KC[@]}" create namespace "$ns" >/dev/null
  local _; for _ in $(seq 50); do "${KC[@]}" -n "$ns" get sa default >/dev/null 2>&1 && break; sleep 0.2; done
  "${KC[@]}" -n "$ns" run p --image=localhost/pause:3.10 --image-pull-policy=Never --restart=Never \
    --overrides='{"spec":{"automountServiceAccountToken":false}}' >/dev/null
  "${KC[@]}" -n "$ns" wait --for=condition=Ready pod/p --timeout=60s >/dev/null || fail "pod in $ns not Ready"
  "${KC[@]}" delete namespace "$ns" --wait=false >/dev/null
  pass "a pod (own netns on the bridge) became Ready ($1)"
}
leftovers() {
  local bad=0 p
  for p in $(pgrep -x containerd; pgrep -x containerd-shim; pgrep -x etcd; pgrep -f '/hyperkube|/kube-apiserver |/kubelet ' ); do
    log "leftover process: $p $(tr '\0' ' ' < /proc/$p/cmdline 2>/dev/null | cut -c1-120)"; bad=1
  done
  if grep -E " ($STATE/kubelet[/ ]|/run/containerd/|/var/lib/containerd/io.containerd.grpc.v1.cri/|/run/netns/cni-)" /proc/self/mounts; then bad=1; fi
  if ip netns list 2>/dev/null | grep -q '^cni-'; then ip netns list; bad=1; fi
  if ip link show cni0 >/dev/null 2>&1; then log "bridge cni0 still present"; bad=1; fi
  for p in 2379 6443 10250 10257 10259; do
    if ss -Hltn "sport = :$p" | grep -q .; then log "port $p still listening"; bad=1; fi
  done
  return $bad
}

t=$(now); "$C" up >/dev/null; pass "up ($(elapsed "$t")s)"
"$C" status >/dev/null || fail "status after up"
t=$(now); out=$("$C" up 2>&1); d=$(elapsed "$t")
grep -q 'nothing to do' <<<"$out" || fail "second up was not a no-op: $out"
awk -v d="$d" 'BEGIN{exit !(d < 5)}' || fail "second up took ${d}s"
pass "second up is a no-op (${d}s)"
run_pod before-down
t=$(now); "$C" down >/dev/null; pass "down ($(elapsed "$t")s)"
if "$C" status >/dev/null 2>&1; then fail "status says up after down"; fi
leftovers || fail "down left things behind"
pass "down left no process, mount, netns, bridge or listening port"
t=$(now); "$C" up >/dev/null; pass "up after down ($(elapsed "$t")s)"
"$C" status >/dev/null || fail "status after second up"
run_pod after-up
# After a fresh up: a pod started before the first `ip netns add` must still be removable
# (ip netns used to mount /run/netns over the pod's netns, and deletion hung forever).
ns=selftest-netns-$(date +%s)
"${KC[@]}" create namespace "$ns" >/dev/null
for _ in $(seq 50); do "${KC[@]}" -n "$ns" get sa default >/dev/null 2>&1 && break; sleep 0.2; done
"${KC[@]}" -n "$ns" run p --image=localhost/pause:3.10 --image-pull-policy=Never --restart=Never \
  --overrides='{"spec":{"automountServiceAccountToken":false,"terminationGracePeriodSeconds":1}}' >/dev/null
"${KC[@]}" -n "$ns" wait --for=condition=Ready pod/p --timeout=60s >/dev/null || fail "pod in $ns not Ready"
ip netns add tj-selftest && ip netns del tj-selftest
"${KC[@]}" delete namespace "$ns" --wait=true --timeout=60s >/dev/null || fail "namespace $ns with a pod from before 'ip netns add' did not go away"
pass "a pod started before 'ip netns add' is still deleted"
if [ "${1:-}" = --smoke ]; then
  (cd "$REPO" && KUBECONFIG="$STATE/kubeconfig" node --import tsx --test --test-concurrency=1 --test-reporter=spec e2e/smoke/cluster.e2e.test.ts)
fi
log "SELFTEST PASSED (cluster left running)"
