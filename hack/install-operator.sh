#!/usr/bin/env bash
# Installs (or upgrades) the operator into the local cluster with the Helm
# chart, pointing pods at the API server's real address (no kube-proxy here).
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(bash e2e/cluster/cluster.sh env)"
NODE_IP=$(kubectl get node -o jsonpath='{.items[0].status.addresses[?(@.type=="InternalIP")].address}')
helm upgrade --install tracejob charts/tracejob-operator \
  --namespace tracejob-system --create-namespace \
  --set apiServer.host="$NODE_IP" \
  --set image.pullPolicy=Never --set agent.image.pullPolicy=Never \
  "$@" --wait --timeout 120s
