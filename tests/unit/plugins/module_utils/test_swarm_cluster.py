"""Pure logic of the cluster modules: tokens and CA digests, durations, spec diff, addresses, summaries."""

import hashlib

import pytest

from ansible_collections.swarmops.swarm.plugins.module_utils import swarm_cluster as sc

PEM = b'-----BEGIN CERTIFICATE-----\nMIIBajCCARCgAwIBAgIUBoa\n-----END CERTIFICATE-----\n'


def token_for(pem, secret='0123456789abcdefghijklmno'):
    return 'SWMTKN-1-%s-%s' % (sc.ca_digest(pem), secret)


# ---- tokens and digests -----------------------------------------------------------------------------

def test_base36_matches_python_int_parsing():
    for number in (0, 1, 35, 36, 36 ** 5 - 1, 2 ** 256 - 1, int(hashlib.sha256(b'x').hexdigest(), 16)):
        assert int(sc.base36(number), 36) == number


def test_ca_digest_is_50_wide_and_zero_padded():
    digest = sc.ca_digest(PEM)
    assert len(digest) == 50 and int(digest, 36) == int(hashlib.sha256(PEM).hexdigest(), 16)
    assert sc.ca_digest(PEM.decode()) == digest  # text and bytes alike
    # a small digest value is zero-padded like swarmkit's %050s
    assert sc.base36(35).zfill(50) == '0' * 49 + 'z'


def test_parse_join_token_returns_the_ca_digest():
    parsed = sc.parse_join_token(token_for(PEM))
    assert parsed == {'version': 1, 'ca_digest': sc.ca_digest(PEM)}
    assert sc.parse_join_token('  %s\n' % token_for(PEM))['ca_digest'] == sc.ca_digest(PEM)
    assert sc.parse_join_token(token_for(PEM).replace('SWMTKN-1-', 'SWMTKN-2-'))['version'] == 2  # FIPS


@pytest.mark.parametrize('token, words', [
    ('', 'is empty'),
    (None, 'is empty'),
    ('abc', 'does not begin with the SWMTKN prefix'),
    ('SWMTKN-1-abc-def', 'wrong length'),
    ('SWMTKN-3-' + '0' * 50 + '-' + 'a' * 25, 'wrong length'),
    ('SWMTKN-1-' + '0' * 50 + '-' + 'A' * 25, 'wrong length'),   # base36 is lower case
    ('SWMTKN-1-' + '0' * 49 + '-' + 'a' * 25, 'wrong length'),
])
def test_malformed_tokens_are_refused_without_echoing_them(token, words):
    with pytest.raises(sc.SwarmInputError) as err:
        sc.parse_join_token(token)
    assert words in str(err.value)
    if token:
        assert token not in str(err.value)


def test_redact_hides_tokens_and_unlock_keys():
    text = 'join with %s or unlock with SWMKEY-1-abcDEF+/012= now' % token_for(PEM)
    clean = sc.redact(text)
    assert 'SWMTKN-' not in clean and 'SWMKEY-' not in clean
    assert clean == 'join with <join token redacted> or unlock with <unlock key redacted> now'
    assert sc.redact(None) == ''


def test_short_digest_skips_padding():
    assert sc.short_digest('000' + 'abcdefghijklmnop') == 'abcdefghijkl'
    assert sc.short_digest(None) == '?'


# ---- addresses --------------------------------------------------------------------------------------

@pytest.mark.parametrize('addr, expected', [
    ('10.0.0.1:2377', ('10.0.0.1', 2377)),
    ('manager1:2377', ('manager1', 2377)),
    ('[fd00::1]:2377', ('fd00::1', 2377)),
])
def test_split_host_port(addr, expected):
    assert sc.split_host_port(addr) == expected


@pytest.mark.parametrize('addr, words', [
    ('10.0.0.1', 'has no port'),
    ('fd00::1', 'has no port'),
    ('manager1:', 'has no port'),
    ('10.0.0.1:0', 'outside 1-65535'),
    ('10.0.0.1:70000', 'outside 1-65535'),
])
def test_split_host_port_refusals(addr, words):
    with pytest.raises(sc.SwarmInputError) as err:
        sc.split_host_port(addr)
    assert words in str(err.value) and 'remote_addrs' in str(err.value)


def test_check_remote_addrs_needs_one():
    with pytest.raises(sc.SwarmInputError):
        sc.check_remote_addrs([])
    assert sc.check_remote_addrs(['a:1', 'b:2']) == [('a', 1), ('b', 2)]


