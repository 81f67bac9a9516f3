"""The swarm roles that build on an earlier role's result refuse to start without it, naming the variable.

swarm_preflight reads each node (swarm_node_info) and works out its advertise address (swarm_node_advertise_addr);
swarm_bootstrap makes the plan the others join and deploy through (swarm_bootstrap_plan). A role run without
them would decide from nothing: a swarm member's engine restarted with the others, a join with no address. They
are required options of each role's argument spec, so the refusal comes before the role's first task. Real
ansible-playbook runs on the controller (no host is touched: the refusal is Ansible's argument check).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]

CASES = [
    # (role, entry point, the variables it must refuse to start without)
    ('swarm_bootstrap', 'main', ['swarm_node_advertise_addr']),
    ('swarm_member', 'main', ['swarm_bootstrap_plan', 'swarm_node_advertise_addr']),
    ('swarm_services', 'main', ['swarm_bootstrap_plan']),
    ('swarm_rolling', 'plan', ['swarm_node_info']),
]


def play(tmp_path, role, entry, extra_vars=None):
    playbook = tmp_path / 'play.yml'
    task = {'name': 'the role', 'ansible.builtin.include_role': {'name': 'swarmops.swarm.' + role, 'tasks_from': entry}}
    marker = {'name': 'reached only when the role started', 'ansible.builtin.debug': {'msg': 'ROLE-STARTED'}}
    playbook.write_text(json.dumps([{'hosts': 'localhost', 'gather_facts': False, 'tasks': [task, marker]}]))
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO_ROOT / 'ansible.cfg'),
               ANSIBLE_COLLECTIONS_PATH=str(REPO_ROOT / '.cache' / 'collections'), ANSIBLE_NOCOLOR='1',
               ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_INVENTORY_UNPARSED_WARNING='0')
    command = [str(Path(sys.executable).parent / 'ansible-playbook'), '-i', 'localhost,', '-c', 'local', str(playbook)]
    if extra_vars:
        command += ['-e', json.dumps(extra_vars)]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=str(tmp_path), check=False)


@pytest.mark.parametrize('role, entry, needed', CASES)
def test_a_role_without_the_earlier_roles_result_refuses_before_its_first_task(tmp_path, role, entry, needed):
    run = play(tmp_path, role, entry)
    output = run.stdout + run.stderr
    assert run.returncode != 0, output
    assert 'missing required arguments: %s' % ', '.join(needed) in output, output
    # the description tells where the value comes from
    assert 'swarmops.swarm.swarm_' in output and 'ROLE-STARTED' not in output


@pytest.mark.parametrize('role, entry, mapping', [
    ('swarm_member', 'main', 'swarm_bootstrap_plan'),
    ('swarm_services', 'main', 'swarm_bootstrap_plan'),
    ('swarm_rolling', 'plan', 'swarm_node_info'),
])
def test_a_result_that_is_not_a_mapping_is_refused_too(tmp_path, role, entry, mapping):
    wrong = {mapping: ['not', 'a', 'mapping'], 'swarm_node_advertise_addr': '10.0.0.1'}
    run = play(tmp_path, role, entry, extra_vars=wrong)
    output = run.stdout + run.stderr
    assert run.returncode != 0 and 'ROLE-STARTED' not in output, output
    assert "'%s' is of type" % mapping in output and 'Validation of arguments failed' in output, output
