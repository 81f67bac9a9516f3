"""swarm_spec: what keeps a service from being lost or rolled out other than asked.

Each test here failed on the spec logic before these fixes (the issue's item in brackets).
"""

import copy
import json

import pytest

from ansible_collections.swarmops.swarm.plugins.module_utils import swarm_spec as ss
from ansible_collections.swarmops.swarm.plugins.module_utils.swarm_spec import SpecError

SECOND = 10 ** 9

# What engines store for a service created through the API without the optional blocks (captured from
# Docker 26.1): no UpdateConfig, RollbackConfig or RestartPolicy at all.
BARE = {
    'Name': 'web', 'Labels': {},
    'TaskTemplate': {'ContainerSpec': {'Image': 'swarmops/busybox:local', 'Args': ['sleep', '3600'],
                                       'Isolation': 'default'}, 'ForceUpdate': 0, 'Runtime': 'container'},
    'Mode': {'Replicated': {'Replicas': 3}},
}


def fields(**params):
    return ss.validate(dict({'name': 'web', 'state': 'present'}, **params))


# ---- recreate safely [1] ----------------------------------------------------------------------------------

def test_a_job_mode_with_update_config_is_refused_before_anything():
    with pytest.raises(SpecError, match='^update_config: a job'):
        fields(mode='replicated-job', update_config={'parallelism': 1})
    with pytest.raises(SpecError, match='^update_config: a job'):
        fields(mode='global-job', update_config={'order': 'start-first'})


def test_becoming_a_job_drops_the_replicated_services_update_config():
    current = dict(copy.deepcopy(BARE), UpdateConfig=dict(ss.DEFAULTS['UpdateConfig']))
    wanted = fields(mode='replicated-job', replicas=2)
    assert ss.needs_recreate(wanted, current)
    spec = ss.merged_spec(wanted, current, 'web')
    assert 'UpdateConfig' not in spec
    assert spec['Mode'] == {'ReplicatedJob': {'TotalCompletions': 2, 'MaxConcurrent': 2}}
    assert ss.engine_rule_errors(spec) == []


def test_the_engines_rules_on_the_whole_spec():
    job = {'Mode': {'GlobalJob': {}}, 'UpdateConfig': {'Parallelism': 1}}
    assert ss.engine_rule_errors(job)[0].startswith('update_config: a job (mode global-job)')
    dnsrr = {'Mode': {'Replicated': {}}, 'EndpointSpec': {'Mode': 'dnsrr', 'Ports': [{'TargetPort': 80}]}}
    assert ss.engine_rule_errors(dnsrr)[0].startswith('publish: endpoint_mode dnsrr')
    host_port = {'TargetPort': 80, 'PublishMode': 'host'}
    host = {'Mode': {'Replicated': {}}, 'EndpointSpec': {'Mode': 'dnsrr', 'Ports': [host_port]}}
    assert ss.engine_rule_errors(host) == []


def test_dnsrr_on_a_service_that_publishes_ingress_ports_is_caught_on_the_merged_spec():
    current = dict(copy.deepcopy(BARE), EndpointSpec={'Mode': 'vip', 'Ports': [
        {'Protocol': 'tcp', 'TargetPort': 80, 'PublishedPort': 8080, 'PublishMode': 'ingress'}]})
    spec = ss.merged_spec(fields(endpoint_mode='dnsrr'), current, 'web')
    assert ss.engine_rule_errors(spec)


# ---- a pinned digest [2]: see test_swarm_spec.py (test_a_pinned_digest_is_compared...) ------------------------

# ---- a partial update_config [3] --------------------------------------------------------------------------

@pytest.mark.parametrize('option, block', [('update_config', 'UpdateConfig'), ('rollback_config', 'RollbackConfig'),
                                           ('restart_policy', 'RestartPolicy')])
def test_a_partial_block_on_a_service_without_one_gets_the_daemons_defaults(option, block):
    partial = {'update_config': {'order': 'start-first'}, 'rollback_config': {'order': 'start-first'},
               'restart_policy': {'condition': 'on-failure'}}[option]
    spec = ss.merged_spec(fields(**{option: partial}), copy.deepcopy(BARE), 'web')
    expected = dict(ss.DEFAULTS[block], **ss.validate(dict(name='web', **{option: partial}))[option])
    assert spec[block] == expected if block != 'RestartPolicy' else spec['TaskTemplate'][block] == expected
    if block == 'UpdateConfig':
        assert spec['UpdateConfig']['Parallelism'] == 1  # not 0 (every task at once)