def test_manager_addr_prefers_own_remote_managers_entry():
    info = {'Swarm': {'NodeID': 'n1', 'NodeAddr': '10.0.0.1',
                      'RemoteManagers': [{'NodeID': 'n2', 'Addr': '10.0.0.2:2377'},
                                         {'NodeID': 'n1', 'Addr': '10.0.0.1:4000'}]}}
    assert sc.manager_addr(info) == '10.0.0.1:4000'
    assert sc.manager_addr({'Swarm': {'NodeID': 'n1', 'NodeAddr': '10.0.0.1'}}) == '10.0.0.1:2377'
    assert sc.manager_addr({}) is None


# ---- durations --------------------------------------------------------------------------------------

@pytest.mark.parametrize('value, ns', [
    ('2160h', 2160 * 3600 * 10 ** 9),
    ('1h30m', 5400 * 10 ** 9),
    ('90s', 90 * 10 ** 9),
    ('500ms', 5 * 10 ** 8),
    ('1.5h', 5400 * 10 ** 9),
    (7776000, 7776000 * 10 ** 9),
    ('7776000', 7776000 * 10 ** 9),
    (0.5, 5 * 10 ** 8),
])
def test_duration_ns(value, ns):
    assert sc.duration_ns(value, 'cert_expiry') == ns


@pytest.mark.parametrize('value', ['90 days', 'h', '10x', '-5', True, '1h 30m'])
def test_duration_refusals_name_the_option(value):
    with pytest.raises(sc.SwarmInputError) as err:
        sc.duration_ns(value, 'cert_expiry')
    assert 'cert_expiry' in str(err.value)


def test_format_duration():
    assert sc.format_duration(7776000000000000) == '2160h0m0s'
    assert sc.format_duration(5 * 10 ** 9) == '0h0m5s'
    assert sc.format_duration(None) is None


# ---- swarm_init spec diff ---------------------------------------------------------------------------

DEFAULT_SPEC = {
    'Name': 'default', 'Labels': {}, 'Orchestration': {'TaskHistoryRetentionLimit': 5},
    'Raft': {'SnapshotInterval': 10000, 'KeepOldSnapshots': 0, 'LogEntriesForSlowFollowers': 500,
             'ElectionTick': 10, 'HeartbeatTick': 1},
    'Dispatcher': {'HeartbeatPeriod': 5000000000}, 'CAConfig': {'NodeCertExpiry': 7776000000000000},
    'TaskDefaults': {}, 'EncryptionConfig': {'AutoLockManagers': False},
}


def params(**kwargs):
    base = dict((name, None) for name, _p, _k, _f in sc.SPEC_OPTIONS)
    base.update(kwargs)
    return base


def test_nothing_set_nothing_differs():
    assert sc.spec_diff(DEFAULT_SPEC, params()) == ({}, {'before': {}, 'after': {}})


def test_values_equal_to_the_current_do_not_differ_in_any_notation():
    same = params(autolock=False, cert_expiry='2160h', dispatcher_heartbeat=5, task_history_limit=5,
                  snapshot_interval=10000, labels={})
    assert sc.spec_diff(DEFAULT_SPEC, same)[0] == {}
    assert sc.spec_diff(DEFAULT_SPEC, params(cert_expiry=7776000))[0] == {}
    assert sc.spec_diff(DEFAULT_SPEC, params(cert_expiry='2000h9540m3600s'))[0] == {}


def test_diff_shows_only_what_differs_in_option_names():
    differences, diff = sc.spec_diff(DEFAULT_SPEC, params(autolock=True, cert_expiry='2160h',
                                                          task_history_limit=3, labels={'a': 1}))
    assert sorted(differences) == ['autolock', 'labels', 'task_history_limit']
    assert diff == {'before': {'autolock': False, 'task_history_limit': 5, 'labels': {}},
                    'after': {'autolock': True, 'task_history_limit': 3, 'labels': {'a': '1'}}}


def test_durations_shown_as_docker_shows_them():
    _d, diff = sc.spec_diff(DEFAULT_SPEC, params(dispatcher_heartbeat='10s'))
    assert diff == {'before': {'dispatcher_heartbeat': '0h0m5s'}, 'after': {'dispatcher_heartbeat': '0h0m10s'}}


