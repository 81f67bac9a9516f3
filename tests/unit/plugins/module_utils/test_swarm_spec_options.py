"""swarm_spec: the container and scheduling options beyond the basics (parsing, engine form, comparison)."""

import pytest

from ansible_collections.swarmops.swarm.plugins.module_utils import swarm_spec as ss
from ansible_collections.swarmops.swarm.plugins.module_utils.swarm_spec import SpecError

SECOND = 10 ** 9
CS = ('TaskTemplate', 'ContainerSpec')


def fields(**params):
    return ss.validate(dict({'name': 'web', 'state': 'present', 'image': 'busybox'}, **params))


def created(**params):
    return ss.merged_spec(fields(**params), None, 'web', {'secret_salt': 's'})


# (option value, path in the spec, what the engine gets)
ENGINE_FORMS = [
    ({'cap_add': ['net_admin', 'CAP_SYS_TIME', 'NET_ADMIN']}, CS + ('CapabilityAdd',), ['CAP_NET_ADMIN', 'CAP_SYS_TIME']),
    ({'cap_drop': ['ALL']}, CS + ('CapabilityDrop',), ['ALL']),
    ({'sysctls': {'net.core.somaxconn': 1024}}, CS + ('Sysctls',), {'net.core.somaxconn': '1024'}),
    ({'ulimits': {'nofile': '1024:2048', 'nproc': 64}}, CS + ('Ulimits',),
     [{'Name': 'nofile', 'Soft': 1024, 'Hard': 2048}, {'Name': 'nproc', 'Soft': 64, 'Hard': 64}]),
    ({'ulimits': ['core=0', 'nofile=100:200']}, CS + ('Ulimits',),
     [{'Name': 'core', 'Soft': 0, 'Hard': 0}, {'Name': 'nofile', 'Soft': 100, 'Hard': 200}]),
    ({'ulimits': {'memlock': {'soft': -1, 'hard': -1}}}, CS + ('Ulimits',), [{'Name': 'memlock', 'Soft': -1, 'Hard': -1}]),
    ({'dns': ['10.0.0.2', '2001:db8::1']}, CS + ('DNSConfig', 'Nameservers'), ['10.0.0.2', '2001:db8::1']),
    ({'dns_search': ['svc.local']}, CS + ('DNSConfig', 'Search'), ['svc.local']),
    ({'dns_options': ['ndots:2']}, CS + ('DNSConfig', 'Options'), ['ndots:2']),
    ({'hosts': {'db.local': '10.0.0.5', 'cache': '10.0.0.6'}}, CS + ('Hosts',), ['10.0.0.5 db.local', '10.0.0.6 cache']),
    ({'hosts': ['db.local:10.0.0.5']}, CS + ('Hosts',), ['10.0.0.5 db.local']),
    ({'groups': ['audio', 'video']}, CS + ('Groups',), ['audio', 'video']),
    ({'read_only': True}, CS + ('ReadOnly',), True),
    ({'tty': 'yes'}, CS + ('TTY',), True),
    ({'init': True}, CS + ('Init',), True),
    ({'stop_signal': 'term'}, CS + ('StopSignal',), 'SIGTERM'),
    ({'stop_signal': 'SIGRTMIN+3'}, CS + ('StopSignal',), 'SIGRTMIN+3'),
    ({'stop_signal': 9}, CS + ('StopSignal',), '9'),
    ({'oom_score_adj': -500}, CS + ('OomScoreAdj',), -500),
    ({'log_driver': 'json-file', 'log_options': {'max-size': '10m', 'max-file': 3}}, ('TaskTemplate', 'LogDriver'),
     {'Name': 'json-file', 'Options': {'max-size': '10m', 'max-file': '3'}}),
    ({'generic_resources': ['gpu=2', 'ssd=fast']}, ('TaskTemplate', 'Resources', 'Reservations', 'GenericResources'),
     [{'DiscreteResourceSpec': {'Kind': 'gpu', 'Value': 2}}, {'NamedResourceSpec': {'Kind': 'ssd', 'Value': 'fast'}}]),
    ({'healthcheck': {'test': 'true', 'start_interval': '500ms'}}, CS + ('Healthcheck', 'StartInterval'), SECOND // 2),
    ({'mode': 'replicated-job', 'replicas': 6, 'max_concurrent': 2}, ('Mode',),
     {'ReplicatedJob': {'TotalCompletions': 6, 'MaxConcurrent': 2}}),
]


@pytest.mark.parametrize('params, path, engine', ENGINE_FORMS)
def test_engine_form(params, path, engine):
    assert ss._dig(created(**params), path) == engine


@pytest.mark.parametrize('params, path, engine', ENGINE_FORMS)
def test_what_was_sent_compares_equal_to_the_same_options(params, path, engine):
    assert ss.compare(fields(**params), created(**params)) == ({}, {})


# Another way of writing the same thing is not a change; a real change is one option of the diff.
SAME_AND_DIFFERENT = [
    ('cap_add', ['NET_ADMIN', 'SYS_TIME'], ['cap_sys_time', 'CAP_NET_ADMIN'], ['NET_ADMIN']),
    ('sysctls', {'net.core.somaxconn': '1024'}, {'net.core.somaxconn': 1024}, {'net.core.somaxconn': '512'}),
    ('ulimits', {'nofile': 1024}, ['nofile=1024:1024'], {'nofile': '1024:4096'}),
    ('hosts', {'a': '10.0.0.1', 'b': '10.0.0.2'}, ['b:10.0.0.2', 'a:10.0.0.1'], {'a': '10.0.0.9'}),
    ('groups', ['audio', 'video'], ['video', 'audio'], ['audio']),
    ('dns', ['10.0.0.2', '10.0.0.3'], ['10.0.0.2', '10.0.0.3'], ['10.0.0.3', '10.0.0.2']),
    ('stop_signal', 'SIGTERM', 'term', 'SIGQUIT'),
    ('generic_resources', ['gpu=1'], {'gpu': 1}, ['gpu=2']),
    ('read_only', True, 'true', False),
    ('oom_score_adj', 10, '10', 11),
]


@pytest.mark.parametrize('option, first, same, different', SAME_AND_DIFFERENT)
def test_same_and_different(option, first, same, different):
    current = created(**{option: first})
    assert ss.compare(fields(**{option: same}), current) == ({}, {})
    before, after = ss.compare(fields(**{option: different}), current)
    assert list(before) == [option] and list(after) == [option]


@pytest.mark.parametrize('option, default', [('read_only', False), ('tty', False), ('oom_score_adj', 0),
                                             ('stop_signal', ''), ('log_driver', ''), ('sysctls', {}),
                                             ('cap_add', []), ('groups', []), ('hosts', {}), ('ulimits', {}),
                                             ('dns', []), ('generic_resources', [])])
def test_an_unset_option_on_the_service_equals_its_empty_value(option, default):
    bare = {'Name': 'web', 'TaskTemplate': {'ContainerSpec': {'Image': 'busybox'}}, 'Mode': {'Replicated': {}}}
    assert ss.compare(fields(**{option: default}), bare) == ({}, {})


def test_hosts_with_aliases_stored_by_other_tools_are_read_per_name():
    current = created()
    current['TaskTemplate']['ContainerSpec']['Hosts'] = ['10.0.0.5 db.local db']
    assert ss.compare(fields(hosts={'db.local': '10.0.0.5', 'db': '10.0.0.5'}), current) == ({}, {})


def test_a_new_log_driver_drops_the_old_drivers_options():
    current = created(log_driver='json-file', log_options={'max-size': '10m'})
    spec = ss.merged_spec(fields(log_driver='local'), current, 'web')
    assert spec['TaskTemplate']['LogDriver'] == {'Name': 'local'}
    spec = ss.merged_spec(fields(log_options={'max-size': '20m'}), current, 'web')
    assert spec['TaskTemplate']['LogDriver'] == {'Name': 'json-file', 'Options': {'max-size': '20m'}}


def test_generic_resources_keep_the_other_reservations_and_the_other_way_round():
    current = created(reservations={'memory': '8M'}, generic_resources=['gpu=1'])
    spec = ss.merged_spec(fields(reservations={'cpus': 0.5}), current, 'web')
    assert spec['TaskTemplate']['Resources']['Reservations'] == {
        'MemoryBytes': 8 * 1024 ** 2, 'NanoCPUs': SECOND // 2,
        'GenericResources': [{'DiscreteResourceSpec': {'Kind': 'gpu', 'Value': 1}}]}
    spec = ss.merged_spec(fields(generic_resources=[]), current, 'web')
    assert spec['TaskTemplate']['Resources']['Reservations'] == {'MemoryBytes': 8 * 1024 ** 2, 'GenericResources': []}


@pytest.mark.parametrize('params, message', [
    ({'cap_add': ['NET ADMIN']}, '^cap_add: .* is not a capability'),
    ({'cap_add': ['NET_ADMIN'], 'cap_drop': ['net_admin']}, '^cap_drop: CAP_NET_ADMIN is also in cap_add'),
    ({'sysctls': {'somaxconn': 1}}, '^sysctls: .* is not a sysctl name'),
    ({'sysctls': ['net.core.somaxconn=1']}, '^sysctls must be a dict'),
    ({'ulimits': {'files': 10}}, "^ulimits: 'files' is not a ulimit"),
    ({'ulimits': {'nofile': '2048:1024'}}, '^ulimits.nofile: the soft limit 2048 is above the hard limit 1024'),
    ({'ulimits': {'nofile': 'many'}}, '^ulimits.nofile soft must be a whole number'),
    ({'ulimits': ['nofile']}, '^ulimits: .* is not NAME=SOFT'),
    ({'dns': ['ns1.example.com']}, '^dns: .* is not an IP address'),
    ({'hosts': {'db': 'db.internal'}}, '^hosts: .* is not an IP address'),
    ({'hosts': ['db.local']}, '^hosts: .* is not NAME:IP'),
    ({'stop_signal': 'SIG TERM'}, '^stop_signal: .* is not a signal'),
    ({'oom_score_adj': 1001}, '^oom_score_adj must be a whole number .from -1000 to 1000'),
    ({'generic_resources': ['gpu']}, '^generic_resources: .* is not KIND=VALUE'),
    ({'max_concurrent': 0, 'mode': 'replicated-job'}, '^max_concurrent must be a whole number .1 or more'),
    ({'read_only': 'sometimes'}, '^read_only: expected true or false'),
    ({'log_options': 'max-size=1m'}, '^log_options must be a dict'),
])
def test_bad_input_names_the_option(params, message):
    with pytest.raises(SpecError, match=message):
        fields(**params)
