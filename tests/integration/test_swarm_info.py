"""swarm_info on a real three-node swarm, built the way site.yml builds it.

it-info-m1 (bookworm, 10.213.40.30) manager; it-info-w1 (trixie, .31) and it-info-w2 (bookworm, .32) workers.
The swarm is made by swarm_init + swarm_join in one playbook at -vvv, the tokens passed through hostvars
under no_log: the test asserts that no token reaches any of that output.
"""

import time

import pytest

INFO = 'swarmops.swarm.swarm_info'


@pytest.fixture(scope='module')
def trio(nodes):
    m1, w1, w2 = nodes.start_many([('info-m1', 30, 'bookworm', True), ('info-w1', 31, 'trixie', False),
                                   ('info-w2', 32, 'bookworm', True)])
    yield m1, w1, w2
    for node in (m1, w1, w2):
        nodes.stop(node)


def test_site_like_bootstrap_then_info_everywhere(ansible, trio):
    m1, w1, w2 = trio
    hosts = ','.join(n.name for n in trio)
    tasks = [
        {'name': 'before', INFO: {}, 'register': 'before'},
        {'name': 'init', 'swarmops.swarm.swarm_init': {'advertise_addr': m1.ip}, 'register': 'bootstrap',
         'no_log': True, 'when': 'inventory_hostname == %r' % m1.name},
        {'name': 'join', 'swarmops.swarm.swarm_join': {
            'role': 'worker', 'remote_addrs': ["{{ hostvars[%r].bootstrap.manager_addr }}" % m1.name],
            'join_token': "{{ hostvars[%r].bootstrap.join_tokens.worker }}" % m1.name,
            'advertise_addr': "{{ %r[inventory_hostname] }}" % {w1.name: w1.ip, w2.name: w2.ip}},
         'when': 'inventory_hostname != %r' % m1.name},
        {'name': 'after', INFO: {}, 'check_mode': True},
    ]
    per_task, run = ansible.playbook(hosts, tasks, verbosity=3)
    assert run.returncode == 0, run.stderr[-2000:].replace('SWMTKN', 'SWM...')
    assert 'SWMTKN-' not in run.stdout + run.stderr  # at -vvv, with the tokens passed through hostvars
    before, join, after = per_task[0], per_task[2], per_task[3]
    for node in trio:
        assert before[node.name]['swarm']['local_node_state'] == 'inactive'
        assert before[node.name]['nodes'] == [] and before[node.name]['has_quorum'] is False
        assert before[node.name]['changed'] is False
    assert join[w1.name]['changed'] and join[w2.name]['changed']

    manager = after[m1.name]
    assert manager['changed'] is False
    swarm = manager['swarm']
    assert swarm['local_node_state'] == 'active' and swarm['role'] == 'manager' and swarm['control_available']
    assert swarm['cluster_id'] == m1.engine('GET', '/swarm')['ID'] and swarm['node_addr'] == m1.ip
    assert swarm['remote_managers'] == ['%s:2377' % m1.ip]
    assert (manager['managers_total'], manager['managers_reachable'], manager['quorum'],
            manager['has_quorum'], manager['fault_tolerance']) == (1, 1, 1, True, 0)
    by_name = dict((n['hostname'], n) for n in manager['nodes'])
    assert sorted(by_name) == sorted(n.name for n in trio)
    assert by_name[m1.name]['manager_status'] == 'Leader' and by_name[m1.name]['role'] == 'manager'
    assert by_name[m1.name]['addr'] == m1.ip and by_name[m1.name]['engine_version'].startswith('20.10')
    assert by_name[w1.name]['manager_status'] is None and by_name[w1.name]['role'] == 'worker'
    assert by_name[w1.name]['engine_version'].startswith('26.1') and by_name[w1.name]['addr'] == w1.ip
    assert all(n['status'] == 'ready' and n['availability'] == 'active' for n in manager['nodes'])
    assert 'join_tokens' not in manager and 'unlock_key' not in manager
    for worker in (w1, w2):
        seen = after[worker.name]
        assert seen['swarm']['role'] == 'worker' and seen['swarm']['cluster_id'] is None
        assert seen['swarm']['remote_managers'] == ['%s:2377' % m1.ip]
        assert seen['nodes'] == [] and seen['services'] == [] and seen['managers_total'] is None