def test_labels_are_the_complete_set():
    spec = dict(DEFAULT_SPEC, Labels={'a': '1', 'b': '2'})
    assert sc.spec_diff(spec, params(labels={'a': '1'}))[0] == {'labels': ({'a': '1', 'b': '2'}, {'a': '1'})}
    assert sc.spec_diff(spec, params(labels={'b': '2', 'a': '1'}))[0] == {}
    assert sc.spec_diff(spec, params())[0] == {}  # not set: left alone


def test_missing_sections_read_as_unset():
    assert sc.current_spec_values({})['autolock'] is False
    assert sc.spec_diff({}, params(autolock=False))[0] == {}
    assert 'task_history_limit' in sc.spec_diff({}, params(task_history_limit=5))[0]


def test_updated_spec_changes_only_the_set_options_and_keeps_the_rest():
    spec = sc.updated_spec(DEFAULT_SPEC, params(autolock=True, cert_expiry='1000h', labels={'x': 'y'}))
    assert spec['EncryptionConfig'] == {'AutoLockManagers': True}
    assert spec['CAConfig'] == {'NodeCertExpiry': 1000 * 3600 * 10 ** 9}
    assert spec['Labels'] == {'x': 'y'}
    assert spec['Raft'] == DEFAULT_SPEC['Raft'] and spec['Name'] == 'default'
    assert DEFAULT_SPEC['EncryptionConfig'] == {'AutoLockManagers': False}  # the input is not modified


def test_init_spec_holds_only_what_was_set():
    assert sc.init_spec(params()) == {}
    assert sc.init_spec(params(snapshot_interval=500)) == {'Raft': {'SnapshotInterval': 500}}


def test_negative_numbers_refused():
    with pytest.raises(sc.SwarmInputError) as err:
        sc.desired_spec_values(params(task_history_limit=-1))
    assert 'task_history_limit' in str(err.value)


def test_init_only_differences():
    swarm = {'DefaultAddrPool': ['10.0.0.0/8'], 'SubnetSize': 24, 'DataPathPort': 4789}
    info = {'Swarm': {'NodeAddr': '10.1.1.1'}}
    none_set = dict(default_addr_pool=None, subnet_size=None, data_path_port=None, advertise_addr=None)
    assert sc.init_only_differences(swarm, info, none_set) == {}
    same = dict(default_addr_pool=['10.0.0.0/8'], subnet_size=24, data_path_port=4789, advertise_addr='10.1.1.1:2377')
    assert sc.init_only_differences(swarm, info, same) == {}
    assert sc.init_only_differences(swarm, info, dict(none_set, advertise_addr='eth0')) == {}  # interface: unknown
    other = dict(default_addr_pool=['10.99.0.0/16'], subnet_size=26, data_path_port=4799, advertise_addr='10.1.1.2')
    assert sorted(sc.init_only_differences(swarm, info, other)) == sorted(sc.INIT_ONLY_OPTIONS)


# ---- states and errors -------------------------------------------------------------------------------

def test_describe_state():
    worker = {'Swarm': {'LocalNodeState': 'active', 'ControlAvailable': False, 'NodeID': 'n9',
                        'RemoteManagers': [{'Addr': '10.0.0.1:2377'}]}}
    assert sc.describe_state(worker) == 'this node is a worker of a swarm (node n9, managers 10.0.0.1:2377)'
    assert 'locked' in sc.describe_state({'Swarm': {'LocalNodeState': 'locked'}})
    assert 'pending' in sc.describe_state({'Swarm': {'LocalNodeState': 'pending'}})
    assert 'boom' in sc.describe_state({'Swarm': {'LocalNodeState': 'error', 'Error': 'boom'}})
    assert sc.describe_state({}) == 'this node is not part of a swarm'


@pytest.mark.parametrize('engine, words', [
    ('rpc error: code = InvalidArgument desc = A valid join token is necessary to join this cluster',
     'refused the join token'),
    ('remote CA does not match fingerprint. Expected: 0000000000000001', 'belongs to another swarm'),
    ('Timeout was reached before node joined. The attempt to join the swarm will continue in the background.',
     'timed out'),
    ('This node is already part of a swarm.', 'already part of a swarm'),
    ('something else', 'failed: something else'),
])
def test_map_join_error(engine, words):
    message = sc.map_join_error(engine, ['10.0.0.1:2377'])
    assert words in message
    assert ('10.0.0.1:2377' in message) == (words != 'already part of a swarm')


def test_map_join_error_never_echoes_a_token():
    assert 'SWMTKN-' not in sc.map_join_error('bad token %s' % token_for(PEM), ['a:1'])


