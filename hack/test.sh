#!/usr/bin/env bash
# The whole test suite from a fresh machine: setup, then type-check, lint,
# unit tests and the e2e suites against the real local cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
bash hack/setup.sh
eval "$(bash e2e/cluster/cluster.sh env)"
# The cluster's own lifecycle: down leaves nothing behind, up comes back, a second up is a no-op.
bash e2e/cluster/selftest.sh
npm test
