"""Normalisation, comparison and validation of swarm_service specs (plugins/module_utils/swarm_spec.py)."""

import copy

import pytest

from ansible_collections.swarmops.swarm.plugins.module_utils import swarm_spec as ss
from ansible_collections.swarmops.swarm.plugins.module_utils.swarm_spec import SpecError

SECOND = 10 ** 9

# What a bookworm (API 1.41) manager stores for
#   POST /services/create {Name: web, TaskTemplate: {ContainerSpec: {Image, Args}}, Mode: {Replicated: 2}}
# i.e. the daemon's own defaults filled in (captured from a real engine).
STORED = {
    'Name': 'web', 'Labels': {},
    'TaskTemplate': {
        'ContainerSpec': {'Image': 'swarmops/busybox:local', 'Args': ['sleep', '1000'],
                          'StopGracePeriod': 10 * SECOND, 'DNSConfig': {}, 'Isolation': 'default'},
        'Resources': {}, 'RestartPolicy': {'Condition': 'any', 'Delay': 5 * SECOND, 'MaxAttempts': 0},
        'Placement': {}, 'ForceUpdate': 0, 'Runtime': 'container'},
    'Mode': {'Replicated': {'Replicas': 2}},
    'UpdateConfig': {'Parallelism': 1, 'FailureAction': 'pause', 'Monitor': 5 * SECOND, 'MaxFailureRatio': 0,
                     'Order': 'stop-first'},
    'RollbackConfig': {'Parallelism': 1, 'FailureAction': 'pause', 'Monitor': 5 * SECOND, 'MaxFailureRatio': 0,
                       'Order': 'stop-first'},
}


def params(**kwargs):
    base = {'name': 'web', 'state': 'present'}
    base.update(kwargs)
    return base


def diff(current, **kwargs):
    return ss.compare(ss.validate(params(**kwargs)), current)


def stored(**changes):
    """STORED with CHANGES applied at dotted paths."""
    spec = copy.deepcopy(STORED)
    for dotted, value in changes.items():
        node = spec
        keys = dotted.split('__')
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value
    return spec


# ---- units -------------------------------------------------------------------------------------