def test_no_leader_detection():
    assert sc.is_no_leader_error("rpc error: code = Unknown desc = The swarm does not have a leader. It's possible")
    assert not sc.is_no_leader_error('This node is not a swarm manager.')


# ---- swarm_info summaries ----------------------------------------------------------------------------

def node(node_id, role, state='ready', reach=None, leader=False, addr='10.0.0.1'):
    raw = {'ID': node_id, 'Spec': {'Role': role, 'Availability': 'active', 'Labels': {'z': '1'}},
           'Description': {'Hostname': 'h-' + node_id, 'Engine': {'EngineVersion': '26.1.5'}},
           'Status': {'State': state, 'Addr': '0.0.0.0' if role == 'manager' else addr}}
    if reach:
        raw['ManagerStatus'] = {'Reachability': reach, 'Leader': leader, 'Addr': addr + ':2377'}
    return raw


def test_summarize_node():
    leader = sc.summarize_node(node('a', 'manager', reach='reachable', leader=True, addr='10.0.0.5'))
    assert leader == {'id': 'a', 'hostname': 'h-a', 'role': 'manager', 'status': 'ready', 'availability': 'active',
                      'manager_status': 'Leader', 'addr': '10.0.0.5', 'engine_version': '26.1.5', 'labels': {'z': '1'}}
    assert sc.summarize_node(node('b', 'manager', reach='unreachable'))['manager_status'] == 'Unreachable'
    worker = sc.summarize_node(node('c', 'worker', addr='10.0.0.7'))
    assert worker['manager_status'] is None and worker['addr'] == '10.0.0.7'


@pytest.mark.parametrize('reach, expected', [
    (['reachable'], (1, 1, 1, True, 0)),
    (['reachable', 'reachable', 'reachable'], (3, 3, 2, True, 1)),
    (['reachable', 'reachable', 'unreachable'], (3, 2, 2, True, 1)),
    (['reachable', 'unreachable', 'unreachable'], (3, 1, 2, False, 1)),
    (['reachable', 'unreachable'], (2, 1, 2, False, 0)),
    ([], (0, 0, 0, False, 0)),
])
def test_quorum_summary(reach, expected):
    nodes = [node('m%d' % i, 'manager', reach=r, leader=(i == 0)) for i, r in enumerate(reach)]
    nodes.append(node('w', 'worker'))
    nodes.append(node('old', 'manager'))  # left behind by force_new_cluster: no ManagerStatus, not a member
    summary = sc.quorum_summary(nodes)
    assert (summary['managers_total'], summary['managers_reachable'], summary['quorum'], summary['has_quorum'],
            summary['fault_tolerance']) == expected


def test_quorum_after_removal():
    three = [node('m%d' % i, 'manager', reach='reachable', leader=(i == 0)) for i in range(3)]
    assert sc.quorum_after_removal(three, ['m1']) == (True, '')
    ok, why = sc.quorum_after_removal(three, ['m1', 'm2'])
    assert not ok and 'quorum is 2' in why and '1 reachable' in why  # issue 7 case 5: two of three
    two = three[:2]
    assert sc.quorum_after_removal(two, ['m1'])[0] is False  # the second step of 3 -> 1
    degraded = three[:2] + [node('m2', 'manager', reach='unreachable')]
    assert sc.quorum_after_removal(degraded, ['m2']) == (True, '')  # removing the unreachable one keeps 2 of 2
    ok, why = sc.quorum_after_removal(degraded, ['m1'])
    assert not ok and 'quorum is 2' in why
    assert sc.quorum_after_removal(three[:1], ['m0'])[0] is False
    assert sc.quorum_after_removal(three, ['w'])[0] is True


def service(mode, status=None, **extra):
    raw = {'ID': 's1', 'Spec': {'Name': 'web', 'Mode': mode,
                                'TaskTemplate': {'ContainerSpec': {'Image': 'alpine:3'}}}}
    if status:
        raw['ServiceStatus'] = status
    raw.update(extra)
    return raw


def test_summarize_service_from_service_status():
    raw = service({'Replicated': {'Replicas': 3}}, {'RunningTasks': 2, 'DesiredTasks': 3},
                  Endpoint={'Ports': [{'Protocol': 'tcp', 'TargetPort': 80, 'PublishedPort': 8080,
                                       'PublishMode': 'ingress'}]},
                  UpdateStatus={'State': 'completed'})
    assert sc.summarize_service(raw) == {
        'id': 's1', 'name': 'web', 'mode': 'replicated', 'replicas_running': 2, 'replicas_desired': 3,
        'image': 'alpine:3', 'ports': [{'published': 8080, 'target': 80, 'protocol': 'tcp', 'mode': 'ingress'}],
        'update_state': 'completed'}


