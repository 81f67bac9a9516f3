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
INFO_MODULE = 'swarmops.swarm.swarm_info'
HTTPD = ['httpd', '-f', '-p', '8080', '-h', '/www']
# busybox as PID 1 ignores SIGTERM: without a short grace period each task stop costs Docker's default 10s;
# a short update monitor lets a rolling update report completion sooner than the default 5s; a short
# stability window (wait_stable) keeps the tests that are not about it fast.
QUICK_STOP = {'stop_grace_period': '1s', 'update_config': {'monitor': '1s'}, 'wait_stable': 1}


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


def steps(ansible, manager, step_list, extra_vars=None, verbosity=0):
    """Run the module once per step, in ONE playbook on MANAGER (one ansible-playbook start for all);
    each step is {'args': ..., 'check': bool}, and 'module' for another module than swarm_service (the
    comparison of swarm_info). Returns ([result per step], the run)."""
    tasks = [{'name': 'step %d' % number, step.get('module', MODULE): step['args'],
              'check_mode': bool(step.get('check')), 'diff': True, 'ignore_errors': True}
             for number, step in enumerate(step_list)]
    per_task, run = ansible.playbook(manager.name, tasks, extra_vars=extra_vars, verbosity=verbosity)
    assert len(per_task) == len(step_list), run.stderr[-2000:]
    return [result[manager.name] for result in per_task], run


# The options of a swarm_service call that are not a service's own (they are not items of O(services)).
CALL_OPTIONS = ('wait', 'wait_timeout', 'wait_stable', 'registry_auth')


def compare(*services):
    """A step: swarm_info's comparison of SERVICES (swarm_service arguments) with the swarm, the one site.yml's
    first read makes to skip the services' module call."""
    items = [dict((k, v) for k, v in service.items() if k not in CALL_OPTIONS) if isinstance(service, dict)
             else service for service in services]
    return {'module': INFO_MODULE, 'args': {'nodes': False, 'services': False, 'compare_services': items}}


def compared(result):
    assert not result.get('failed'), result.get('msg')
    return result['services_compared']


