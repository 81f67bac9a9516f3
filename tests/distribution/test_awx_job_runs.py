"""The AWX job templates, run the way AWX runs them: through ansible-runner, with the survey answers as extra vars.

The playbooks come from the installed tarball (swarmops.swarm.site, .status, .deploy_services: the FQCN
equivalents of the templates' playbooks/*.yml), every run starts from a directory outside the repository, and the
hosts are a lab of bare node containers of its own (dist-manager1, dist-worker1, dist-worker2 on network
swarmops-dist), brought up by tests/testbed/lab.sh and removed afterwards. The lab inventory stands in for the
template's inventory; `lab_container_prefix` maps it onto this lab's containers.

The tests run in file order and build on each other: deploy, status, deploy a service from the survey, re-run
limited to one node, and finally no swarm join token anywhere in what ansible-runner recorded.
"""

import json
import os
import subprocess

import ansible_runner
import pytest

from awx_survey import launch_extra_vars
from dist_helpers import REPO_ROOT, load_yaml, scrub

LAB = {'LAB_PREFIX': 'dist-', 'LAB_NETWORK': 'swarmops-dist', 'LAB_SUBNET': '10.213.80.0/24'}
PREFIX = LAB['LAB_PREFIX']
NODES = ('manager1', 'worker1', 'worker2')
# The lab's hosts and group_vars, without the demo application of inventories/lab/app.yml (its registry is not
# attached to this lab's network): the job templates' runs are the tutorial's.
LAB_INVENTORY = REPO_ROOT / 'inventories' / 'lab' / 'hosts.yml'
SERVICE = {
    'swarm_service_name': 'awx-hello',
    'swarm_service_image': 'swarmops/busybox:local',  # the lab's locally loaded image (no registry here)
    'swarm_service_replicas': 2,
    'swarm_service_args': 'sleep 86400',
    'swarm_service_resolve_image': 'false',
}
RUNS = {}
# Roles whose tasks change a node (the others read state or report), each with a step on every node of its play
# even when nothing changes. (swarm_member's joins are not among them: on a formed swarm the one include that
# holds them is skipped whole, and none of its tasks reaches a host.)
CONVERGING_ROLES = {'docker', 'firewall', 'swarm_nodes'}


def lab_sh(action):
    env = dict(os.environ, **LAB)
    subprocess.run(['bash', str(REPO_ROOT / 'tests' / 'testbed' / 'lab.sh'), action], env=env, check=True,
                   timeout=600)


@pytest.fixture(scope='module')
def lab():
    lab_sh('down')  # leftovers of an earlier run: start from bare nodes
    try:
        lab_sh('up')
        yield
    finally:
        lab_sh('down')


@pytest.fixture(scope='module')
def templates():
    return {t['name']: t for t in load_yaml(REPO_ROOT / 'awx' / 'vars' / 'job_templates.yml')['awx_job_templates']}


@pytest.fixture(scope='module')
def launch(lab, templates, installed, outside, fqcn_prefix):
    """launch(template name, survey answers, verbosity) -> ansible_runner Runner, like an AWX job launch."""

    def _launch(name, answers, verbosity=0):
        template = templates[name]
        playbook = '%s.%s' % (fqcn_prefix, os.path.splitext(os.path.basename(template['playbook']))[0])
        assert (installed / template['playbook']).is_file()
        extravars = launch_extra_vars(template, answers)
        extravars['lab_container_prefix'] = PREFIX
        ident = '%02d-%s' % (len(RUNS) + 1, name.lower().replace(' ', '-'))
        private = outside / 'runner' / ident
        (private / 'project').mkdir(parents=True)
        runner = ansible_runner.run(
            private_data_dir=str(private), ident=ident, playbook=playbook, inventory=str(LAB_INVENTORY),
            extravars=extravars, verbosity=verbosity, quiet=True, timeout=1800,
            envvars={'ANSIBLE_CONFIG': str(outside / 'ansible.cfg'),
                     'ANSIBLE_COLLECTIONS_PATH': str(outside / 'collections'),
                     'ANSIBLE_FORCE_COLOR': '0', 'ANSIBLE_NOCOLOR': '1'})
        RUNS[ident] = private
        return runner

    return _launch


def tail(runner, lines=60):
    """The end of the job's stdout, join tokens scrubbed, for assertion messages."""
    path = os.path.join(runner.config.artifact_dir, 'stdout')
    with open(path, encoding='utf-8', errors='replace') as handle:
        return scrub(''.join(handle.readlines()[-lines:]))


def assert_successful(runner, hosts):
    output = tail(runner)
    assert runner.status == 'successful' and runner.rc == 0, output
    stats = runner.stats
    assert not stats.get('failures') and not stats.get('dark'), (stats, output)
    processed = set(stats.get('processed') or {})
    assert set(hosts) <= processed, (sorted(processed), output)
    return stats


