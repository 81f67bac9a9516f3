"""Checks shared by the cluster scenarios, made from outside the playbook's own view: each
node is inspected through `docker exec` (testinfra's docker backend), not through Ansible facts."""

import json

import testinfra


def node(name):
    return testinfra.get_host('docker://' + name)


def engine_json(host, command):
    """`docker ... --format '{{json .}}'` on a node: one JSON document per line."""
    out = host.check_output("docker %s --format '{{json .}}'" % command)
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def assert_engine_from_mirror(host):
    assert host.package('docker-ce').is_installed
    policy = host.check_output('apt-cache policy docker-ce')
    installed = [line for line in policy.splitlines() if line.strip().startswith('***')]
    assert installed, policy
    # The installed version's origin is the mirror of Docker's repository, not Debian.
    origins = policy.split(installed[0], 1)[1].splitlines()[1]
    assert 'swarmops-mirror/linux/debian' in origins, policy
    assert host.service('docker').is_running and host.service('docker').is_enabled


def assert_swarm_ports_open(host, manager):
    rules = host.check_output('ufw status verbose')
    assert 'Status: active' in rules
    expected = ['7946/tcp', '7946/udp', '4789/udp'] + (['2377/tcp'] if manager else [])
    for port in expected:
        assert port in rules, (port, rules)
    if not manager:
        assert '2377/tcp' not in rules, rules


def nodes_by_hostname(manager):
    return {entry['Hostname']: entry for entry in engine_json(manager, 'node ls')}


def service_tasks(manager, service):
    """Running tasks of SERVICE: {node hostname: count}."""
    counts = {}
    for task in engine_json(manager, 'service ps --filter desired-state=running %s' % service):
        if task['CurrentState'].startswith('Running'):
            counts[task['Node']] = counts.get(task['Node'], 0) + 1
    return counts