def test_summarize_service_from_tasks_for_old_engines():
    tasks = [
        {'ServiceID': 's1', 'NodeID': 'n1', 'DesiredState': 'running', 'Status': {'State': 'running'}},
        {'ServiceID': 's1', 'NodeID': 'n2', 'DesiredState': 'running', 'Status': {'State': 'preparing'}},
        {'ServiceID': 's1', 'NodeID': 'n3', 'DesiredState': 'shutdown', 'Status': {'State': 'running'}},
        {'ServiceID': 'other', 'NodeID': 'n1', 'DesiredState': 'running', 'Status': {'State': 'running'}},
    ]
    replicated = sc.summarize_service(service({'Replicated': {'Replicas': 2}}), tasks)
    assert (replicated['replicas_running'], replicated['replicas_desired']) == (1, 2)
    global_ = sc.summarize_service(service({'Global': {}}), tasks)
    assert (global_['mode'], global_['replicas_running'], global_['replicas_desired']) == ('global', 1, 2)
    job = sc.summarize_service(service({'ReplicatedJob': {'TotalCompletions': 4}}), [])
    assert (job['mode'], job['replicas_desired'], job['replicas_running']) == ('replicated-job', 4, 0)


def test_summarize_swarm_inactive_and_manager():
    assert sc.summarize_swarm({'Swarm': {'LocalNodeState': 'inactive'}})['role'] is None
    manager = sc.summarize_swarm({'Swarm': {'LocalNodeState': 'active', 'ControlAvailable': True, 'NodeID': 'n1',
                                            'Cluster': {'ID': 'c1', 'CreatedAt': 't'},
                                            'RemoteManagers': [{'Addr': '10.0.0.1:2377'}]}})
    assert (manager['role'], manager['cluster_id'], manager['remote_managers']) == ('manager', 'c1', ['10.0.0.1:2377'])


# ---- swarm objects (swarm_info objects: true) ---------------------------------------------------------

def test_objects_listed_like_the_cli_without_values():
    networks = [{'Id': 'n1', 'Name': 'web', 'Driver': 'overlay', 'Scope': 'swarm', 'Attachable': True,
                 'Options': {'encrypted': ''}, 'Labels': {'com.docker.stack.namespace': 'shop'}},
                {'Id': 'n0', 'Name': 'ingress', 'Driver': 'overlay', 'Scope': 'swarm', 'Ingress': True},
                {'Id': 'b', 'Name': 'bridge', 'Driver': 'bridge', 'Scope': 'local'}]
    secrets = [{'ID': 's2', 'CreatedAt': 't2', 'UpdatedAt': 't2', 'Spec': {'Name': 'db_v2', 'Data': 'c2VjcmV0'}},
               {'ID': 's1', 'CreatedAt': 't1', 'UpdatedAt': 't1', 'Spec': {'Name': 'api_v1', 'Labels': {'a': 'b'}}}]
    configs = [{'ID': 'c1', 'CreatedAt': 't3', 'UpdatedAt': 't3', 'Spec': {'Name': 'conf_v1', 'Data': 'bW9kZT0x'}}]
    services = [{'Spec': {'Name': 'shop_web', 'Labels': {'com.docker.stack.namespace': 'shop'}}},
                {'Spec': {'Name': 'shop_db', 'Labels': {'com.docker.stack.namespace': 'shop'}}},
                {'Spec': {'Name': 'alone', 'Labels': {}}}]
    objects = sc.summarize_objects(networks, secrets, configs, services)
    assert [n['name'] for n in objects['networks']] == ['ingress', 'web']
    assert objects['networks'][1]['encrypted'] and objects['networks'][1]['stack'] == 'shop'
    assert objects['networks'][0]['ingress'] and not objects['networks'][0]['encrypted']
    assert [s['name'] for s in objects['secrets']] == ['api_v1', 'db_v2']
    assert objects['secrets'][1] == {'id': 's2', 'name': 'db_v2', 'created': 't2', 'updated': 't2', 'labels': {}}
    assert 'bW9kZT0x' not in repr(objects) and 'c2VjcmV0' not in repr(objects)
    assert objects['stacks'] == [{'name': 'shop', 'services': ['shop_db', 'shop_web']}]
