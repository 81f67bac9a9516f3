#!/usr/bin/env bash
# `make test`: every suite CI runs, timed. The quick checks run first, one after another; the suites
# that drive node containers then run in lanes side by side (each suite owns its network and
# container names, and most of their time is spent waiting on apt, engines and swarms, not CPU).
# A failed step does not stop the others (one run shows every failure). The run fails when any step
# failed, when a lane ended with a non-zero status (a lane that died mid-way), or when a step that was
# to run left no result: "passed" is only ever what was seen to pass. Each step's output is in
# .cache/test-logs/STEP.log.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

# Steps are make targets. Overridable for tests of this script (tests/meta/test_run_all.py).
serial_steps="${SWARMOPS_TEST_SERIAL:-testbed unit lint sanity aws}"
# Lanes are separated by '|'. Balanced by the times of full runs on a 2-core machine, suites side by side
# (seconds, fresh-clone run of 304c4b6, after 414 s of quick checks): faults 1252 + objects 300 + integration-cluster
# 264 (+ core-matrix 258, then the last lane to end, alone for its last 130 s); lifecycle 1075 + integration-service
# 640 + distribution 138 + integration-targets 88; rolling 445 + molecule-ha 300 + molecule-default 329 +
# firewall-ssh 390 + molecule-docker 262 (then core-matrix). The quick checks run first, on their own: the one run
# with them in the shortest lane took 55 minutes in all, against 51 for that layout's run (one run each, so noise
# as much as cause: the machine is CPU-bound either way).
lanes="${SWARMOPS_TEST_LANES:-faults objects integration-cluster | lifecycle integration-service distribution integration-targets | rolling molecule-ha molecule-default firewall-ssh molecule-docker core-matrix}"
make_command="${SWARMOPS_TEST_MAKE:-make}"
# SWARMOPS_TEST_STEPS="unit lint" runs a subset (step names as above).
selected="${SWARMOPS_TEST_STEPS:-}"

logs="${SWARMOPS_TEST_LOGS:-.cache/test-logs}"
rm -rf "$logs"
mkdir -p "$logs"
start_all=$SECONDS

wanted() { [ -z "$selected" ] || [[ " $selected " == *" $1 "* ]]; }

# run_step NAME: `make NAME`, output to its log; the result goes to $logs/NAME.result. Returns its status.
run_step() {
  local name="$1" start=$SECONDS status
  if $make_command "$name" >"$logs/$name.log" 2>&1; then status=ok; else status=FAIL; fi
  printf '%-4s %s (%d s)\n' "$status" "$name" "$((SECONDS - start))" | tee "$logs/$name.result"
  [ "$status" = ok ]
}

# run_lane STEP...: the steps one after another; non-zero when any failed.
run_lane() {
  local name lane_status=0
  for name in "$@"; do
    wanted "$name" || continue
    run_step "$name" || lane_status=1
  done
  return "$lane_status"
}

expected=()
for name in $serial_steps ${lanes//|/ }; do
  wanted "$name" && expected+=("$name")
done

problems=()
testbed_failed=false
for name in $serial_steps; do
  wanted "$name" || continue
  echo "=== $name"
  run_step "$name" || true
  if [ "$name" = testbed ] && ! grep -qs '^ok' "$logs/testbed.result"; then
    # Every later step stands on the test bed: without it they would only fail the same way.
    tail -40 "$logs/testbed.log"
    testbed_failed=true
    break
  fi
done

if ! $testbed_failed; then
  IFS='|' read -r -a lane_list <<<"$lanes"
  echo "=== in ${#lane_list[@]} lanes: $(printf '[%s] ' "${lane_list[@]}")"
  pids=()
  for lane in "${lane_list[@]}"; do
    # shellcheck disable=SC2086  # a lane is a word list
    run_lane $lane &
    pids+=("$!")
  done
  for index in "${!pids[@]}"; do
    if ! wait "${pids[$index]}"; then
      problems+=("lane $((index + 1)) [${lane_list[$index]}] ended with a non-zero status")
    fi
  done
fi

passed=0
failed=0
missing=()
for name in "${expected[@]}"; do
  if grep -qs '^ok' "$logs/$name.result"; then
    passed=$((passed + 1))
  elif grep -qs '^FAIL' "$logs/$name.result"; then
    failed=$((failed + 1))
    echo
    echo "=== $name failed; the end of $logs/$name.log:"
    tail -40 "$logs/$name.log"
    # Last, so that a shortened copy of this output still names them: each failing test and its first error lines.
    echo "=== $name: the failing tests"
    grep -E '^(_{3,} .+ _{3,}|FAILED |ERROR |E   )' "$logs/$name.log" | cut -c1-200 | head -40
  else
    missing+=("$name")
  fi
done
[ "${#missing[@]}" -gt 0 ] && problems+=("steps that left no result: ${missing[*]}")

echo
echo "=== summary ($((SECONDS - start_all)) s)"
for name in "${expected[@]}"; do
  cat "$logs/$name.result" 2>/dev/null || printf '%-4s %s\n' '----' "$name (no result)"
done
for problem in "${problems[@]}"; do echo "ERROR: $problem"; done
echo "steps: ${#expected[@]} expected, $((passed + failed)) executed, $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "${#problems[@]}" -eq 0 ] && [ "$passed" -eq "${#expected[@]}" ] && [ "$passed" -gt 0 ]