def test_services_counts_and_secrets_on_request(ansible, trio):
    m1, w1, w2 = trio
    if m1.api_swarm()['LocalNodeState'] != 'active':
        m1.api_init_swarm()
        w2.api_join_swarm(m1)
    spec = {
        'Name': 'web', 'Mode': {'Replicated': {'Replicas': 2}},
        'TaskTemplate': {'ContainerSpec': {'Image': 'swarmops/busybox:local', 'Args': ['sleep', '3600']},
                         'Placement': {'Constraints': ['node.hostname != %s' % w1.name]}},  # w1 has no image
        'EndpointSpec': {'Ports': [{'Protocol': 'tcp', 'TargetPort': 80, 'PublishedPort': 8080,
                                    'PublishMode': 'host'}]},
    }
    if not [s for s in m1.engine('GET', '/services') if s['Spec']['Name'] == 'web']:
        m1.engine('POST', '/services/create', spec)
    deadline = time.time() + 90
    while time.time() < deadline:
        status = m1.engine('GET', '/services?status=true')[0].get('ServiceStatus') or {}
        if status.get('RunningTasks') == 2:
            break
        time.sleep(1)
    r, _run = ansible.steps(m1.name, [
        {'module': INFO, 'args': {}},
        {'module': INFO, 'args': {'join_tokens': True, 'unlock_key': True, 'nodes': False, 'services': False},
         'check': True},
    ])
    plain, secret = r[0][m1.name], r[1][m1.name]
    assert plain['services'] == [{
        'id': plain['services'][0]['id'], 'name': 'web', 'mode': 'replicated', 'replicas_running': 2,
        'replicas_desired': 2, 'image': 'swarmops/busybox:local',
        'ports': [{'published': 8080, 'target': 80, 'protocol': 'tcp', 'mode': 'host'}], 'update_state': None}]
    assert not plain['secrets']['worker_token_ok']  # not asked: not returned
    assert secret['secrets']['worker_token_ok'] and secret['secrets']['manager_token_ok']
    assert secret['secrets']['token_ca_digest'] == m1.api_join_token('worker').split('-')[2]
    assert not secret['secrets']['unlock_key_ok']  # autolock off: no key
    assert secret['nodes'] == [] and secret['services'] == [] and secret['changed'] is False


def test_tasks_cluster_settings_and_filters(ansible, trio):
    """docker service ps, docker node ls -f and docker service ls -f, and the swarm's settings, in one call."""
    m1, w1, w2 = trio
    if m1.api_swarm()['LocalNodeState'] != 'active':
        m1.api_init_swarm()
    for worker in (w1, w2):
        if worker.api_swarm()['LocalNodeState'] != 'active':
            worker.api_join_swarm(m1)
    nodes = dict((n['Description']['Hostname'], n) for n in m1.engine('GET', '/nodes'))
    node = nodes[w2.name]
    m1.engine('POST', '/nodes/%s/update?version=%d' % (node['ID'], node['Version']['Index']),
              dict(node['Spec'], Labels={'zone': 'a'}))
    # one service whose tasks run, one whose image is nowhere (its tasks carry Docker's error)
    for name, image, labels in (('listed', 'swarmops/busybox:local', {'team': 'x'}),
                                ('ghostly', 'swarmops/missing:9', {'team': 'y'})):
        if not [s for s in m1.engine('GET', '/services') if s['Spec']['Name'] == name]:
            m1.engine('POST', '/services/create', {
                'Name': name, 'Labels': labels, 'Mode': {'Replicated': {'Replicas': 1}},
                'TaskTemplate': {'ContainerSpec': {'Image': image, 'Args': ['sleep', '3600']},
                                 'Placement': {'Constraints': ['node.hostname==%s' % m1.name]}}})
    deadline = time.time() + 90
    while time.time() < deadline:
        tasks = m1.engine('GET', '/tasks')
        states = dict((t['ServiceID'], t['Status']['State']) for t in tasks)
        if 'running' in states.values() and [t for t in tasks if t['Status'].get('Err')]:
            break
        time.sleep(1)
    r, _run = ansible.steps(m1.name, [
        {'module': INFO, 'args': {'tasks': True, 'service_filters': {'names': ['listed', 'ghostly']},
                                  'node_filters': {'role': 'worker', 'labels': ['zone=a']}}},
        {'module': INFO, 'args': {'nodes': False, 'service_filters': {'labels': ['team=x']}}, 'check': True},
        {'module': INFO, 'args': {'node_filters': {'labels': ['=a']}}},
    ])
    both, by_label, bad = r[0][m1.name], r[1][m1.name], r[2][m1.name]
    assert [n['hostname'] for n in both['nodes']] == [w2.name] and both['nodes'][0]['labels'] == {'zone': 'a'}
    assert both['managers_total'] == 1 and both['has_quorum']  # the filter does not change the quorum's count
    assert both['cluster']['spec']['Orchestration']['TaskHistoryRetentionLimit'] == 5
    assert both['cluster']['spec']['CAConfig']['NodeCertExpiry'] == 90 * 24 * 3600 * 10 ** 9
    services = dict((s['name'], s) for s in both['services'])
    assert sorted(services) == ['ghostly', 'listed']
    running = [t for t in services['listed']['tasks'] if t['desired_state'] == 'running']
    assert running and running[0]['state'] == 'running' and running[0]['node'] == m1.name
    assert running[0]['image'] == 'swarmops/busybox:local' and running[0]['image_digest'] is None
    assert running[0]['error'] is None
    assert any('No such image: swarmops/missing:9' in (t['error'] or '') for t in services['ghostly']['tasks']), \
        services['ghostly']['tasks']
    assert [s['name'] for s in by_label['services']] == ['listed'] and 'tasks' not in by_label['services'][0]
    assert bad['failed'] and 'node_filters.labels' in bad['msg']
    for name in ('listed', 'ghostly'):
        m1.engine('DELETE', '/services/%s' % name)