def test_a_partial_block_keeps_what_the_service_has_when_it_has_one():
    current = dict(copy.deepcopy(BARE), UpdateConfig={'Parallelism': 0, 'Order': 'stop-first'})
    spec = ss.merged_spec(fields(update_config={'order': 'start-first'}), current, 'web')
    assert spec['UpdateConfig'] == {'Parallelism': 0, 'Order': 'start-first'}  # a deliberate 0 stays


# ---- replicas on a global service without mode [6] ---------------------------------------------------------

def test_replicas_on_an_existing_global_service_is_refused_not_changed_every_run():
    current = dict(copy.deepcopy(BARE), Mode={'Global': {}})
    with pytest.raises(SpecError, match=r'^replicas: service web is global'):
        ss.check_against_current(fields(replicas=2), current, 'web')
    ss.check_against_current(fields(replicas=2, mode='replicated'), current, 'web')  # an explicit mode change
    with pytest.raises(SpecError, match='^max_replicas_per_node'):
        ss.check_against_current(fields(max_replicas_per_node=1), current, 'web')


def test_options_that_do_not_fit_the_services_mode():
    with pytest.raises(SpecError, match='^max_concurrent: service web is replicated'):
        ss.check_against_current(fields(max_concurrent=2), copy.deepcopy(BARE), 'web')
    job = dict(copy.deepcopy(BARE), Mode={'ReplicatedJob': {'TotalCompletions': 4, 'MaxConcurrent': 2}})
    with pytest.raises(SpecError, match='^update_config: service web is replicated-job'):
        ss.check_against_current(fields(update_config={'parallelism': 1}), job, 'web')
    with pytest.raises(SpecError, match='^max_concurrent: applies to mode replicated-job only'):
        fields(mode='replicated', max_concurrent=2)
    with pytest.raises(SpecError, match='^log_options: give log_driver'):
        ss.check_against_current(fields(log_options={'max-size': '1m'}), copy.deepcopy(BARE), 'web')


# ---- MaxConcurrent [7] -----------------------------------------------------------------------------------

def test_an_update_of_a_job_keeps_its_max_concurrent():
    job = dict(copy.deepcopy(BARE), Mode={'ReplicatedJob': {'TotalCompletions': 10, 'MaxConcurrent': 2}})
    assert ss.merged_spec(fields(args=['true']), job, 'web')['Mode'] == \
        {'ReplicatedJob': {'TotalCompletions': 10, 'MaxConcurrent': 2}}
    assert ss.merged_spec(fields(replicas=20), job, 'web')['Mode'] == \
        {'ReplicatedJob': {'TotalCompletions': 20, 'MaxConcurrent': 2}}
    assert ss.merged_spec(fields(max_concurrent=5), job, 'web')['Mode'] == \
        {'ReplicatedJob': {'TotalCompletions': 10, 'MaxConcurrent': 5}}
    assert ss.compare(fields(max_concurrent=2), job) == ({}, {})
    assert ss.compare(fields(max_concurrent=3), job) == ({'max_concurrent': 2}, {'max_concurrent': 3})


def test_a_new_job_runs_its_completions_at_once_unless_told():
    assert ss.merged_spec(fields(mode='replicated-job', replicas=4, image='x'), None, 'web')['Mode'] == \
        {'ReplicatedJob': {'TotalCompletions': 4, 'MaxConcurrent': 4}}
    assert ss.merged_spec(fields(mode='replicated-job', replicas=4, max_concurrent=1, image='x'), None, 'web')[
        'Mode'] == {'ReplicatedJob': {'TotalCompletions': 4, 'MaxConcurrent': 1}}


# ---- the smaller ones [12] ---------------------------------------------------------------------------------

@pytest.mark.parametrize('mode, octal', [(1777, 0o1777), ('1777', 0o1777), ('0440', 0o440), (440, 0o440),
                                         ('0o755', 0o755), (0, 0)])
def test_file_modes_are_octal_digits_like_chmod(mode, octal):
    mount = ss.parse_mount({'type': 'tmpfs', 'target': '/t', 'tmpfs_mode': mode})
    assert mount['TmpfsOptions']['Mode'] == octal
    secret = ss.parse_reference({'name': 's', 'mode': mode}, 'secrets', 'secret')
    assert secret['File']['Mode'] == octal


