"""The tutorial cluster after site.yml: engine from the mirror, ports open, swarm formed, services up."""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'shared'))
from cluster_checks import (assert_engine_from_mirror, assert_swarm_ports_open, engine_json,  # noqa: E402
                            node, nodes_by_hostname, service_tasks)

MANAGER = 'mol-default-manager1'
WORKERS = ['mol-default-worker1', 'mol-default-worker2']


@pytest.mark.parametrize('name', [MANAGER] + WORKERS)
def test_engine_and_ports(name):
    host = node(name)
    assert_engine_from_mirror(host)
    assert_swarm_ports_open(host, manager=(name == MANAGER))


def test_three_nodes_ready_with_their_roles():
    nodes = nodes_by_hostname(node(MANAGER))
    assert sorted(nodes) == sorted([MANAGER] + WORKERS)
    for hostname, entry in nodes.items():
        assert entry['Status'] == 'Ready', entry
        assert entry['Availability'] == 'Active', entry
        assert entry['ManagerStatus'] == ('Leader' if hostname == MANAGER else ''), entry


def test_every_node_is_in_the_same_swarm():
    manager_info = json.loads(node(MANAGER).check_output("docker info --format '{{json .Swarm}}'"))
    for name in WORKERS:
        info = json.loads(node(name).check_output("docker info --format '{{json .Swarm}}'"))
        assert info['LocalNodeState'] == 'active'
        assert not info['ControlAvailable']
        assert info['NodeID'] in {entry['ID'] for entry in engine_json(node(MANAGER), 'node ls')}
    assert manager_info['ControlAvailable']


def test_helloworld_runs_one_replica():
    services = {entry['Name']: entry for entry in engine_json(node(MANAGER), 'service ls')}
    assert services['helloworld']['Replicas'] == '1/1'
    assert sum(service_tasks(node(MANAGER), 'helloworld').values()) == 1


def test_web_is_spread_over_the_workers_and_answers_on_each():
    assert service_tasks(node(MANAGER), 'web') == {name: 1 for name in WORKERS}
    for name, address in [('mol-default-worker1', '10.213.50.21'), ('mol-default-worker2', '10.213.50.22')]:
        page = node(MANAGER).check_output('curl -sf --max-time 5 http://%s:8080/' % address)
        assert page.strip() == 'hello from swarmops', (name, page)
