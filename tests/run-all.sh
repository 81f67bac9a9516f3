#!/usr/bin/env bash
# `make test`: every suite CI runs, timed. The quick checks run first, one after another; the suites
# that drive node containers then run in two lanes side by side (each suite owns its network and
# container names, and most of their time is spent waiting on apt, engines and swarms, not CPU).
# A failed step does not stop the others (one run shows every failure); the exit status is non-zero
# if any step failed. Each step's output is in .cache/test-logs/STEP.log.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

serial_steps="testbed unit lint sanity"
lane_one="integration-cluster molecule-docker molecule-default distribution rolling"
lane_two="integration-service molecule-firewall molecule-ha faults"
# SWARMOPS_TEST_STEPS="unit lint" runs a subset (step names as above; each is a make target).
selected="${SWARMOPS_TEST_STEPS:-}"

logs=.cache/test-logs
rm -rf "$logs"
mkdir -p "$logs"
start_all=$SECONDS

wanted() { [ -z "$selected" ] || [[ " $selected " == *" $1 "* ]]; }

# run_step NAME: make NAME, output to its log; the result goes to $logs/NAME.result.
run_step() {
  local name="$1" start=$SECONDS status
  if make "$name" >"$logs/$name.log" 2>&1; then status=ok; else status=FAIL; fi
  printf '%-4s %s (%d s)\n' "$status" "$name" "$((SECONDS - start))" | tee "$logs/$name.result"
}

run_lane() {
  local name
  for name in "$@"; do wanted "$name" && run_step "$name"; done
  return 0
}

for name in $serial_steps; do
  wanted "$name" || continue
  echo "=== $name"
  run_step "$name"
  if [ "$name" = testbed ] && grep -q FAIL "$logs/testbed.result"; then
    # Every later step stands on the test bed: without it they would only fail the same way.
    tail -40 "$logs/testbed.log"
    break
  fi
done

if ! grep -qs FAIL "$logs/testbed.result"; then
  echo "=== in two lanes: [$lane_one] and [$lane_two]"
  # shellcheck disable=SC2086  # the lanes are word lists
  run_lane $lane_one &
  lane_one_pid=$!
  # shellcheck disable=SC2086
  run_lane $lane_two &
  lane_two_pid=$!
  wait "$lane_one_pid" "$lane_two_pid"
fi

passed=$(cat "$logs"/*.result 2>/dev/null | grep -c '^ok' || true)
failed=$(cat "$logs"/*.result 2>/dev/null | grep -c '^FAIL' || true)
for result in "$logs"/*.result; do
  [ -e "$result" ] || continue
  if grep -q '^FAIL' "$result"; then
    name="$(basename "$result" .result)"
    echo
    echo "=== $name failed; the end of $logs/$name.log:"
    tail -60 "$logs/$name.log"
  fi
done
echo
echo "=== summary ($((SECONDS - start_all)) s)"
cat "$logs"/*.result 2>/dev/null
echo "steps: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