@pytest.mark.parametrize('mode', [288, 493, '0999', 'rw', True, 12345])
def test_a_mode_that_yaml_read_as_decimal_is_refused_with_the_fix(mode):
    with pytest.raises(SpecError, match='octal file mode') as err:
        ss.parse_mount({'type': 'tmpfs', 'target': '/t', 'tmpfs_mode': mode})
    if isinstance(mode, int) and not isinstance(mode, bool) and mode in (288, 493):
        assert 'quote it' in str(err.value)


@pytest.mark.parametrize('value, expected', [('false', False), ('False', False), ('no', False), ('0', False),
                                             (False, False), ('true', True), ('yes', True), (True, True)])
def test_mount_readonly_reads_booleans_and_their_spellings(value, expected):
    assert ss.parse_mount({'type': 'volume', 'target': '/d', 'source': 'v', 'readonly': value})['ReadOnly'] is expected
    assert ss.parse_mount('type=volume,source=v,target=/d,readonly=%s' % value)['ReadOnly'] is expected


def test_mount_readonly_refuses_what_is_not_a_boolean():
    with pytest.raises(SpecError, match='readonly'):
        ss.parse_mount({'type': 'volume', 'target': '/d', 'readonly': 'maybe'})


def test_container_labels_keep_and_ignore_what_docker_stack_put_there():
    current = copy.deepcopy(BARE)
    current['TaskTemplate']['ContainerSpec']['Labels'] = {'com.docker.stack.namespace': 'shop', 'tier': 'web'}
    wanted = fields(container_labels={'tier': 'web'})
    assert ss.compare(wanted, current) == ({}, {})
    spec = ss.merged_spec(fields(container_labels={'tier': 'api'}), current, 'web')
    assert spec['TaskTemplate']['ContainerSpec']['Labels'] == {'com.docker.stack.namespace': 'shop', 'tier': 'api'}


# ---- secret env -------------------------------------------------------------------------------------------

SALT = 'a' * 32


def with_secret(env, secret, salt=SALT):
    spec = ss.merged_spec(fields(env=env, secret_env=secret, image='x'), None, 'web', {'secret_salt': salt})
    return spec


def test_secret_env_goes_into_the_environment_and_only_hashes_into_the_label():
    spec = with_secret({'A': '1'}, {'PW': 'hunter2'})
    assert spec['TaskTemplate']['ContainerSpec']['Env'] == ['A=1', 'PW=hunter2']
    label = spec['Labels'][ss.SECRET_ENV_LABEL]
    assert 'hunter2' not in label
    assert json.loads(label) == {'salt': SALT, 'hashes': {'PW': ss.fingerprint(SALT, 'PW', 'hunter2')}}


def test_secret_env_is_compared_by_hash_and_never_shown():
    current = with_secret({'A': '1'}, {'PW': 'hunter2'})
    assert ss.compare(fields(env={'A': '1'}, secret_env={'PW': 'hunter2'}), current) == ({}, {})
    before, after = ss.compare(fields(secret_env={'PW': 'hunter3', 'TOKEN': 't0ken'}), current)
    assert before == {'secret_env': {'PW': ss.SECRET_SHOWN_BEFORE}}
    assert after == {'secret_env': {'PW': ss.SECRET_SHOWN_AFTER, 'TOKEN': ss.SECRET_SHOWN_AFTER}}
    shown = json.dumps([before, after, ss.desired_view(fields(secret_env={'PW': 'hunter3'}), {})])
    assert 'hunter' not in shown and 't0ken' not in shown


def test_a_secret_changed_behind_the_modules_back_is_noticed():
    current = with_secret({'A': '1'}, {'PW': 'hunter2'})
    current['TaskTemplate']['ContainerSpec']['Env'] = ['A=1', 'PW=changed-by-hand']
    assert ss.compare(fields(secret_env={'PW': 'hunter2'}), current)[1] == {'secret_env': {'PW': ss.SECRET_SHOWN_AFTER}}


