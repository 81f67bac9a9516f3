"""playbooks/site.yml checks the options of every role it runs once, in its first play, before any host changes.

The roles run there through entry points without a check of their own (`site`, `site_plan`); swarm_preflight's
entry point `site` carries the union of their argument specs (generated, tests/unit/roles/site_spec.py). These
tests keep that union true and prove the refusal: a bad value for the option of a role that runs late in
site.yml (the services, the report) stops the run at its first task, naming the field, before any host is read.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import site_spec

REPO_ROOT = Path(__file__).resolve().parents[3]


def test_the_site_check_is_the_union_of_the_roles_specs_and_up_to_date():
    assert site_spec.current_text() == site_spec.generated_text(), 'run `make site-spec`'
    site = yaml.safe_load(site_spec.TARGET.read_text())['argument_specs']['site']['options']
    for role, entry in site_spec.SITE_ENTRIES:
        for name, definition in site_spec.role_spec(role)[entry].get('options', {}).items():
            if name in site_spec.SET_BY_SITE:
                assert name not in site, name
                continue
            shape = {key: value for key, value in definition.items() if key != 'description'}
            assert {key: value for key, value in site[name].items() if key != 'description'} == shape, name


def test_site_yml_runs_every_role_through_an_unchecked_entry_point_and_swarm_preflight_through_site():
    plays = yaml.safe_load((REPO_ROOT / 'playbooks' / 'site.yml').read_text())
    imported = []

    def scan(tasks):
        for task in tasks:
            for action in ('ansible.builtin.import_role', 'ansible.builtin.include_role'):
                if action in task:
                    imported.append((task[action]['name'].split('.')[-1], task[action].get('tasks_from', 'main')))
            for action in ('ansible.builtin.import_tasks', 'ansible.builtin.include_tasks'):
                if action in task:  # site.yml's own task files, next to it
                    scan(yaml.safe_load((REPO_ROOT / 'playbooks' / task[action]).read_text()))

    for play in plays:
        imported += [(role['role'].split('.')[-1], 'main') for role in play.get('roles', [])]
        scan(play.get('pre_tasks', []) + play.get('tasks', []))
    specs = {role: site_spec.role_spec(role) for role, _entry in imported}
    checked = [(role, entry) for role, entry in imported if entry in specs[role]]
    # the one check of the run, and the steps that run only where something changes: the swarm read of a node whose
    # engine did not answer the first read (after the engine step started it), the roll. The engine's apply runs
    # through `site_apply`, unchecked: its options are main's, checked in the first play.
    assert checked == [('swarm_preflight', 'site'), ('swarm_preflight', 'read'), ('swarm_rolling', 'main')], checked


BAD = {
    'swarm_services_wait_timeout': 'soon',     # swarm_services, the last role but one
    'swarm_status_list_objects': 'perhaps',    # swarm_status, the last
    'firewall_ssh_ports': ['ssh'],             # the firewall, the first to change a host
    'docker_daemon_options': 'live-restore',   # the engine
    'swarm_member_availability': 'sometimes',  # a choice
}


# The same bad values as the inventory gives them: group_vars for most, host_vars for one, and templates that
# only become the bad value when templated (the check sees what the roles would see).
INVENTORY_FILES = {
    'group_vars/swarm.yml': {
        'swarm_services_wait_timeout': "{{ 'so' ~ 'on' }}",
        'swarm_status_list_objects': 'perhaps',
        'firewall_ssh_ports': "{{ ['ss' ~ 'h'] }}",
        'docker_daemon_options': 'live-restore',
    },
    'host_vars/node1.yml': {'swarm_member_availability': 'sometimes'},
    'host_vars/node2.yml': {'swarm_member_availability': "{{ 'some' ~ 'times' }}"},
}


def site_refused(tmp_path, *args):
    """site.yml on two hosts reached with the local connection: the check runs on the controller, so a refusal
    must end the run there. Returns the run after asserting it was the check's refusal."""
    (tmp_path / 'hosts.yml').write_text(yaml.safe_dump({'swarm': {
        'vars': {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable},
        'children': {'swarm_managers': {'hosts': {'node1': {}}}, 'swarm_workers': {'hosts': {'node2': {}}}}}}))
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO_ROOT / 'ansible.cfg'),
               ANSIBLE_COLLECTIONS_PATH=str(REPO_ROOT / '.cache' / 'collections'), ANSIBLE_NOCOLOR='1')
    command = [str(Path(sys.executable).parent / 'ansible-playbook'), '-i', str(tmp_path / 'hosts.yml'),
               str(REPO_ROOT / 'site.yml')] + list(args)
    run = subprocess.run(command, capture_output=True, text=True, env=env, cwd=str(tmp_path), check=False)
    output = run.stdout + run.stderr
    assert run.returncode == 2, output
    assert 'Validation of arguments failed' in output, output
    return run


@pytest.mark.parametrize('given_as', ['extra vars', 'inventory files'])
def test_a_bad_option_of_any_role_stops_site_yml_at_its_first_task_naming_the_field(tmp_path, given_as):
    if given_as == 'inventory files':
        for name, values in INVENTORY_FILES.items():
            (tmp_path / name).parent.mkdir(exist_ok=True)
            (tmp_path / name).write_text(yaml.safe_dump(values))
    run = site_refused(tmp_path, *(['-e', json.dumps(BAD)] if given_as == 'extra vars' else []))
    output = run.stdout + run.stderr
    for name in BAD:
        assert "'%s'" % name in output or 'value of %s must be one of' % name in output, name
    # the first task failed on both hosts: nothing was read, nothing else ran
    tasks = [line for line in run.stdout.splitlines() if line.startswith('TASK [')]
    assert len(tasks) == 1 and "arg spec 'site'" in tasks[0], tasks
    for host in ('node1', 'node2'):
        assert re.search(r'^%s\s+: ok=0\s+changed=0\s+unreachable=0\s+failed=1\s' % host, run.stdout, re.M), host
        # each host refused for its own values, the templated one included
        assert re.search(r'fatal: \[%s\]: FAILED!.*swarm_member_availability must be one of.*got: sometimes' % host,
                         run.stdout), host


# The options that hold secrets (no_log in the roles' specs), each given a value of the wrong type that carries a
# secret: the check refuses what it cannot convert, naming the field, and no secret reaches the output, even at -vvv.
SECRET_OPTIONS = {
    'swarm_registry_auth': ['registry-password-9f2c'],
    'docker_service_environment': ['HTTPS_PROXY=http://user:proxy-password-7d1e@proxy:3128'],
    'swarm_bootstrap_unlock_key': ['SWMKEY-1-unlockkeyunlockkeyunlockkey4b8a'],
    'swarm_rolling_unlock_key': {'key': 'SWMKEY-1-unlockkeyunlockkeyunlockkey5c9b'},
    'swarm_objects_secret_hash_key': {'key': 'hash-key-3a6f'},
}
SECRETS = ('registry-password-9f2c', 'proxy-password-7d1e', 'unlockkey4b8a', 'unlockkey5c9b', 'hash-key-3a6f')


def test_a_secret_in_a_refused_option_is_never_printed(tmp_path):
    run = site_refused(tmp_path, '-vvv', '-e', json.dumps(SECRET_OPTIONS))
    output = run.stdout + run.stderr
    for name in ('swarm_registry_auth', 'docker_service_environment'):  # a list is no mapping
        assert "'%s'" % name in output, name
    for secret in SECRETS:
        assert secret not in output, secret