def rhythm(ansible, manager, create_args, update_args, changed_fields):
    """check -> create -> again -> check -> update (diff == CHANGED_FIELDS) -> again; between them, swarm_info's
    comparison must agree with the module's own plan (unchanged exactly when a check-mode run changes nothing)."""
    name = create_args['name']
    predicted = ansible.one(manager.name, MODULE, create_args, check=True, diff=True)
    assert predicted['changed'] is True and not predicted.get('failed'), predicted.get('msg')
    assert manager.sh('docker service inspect %s' % name, check=False).returncode != 0, 'check mode created it'

    updated_args = dict(create_args, **update_args)
    gone = {'name': 'never-created-%s' % name, 'state': 'absent'}  # absent as declared: unchanged
    results, _run = steps(ansible, manager, [
        {'args': create_args}, {'args': create_args}, {'args': create_args, 'check': True},
        compare(create_args, gone), compare(updated_args, gone),
        {'args': updated_args, 'check': True}, {'args': updated_args}, {'args': updated_args},
        compare(updated_args), compare(create_args)])
    (created, again, check_again, same_at_read, new_at_read, predicted_update, updated, settled, updated_at_read,
     old_at_read) = results
    assert compared(same_at_read)['unchanged'] is True, same_at_read['services_compared']
    assert compared(new_at_read) == {'unchanged': False, 'reason': '%s: update (%s)' % (
        name, ', '.join(sorted(changed_fields)))}, new_at_read['services_compared']
    assert compared(updated_at_read)['unchanged'] is True, updated_at_read['services_compared']
    assert compared(old_at_read)['unchanged'] is False, old_at_read['services_compared']
    assert created['changed'] is True, created.get('msg')
    assert created['diff']['before'] == {'state': 'absent'}
    assert created['tasks']['running'] == created['tasks']['desired'], created['tasks']
    assert predicted['diff']['after'] == created['diff']['after']

    assert again['changed'] is False, again.get('diff')
    assert again['service']['id'] == created['service']['id']
    assert check_again['changed'] is False, check_again.get('diff')

    assert predicted_update['changed'] is True
    assert updated['changed'] is True and not updated.get('failed'), updated.get('msg')
    assert sorted(updated['diff']['after']) == sorted(changed_fields), updated['diff']
    assert sorted(updated['diff']['before']) == sorted(changed_fields), updated['diff']
    assert predicted_update['diff'] == updated['diff']
    assert updated['recreated'] is False and updated['service']['id'] == created['service']['id']
    assert updated['tasks']['running'] == updated['tasks']['desired'], updated['tasks']
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
    # What a container may do and see (the nodes lack CAP_SYS_TIME, so the capabilities are ones they have).
    'container-extras': (
        dict(image=SERVICE_IMAGE, args=['sleep', '3600'], replicas=1, cap_add=['NET_ADMIN'], cap_drop=['net_raw'],
             sysctls={'net.core.somaxconn': 512}, ulimits={'nofile': '1024:2048'}, dns=['10.213.40.1'],
             dns_search=['svc.local'], dns_options=['ndots:2'], hosts={'db.local': '10.0.0.5'}, groups=['10'],
             read_only=True, tty=True, init=True, stop_signal='TERM', log_driver='json-file',
             log_options={'max-size': '1m'}),
        dict(ulimits={'nofile': 4096}, hosts=['db.local:10.0.0.6'], cap_add=['SYS_ADMIN', 'NET_ADMIN'],
             log_options={'max-size': '2m'}),
        ['ulimits', 'hosts', 'cap_add', 'log_options']),
    # Generic resources no node here advertises: no task can be placed, so the service runs none.
    'generic-resources': (
        dict(image=SERVICE_IMAGE, args=['sleep', '3600'], replicas=0, generic_resources=['gpu=1'],
             reservations={'memory': '4M'}),
        dict(generic_resources=['gpu=2', 'ssd=fast']),
        ['generic_resources']),
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
    args = {'stop_grace_period': '1s', 'wait_stable': 1, 'name': 'spread', 'image': SERVICE_IMAGE, 'args': ['sleep', '3600'], 'replicas': 4,
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
    args = {'stop_grace_period': '1s', 'wait_stable': 1, 'name': 'web', 'image': SERVICE_IMAGE, 'args': HTTPD, 'mode': 'global',
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
    server = {'name': 'backend', 'wait_stable': 1, 'image': SERVICE_IMAGE, 'args': HTTPD, 'networks': ['svcnet'],
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
    args = {'stop_grace_period': '1s', 'wait_stable': 1, 'name': 'rb', 'image': SERVICE_IMAGE, 'args': ['sleep', '3600'], 'replicas': 2,
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
    args = {'stop_grace_period': '1s', 'wait_stable': 1, 'name': 'moder', 'image': SERVICE_IMAGE, 'args': ['sleep', '3600'], 'replicas': 1}
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
    # options this manager's engine (API 1.41) would ignore silently, so the service would differ on every run
    ({'healthcheck': {'test': 'true', 'start_interval': '1s'}}, 'needs Engine API 1.44 (Docker 25.0'),
    ({'oom_score_adj': 10}, 'needs Engine API 1.46 (Docker 27.0'),
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
           {'name': 'tx', 'stop_grace_period': '1s', 'update_config': {'monitor': '1s'}, 'wait_stable': 1,
            'image': SERVICE_IMAGE,
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


# ---- never lose a service, roll out exactly what was asked ------------------------------------------------

def inspect(manager, name):
    return manager.engine('GET', '/services/%s' % name)


def test_recreates_are_checked_first_and_undone_when_the_create_fails(ansible, swarm_a):
    manager = swarm_a[0]
    # porthog holds an ingress port; keeper, updated once, has a previous spec (what a rollback returns to)
    porthog = {'name': 'porthog', 'image': SERVICE_IMAGE, 'args': ['sleep', '3600'], 'replicas': 0,
               'publish': ['30999:8080']}
    keeper = dict(QUICK_STOP, name='keeper', image=SERVICE_IMAGE, args=['sleep', '3600'], replicas=1, labels={'v': '1'})
    keeper_v2 = dict(keeper, labels={'v': '2'})
    base = dict(QUICK_STOP, name='tojob', image=SERVICE_IMAGE, args=['sleep', '3600'], replicas=1)
    job = {'name': 'tojob', 'image': SERVICE_IMAGE, 'command': ['true'], 'mode': 'replicated-job', 'replicas': 2}
    r, _run = steps(ansible, manager, [
        {'args': porthog}, {'args': keeper}, {'args': keeper_v2},       # 0-2
        {'args': base},                                                 # 3 replicated, with an update_config
        {'args': dict(job, update_config={'parallelism': 1})},          # 4 refused: a job takes no update_config
        {'args': job, 'check': True},                                   # 5 predicts the recreate
        {'args': job},                                                  # 6 recreated as a job, runs to completion
        {'args': job},                                                  # 7 unchanged
    ])
    for number in (0, 1, 2, 3, 5, 6, 7):
        assert not r[number].get('failed'), (number, r[number].get('msg'))
    assert r[4]['failed'] and not r[4]['changed'] and 'update_config: a job' in r[4]['msg'], r[4]
    assert r[5]['changed'] and r[5]['recreated'] and r[5]['service']['id'] == r[3]['service']['id']
    assert r[6]['recreated'] and r[6]['tasks']['completed'] >= 2, r[6]
    assert not r[7]['changed']
    spec = inspect(manager, 'tojob')['Spec']  # the API's own answer (the CLI's inspect fills in defaults)
    assert 'UpdateConfig' not in spec and spec['Mode'] == {'ReplicatedJob': {'TotalCompletions': 2, 'MaxConcurrent': 2}}

    # A create that fails after the delete (the port is taken: nothing the module checks beforehand)
    before = inspect(manager, 'keeper')
    to_global = dict(keeper_v2, mode='global', publish=['30999:8080'])
    del to_global['replicas']
    r, _run = steps(ansible, manager, [
        {'args': to_global},                                          # 0 fails, the old service is restored
        {'args': keeper_v2},                                          # 1 it is as it was
        {'args': {'name': 'keeper', 'state': 'rolled_back', 'wait_stable': 1}},  # 2 and its history too
    ])
    failed = r[0]
    assert failed['failed'] and failed['recreated'] and failed['restored'] is True, failed
    assert 'already in use' in failed['msg'] and 'the old service was restored' in failed['msg'], failed['msg']
    assert not r[1]['changed'] and r[1]['service']['spec'] == before['Spec'], r[1]
    assert r[1]['service']['id'] != before['ID']
    assert r[2]['changed'] and not r[2].get('failed'), r[2].get('msg')
    assert r[2]['diff'] == {'before': {'labels': {'v': '2'}}, 'after': {'labels': {'v': '1'}}}
    after = inspect(manager, 'keeper')
    assert after['Spec'] == before['PreviousSpec'] and after['PreviousSpec'] == before['Spec']
    for name in ('tojob', 'keeper', 'porthog'):
        remove(ansible, manager, name)


def test_digests_partial_blocks_rollbacks_and_jobs(ansible, swarm_a):
    manager = swarm_a[0]
    # pinned images: replicas 0, as nothing here can pull by digest (no registry); the spec is what is tested
    old, new, newer = ['%s@sha256:%s' % (SERVICE_IMAGE, c * 64) for c in 'abc']
    pinned = {'name': 'pinned', 'image': old, 'replicas': 0}
    # a service created without an update_config (the API stores none), as other tools create them
    manager.engine('POST', '/services/create', {
        'Name': 'bare', 'Mode': {'Replicated': {'Replicas': 2}},
        'TaskTemplate': {'ContainerSpec': {'Image': SERVICE_IMAGE, 'Args': ['sleep', '3600'],
                                           'StopGracePeriod': 10 ** 9}}})
    assert 'UpdateConfig' not in inspect(manager, 'bare')['Spec']  # the API's answer; the CLI fills in defaults
    v1 = dict(QUICK_STOP, name='rollme', image=SERVICE_IMAGE, args=['sleep', '3600'], replicas=1)
    v2 = dict(v1, args=['sleep', '3601'])
    back = {'name': 'rollme', 'state': 'rolled_back', 'wait_stable': 1}
    r, _run = steps(ansible, manager, [
        {'args': pinned},                                                  # 0
        {'args': dict(pinned, image=new), 'check': True},                  # 1 another digest: a change
        {'args': dict(pinned, image=new)},                                 # 2
        {'args': dict(pinned, image=new, resolve_image=True)},             # 3 a given digest is the pin: not resolved
        {'args': dict(pinned, image=newer, resolve_image=True)},           # 4
        {'args': {'name': 'bare', 'args': ['sleep', '3601'], 'wait_stable': 1,
                  'update_config': {'order': 'start-first', 'monitor': '1s'}}},  # 5 a partial update_config
        {'args': v1}, {'args': v2},                                        # 6, 7
        {'args': back, 'check': True},                                     # 8 predicts the rollback
        {'args': back},                                                    # 9 docker service rollback
        {'args': back}, {'args': back, 'check': True},                     # 10, 11 already rolled back
        {'args': v1},                                                      # 12 v1 again: unchanged
    ])
    for number, result in enumerate(r):
        assert not result.get('failed'), (number, result.get('msg'))
    assert [x['changed'] for x in r] == [True, True, True, False, True, True, True, True, True, True, False, False,
                                         False], [(x['changed'], x.get('diff')) for x in r]
    assert r[2]['diff'] == {'before': {'image': old}, 'after': {'image': new}}
    assert service_spec(manager, 'pinned')['TaskTemplate']['ContainerSpec']['Image'] == newer
    # Docker's defaults for the rest of the block: one task at a time, not every task at once (parallelism 0)
    assert inspect(manager, 'bare')['Spec']['UpdateConfig'] == {
        'Parallelism': 1, 'FailureAction': 'pause', 'Monitor': 10 ** 9, 'MaxFailureRatio': 0, 'Order': 'start-first'}
    assert r[5]['tasks']['running'] == 2
    assert r[8]['diff'] == r[9]['diff'] == {'before': {'args': ['sleep', '3601']}, 'after': {'args': ['sleep', '3600']}}
    assert r[9]['rolled_back'] is True and r[9]['tasks']['running'] == 1
    assert service_spec(manager, 'rollme')['TaskTemplate']['ContainerSpec']['Args'] == ['sleep', '3600']
    for name in ('pinned', 'bare', 'rollme'):
        remove(ansible, manager, name)


def task_ids(manager, name):
    out = manager.sh("docker service ps -q --filter desired-state=running %s" % name).stdout
    return set(out.split())


def test_waiting_means_converged(ansible, swarm_a):
    manager = swarm_a[0]
    paused = {'name': 'pauser', 'image': SERVICE_IMAGE, 'args': ['sleep', '3600'], 'replicas': 2, 'wait_stable': 1,
              'stop_grace_period': '1s', 'update_config': {'failure_action': 'pause', 'monitor': '2s', 'parallelism': 1}}
    broken = dict(paused, image='swarmops/missing:4')
    # a container that crashes a few seconds after it started: with the default stability window (5 s)
    crasher = {'name': 'crasher', 'image': SERVICE_IMAGE, 'command': ['sh', '-c', 'sleep 2; exit 3'],
               'stop_grace_period': '1s', 'wait_timeout': 60}
    porter = dict(QUICK_STOP, name='porter', image=SERVICE_IMAGE, args=HTTPD, replicas=2, publish=['18090:8080'],
                  update_config={'parallelism': 1, 'delay': '2s', 'monitor': '1s'})
    # no node has the label: its task stays pending, fewer run than it wants (created without waiting)
    nowhere = {'name': 'nowhere', 'image': SERVICE_IMAGE, 'args': ['sleep', '3600'], 'stop_grace_period': '1s',
               'constraints': ['node.labels.swarmops-nowhere==yes'], 'wait': False}
    r, _run = steps(ansible, manager, [{'args': paused}, {'args': broken}, {'args': crasher}, {'args': porter},
                                       {'args': nowhere}, compare(nowhere), compare(porter, dict(porter, name='newone'))])
    assert not r[0].get('failed') and r[1]['failed'], r[1]
    assert r[2]['failed'] and r[2]['changed'] and 'non-zero exit (3)' in r[2]['msg'], r[2].get('msg')
    assert not r[3].get('failed'), r[3].get('msg')
    # what the services' module would wait for, or create, is never "unchanged" at the first read
    assert r[4]['changed'] and compared(r[5]) == {
        'unchanged': False, 'reason': 'nowhere: not settled (update none, 0 of 1 tasks running)'}, r[5]
    assert compared(r[6]) == {'unchanged': False, 'reason': 'newone: create (no such service)'}, r[6]
    deadline = time.time() + 60
    while (inspect(manager, 'pauser').get('UpdateStatus') or {}).get('State') != 'paused':
        assert time.time() < deadline, inspect(manager, 'pauser').get('UpdateStatus')
        time.sleep(1)
    old_porter_tasks = task_ids(manager, 'porter')
    paused_at_read, = steps(ansible, manager, [compare(broken)])[0]
    assert compared(paused_at_read) == {'unchanged': False, 'reason': 'pauser: update (update_state)'}, paused_at_read
    r, _run = steps(ansible, manager, [
        {'args': broken, 'check': True},  # 0 the stored spec matches, but the rollout is paused: not converged
        {'args': broken},                 # 1 restarts it; the image is still missing, so it pauses again
        {'args': paused},                 # 2 the good image: a new rollout that completes
        {'args': paused},                 # 3 unchanged
        {'args': dict(porter, publish=['18091:8080'])},  # 4 new port: every task is replaced, and waited for
    ])
    assert r[0]['changed'] and r[0]['diff'] == {'before': {'update_state': 'paused'},
                                                'after': {'update_state': 'completed'}}, r[0]
    assert r[1]['changed'] and r[1]['failed'], r[1]
    assert not r[2].get('failed') and r[2]['changed'] and r[2]['tasks']['running'] == 2, r[2]
    assert not r[3]['changed'] and not r[3].get('failed')
    assert not r[4].get('failed') and r[4]['diff']['after'] == {'publish': [
        {'published': 18091, 'target': 8080, 'protocol': 'tcp', 'mode': 'ingress'}]}, r[4]
    running = task_ids(manager, 'porter')
    assert len(running) == 2 and not running & old_porter_tasks, (running, old_porter_tasks)
    for name in ('pauser', 'crasher', 'porter', 'nowhere'):
        remove(ansible, manager, name)


def test_secret_env_values_never_show(ansible, swarm_a):
    manager = swarm_a[0]
    first, second = 'hunter2-%d' % time.time(), 'correct-horse-%d' % time.time()
    single = dict(QUICK_STOP, name='vault', image=SERVICE_IMAGE, args=['sleep', '3600'], env={'MODE': 'x'},
                  secret_env={'DB_PASSWORD': '{{ first }}'}, constraints=['node.hostname==%s' % manager.name])
    item = dict((k, v) for k, v in single.items() if k != 'wait_stable')  # a call option, not a service's
    bulk = {'services': [dict(item, secret_env={'DB_PASSWORD': '{{ second }}'})], 'wait_stable': 1}
    r, run = steps(ansible, manager, [
        {'args': single}, {'args': single},                                  # 0 create, 1 unchanged
        {'args': dict(single, secret_env={'DB_PASSWORD': '{{ second }}'}), 'check': True},  # 2 predicts a change
        {'args': bulk}, {'args': bulk},                                      # 3 changed (the list form), 4 unchanged
        compare(*bulk['services']),                                          # 5 the first read's: unchanged
        compare(dict(item, secret_env={'DB_PASSWORD': '{{ first }}'})),      # 6 another value: not unchanged
        {'args': dict(bulk, services=[dict(bulk['services'][0], env={'MODE': 'y'})])},  # 7 a plain change
        # malformed, in the shapes a user might write: refused (or not unchanged), and never printed
        {'args': {'services': [dict(item, secret_env=['DB_PASSWORD={{ first }}'])]}},   # 8
        {'args': {'services': [dict(item, secret_env='{{ first }}')]}},                   # 9
        {'args': {'services': [dict(item, secret_env={'DB_PASSWORD': '{{ first }}'}, replicas='many')]}},  # 10
        compare(dict(item, secret_env=['DB_PASSWORD={{ first }}']), 'not a service'),    # 11
        compare(dict(item, secret_env={'DB_PASSWORD': '{{ first }}'}, replicas='many')),  # 12
    ], extra_vars={'first': first, 'second': second}, verbosity=3)
    output = run.stdout + run.stderr
    assert first not in output and second not in output, 'a secret env value reached ansible output'
    assert compared(r[5])['unchanged'] is True, r[5]['services_compared']
    assert compared(r[6]) == {'unchanged': False, 'reason': 'vault: update (secret_env)'}, r[6]['services_compared']
    assert [x.get('failed', False) for x in r[8:11]] == [True] * 3, [x.get('msg') for x in r[8:11]]
    assert [compared(x)['unchanged'] for x in r[11:13]] == [False, False], [x['services_compared'] for x in r[11:13]]
    assert 'refused: services[0]' in r[11]['services_compared']['reason'], r[11]['services_compared']
    r = r[:5] + r[7:8]
    assert [x['changed'] for x in r] == [True, False, True, True, False, True], [x.get('msg') for x in r]
    assert r[0]['diff']['after']['secret_env'] == {'DB_PASSWORD': '<new secret value>'}
    assert r[2]['diff'] == {'before': {'secret_env': {'DB_PASSWORD': '<secret value>'}},
                            'after': {'secret_env': {'DB_PASSWORD': '<new secret value>'}}}
    assert r[5]['diff'] == {'before': {'vault': {'env': {'MODE': 'x'}}}, 'after': {'vault': {'env': {'MODE': 'y'}}}}
    assert 'DB_PASSWORD=********' in r[0]['service']['spec']['TaskTemplate']['ContainerSpec']['Env']
    stored = service_spec(manager, 'vault')
    assert 'DB_PASSWORD=%s' % second in stored['TaskTemplate']['ContainerSpec']['Env']  # the engine has the value
    assert second not in stored['Labels']['swarmops.swarm.secret-env']
    container = manager.sh('docker ps -q --filter label=com.docker.swarm.service.name=vault').stdout.split()[0]
    assert manager.sh("docker exec %s sh -c 'echo $DB_PASSWORD'" % container).stdout.strip() == second
    remove(ansible, manager, 'vault')


def test_options_of_newer_engines_on_the_trixie_manager(ansible, swarm_b):
    manager = swarm_b[0]  # Docker 26.1, API 1.45
    health = {'name': 'health', 'image': SERVICE_IMAGE, 'args': ['sleep', '3600'], 'stop_grace_period': '1s',
              'wait_stable': 1, 'healthcheck': {'test': 'true', 'interval': '30s', 'start_period': '20s',
                                                'start_interval': '1s'}}
    job = {'name': 'batch', 'image': SERVICE_IMAGE, 'command': ['true'], 'mode': 'replicated-job', 'replicas': 4,
           'max_concurrent': 2}
    r, _run = steps(ansible, manager, [
        {'args': health, 'check': True}, {'args': health}, {'args': health},                       # 0-2
        {'args': dict(health, healthcheck=dict(health['healthcheck'], start_interval='2s'))},      # 3
        {'args': job, 'check': True}, {'args': job}, {'args': job}, {'args': job, 'check': True},  # 4-7
        {'args': dict(job, max_concurrent=1)},                                                     # 8
        {'args': dict(job, command=['sh', '-c', 'true'], max_concurrent=None)},                    # 9 keeps 1
        {'args': dict(health, oom_score_adj=100)},                                                 # 10 refused
    ])
    assert [x.get('failed', False) for x in r] == [False] * 10 + [True], [x.get('msg') for x in r]
    assert [x['changed'] for x in r[:10]] == [True, True, False, True, True, True, False, False, True, True]
    check = {'Test': ['CMD-SHELL', 'true'], 'Interval': 30 * 10 ** 9, 'StartPeriod': 20 * 10 ** 9}
    assert r[3]['diff'] == {'before': {'healthcheck': dict(check, StartInterval=10 ** 9)},
                            'after': {'healthcheck': dict(check, StartInterval=2 * 10 ** 9)}}
    assert service_spec(manager, 'health')['TaskTemplate']['ContainerSpec']['Healthcheck']['StartInterval'] == 2 * 10 ** 9
    assert r[5]['tasks']['completed'] >= 4 and r[8]['diff'] == {'before': {'max_concurrent': 2},
                                                                'after': {'max_concurrent': 1}}
    assert service_spec(manager, 'batch')['Mode'] == {'ReplicatedJob': {'TotalCompletions': 4, 'MaxConcurrent': 1}}
    assert 'oom_score_adj: needs Engine API 1.46' in r[10]['msg'] and not r[10]['changed']
    remove(ansible, manager, 'health')
    remove(ansible, manager, 'batch')
