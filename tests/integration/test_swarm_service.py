"""swarm_service against real multi-node swarms (node containers, each with its own dockerd).

Swarm A: manager bookworm (engine 20.10, API 1.41) + workers trixie (engine 26.1) and bookworm.
Swarm B: manager trixie + worker bookworm, for the same rhythm through the newer engine.
Services run the locally loaded image swarmops/busybox:local (no registry here, so resolve_image stays off).
"""

import subprocess
import time

import pytest

from conftest import SERVICE_IMAGE

MODULE = 'swarmops.swarm.swarm_service'
HTTPD = ['httpd', '-f', '-p', '8080', '-h', '/www']
# busybox as PID 1 ignores SIGTERM: without a short grace period each task stop costs Docker's default 10s;
# a short update monitor lets a rolling update report completion sooner than the default 5s.
QUICK_STOP = {'stop_grace_period': '1s', 'update_config': {'monitor': '1s'}}


def start(nodes, short_name, number, release):
    """nodes.start, tried twice: on a loaded machine systemd in a fresh node sometimes misses the
    harness's 60s start-up window (the second try starts from a clean container)."""
    try:
        return nodes.start(short_name, number, release)
    except (subprocess.CalledProcessError, AssertionError):
        return nodes.start(short_name, number, release)


@pytest.fixture(scope='module')
def swarm_a(nodes):
    manager = start(nodes, 'svc-m1', 50, 'bookworm')
    worker_t = start(nodes, 'svc-w1', 51, 'trixie')
    worker_b = start(nodes, 'svc-w2', 52, 'bookworm')
    manager.init_swarm()
    worker_t.join_swarm(manager)
    worker_b.join_swarm(manager)
    wait_nodes_ready(manager, 3)
    yield manager, worker_t, worker_b
    for node in (worker_b, worker_t, manager):
        nodes.stop(node)


@pytest.fixture(scope='module')
def swarm_b(nodes):
    manager = start(nodes, 'svc-m2', 55, 'trixie')
    worker = start(nodes, 'svc-w3', 56, 'bookworm')
    manager.init_swarm()
    worker.join_swarm(manager)
    wait_nodes_ready(manager, 2)
    yield manager, worker
    for node in (worker, manager):
        nodes.stop(node)


