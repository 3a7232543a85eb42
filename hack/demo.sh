#!/usr/bin/env bash
# The main job, from a fresh machine: local cluster up, operator installed with
# Helm, a sample workload, a real TraceJob against it, and its report printed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash hack/setup.sh
eval "$(bash e2e/cluster/cluster.sh env)"
bash hack/install-operator.sh --set replicas=1
echo; echo "=== sample workload"
kubectl apply -f examples/demo/workload.yaml
kubectl -n shop wait pod/checkout --for=condition=Ready --timeout=90s
kubectl -n shop delete tracejob checkout-connects --ignore-not-found --wait=true
echo; echo "=== TraceJob"; cat examples/demo/tracejob.yaml
kubectl apply -f examples/demo/tracejob.yaml
for i in $(seq 1 120); do
  phase=$(kubectl -n shop get tracejob checkout-connects -o jsonpath='{.status.phase}')
  printf '\r%s phase=%-10s' "$(date +%T)" "${phase:-?}"
  case "$phase" in Succeeded|Failed) break ;; esac
  sleep 1
done
echo; echo
kubectl -n shop get tracejobs
echo; echo "=== report (ConfigMap checkout-connects-result, key report.txt)"
kubectl -n shop get configmap checkout-connects-result -o jsonpath='{.data.report\.txt}'
echo
[ "$phase" = Succeeded ] || { kubectl -n shop describe tracejob checkout-connects; exit 1; }
