#!/usr/bin/env bash
# `make test`: every suite CI runs, in order, timed. A failed step does not stop the later ones
# (one run shows every failure); the exit status is non-zero if any step failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

steps=(
  "testbed:make testbed"
  "unit:make unit"
  "lint:make lint"
  "sanity:make sanity"
  "integration:make integration"
  "molecule-docker:make molecule-docker"
  "molecule-firewall:make molecule-firewall"
  "molecule-default:make molecule-default"
  "molecule-ha:make molecule-ha"
  "faults:make faults"
  "distribution:make distribution"
)
# SWARMOPS_TEST_STEPS="unit lint" runs a subset (the names above).
selected="${SWARMOPS_TEST_STEPS:-}"

summary=()
passed=0
failed=0
start_all=$SECONDS
mkdir -p .cache/test-logs
for step in "${steps[@]}"; do
  name="${step%%:*}"
  command="${step#*:}"
  if [ -n "$selected" ] && [[ " $selected " != *" $name "* ]]; then continue; fi
  echo "=== $name: $command"
  start=$SECONDS
  if bash -c "$command" 2>&1 | tee ".cache/test-logs/$name.log"; then
    summary+=("ok   $name ($((SECONDS - start)) s)")
    passed=$((passed + 1))
  else
    summary+=("FAIL $name ($((SECONDS - start)) s, log: .cache/test-logs/$name.log)")
    failed=$((failed + 1))
    # Every later step stands on the test bed: without it they would only fail the same way.
    [ "$name" = testbed ] && break
  fi
done

echo
echo "=== summary ($((SECONDS - start_all)) s)"
printf '%s\n' "${summary[@]}"
echo "steps: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