def manager_docker(*args):
    out = subprocess.run(['docker', 'exec', PREFIX + 'manager1', 'docker'] + list(args) + ['--format', '{{json .}}'],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def report_lines(runner):
    """The lines the status report (role swarm_status, a debug of a list of lines) printed."""
    lines = []
    for event in runner.events:
        if event.get('event') != 'runner_on_ok':
            continue
        res = event.get('event_data', {}).get('res', {})
        msg = res.get('msg')
        if isinstance(msg, list) and any('HOSTNAME' in str(line) for line in msg):
            lines = [str(line) for line in msg]
    assert lines, 'the status report was not found in the job events'
    return lines


def test_deploy_swarm_job_forms_the_swarm(launch):
    # At -vvv, as an operator debugging a job would: join tokens must still never reach the output.
    runner = launch('Deploy swarm', {'swarm_limit': 'all'}, verbosity=3)
    assert_successful(runner, NODES)
    nodes = {n['Hostname']: n for n in manager_docker('node', 'ls')}
    assert sorted(nodes) == sorted(PREFIX + n for n in NODES), sorted(nodes)
    assert all(n['Status'] == 'Ready' for n in nodes.values()), nodes
    assert nodes[PREFIX + 'manager1']['ManagerStatus'] == 'Leader'
    assert not nodes[PREFIX + 'worker1']['ManagerStatus'] and not nodes[PREFIX + 'worker2']['ManagerStatus']


def test_swarm_status_job_reports_nodes_and_services(launch):
    runner = launch('Swarm status', {})
    assert_successful(runner, ['manager1'])
    lines = report_lines(runner)
    for node, role in ((PREFIX + 'manager1', 'manager'), (PREFIX + 'worker1', 'worker'),
                       (PREFIX + 'worker2', 'worker')):
        rows = [line for line in lines if line.split() and line.split()[-1] == node]
        assert len(rows) == 1, (node, lines)
        fields = rows[0].lower().split()
        assert role in fields and 'ready' in fields and 'active' in fields, rows[0]
    services = {line.split()[0] for line in lines[lines.index(next(l for l in lines if l.startswith('NAME'))) + 1:]
                if line.strip()}
    expected = {s['Name'] for s in manager_docker('service', 'ls')}
    assert services == expected, (services, expected)
    assert not any('docker swarm join' in line for line in lines)


def test_deploy_services_job_creates_the_surveyed_service(launch):
    runner = launch('Deploy services', SERVICE)
    stats = assert_successful(runner, ['manager1'])
    assert sum((stats.get('changed') or {}).values()) >= 1, stats
    services = {s['Name']: s for s in manager_docker('service', 'ls')}
    service = services.get(SERVICE['swarm_service_name'])
    assert service, sorted(services)
    assert service['Replicas'] == '2/2', service
    assert service['Image'].startswith(SERVICE['swarm_service_image']), service
    inspect = json.loads(subprocess.run(
        ['docker', 'exec', PREFIX + 'manager1', 'docker', 'service', 'inspect', SERVICE['swarm_service_name']],
        capture_output=True, text=True, check=True).stdout)[0]
    assert inspect['Spec']['TaskTemplate']['ContainerSpec'].get('Args') == ['sleep', '86400'], inspect['Spec']

    again = launch('Deploy services', SERVICE)
    stats = assert_successful(again, ['manager1'])
    assert sum((stats.get('changed') or {}).values()) == 0, ('second run changed something', stats)

    status = launch('Swarm status', {})
    rows = [line.split() for line in report_lines(status) if line.split()[:1] == [SERVICE['swarm_service_name']]]
    assert rows and '2/2' in rows[0], rows


def _converged(runner, host):
    """Roles that ran tasks on HOST, of the converging ones (CONVERGING_ROLES)."""
    return {event['event_data'].get('role') for event in runner.events
            if event.get('event') in ('runner_on_ok', 'runner_on_failed', 'runner_on_skipped')
            and event.get('event_data', {}).get('host') == host} & CONVERGING_ROLES


def test_deploy_swarm_job_limited_to_one_node_converges_only_that_node(launch):
    """`swarm_limit` picks the nodes to converge; others may be read (discovery, validation), never changed."""
    runner = launch('Deploy swarm', {'swarm_limit': 'worker2'})
    stats = assert_successful(runner, ['worker2'])
    assert _converged(runner, 'worker2') == CONVERGING_ROLES, _converged(runner, 'worker2')
    for other in ('manager1', 'worker1'):
        assert not _converged(runner, other), ('a run limited to worker2 converged %s' % other,
                                               _converged(runner, other))
    assert sum((stats.get('changed') or {}).values()) == 0, ('re-run of a converged swarm changed', stats)
    assert len(manager_docker('node', 'ls')) == 3


def test_no_join_token_or_unlock_key_in_any_runner_artefact():
    assert RUNS, 'no job ran'
    leaks = []
    for ident, private in sorted(RUNS.items()):
        for root, _dirs, files in os.walk(str(private)):
            for name in files:
                path = os.path.join(root, name)
                with open(path, 'rb') as handle:
                    data = handle.read()
                for marker in (b'SWMTKN-', b'SWMKEY-'):
                    if marker in data:
                        leaks.append('%s (%s)' % (os.path.relpath(path, str(private.parent)), marker.decode()))
    assert not leaks, 'swarm secrets in runner artefacts: %s' % leaks
