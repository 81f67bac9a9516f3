"""The demo after site.yml: engine from the mirror, ports open, swarm formed, the tutorial's services up, and the
application (network, secret, config, a stack from the authenticated registry) working across nodes."""

import json
import os
import sys
import time
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


# ---- the demo application (group lab_app): objects, the private registry, the overlay network ----------

TESTBED_CACHE = Path(os.environ.get('SWARMOPS_TESTBED_CACHE') or
                     Path(__file__).resolve().parents[3] / '.cache' / 'testbed')


def task_container(host, service):
    """The ID of a running container of SERVICE's task on HOST."""
    ids = host.check_output("docker ps -q --filter label=com.docker.swarm.service.name=%s" % service).split()
    assert ids, '%s has no running task on this node' % service
    return ids[0]


def test_app_from_the_private_registry_holds_its_secret_and_config_and_talks_over_the_overlay():
    manager = node(MANAGER)
    assert service_tasks(manager, 'shop_web') == {name: 1 for name in WORKERS}
    assert service_tasks(manager, 'shop_probe') == {MANAGER: 1}
    token = (TESTBED_CACHE / 'lab' / 'app-token').read_text().strip()
    for name in WORKERS:
        worker = node(name)
        # pulled by the worker from the authenticated registry (the credentials went with the service)
        images = worker.check_output("docker image ls --format '{{.Repository}}:{{.Tag}}'").split()
        assert 'swarmops-registry:5000/swarmops/busybox:local' in images, (name, images)
        web = task_container(worker, 'shop_web')
        assert worker.check_output('docker exec %s cat /run/secrets/app_token' % web) == token
        assert worker.check_output('docker exec %s cat /www/index.html' % web) == 'hello from the shop'
    # The probe on the manager fetched the page from a worker's task, by the service's name, every 5 s.
    probe = task_container(manager, 'shop_probe')
    deadline = time.time() + 60
    page = ''
    while time.time() < deadline and page != 'hello from the shop':
        page = manager.run('docker exec %s cat /tmp/page' % probe).stdout.strip()
        time.sleep(2)
    assert page == 'hello from the shop'
    overlay = engine_json(manager, 'network inspect app_net')[0]
    assert overlay['Driver'] == 'overlay' and overlay['Scope'] == 'swarm' and overlay['Attachable'], overlay