# Not part of what is read: the apt cache's age changes between two reads seconds apart; the rest are the
# task's result fields and the harness's secret checks (steps()).
NOT_THE_READ = ('apt_cache_age', 'changed', 'failed', 'invocation', 'options', 'secrets')


def test_one_call_makes_the_firewall_and_engine_reads_exactly_as_their_modules(ansible, trio):
    """site.yml's first read carries the firewall and docker roles' reads: each must be what the role's own module
    reads, field for field, on every node; a bad option is refused naming it before anything is read; and a
    node whose engine does not answer still returns both reads in the failure (a bare host is planned from them)."""
    firewall = {'backend': 'auto', 'policy': 'swarmops', 'legacy_zone': 'swarmops'}
    engine = {'files': ['/etc/docker', '/etc/docker/daemon.json', '/etc/apt/sources.list.d/docker.sources'],
              'keyring': '/etc/apt/keyrings/docker.asc', 'packages': ['docker-ce', 'docker.io', 'python3-docker'],
              'madison': 'docker-ce', 'repository_urls': ['download.docker.com'],
              'source_file': '/etc/apt/sources.list.d/docker.sources',
              'keyring_dirs': ['/etc/apt/trusted.gpg.d', '/usr/share/keyrings'], 'keyring_names': ['docker.gpg'],
              'services': ['docker', 'containerd'], 'group': 'docker'}
    hosts = ','.join(n.name for n in trio)
    r, _run = ansible.steps(hosts, [
        {'module': INFO, 'args': {'nodes': False, 'services': False, 'firewall': firewall, 'engine': engine}},
        {'module': 'swarmops.swarm.firewall_info', 'args': firewall},
        {'module': 'swarmops.swarm.docker_engine_info', 'args': engine},
        {'module': INFO, 'args': {'firewall': dict(firewall, backend='pf'), 'engine': engine}},
        {'module': INFO, 'args': {'engine': dict(engine, services='docker', engine_wait='soon')}},
        {'module': INFO, 'args': {'docker_host': 'unix:///run/nothing-listens-here.sock', 'addresses': True,
                                  'firewall': firewall, 'engine': engine}},
    ])
    for node in trio:
        merged, own_firewall, own_engine, bad_backend, bad_engine, no_engine = (step[node.name] for step in r)
        assert not merged.get('failed'), merged
        for read, own in ((merged['firewall_read'], own_firewall), (merged['engine_read'], own_engine)):
            same = dict((k, v) for k, v in read.items() if k not in NOT_THE_READ)
            assert same == dict((k, v) for k, v in own.items() if k not in NOT_THE_READ)
            assert same  # not two empty answers
        assert merged['firewall_read']['options'] == dict(firewall, packages=[])
        assert merged['engine_read']['options']['madison'] == 'docker-ce'
        assert merged['engine_read']['engine']['answers'] and merged['engine_read']['madison'] == own_engine['madison']
        assert merged['swarm']['local_node_state'] == 'active'
        # refused before anything is read, naming the read and the option
        assert bad_backend['failed'] and 'firewall' in bad_backend['msg'] and 'backend' in bad_backend['msg']
        assert 'firewall_read' not in bad_backend and 'engine_read' not in bad_backend
        assert bad_engine['failed'] and 'engine' in bad_engine['msg'] and 'engine_wait' in bad_engine['msg']
        assert 'engine_read' not in bad_engine
        # no engine at that address: the failure carries the addresses and both reads
        assert no_engine['failed'] and 'nothing-listens-here' in no_engine['msg']
        assert no_engine['host']['default_ipv4'] == node.ip
        assert no_engine['firewall_read']['default_ipv4'] == node.ip
        assert no_engine['engine_read']['packages'] == own_engine['packages']
