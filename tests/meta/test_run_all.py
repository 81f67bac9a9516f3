"""tests/run-all.sh (what `make test` and CI run) counts only what it saw pass.

The steps are replaced by a stand-in for `make` whose behaviour each step name chooses: pass, fail, or kill
the lane it runs in (as an OOM kill or a crashed runner would).
"""

import os
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
FAKE_MAKE = '''#!/bin/sh
case "$1" in
  ok*) echo "step $1 passes"; exit 0 ;;
  bad*) echo "step $1 fails"; exit 1 ;;
  die*) kill -9 "$PPID"; sleep 5; exit 0 ;;
esac
exit 2
'''


def run_all(tmp_path, serial, lanes, steps=''):
    make = tmp_path / 'fake-make'
    make.write_text(FAKE_MAKE)
    make.chmod(0o755)
    env = dict(os.environ, SWARMOPS_TEST_SERIAL=serial, SWARMOPS_TEST_LANES=lanes, SWARMOPS_TEST_MAKE=str(make),
               SWARMOPS_TEST_LOGS=str(tmp_path / 'logs'), SWARMOPS_TEST_STEPS=steps)
    result = subprocess.run(['bash', str(REPO_ROOT / 'tests' / 'run-all.sh')], env=env, capture_output=True,
                            text=True, timeout=60, check=False)
    return result.returncode, result.stdout + result.stderr


def test_all_steps_passing_is_a_pass(tmp_path):
    status, out = run_all(tmp_path, 'ok1 ok2', 'ok3 ok4 | ok5')
    assert status == 0, out
    assert 'steps: 5 expected, 5 executed, 5 passed, 0 failed' in out, out


def test_a_failed_step_in_a_lane_fails_the_run_and_the_rest_still_runs(tmp_path):
    status, out = run_all(tmp_path, 'ok1', 'bad2 ok3 | ok4')
    assert status != 0, out
    assert 'steps: 4 expected, 4 executed, 3 passed, 1 failed' in out, out
    assert 'ERROR: lane 1 [bad2 ok3 ] ended with a non-zero status' in out, out


def test_a_lane_that_dies_fails_the_run_and_its_missing_steps_are_named(tmp_path):
    status, out = run_all(tmp_path, 'ok1', 'ok2 die3 ok4 | ok5')
    assert status != 0, out
    assert 'ended with a non-zero status' in out, out
    assert 'steps that left no result: die3 ok4' in out, out
    assert 'steps: 5 expected, 3 executed, 3 passed, 0 failed' in out, out


def test_a_subset_counts_only_the_selected_steps(tmp_path):
    status, out = run_all(tmp_path, 'ok1 bad2', 'ok3 | bad4', steps='ok1 ok3')
    assert status == 0, out
    assert 'steps: 2 expected, 2 executed, 2 passed, 0 failed' in out, out


def test_the_default_steps_are_every_suite_of_the_makefile():
    """Nothing the Makefile offers as a test suite is left out of `make test` (a suite that CI never runs is a
    promise nobody checks), and every default step is a Makefile target."""
    script = (REPO_ROOT / 'tests' / 'run-all.sh').read_text()
    defaults = {}
    for name in ('SWARMOPS_TEST_SERIAL', 'SWARMOPS_TEST_LANES'):
        start = script.index('${%s:-' % name) + len('${%s:-' % name)
        defaults[name] = script[start:script.index('}', start)]
    steps = (defaults['SWARMOPS_TEST_SERIAL'] + ' ' + defaults['SWARMOPS_TEST_LANES'].replace('|', ' ')).split()
    assert len(steps) == len(set(steps)), steps
    makefile = (REPO_ROOT / 'Makefile').read_text()
    phony = [line for line in makefile.splitlines() if line.startswith('.PHONY: test ')]
    assert len(phony) == 1, 'the tests section of the Makefile has changed shape'
    scenarios = sorted(p.parent.name for p in (REPO_ROOT / 'molecule').glob('*/molecule.yml'))
    suites = set(phony[0].split()[1:]) - {'test', 'test-fast', 'integration', 'molecule', 'registry',
                                          '$(addprefix', 'molecule-,$(SCENARIOS))'}
    suites |= set('molecule-' + s for s in scenarios)
    assert sorted(suites - set(steps)) == [], 'suites make test does not run'
    targets = set(line.split(':', 1)[0] for line in makefile.splitlines() if ':' in line and not line.startswith(
        ('\t', '#', '.', ' ')))
    assert sorted(set(s for s in steps if not s.startswith('molecule-')) - targets) == []