@pytest.mark.parametrize('value, expected', [
    ('10s', 10 * SECOND), ('1m30s', 90 * SECOND), ('500ms', SECOND // 2), ('1h', 3600 * SECOND),
    (5, 5 * SECOND), ('2', 2 * SECOND), (0.5, SECOND // 2), ('1.5s', 1500000000), ('100us', 100000),
])
def test_durations(value, expected):
    assert ss.parse_duration(value, 'x') == expected


@pytest.mark.parametrize('value', ['10x', 's', '', '1m 30s', True, -1, '10 seconds'])
def test_bad_durations(value):
    with pytest.raises(SpecError, match='^x'):
        ss.parse_duration(value, 'x')


@pytest.mark.parametrize('value, expected', [
    ('64M', 64 * 1024 ** 2), ('64m', 64 * 1024 ** 2), ('1G', 1024 ** 3), ('512k', 512 * 1024),
    ('512KiB', 512 * 1024), ('1.5g', int(1.5 * 1024 ** 3)), (1048576, 1048576), ('100', 100), ('64MB', 64 * 1024 ** 2),
])
def test_memory(value, expected):
    assert ss.parse_memory(value, 'limits.memory') == expected


@pytest.mark.parametrize('value', ['64X', 'lots', '', '-1M', True])
def test_bad_memory(value):
    with pytest.raises(SpecError, match=r'^limits\.memory'):
        ss.parse_memory(value, 'limits.memory')


@pytest.mark.parametrize('value, expected', [(0.5, 500000000), ('1.5', 1500000000), (2, 2 * SECOND), (0, 0)])
def test_cpus(value, expected):
    assert ss.parse_cpus(value, 'limits.cpus') == expected


# ---- parsing options ---------------------------------------------------------------------------

@pytest.mark.parametrize('value, expected', [
    ('8080:80/udp', {'Protocol': 'udp', 'TargetPort': 80, 'PublishedPort': 8080, 'PublishMode': 'ingress'}),
    ('8080:80', {'Protocol': 'tcp', 'TargetPort': 80, 'PublishedPort': 8080, 'PublishMode': 'ingress'}),
    ('80', {'Protocol': 'tcp', 'TargetPort': 80, 'PublishMode': 'ingress'}),
    (80, {'Protocol': 'tcp', 'TargetPort': 80, 'PublishMode': 'ingress'}),
    ({'published': 8080, 'target': 80, 'mode': 'host'},
     {'Protocol': 'tcp', 'TargetPort': 80, 'PublishedPort': 8080, 'PublishMode': 'host'}),
    ({'published': '53', 'target': '53', 'protocol': 'sctp'},
     {'Protocol': 'sctp', 'TargetPort': 53, 'PublishedPort': 53, 'PublishMode': 'ingress'}),
])
def test_ports(value, expected):
    assert ss.parse_port(value) == expected


def test_port_shorthand_equals_dict_form():
    current = stored(EndpointSpec={'Mode': 'vip', 'Ports': [
        {'Protocol': 'udp', 'TargetPort': 80, 'PublishedPort': 8080, 'PublishMode': 'ingress'}]})
    assert diff(current, publish=['8080:80/udp']) == ({}, {})
    assert diff(current, publish=[{'published': 8080, 'target': 80, 'protocol': 'udp'}]) == ({}, {})


def test_port_order_does_not_matter_but_mode_does():
    current = stored(EndpointSpec={'Ports': [
        {'Protocol': 'tcp', 'TargetPort': 80, 'PublishedPort': 8080, 'PublishMode': 'host'},
        {'Protocol': 'tcp', 'TargetPort': 443, 'PublishedPort': 8443, 'PublishMode': 'host'}]})
    same = [{'published': 8443, 'target': 443, 'mode': 'host'}, {'published': 8080, 'target': 80, 'mode': 'host'}]
    assert diff(current, publish=same) == ({}, {})
    before, after = diff(current, publish=['8080:80', '8443:443'])
    assert set(before) == set(after) == {'publish'}
    assert after['publish'][0] == {'published': 8080, 'target': 80, 'protocol': 'tcp', 'mode': 'ingress'}


@pytest.mark.parametrize('value, expected', [
    ({'type': 'bind', 'source': '/srv', 'target': '/data', 'readonly': True},
     {'Type': 'bind', 'Source': '/srv', 'Target': '/data', 'ReadOnly': True}),
    ('type=bind,src=/srv,dst=/data,ro', {'Type': 'bind', 'Source': '/srv', 'Target': '/data', 'ReadOnly': True}),
    ('type=volume,source=cache,target=/cache,volume-nocopy',
     {'Type': 'volume', 'Source': 'cache', 'Target': '/cache', 'ReadOnly': False, 'VolumeOptions': {'NoCopy': True}}),
    ({'type': 'tmpfs', 'target': '/run/app', 'tmpfs_size': '16M', 'tmpfs_mode': '1777'},
     {'Type': 'tmpfs', 'Target': '/run/app', 'ReadOnly': False,
      'TmpfsOptions': {'SizeBytes': 16 * 1024 ** 2, 'Mode': 0o1777}}),
    ({'source': 'data', 'target': '/var/lib/data'},
     {'Type': 'volume', 'Source': 'data', 'Target': '/var/lib/data', 'ReadOnly': False}),
])
def test_mounts(value, expected):
    assert ss.parse_mount(value) == expected


def test_mount_order_and_daemon_options_ignored():
    current = stored(TaskTemplate__ContainerSpec__Mounts=[
        {'Type': 'volume', 'Source': 'b', 'Target': '/b', 'VolumeOptions': {'DriverConfig': {'Name': 'local'}}},
        {'Type': 'bind', 'Source': '/a', 'Target': '/a', 'ReadOnly': True}])
    assert diff(current, mounts=['type=bind,source=/a,target=/a,readonly', {'source': 'b', 'target': '/b'}]) == ({}, {})
    before, after = diff(current, mounts=['type=bind,source=/a,target=/a', {'source': 'b', 'target': '/b'}])
    assert before['mounts'][0]['readonly'] is True and after['mounts'][0]['readonly'] is False


@pytest.mark.parametrize('value, expected', [
    ({'A': '1', 'B': 2}, ['A=1', 'B=2']),
    (['B=2', 'A=1'], ['A=1', 'B=2']),
    (['A=x=y'], ['A=x=y']),
    ({'EMPTY': None}, ['EMPTY=']),
])
def test_env(value, expected):
    assert ss.parse_env(value) == expected


def test_env_dict_equals_list_in_any_order():
    current = stored(TaskTemplate__ContainerSpec__Env=['B=2', 'A=1'])
    assert diff(current, env={'A': '1', 'B': 2}) == ({}, {})
    assert diff(current, env=['A=1', 'B=2']) == ({}, {})
    before, after = diff(current, env={'A': '1'})
    assert before == {'env': {'A': '1', 'B': '2'}} and after == {'env': {'A': '1'}}


def test_constraints_are_a_set_and_spacing_is_normalised():
    current = stored(TaskTemplate__Placement={'Constraints': ['node.role == worker', 'node.labels.zone!=b']})
    assert diff(current, constraints=['node.labels.zone != b', 'node.role==worker']) == ({}, {})
    before, after = diff(current, constraints=['node.role==worker'])
    assert after == {'constraints': ['node.role==worker']}
    assert before == {'constraints': ['node.labels.zone!=b', 'node.role==worker']}


def test_command_and_args_are_ordered():
    current = stored()
    assert diff(current, args=['sleep', '1000']) == ({}, {})
    assert diff(current, args=['1000', 'sleep'])[1] == {'args': ['1000', 'sleep']}
    assert diff(current, command='sleep 1000')[1] == {'command': ['sleep', '1000']}
    assert diff(stored(TaskTemplate__ContainerSpec__Command=['sh', '-c', 'echo a b']),
                command=['sh', '-c', 'echo a b']) == ({}, {})
    assert diff(stored(TaskTemplate__ContainerSpec__Command=['sh', '-c', 'echo a b']),
                command="sh -c 'echo a b'") == ({}, {})


def test_placement_preferences_keep_their_order():
    prefs = [{'Spread': {'SpreadDescriptor': 'node.labels.dc'}}, {'Spread': {'SpreadDescriptor': 'node.labels.rack'}}]
    current = stored(TaskTemplate__Placement={'Preferences': prefs})
    assert diff(current, placement_preferences=[{'spread': 'node.labels.dc'}, 'spread=node.labels.rack']) == ({}, {})
    assert diff(current, placement_preferences=['spread=node.labels.rack', 'spread=node.labels.dc'])[1]


# ---- defaults the daemon fills in, and what the user did not set ---------------------------------

def test_nothing_set_nothing_differs():
    assert diff(stored(), image='swarmops/busybox:local') == ({}, {})


@pytest.mark.parametrize('option, value', [
    ('restart_policy', {'condition': 'any'}),
    ('restart_policy', {'delay': '5s', 'max_attempts': 0, 'window': 0}),
    ('update_config', {'parallelism': 1, 'failure_action': 'pause', 'order': 'stop-first', 'monitor': '5s'}),
    ('update_config', {'delay': 0}),
    ('rollback_config', {'max_failure_ratio': 0}),
    ('limits', {'memory': 0, 'cpus': 0}),
    ('reservations', {'cpus': 0}),
    ('stop_grace_period', '10s'),
    ('init', False),
    ('user', ''),
    ('endpoint_mode', 'vip'),
    ('max_replicas_per_node', 0),
    ('labels', {}),
    ('container_labels', {}),
    ('env', {}),
    ('mounts', []),
    ('constraints', []),
])
def test_daemon_defaults_are_not_differences(option, value):
    assert diff(stored(), **{option: value}) == ({}, {})


def test_daemon_defaults_when_the_block_is_missing():
    spec = stored()
    del spec['UpdateConfig']
    spec['TaskTemplate'].pop('RestartPolicy')
    spec['TaskTemplate']['ContainerSpec'].pop('StopGracePeriod')
    assert diff(spec, update_config={'parallelism': 1}, restart_policy={'condition': 'any', 'delay': 5},
                stop_grace_period=10) == ({}, {})


def test_partial_dicts_compare_only_the_keys_set():
    current = stored(UpdateConfig={'Parallelism': 2, 'FailureAction': 'rollback', 'Order': 'start-first'})
    assert diff(current, update_config={'order': 'start-first'}) == ({}, {})
    before, after = diff(current, update_config={'order': 'start-first', 'parallelism': 1})
    assert before == {'update_config': {'Order': 'start-first', 'Parallelism': 2}}
    assert after == {'update_config': {'Order': 'start-first', 'Parallelism': 1}}


def test_resources_units():
    current = stored(TaskTemplate__Resources={'Limits': {'NanoCPUs': 500000000, 'MemoryBytes': 64 * 1024 ** 2}})
    assert diff(current, limits={'cpus': 0.5, 'memory': '64M'}) == ({}, {})
    assert diff(current, limits={'cpus': '0.5', 'memory': 67108864}) == ({}, {})
    assert diff(current, limits={'memory': '128M'})[1] == {'limits': {'MemoryBytes': 128 * 1024 ** 2}}


def test_tooling_labels_ignored_unless_set():
    current = stored(Labels={'com.docker.stack.namespace': 'app', 'team': 'a'})
    assert diff(current, labels={'team': 'a'}) == ({}, {})
    assert diff(current, labels={'team': 'a', 'com.docker.stack.namespace': 'other'})[1]
    assert diff(current, labels={'team': 'b'})[1] == {'labels': {'team': 'b'}}
    merged = ss.merged_spec(ss.validate(params(labels={'team': 'b'})), current, 'web')
    assert merged['Labels'] == {'team': 'b', 'com.docker.stack.namespace': 'app'}


def test_other_labels_are_exact():
    current = stored(Labels={'team': 'a', 'extra': 'x'})
    before, after = diff(current, labels={'team': 'a'})
    assert before == {'labels': {'team': 'a', 'extra': 'x'}} and after == {'labels': {'team': 'a'}}


@pytest.mark.parametrize('stored_image, wanted, same', [
    ('swarmops/busybox:local@sha256:' + 'a' * 64, 'swarmops/busybox:local', True),
    ('busybox:latest', 'busybox', True),
    ('docker.io/library/busybox:latest', 'busybox', True),
    ('docker.io/library/busybox:1.36@sha256:' + 'b' * 64, 'busybox:1.36', True),
    ('busybox:1.36', 'busybox:1.37', False),
    ('registry.example.com:5000/app', 'registry.example.com:5000/app:latest', True),
    ('registry.example.com:5000/app:1', 'registry.example.com:5000/app:2', False),
])
def test_image_digest_and_defaults(stored_image, wanted, same):
    current = stored(TaskTemplate__ContainerSpec__Image=stored_image)
    assert (diff(current, image=wanted) == ({}, {})) is same


@pytest.mark.parametrize('resolve_image', [True, False])
def test_a_pinned_digest_is_compared_whatever_resolve_image_says(resolve_image):
    fields = ss.validate(params(image='busybox:1.36@sha256:' + 'c' * 64))
    current = stored(TaskTemplate__ContainerSpec__Image='busybox:1.36@sha256:' + 'b' * 64)
    before, after = ss.compare(fields, current, {'resolve_image': resolve_image})
    assert before == {'image': 'busybox:1.36@sha256:' + 'b' * 64}
    assert after == {'image': 'busybox:1.36@sha256:' + 'c' * 64}
    same = stored(TaskTemplate__ContainerSpec__Image='docker.io/library/busybox:1.36@sha256:' + 'c' * 64)
    assert ss.compare(fields, same, {'resolve_image': resolve_image}) == ({}, {})
    unpinned = stored(TaskTemplate__ContainerSpec__Image='busybox:1.36')
    assert ss.compare(fields, unpinned, {'resolve_image': resolve_image})[1] == after


def test_a_digest_without_a_tag_is_not_read_as_latest():
    digest = 'sha256:' + 'd' * 64
    assert ss.normalise_image('app@' + digest, keep_digest=True) == 'app@' + digest
    fields = ss.validate(params(image='app@' + digest))
    assert ss.compare(fields, stored(TaskTemplate__ContainerSpec__Image='app:latest@sha256:' + 'e' * 64))[1] == \
        {'image': 'app@' + digest}
    assert ss.compare(fields, stored(TaskTemplate__ContainerSpec__Image='app@' + digest)) == ({}, {})


def test_resolve_image_compares_the_digest_it_resolved():
    fields = ss.validate(params(image='busybox:1.36'))
    current = stored(TaskTemplate__ContainerSpec__Image='busybox:1.36@sha256:' + 'b' * 64)
    resolved = dict(fields, image='busybox:1.36@sha256:' + 'c' * 64)
    assert ss.compare(resolved, current, {'resolve_image': True})[1] == {'image': resolved['image']}
    assert ss.compare(fields, current, {'resolve_image': False}) == ({}, {})  # unpinned: the tag is what counts


def test_mode_and_replicas():
    assert diff(stored(), replicas=2) == ({}, {})
    assert diff(stored(), replicas='2') == ({}, {})
    assert diff(stored(), replicas=3) == ({'replicas': 2}, {'replicas': 3})
    assert diff(stored(), mode='replicated') == ({}, {})
    fields = ss.validate(params(mode='global'))
    assert ss.compare(fields, stored()) == ({'mode': 'replicated'}, {'mode': 'global'})
    assert 'replicated to global' in ss.needs_recreate(fields, stored())
    assert ss.needs_recreate(ss.validate(params(replicas=5)), stored()) is None
    job = stored(Mode={'ReplicatedJob': {'MaxConcurrent': 1, 'TotalCompletions': 3}})
    assert diff(job, mode='replicated-job', replicas=3) == ({}, {})


def test_networks_by_name_and_id():
    current = stored(TaskTemplate__Networks=[{'Target': 'id-back'}, {'Target': 'id-front', 'Aliases': ['web']}])
    ctx = {'network_names': {'id-back': 'back', 'id-front': 'front'}}
    fields = ss.validate(params(networks=['front', 'back']))
    assert ss.compare(fields, current, ctx) == ({}, {})
    fields = ss.validate(params(networks=[{'name': 'front', 'aliases': ['web']}, 'back']))
    assert ss.compare(fields, current, ctx) == ({}, {})
    fields = ss.validate(params(networks=[{'name': 'front', 'aliases': ['www']}, 'back']))
    assert ss.compare(fields, current, ctx)[1]
    merged = ss.merged_spec(ss.validate(params(networks=['front'])), current, 'web',
                            {'network_ids': {'front': 'id-front'}})
    assert merged['TaskTemplate']['Networks'] == [{'Target': 'id-front'}]


def test_secrets_defaults_and_ids():
    fields = ss.validate(params(secrets=['db_password', {'name': 'tls', 'target': 'cert.pem', 'mode': '0400'}]))
    current = stored(TaskTemplate__ContainerSpec__Secrets=[
        {'SecretID': 'x2', 'SecretName': 'tls', 'File': {'Name': 'cert.pem', 'UID': '0', 'GID': '0', 'Mode': 0o400}},
        {'SecretID': 'x1', 'SecretName': 'db_password',
         'File': {'Name': 'db_password', 'UID': '0', 'GID': '0', 'Mode': 0o444}}])
    assert ss.compare(fields, current) == ({}, {})
    merged = ss.merged_spec(fields, None, 'web', {'secret_ids': {'db_password': 'id1', 'tls': 'id2'}})
    assert [s['SecretID'] for s in merged['TaskTemplate']['ContainerSpec']['Secrets']] == ['id1', 'id2']


def test_healthcheck():
    current = stored(TaskTemplate__ContainerSpec__Healthcheck={
        'Test': ['CMD-SHELL', 'wget -q -O- localhost:8080'], 'Interval': 10 * SECOND})
    assert diff(current, healthcheck={'test': 'wget -q -O- localhost:8080', 'interval': '10s'}) == ({}, {})
    assert diff(current, healthcheck={'retries': 0}) == ({}, {})
    assert diff(current, healthcheck={'disable': True})[1] == {'healthcheck': {'Test': ['NONE']}}
    assert ss.parse_healthcheck({'test': ['wget', 'x']})['Test'] == ['CMD', 'wget', 'x']


# ---- merging: what is sent --------------------------------------------------------------------

def test_merge_keeps_what_the_user_did_not_set():
    current = stored(TaskTemplate__ContainerSpec__Env=['KEEP=1'])
    merged = ss.merged_spec(ss.validate(params(replicas=5, update_config={'order': 'start-first'})), current, 'web')
    assert merged['Mode'] == {'Replicated': {'Replicas': 5}}
    assert merged['TaskTemplate']['ContainerSpec']['Env'] == ['KEEP=1']
    assert merged['UpdateConfig']['Order'] == 'start-first' and merged['UpdateConfig']['Parallelism'] == 1
    assert current['Mode'] == {'Replicated': {'Replicas': 2}}  # not modified in place


def test_create_fills_partial_blocks_with_daemon_defaults():
    merged = ss.merged_spec(ss.validate(params(image='x', update_config={'failure_action': 'rollback'})), None, 'web')
    assert merged['UpdateConfig']['Parallelism'] == 1 and merged['UpdateConfig']['FailureAction'] == 'rollback'
    assert merged['Mode'] == {'Replicated': {'Replicas': 1}}
    merged = ss.merged_spec(ss.validate(params(image='x', mode='global')), None, 'web')
    assert merged['Mode'] == {'Global': {}}
    merged = ss.merged_spec(ss.validate(params(image='x', mode='replicated-job', replicas=4)), None, 'web')
    assert merged['Mode'] == {'ReplicatedJob': {'TotalCompletions': 4, 'MaxConcurrent': 4}}


def test_force_update_bumps_the_counter():
    merged = ss.merged_spec({}, stored(TaskTemplate__ForceUpdate=3), 'web', {'force_update': True})
    assert merged['TaskTemplate']['ForceUpdate'] == 4


def test_merged_spec_compares_equal_to_what_it_came_from():
    fields = ss.validate(params(image='swarmops/busybox:local', env={'A': 1}, publish=['8080:80'],
                                limits={'memory': '64M'}, constraints=['node.role==worker'], replicas=3))
    merged = ss.merged_spec(fields, stored(), 'web')
    assert ss.compare(fields, merged) == ({}, {})


# ---- validation: bad input refused before any engine call ----------------------------------------

BAD_INPUT = [
    # (case, params, the message must contain)
    ('replicas -1', dict(replicas=-1), 'replicas must be a whole number (0 or more)'),
    ('replicas "three"', dict(replicas='three'), "replicas must be a whole number (0 or more), got 'three'"),
    ('replicas 1.5', dict(replicas=1.5), 'replicas must be a whole number'),
    ('replicas on global', dict(mode='global', replicas=2), 'replicas: a global service'),
    ('replicas on global-job', dict(mode='global-job', replicas=2), 'remove replicas or use mode replicated'),
    ('unknown mode', dict(mode='daemonset'), "mode: 'daemonset' is not a service mode; use one of replicated"),
    ('port 70000', dict(publish=['70000:80']), 'publish published must be a port number (from 1 to 65535)'),
    ('target port 0', dict(publish=[{'target': 0}]), 'publish target must be a port number'),
    ('protocol tcpx', dict(publish=['8080:80/tcpx']), "protocol 'tcpx'"),
    ('protocol tcpx in dict', dict(publish=[{'target': 80, 'protocol': 'tcpx'}]), 'is not one of tcp, udp, sctp'),
    ('port mode', dict(publish=[{'target': 80, 'mode': 'routing'}]), 'is not one of ingress, host'),
    ('port garbage', dict(publish=['80:80:80']), 'use "PUBLISHED:TARGET[/PROTOCOL]"'),
    ('port without target', dict(publish=[{'published': 80}]), 'has no target'),
    ('port unknown key', dict(publish=[{'target': 80, 'host_ip': '1.2.3.4'}]), 'unknown key(s) host_ip'),
    ('port twice', dict(publish=['80:80', '80:81']), 'published port 80/tcp is given twice'),
    ('dnsrr with ingress', dict(endpoint_mode='dnsrr', publish=['80:80']), 'endpoint_mode dnsrr cannot publish'),
    ('mount without target', dict(mounts=[{'type': 'bind', 'source': '/srv'}]), 'mounts:'),
    ('mount bad type', dict(mounts=[{'type': 'nfs', 'target': '/x'}]), "type 'nfs'"),
    ('mount relative target', dict(mounts=[{'source': 'v', 'target': 'data'}]), 'must be an absolute path'),
    ('bind without source', dict(mounts=['type=bind,target=/data']), 'a bind mount needs source'),
    ('bind relative source', dict(mounts=['type=bind,source=srv,target=/data']), 'a bind mount needs source'),
    ('malformed mount string', dict(mounts=['/srv:/data']), 'is not KEY=VALUE'),
    ('mount unknown key', dict(mounts=[{'target': '/x', 'size': 1}]), 'unknown key(s) size'),
    ('tmpfs with source', dict(mounts=[{'type': 'tmpfs', 'source': 'x', 'target': '/x'}]), 'a tmpfs mount has no source'),
    ('volume option on bind', dict(mounts=[{'type': 'bind', 'source': '/a', 'target': '/a', 'no_copy': True}]),
     'do(es) not apply to a bind mount'),
    ('mount twice', dict(mounts=['type=volume,source=a,target=/a', 'type=volume,source=b,target=/a']),
     'target /a is mounted twice'),
    ('mount not a mount', dict(mounts=[42]), 'is not a mount'),
    ('image empty', dict(image=''), "image: '' is not an image reference"),
    ('image spaces', dict(image='bad image'), 'is not an image reference'),
    ('constraint single =', dict(constraints=['node.role=manager']), 'write "key==value" or "key!=value"'),
    ('constraint no operator', dict(constraints=['node.role']), 'is not a constraint'),
    ('constraint no value', dict(constraints=['node.role==']), 'is not a constraint'),
    ('constraint ===', dict(constraints=['node.role===manager']), 'is not a constraint'),
    ('constraint not a list', dict(constraints='node.role==manager'), 'constraints must be a list'),
    ('env bool', dict(env={'DEBUG': True}), 'quote it'),
    ('env bad list entry', dict(env=['=x']), 'env: list entries must be "NAME=value"'),
    ('env neither', dict(env='A=1'), 'env must be a dict'),
    ('memory unit', dict(limits={'memory': '64X'}), 'limits.memory: expected a size'),
    ('cpus word', dict(limits={'cpus': 'half'}), 'limits.cpus: expected a number of CPUs'),
    ('duration', dict(stop_grace_period='10 seconds'), 'stop_grace_period: expected a duration'),
    ('restart condition', dict(restart_policy={'condition': 'always'}), 'restart_policy.condition must be one of'),
    ('failure action', dict(rollback_config={'failure_action': 'rollback'}), 'rollback_config.failure_action'),
    ('failure ratio', dict(update_config={'max_failure_ratio': 2}), 'max_failure_ratio must be a number from 0 to 1'),
    ('preference', dict(placement_preferences=['binpack=node.labels.x']), 'is not a preference'),
    ('secret', dict(secrets=[{'target': 'x'}]), 'is not a secret reference'),
    ('network', dict(networks=[{'id': 'x'}]), 'is not a network'),
    ('max replicas global', dict(mode='global', max_replicas_per_node=1), 'applies to replicated services only'),
    ('max replicas negative', dict(max_replicas_per_node=-2), 'max_replicas_per_node must be a whole number'),
    ('name', dict(name='bad name'), "name: 'bad name' is not a service name"),
    ('command unsplittable', dict(command='echo "unterminated'), 'give a list instead'),
]


@pytest.mark.parametrize('case, bad, message', BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_bad_input_is_refused_with_the_field_and_the_fix(case, bad, message):
    with pytest.raises(SpecError) as raised:
        ss.validate(params(**dict({'image': 'swarmops/busybox:local'}, **bad)))
    assert message in str(raised.value)


def test_absent_needs_nothing_but_a_name():
    assert ss.validate({'name': 'web', 'state': 'absent', 'replicas': 'three'}) == {}


# ---- task counting ------------------------------------------------------------------------------

def node(name, role='worker', state='ready', availability='active', labels=None):
    return {'ID': name, 'Description': {'Hostname': name}, 'Status': {'State': state},
            'Spec': {'Role': role, 'Availability': availability, 'Labels': labels or {}}}


def test_eligible_nodes_for_global_services():
    nodes = [node('m1', 'manager'), node('w1', labels={'zone': 'a'}), node('w2', labels={'zone': 'b'}),
             node('w3', state='down'), node('w4', availability='drain')]
    assert [n['ID'] for n in ss.eligible_nodes(nodes, [])] == ['m1', 'w1', 'w2']
    assert [n['ID'] for n in ss.eligible_nodes(nodes, ['node.role==worker'])] == ['w1', 'w2']
    assert [n['ID'] for n in ss.eligible_nodes(nodes, ['node.labels.zone!=a', 'node.role!=manager'])] == ['w2']
    assert [n['ID'] for n in ss.eligible_nodes(nodes, ['node.hostname==W1'])] == ['w1']


def test_task_summary():
    tasks = [{'Status': {'State': 'running'}}, {'Status': {'State': 'rejected', 'Err': 'No such image: x:1'}},
             {'Status': {'State': 'pending', 'Err': 'no suitable node (1 node not available for new tasks)'}}]
    summary = ss.task_summary(tasks, 3)
    assert summary['running'] == 1 and summary['failed'] == 1 and summary['desired'] == 3
    assert summary['errors'] == ['rejected: No such image: x:1',
                                 'pending: no suitable node (1 node not available for new tasks)']
