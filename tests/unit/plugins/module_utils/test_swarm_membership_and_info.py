"""swarm_cluster: which swarm a node is in (swarm_join), and what swarm_info filters and reports."""

import pytest

from ansible_collections.swarmops.swarm.plugins.module_utils import swarm_cluster as sc

OURS = 'a' * 49 + '1'
THEIRS = 'b' * 49 + '2'


# ---- membership: same / other / unknown, and unknown is never other ------------------------------------

@pytest.mark.parametrize('node_digest, managers, remote, relation', [
    (OURS, [], [], 'same'),
    (THEIRS, [], [], 'other'),
    (THEIRS, ['10.0.0.1:2377'], ['10.0.0.1:2377'], 'other'),  # the root CA outweighs addresses
    (None, ['10.0.0.1:2377', '10.0.0.2:2377'], ['10.0.0.2:2377'], 'same'),
    (None, ['10.0.0.1:2377'], ['10.0.0.9:2377'], 'unknown'),  # not 'other': its managers may have other names
    (None, [], ['10.0.0.1:2377'], 'unknown'),
    (None, [], [], 'unknown'),
])
def test_membership(node_digest, managers, remote, relation):
    assert sc.membership(OURS, node_digest, managers, remote)[0] == relation


def test_membership_says_why():
    why = sc.membership(OURS, THEIRS)[1]
    assert 'root CA bbbbbbbbbbbb' in why and 'aaaaaaaaaaaa' in why
    assert '10.0.0.2:2377' in sc.membership(OURS, None, ['10.0.0.2:2377'], ['10.0.0.2:2377'])[1]


# ---- swarm_info filters -------------------------------------------------------------------------------

NODES = [
    {'ID': 'm1', 'Description': {'Hostname': 'manager1'}, 'Spec': {'Role': 'manager', 'Labels': {}}},
    {'ID': 'w1', 'Description': {'Hostname': 'worker1'}, 'Spec': {'Role': 'worker', 'Labels': {'zone': 'a',
                                                                                               'ssd': ''}}},
    {'ID': 'w2', 'Description': {'Hostname': 'worker2'}, 'Spec': {'Role': 'worker', 'Labels': {'zone': 'b'}}},
]


@pytest.mark.parametrize('role, labels, hostnames, ids', [
    (None, None, None, ['m1', 'w1', 'w2']),
    ('worker', None, None, ['w1', 'w2']),
    ('manager', None, None, ['m1']),
    (None, ['zone'], None, ['w1', 'w2']),
    (None, ['zone=a'], None, ['w1']),
    ('worker', ['zone=b'], None, ['w2']),
    (None, ['zone=a', 'ssd'], None, ['w1']),
    (None, ['ssd='], None, ['w1']),  # an empty value is a value
    (None, ['zone=c'], None, []),
    (None, None, ['worker2', 'manager1'], ['m1', 'w2']),
])
def test_filter_nodes(role, labels, hostnames, ids):
    assert [n['ID'] for n in sc.filter_nodes(NODES, role, labels, hostnames)] == ids


SERVICES = [{'ID': '1', 'Spec': {'Name': 'web', 'Labels': {'tier': 'front'}}},
            {'ID': '2', 'Spec': {'Name': 'web-admin', 'Labels': {'tier': 'front', 'internal': 'yes'}}},
            {'ID': '3', 'Spec': {'Name': 'db', 'Labels': {}}}]


@pytest.mark.parametrize('names, labels, ids', [
    (None, None, ['1', '2', '3']),
    (['web'], None, ['1']),  # exact names: not web-admin
    (['web', 'db'], None, ['1', '3']),
    (None, ['tier=front'], ['1', '2']),
    (None, ['internal'], ['2']),
    (['web'], ['internal'], []),
])
def test_filter_services(names, labels, ids):
    assert [s['ID'] for s in sc.filter_services(SERVICES, names, labels)] == ids


def test_a_selector_without_a_key_is_refused_naming_the_option():
    with pytest.raises(sc.SwarmInputError, match='^node_filters.labels'):
        sc.filter_nodes(NODES, labels=['=a'])


def test_tasks_like_docker_service_ps():
    tasks = [
        {'ID': 't-old', 'ServiceID': 's', 'Slot': 1, 'NodeID': 'w1', 'CreatedAt': '2026-01-01T10:00:00Z',
         'DesiredState': 'shutdown', 'Spec': {'ContainerSpec': {'Image': 'app:1@sha256:' + 'a' * 64}},
         'Status': {'State': 'failed', 'Err': 'task: non-zero exit (1)', 'Message': 'started',
                    'ContainerStatus': {'ExitCode': 1}, 'Timestamp': '2026-01-01T10:00:05Z'}},
        {'ID': 't-new', 'ServiceID': 's', 'Slot': 1, 'NodeID': 'w2', 'CreatedAt': '2026-01-01T10:00:09Z',
         'DesiredState': 'running', 'Spec': {'ContainerSpec': {'Image': 'app:1'}},
         'Status': {'State': 'running', 'Message': 'started', 'Timestamp': '2026-01-01T10:00:10Z'}},
        {'ID': 't-other', 'ServiceID': 'x', 'Slot': 1, 'NodeID': 'gone', 'CreatedAt': '2026-01-01T09:00:00Z',
         'DesiredState': 'running', 'Spec': {'ContainerSpec': {'Image': 'db'}},
         'Status': {'State': 'pending', 'Err': 'no suitable node'}},
    ]
    by_service = sc.tasks_by_service(tasks, {'w1': 'worker1', 'w2': 'worker2'})
    assert [t['id'] for t in by_service['s']] == ['t-new', 't-old']  # slot 1, newest first
    old = by_service['s'][1]
    assert (old['node'], old['state'], old['desired_state'], old['error'], old['exit_code'], old['image_digest']) == \
        ('worker1', 'failed', 'shutdown', 'task: non-zero exit (1)', 1, 'sha256:' + 'a' * 64)
    assert by_service['s'][0]['image_digest'] is None and by_service['s'][0]['error'] is None
    assert by_service['x'][0]['node'] is None and by_service['x'][0]['error'] == 'no suitable node'


def test_cluster_settings_only_on_a_manager():
    assert sc.summarize_cluster({'Swarm': {'LocalNodeState': 'active'}}) is None
    info = {'Swarm': {'Cluster': {'Spec': {'Name': 'default'}, 'DefaultAddrPool': ['10.0.0.0/8'], 'SubnetSize': 24,
                                  'DataPathPort': 4789, 'RootRotationInProgress': False, 'UpdatedAt': 'now'}}}
    assert sc.summarize_cluster(info) == {'spec': {'Name': 'default'}, 'default_addr_pool': ['10.0.0.0/8'],
                                          'subnet_size': 24, 'data_path_port': 4789,
                                          'root_rotation_in_progress': False, 'updated': 'now'}
