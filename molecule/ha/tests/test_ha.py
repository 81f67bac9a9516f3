"""Three managers joined one at a time, two workers: one Leader, every manager Reachable."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'shared'))
from cluster_checks import (assert_engine_from_mirror, assert_swarm_ports_open, node,  # noqa: E402
                            nodes_by_hostname, service_tasks)

MANAGERS = ['mol-ha-manager1', 'mol-ha-manager2', 'mol-ha-manager3']
WORKERS = ['mol-ha-worker1', 'mol-ha-worker2']


@pytest.mark.parametrize('name', MANAGERS + WORKERS)
def test_engine_and_ports(name):
    host = node(name)
    assert_engine_from_mirror(host)
    assert_swarm_ports_open(host, manager=(name in MANAGERS))


@pytest.mark.parametrize('viewpoint', MANAGERS)
def test_every_manager_sees_one_leader_and_all_reachable(viewpoint):
    nodes = nodes_by_hostname(node(viewpoint))
    assert sorted(nodes) == sorted(MANAGERS + WORKERS)
    statuses = sorted(nodes[name]['ManagerStatus'] for name in MANAGERS)
    assert statuses == ['Leader', 'Reachable', 'Reachable'], statuses
    for name in WORKERS:
        assert nodes[name]['ManagerStatus'] == '' and nodes[name]['Status'] == 'Ready'


def test_services_run():
    manager = node('mol-ha-manager2')
    assert sum(service_tasks(manager, 'helloworld').values()) == 1
    assert service_tasks(manager, 'web') == {name: 1 for name in WORKERS}
