#!/usr/bin/env bash
# Everything the demo and the tests need on a fresh Debian 12 machine:
# host packages, npm packages, the build, the local cluster and the images.
# Idempotent; the Kubernetes build is cached by version (see e2e/cluster/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n=== %s (%s)\n' "$1" "$(date -u +%T)"; }
step "host packages"; bash e2e/cluster/install-deps.sh
step "npm packages"; if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then npm ci --no-audit --no-fund; fi
step "build"; npm run build
step "local cluster"; bash e2e/cluster/cluster.sh up
step "images"; bash images/build.sh all