def test_env_and_secret_env_each_own_their_variables():
    current = with_secret({'A': '1', 'B': '2'}, {'PW': 'hunter2'})
    # env alone: the plain set; the secret variable is neither compared nor touched
    assert ss.compare(fields(env={'A': '1', 'B': '2'}), current) == ({}, {})
    spec = ss.merged_spec(fields(env={'A': '9'}), current, 'web', {})
    assert spec['TaskTemplate']['ContainerSpec']['Env'] == ['A=9', 'PW=hunter2']
    assert spec['Labels'][ss.SECRET_ENV_LABEL] == current['Labels'][ss.SECRET_ENV_LABEL]
    # the diff of env never holds a secret's value
    before, _after = ss.compare(fields(env={'A': '1'}), current)
    assert before == {'env': {'A': '1', 'B': '2'}}
    # secret_env alone: the secret set; plain variables stay
    spec = ss.merged_spec(fields(secret_env={}), current, 'web', {})
    assert spec['TaskTemplate']['ContainerSpec']['Env'] == ['A=1', 'B=2']
    assert ss.SECRET_ENV_LABEL not in spec['Labels']


def test_a_variable_is_plain_or_secret_not_both():
    with pytest.raises(SpecError, match='^secret_env: PW is also in env'):
        fields(env={'PW': 'x'}, secret_env={'PW': 'y'})
    with pytest.raises(SpecError, match='swarmops.swarm.secret-env'):
        fields(labels={ss.SECRET_ENV_LABEL: 'forged'})


def test_the_label_is_kept_and_ignored_by_labels():
    current = with_secret({}, {'PW': 'hunter2'})
    current['Labels']['team'] = 'a'
    assert ss.compare(fields(labels={'team': 'a'}), current) == ({}, {})
    spec = ss.merged_spec(fields(labels={'team': 'b'}), current, 'web', {})
    assert spec['Labels'][ss.SECRET_ENV_LABEL] == current['Labels'][ss.SECRET_ENV_LABEL]


def test_public_spec_masks_values_and_the_salt():
    spec = with_secret({'A': '1'}, {'PW': 'hunter2'})
    shown = ss.public_spec(spec)
    assert shown['TaskTemplate']['ContainerSpec']['Env'] == ['A=1', 'PW=********']
    assert json.loads(shown['Labels'][ss.SECRET_ENV_LABEL]) == {'keys': ['PW']}
    assert 'hunter2' in json.dumps(spec)  # the original is untouched (it is what the engine needs)
    assert ss.public_spec(BARE) is BARE


# ---- rollback diff, API versions ---------------------------------------------------------------------------

def test_a_rollbacks_diff_is_the_difference_of_the_two_specs():
    previous = copy.deepcopy(BARE)
    current = copy.deepcopy(BARE)
    current['TaskTemplate']['ContainerSpec']['Image'] = 'swarmops/busybox:v2'
    current['Mode'] = {'Replicated': {'Replicas': 4}}
    before, after = ss.spec_differences(current, previous)
    assert before == {'image': 'swarmops/busybox:v2', 'replicas': 4}
    assert after == {'image': 'swarmops/busybox:local', 'replicas': 3}


def test_options_newer_than_the_engines_api_are_refused_with_the_version():
    ss.check_api_version(fields(cap_add=['NET_ADMIN']), (1, 41))
    with pytest.raises(SpecError, match=r'^oom_score_adj: needs Engine API 1\.46 \(Docker 27\.0'):
        ss.check_api_version(fields(oom_score_adj=100), (1, 45))
    ss.check_api_version(fields(oom_score_adj=100), (1, 46))
    with pytest.raises(SpecError, match=r'^healthcheck.start_interval: needs Engine API 1\.44'):
        ss.check_api_version(fields(healthcheck={'start_interval': '1s'}), (1, 41))
    ss.check_api_version(fields(healthcheck={'interval': '1s'}), (1, 41))


def test_rolled_back_takes_no_spec_options():
    assert ss.validate({'name': 'web', 'state': 'rolled_back'}) == {}
    with pytest.raises(SpecError, match='^state: rolled_back'):
        ss.validate({'name': 'web', 'state': 'rolled_back', 'image': 'x'})


def test_a_rollback_diff_never_shows_the_secret_env_record():
    previous = ss.merged_spec(fields(env={'A': '1'}, image='x'), None, 'web', {})
    current = with_secret({'A': '2'}, {'PW': 'hunter2'})
    before, after = ss.spec_differences(current, previous)
    assert before == {'env': {'A': '2'}, 'secret_env': {'PW': ss.SECRET_SHOWN_BEFORE}}
    assert after == {'env': {'A': '1'}, 'secret_env': {}}
