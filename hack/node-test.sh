#!/usr/bin/env bash
# Runs node's test runner on the given globs: spec output for people, TAP to a
# file for the closing "tests: N passed, M failed" line CI reads.
# Arguments are directories; every *.test.ts below them runs (node 20 has no globs).
set -uo pipefail
mapfile -t files < <(find "$@" -name '*.test.ts' -not -path '*/node_modules/*' | sort)
tap="$(mktemp)"
node --import tsx --test --test-concurrency=1 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap" "${files[@]}"
rc=$?
pass=$(grep -E '^# pass ' "$tap" | tail -1 | awk '{print $3}')
fail=$(grep -E '^# fail ' "$tap" | tail -1 | awk '{print $3}')
skip=$(grep -E '^# skipped ' "$tap" | tail -1 | awk '{print $3}')
rm -f "$tap"
echo "tests: ${pass:-0} passed, ${fail:-0} failed, ${skip:-0} skipped"
exit $rc