def wait_nodes_ready(manager, count, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        out = manager.sh("docker node ls --format '{{.Status}}'").stdout.split()
        if out.count('Ready') == count:
            return
        time.sleep(1)
    raise AssertionError('swarm of %s: %d nodes not Ready' % (manager.name, count))


def running_tasks(manager, name):
    """[(node, state)] of the tasks that should run, as the CLI shows them."""
    out = manager.sh("docker service ps %s --filter desired-state=running --format '{{.Node}} {{.CurrentState}}'"
                     % name).stdout
    return [tuple(line.split(None, 1)) for line in out.splitlines() if line.strip()]


def service_spec(manager, name):
    return manager.docker_json('service inspect', name)['Spec']


def remove(ansible, manager, name):
    result = ansible.one(manager.name, MODULE, {'name': name, 'state': 'absent'})
    assert not result.get('failed'), result.get('msg')


def rhythm(ansible, manager, create_args, update_args, changed_fields):
    """check -> create -> again -> check -> update (diff == CHANGED_FIELDS) -> again."""
    name = create_args['name']
    predicted = ansible.one(manager.name, MODULE, create_args, check=True, diff=True)
    assert predicted['changed'] is True and not predicted.get('failed'), predicted.get('msg')
    assert manager.sh('docker service inspect %s' % name, check=False).returncode != 0, 'check mode created it'

    created = ansible.one(manager.name, MODULE, create_args, diff=True)
    assert created['changed'] is True, created.get('msg')
    assert created['diff']['before'] == {'state': 'absent'}
    assert created['tasks']['running'] == created['tasks']['desired'], created['tasks']
    assert predicted['diff']['after'] == created['diff']['after']

    again = ansible.one(manager.name, MODULE, create_args, diff=True)
    assert again['changed'] is False, again.get('diff')
    assert again['service']['id'] == created['service']['id']
    check_again = ansible.one(manager.name, MODULE, create_args, check=True, diff=True)
    assert check_again['changed'] is False, check_again.get('diff')

    updated_args = dict(create_args, **update_args)
    predicted_update = ansible.one(manager.name, MODULE, updated_args, check=True, diff=True)
    assert predicted_update['changed'] is True
    updated = ansible.one(manager.name, MODULE, updated_args, diff=True)
    assert updated['changed'] is True and not updated.get('failed'), updated.get('msg')
    assert sorted(updated['diff']['after']) == sorted(changed_fields), updated['diff']
    assert sorted(updated['diff']['before']) == sorted(changed_fields), updated['diff']
    assert predicted_update['diff'] == updated['diff']
    assert updated['recreated'] is False and updated['service']['id'] == created['service']['id']
    assert updated['tasks']['running'] == updated['tasks']['desired'], updated['tasks']
    settled = ansible.one(manager.name, MODULE, updated_args, diff=True)
    assert settled['changed'] is False, settled.get('diff')
    return created, updated


FAMILIES = {
    'container': (
        dict(image=SERVICE_IMAGE, args=['sleep', '3600'], replicas=2, env={'A': '1', 'B': 2},
             labels={'team': 'ops'}, container_labels={'tier': 'x'}, user='nobody', workdir='/tmp',
             hostname='{{ "{{" }}.Task.Name{{ "}}" }}', init=True, stop_grace_period='2s'),
        dict(env=['B=2', 'A=2'], args=['sleep', '3601'], replicas=3),
        ['env', 'args', 'replicas']),
    'ports-resources': (
        dict(image=SERVICE_IMAGE, args=HTTPD, publish=['18080:8080/udp', {'target': 8080, 'published': 18081}],
             limits={'cpus': 0.25, 'memory': '32M'}, reservations={'memory': '8M'},
             restart_policy={'condition': 'on-failure', 'delay': '2s', 'max_attempts': 5}),
        dict(limits={'cpus': '0.25', 'memory': '48M'}, publish=[{'target': 8080, 'published': 18081},
                                                                '18080:8080/udp', '18082:8080']),
        ['limits', 'publish']),
    'placement-update': (
        dict(image=SERVICE_IMAGE, args=['sleep', '3600'], replicas=2,
             constraints=['node.role == worker'], placement_preferences=['spread=node.hostname'],
             update_config={'parallelism': 2, 'order': 'start-first', 'monitor': '1s'},
             rollback_config={'parallelism': 0}, endpoint_mode='dnsrr'),
        dict(constraints=['node.role==worker', 'node.platform.os==linux'],
             update_config={'parallelism': 2, 'order': 'stop-first', 'monitor': '1s'}),
        ['constraints', 'update_config']),
    'mounts-health': (
        dict(image=SERVICE_IMAGE, args=['sleep', '3600'],
             mounts=['type=tmpfs,target=/scratch,tmpfs-size=8M', {'source': 'svcdata', 'target': '/data'},
                     {'type': 'bind', 'source': '/etc', 'target': '/host-etc', 'readonly': True}],
             healthcheck={'test': 'test -d /data', 'interval': '2s', 'retries': 2}),
        dict(mounts=[{'source': 'svcdata', 'target': '/data'},
                     {'type': 'bind', 'source': '/etc', 'target': '/host-etc', 'readonly': False},
                     'type=tmpfs,target=/scratch,tmpfs-size=8M'],
             healthcheck={'test': 'test -d /data', 'interval': '3s'}),
        ['mounts', 'healthcheck']),
}


@pytest.mark.parametrize('family', sorted(FAMILIES))
def test_option_family_rhythm(ansible, swarm_a, family):
    manager = swarm_a[0]
    create_args, update_args, changed = FAMILIES[family]
    name = 'fam-%s' % family
    create_args = dict(QUICK_STOP, **dict(create_args, name=name))
    rhythm(ansible, manager, create_args, update_args, changed)
    spec = service_spec(manager, name)
    if family == 'container':
        assert sorted(spec['TaskTemplate']['ContainerSpec']['Env']) == ['A=2', 'B=2']
        assert spec['TaskTemplate']['ContainerSpec']['Hostname'] == '{{.Task.Name}}'
    if family == 'ports-resources':
        assert spec['TaskTemplate']['Resources']['Limits'] == {'NanoCPUs': 250000000, 'MemoryBytes': 48 * 1024 ** 2}
        assert len(spec['EndpointSpec']['Ports']) == 3
    if family == 'placement-update':
        assert {node for node, _state in running_tasks(manager, name)} == {'it-svc-w1', 'it-svc-w2'}
    remove(ansible, manager, name)


def test_replicated_spread_over_both_workers(ansible, swarm_a):
    manager = swarm_a[0]
    args = {'stop_grace_period': '1s', 'name': 'spread', 'image': SERVICE_IMAGE, 'args': ['sleep', '3600'], 'replicas': 4,
            'constraints': ['node.role==worker'], 'max_replicas_per_node': 2}
    result = ansible.one(manager.name, MODULE, args)
    assert result['changed'] and result['tasks'] == dict(result['tasks'], desired=4, running=4), result
    placed = [node for node, state in running_tasks(manager, 'spread') if state.startswith('Running')]
    assert sorted(placed) == ['it-svc-w1', 'it-svc-w1', 'it-svc-w2', 'it-svc-w2']
    # A fifth replica has nowhere to go: wait reports the scheduler's error instead of hanging.
    failed = ansible.one(manager.name, MODULE, dict(args, replicas=5, wait_timeout=10))
    assert failed.get('failed') and failed['changed'] is True
    assert 'no suitable node' in failed['msg'], failed['msg']
    remove(ansible, manager, 'spread')


def test_global_service_on_every_node_with_host_port(ansible, swarm_a):
    manager, worker_t, worker_b = swarm_a
    args = {'stop_grace_period': '1s', 'name': 'web', 'image': SERVICE_IMAGE, 'args': HTTPD, 'mode': 'global',
            'publish': [{'published': 8080, 'target': 8080, 'mode': 'host'}]}
    result = ansible.one(manager.name, MODULE, args)
    assert result['changed'] and result['tasks']['desired'] == 3 and result['tasks']['running'] == 3, result
    assert sorted(node for node, _state in running_tasks(manager, 'web')) == ['it-svc-m1', 'it-svc-w1', 'it-svc-w2']
    for node in (manager, worker_t, worker_b):
        page = manager.sh('curl -fsS --max-time 5 http://%s:8080/' % node.ip).stdout
        assert page.strip() == 'hello from swarmops'
    again = ansible.one(manager.name, MODULE, args)
    assert again['changed'] is False and again['tasks']['running'] == 3
    remove(ansible, manager, 'web')


def test_overlay_network_dns_between_services(ansible, swarm_a):
    manager = swarm_a[0]
    manager.sh('docker network create -d overlay --attachable svcnet >/dev/null')
    server = {'name': 'backend', 'image': SERVICE_IMAGE, 'args': HTTPD, 'networks': ['svcnet'],
              'constraints': ['node.hostname==it-svc-w1']}
    assert ansible.one(manager.name, MODULE, server)['changed']
    assert ansible.one(manager.name, MODULE, server)['changed'] is False
    # A job on another node fetches the page by the service's DNS name and completes only if it got it
    # (tasks.NAME: the task addresses; the service VIP needs IPVS, which this test bed's kernel lacks).
    client = {'name': 'client', 'image': SERVICE_IMAGE, 'mode': 'replicated-job', 'replicas': 1,
              'networks': [{'name': 'svcnet', 'aliases': ['fetcher']}], 'constraints': ['node.hostname==it-svc-w2'],
              'restart_policy': {'condition': 'on-failure', 'delay': '1s'},
              'command': ['sh', '-c', 'wget -q -O- http://tasks.backend:8080/ | grep -q "hello from swarmops"']}
    result = ansible.one(manager.name, MODULE, client, diff=True)
    assert result['changed'] and not result.get('failed'), result.get('msg')
    assert result['tasks']['completed'] >= 1
    assert ansible.one(manager.name, MODULE, client)['changed'] is False
    remove(ansible, manager, 'client')
    remove(ansible, manager, 'backend')


def test_missing_image_fails_with_dockers_error(ansible, swarm_a):
    manager = swarm_a[0]
    result = ansible.one(manager.name, MODULE, {'name': 'ghost', 'image': 'swarmops/missing:1', 'wait_timeout': 60})
    assert result.get('failed') and result['changed'] is True
    assert 'No such image: swarmops/missing:1' in result['msg'], result['msg']
    assert result['tasks']['running'] == 0 and result['tasks']['failed'] >= 1
    remove(ansible, manager, 'ghost')


def test_bad_update_is_rolled_back(ansible, swarm_a):
    manager = swarm_a[0]
    args = {'stop_grace_period': '1s', 'name': 'rb', 'image': SERVICE_IMAGE, 'args': ['sleep', '3600'], 'replicas': 2,
            'update_config': {'failure_action': 'rollback', 'monitor': '2s', 'parallelism': 1},
            'rollback_config': {'parallelism': 2, 'monitor': '1s'}}
    created = ansible.one(manager.name, MODULE, args)
    assert created['changed'] and not created.get('failed'), created.get('msg')
    result = ansible.one(manager.name, MODULE, dict(args, image='swarmops/missing:2'), diff=True)
    assert result.get('failed') and result['rolled_back'] is True, result
    assert 'rolled it back' in result['msg'] and 'No such image' in result['msg'], result['msg']
    assert result['diff']['after'] == {'image': 'swarmops/missing:2'}
    assert service_spec(manager, 'rb')['TaskTemplate']['ContainerSpec']['Image'] == SERVICE_IMAGE
    # The rollback restored the old spec, so the original parameters are unchanged again.
    again = ansible.one(manager.name, MODULE, args)
    assert again['changed'] is False and again['tasks']['running'] == 2, again
    remove(ansible, manager, 'rb')


def test_mode_change_recreates_and_absent_removes(ansible, swarm_a):
    manager = swarm_a[0]
    args = {'stop_grace_period': '1s', 'name': 'moder', 'image': SERVICE_IMAGE, 'args': ['sleep', '3600'], 'replicas': 1}
    created = ansible.one(manager.name, MODULE, args)
    assert created['changed'] and created['recreated'] is False
    to_global = dict(args, mode='global')
    del to_global['replicas']
    predicted = ansible.one(manager.name, MODULE, to_global, check=True, diff=True)
    assert predicted['changed'] and predicted['recreated'] is True
    assert service_spec(manager, 'moder')['Mode'] == {'Replicated': {'Replicas': 1}}
    result = ansible.one(manager.name, MODULE, to_global, diff=True)
    assert result['changed'] and result['recreated'] is True
    assert 'replicated to global' in result['recreate_reason']
    assert result['diff'] == {'before': {'mode': 'replicated'}, 'after': {'mode': 'global'}}
    assert result['service']['id'] != created['service']['id']
    assert result['tasks']['running'] == 3
    assert service_spec(manager, 'moder')['Mode'] == {'Global': {}}

    absent = {'name': 'moder', 'state': 'absent'}
    assert ansible.one(manager.name, MODULE, absent, check=True)['changed'] is True
    assert manager.sh('docker service inspect moder', check=False).returncode == 0
    assert ansible.one(manager.name, MODULE, absent)['changed'] is True
    assert manager.sh('docker service inspect moder', check=False).returncode != 0
    assert ansible.one(manager.name, MODULE, absent)['changed'] is False


BAD_MODULE_INPUT = [
    ({'replicas': 'three'}, "replicas must be a whole number (0 or more), got 'three'"),
    ({'mode': 'global', 'replicas': 2}, 'remove replicas or use mode replicated'),
    ({'publish': ['70000:80']}, 'from 1 to 65535'),
    ({'constraints': ['node.role=manager']}, 'key==value'),
    ({'image': ''}, 'is not an image reference'),
    ({'networks': ['no-such-net']}, 'no network named no-such-net'),
]


def test_bad_input_changes_nothing(ansible, swarm_a):
    manager = swarm_a[0]
    before = manager.sh("docker service ls -q").stdout
    for bad, message in BAD_MODULE_INPUT:
        args = dict({'name': 'refused', 'image': SERVICE_IMAGE}, **bad)
        result = ansible.one(manager.name, MODULE, args)
        assert result.get('failed') and message in result['msg'], (bad, result.get('msg'))
        assert result.get('changed') is not True
    assert manager.sh("docker service ls -q").stdout == before


def test_bulk_services_and_unchanged_speed(ansible, swarm_a):
    manager = swarm_a[0]
    services = [{'name': 'bulk-%02d' % i, 'image': SERVICE_IMAGE, 'args': ['sleep', '3600'], 'replicas': 0,
                 'env': {'INDEX': str(i)}, 'labels': {'bulk': 'yes'}} for i in range(20)]
    created = ansible.one(manager.name, MODULE, {'services': services})
    assert created['changed'] and len(created['services']) == 20 and not created.get('failed'), created.get('msg')
    start = time.time()
    again = ansible.one(manager.name, MODULE, {'services': services}, check=False, diff=True)
    bulk_seconds = time.time() - start
    assert again['changed'] is False and all(r['action'] == 'none' for r in again['services'])
    start = time.time()
    for item in services[:3]:
        assert ansible.one(manager.name, MODULE, item)['changed'] is False
    single_seconds = (time.time() - start) / 3
    # One playbook run converging 20 unchanged services must beat 20 separate runs by far.
    print('\nunchanged: 20 services in one call %.2fs (%.3fs/service); one service per call %.2fs'
          % (bulk_seconds, bulk_seconds / 20, single_seconds))
    assert bulk_seconds < single_seconds * 4
    changed = [dict(s) for s in services]
    changed[7]['env'] = {'INDEX': 'seven'}
    result = ansible.one(manager.name, MODULE, {'services': changed}, diff=True)
    assert result['changed'] is True
    assert [r['name'] for r in result['services'] if r['changed']] == ['bulk-07']
    assert result['diff'] == {'before': {'bulk-07': {'env': {'INDEX': '7'}}},
                              'after': {'bulk-07': {'env': {'INDEX': 'seven'}}}}
    bad = [dict(s) for s in services] + [{'name': 'bulk-bad', 'image': SERVICE_IMAGE, 'replicas': -1}]
    refused = ansible.one(manager.name, MODULE, {'services': bad})
    assert refused.get('failed') and 'bulk-bad' in refused['msg'] and 'replicas' in refused['msg']
    absent = [{'name': s['name'], 'state': 'absent'} for s in services]
    removed = ansible.one(manager.name, MODULE, {'services': absent})
    assert removed['changed'] and manager.sh('docker service ls -q --filter label=bulk').stdout.strip() == ''


def test_trixie_manager_rhythm_and_failure(ansible, swarm_b):
    manager, worker = swarm_b
    rhythm(ansible, manager,
           {'name': 'tx', 'stop_grace_period': '1s', 'update_config': {'monitor': '1s'}, 'image': SERVICE_IMAGE,
            'args': HTTPD, 'replicas': 2, 'env': {'X': '1'},
            'publish': [{'published': 8081, 'target': 8080, 'mode': 'host'}], 'max_replicas_per_node': 1,
            'limits': {'memory': '32M'}},
           {'replicas': 1, 'limits': {'memory': '64M'}}, ['replicas', 'limits'])
    assert sorted(node for node, _state in running_tasks(manager, 'tx')) in (['it-svc-m2'], ['it-svc-w3'])
    missing = ansible.one(manager.name, MODULE, {'name': 'tx-missing', 'image': 'swarmops/missing:3',
                                                 'mode': 'global', 'wait_timeout': 60})
    assert missing.get('failed') and 'No such image: swarmops/missing:3' in missing['msg'], missing.get('msg')
    remove(ansible, manager, 'tx-missing')
    remove(ansible, manager, 'tx')
