"""Versioned secrets and configs: digests, versions, rollouts and pruning
(plugins/module_utils/_swarm_versioned.py)."""

import base64
import hashlib

import pytest

from ansible_collections.swarmops.swarm.plugins.module_utils import _swarm_versioned as sv
from ansible_collections.swarmops.swarm.plugins.module_utils._swarm_versioned import VersionedError

KEY = 'a-long-random-key-from-vault'
VALUE = 'hunter2'


def secret(name, number, value=VALUE, key=KEY, managed=True, labels=None, id_=None):
    """A secret as GET /secrets lists it (no Data: the API never returns a secret's value)."""
    all_labels = dict(labels or {})
    if managed:
        all_labels.update({sv.LABEL_NAME: name, sv.LABEL_VERSION: str(number),
                           sv.LABEL_DIGEST: sv.secret_digest(name, value.encode(), key), sv.LABEL_KEY_ID: sv.key_id(key)})
    return {'ID': id_ or '%s-v%d-id' % (name, number), 'Version': {'Index': 10 + number},
            'Spec': {'Name': sv.version_name(name, number) if managed else name, 'Labels': all_labels}}


def config(name, number, content):
    data = base64.b64encode(content.encode()).decode()
    return {'ID': '%s-v%d-id' % (name, number), 'Version': {'Index': 1},
            'Spec': {'Name': sv.version_name(name, number), 'Data': data,
                     'Labels': {sv.LABEL_NAME: name, sv.LABEL_VERSION: str(number)}}}


def service(name, kind, *ids):
    key = 'Secrets' if kind == 'secret' else 'Configs'
    id_key = 'SecretID' if kind == 'secret' else 'ConfigID'
    return {'Spec': {'Name': name, 'TaskTemplate': {'ContainerSpec': {key: [{id_key: i} for i in ids]}}}}


def desired(kind='secret', **params):
    return sv.validate(dict({'name': 'db', 'data': VALUE}, **params), kind, KEY if kind == 'secret' else None)


def plan(objects, services=(), kind='secret', **params):
    want = desired(kind, **params)
    return sv.plan(want, sv.versions(objects, 'db'), sv.references(services, kind), kind, KEY)


# ---- the digest ------------------------------------------------------------------------------------------

def test_the_label_is_keyed_so_a_guess_cannot_be_tested_without_the_key():
    digest = sv.secret_digest('db', b'1234', KEY)
    assert digest.startswith('hmac-sha256:')
    # Someone who reads the label and guesses the value: plain, salted-by-name and unkeyed HMACs all miss.
    for guess in (hashlib.sha256(b'1234').hexdigest(), hashlib.sha256(b'db\x001234').hexdigest(),
                  hashlib.sha224(b'1234').hexdigest(), sv.secret_digest('db', b'1234', '')):
        assert guess not in digest
    assert sv.secret_digest('db', b'1234', KEY) == digest, 'deterministic under the same key'
    assert sv.secret_digest('db', b'1234', KEY + 'x') != digest
    assert sv.secret_digest('other', b'1234', KEY) != digest, 'equal values of two secrets do not show'
    assert KEY not in sv.key_id(KEY) and len(sv.key_id(KEY)) == 16


# ---- validation --------------------------------------------------------------------------------------------

@pytest.mark.parametrize('params, message', [
    ({'name': 'bad name'}, 'name:'),
    ({'name': 'x' * 60}, 'at most 58'),
    ({'name': 'db', 'data': None}, 'data is required'),
    ({'name': 'db', 'data': 12345}, 'data must be a string'),
    ({'name': 'db', 'data': 'S3cr3t not base64!', 'data_is_b64': True}, 'not valid base64'),
    ({'name': 'db', 'data': ''}, 'data is empty'),
    ({'name': 'db', 'data': 'x' * (500 * 1024 + 1)}, 'at most 512000'),
    ({'name': 'db', 'data': 'S3cr3t-v', 'keep_versions': 0}, 'keep_versions'),
    ({'name': 'db', 'data': 'S3cr3t-v', 'labels': {sv.LABEL_DIGEST: 'x'}}, 'set by the module itself'),
])
def test_bad_input_names_the_field_and_never_the_value(params, message):
    with pytest.raises(VersionedError) as err:
        sv.validate(params, 'secret', KEY)
    assert message in str(err.value)
    if isinstance(params.get('data'), (str, int)) and params.get('data') not in ('', None):
        assert str(params['data'])[:20] not in str(err.value)


def test_a_secret_needs_the_hash_key_and_a_config_does_not():
    with pytest.raises(VersionedError, match='hash_key: required'):
        sv.validate({'name': 'db', 'data': 'v'}, 'secret', None)
    assert sv.validate({'name': 'db', 'data': 'v'}, 'config', None)['data'] == b'v'
    assert sv.validate({'name': 'db', 'state': 'absent'}, 'secret', None)['data'] is None
    assert sv.validate({'name': 'db', 'data': 'aGk=', 'data_is_b64': True}, 'config')['data'] == b'hi'


# ---- plans -----------------------------------------------------------------------------------------------

def test_new_secret_is_version_1_and_its_body_carries_the_labels():
    result = plan([])
    assert result['action'] == 'create' and result['current'] == 'db_v1' and result['reason'] == 'new'
    body = result['create']
    assert body['Name'] == 'db_v1' and base64.b64decode(body['Data']) == VALUE.encode()
    assert body['Labels'][sv.LABEL_NAME] == 'db' and body['Labels'][sv.LABEL_VERSION] == '1'
    assert body['Labels'][sv.LABEL_DIGEST] == sv.secret_digest('db', VALUE.encode(), KEY)


def test_same_value_changes_nothing():
    result = plan([secret('db', 1), secret('db', 2)], [service('app', 'secret', 'db-v2-id')], keep_versions=2)
    assert not sv.changed(result) and result['current'] == 'db_v2'


def test_changed_value_rolls_users_onto_the_new_version_and_prunes_the_old():
    objects = [secret('db', 1, value='old'), secret('db', 2, value='older-but-current')]
    services = [service('app', 'secret', 'db-v2-id'), service('worker', 'secret', 'db-v1-id'),
                service('other', 'secret', 'unrelated')]
    result = plan(objects, services)
    assert result['action'] == 'create' and result['current'] == 'db_v3' and result['reason'] == 'value changed'
    assert sorted(result['rollout']) == [('app', 'db_v2'), ('worker', 'db_v1')]
    assert [v['name'] for v in result['prune']] == ['db_v2', 'db_v1']
    public = sv.public(result)
    assert public['pruned'] == ['db_v2', 'db_v1'] and public['changed'] is True
    assert VALUE not in repr(public) and 'Data' not in repr(public)
    assert public['diff']['after']['services'] == {'app': 'db_v3', 'worker': 'db_v3'}


def test_keep_versions_keeps_the_newest_and_never_removes_one_in_use():
    objects = [secret('db', n, value='v%d' % n) for n in (1, 2, 3)]
    result = plan(objects, [service('pinned', 'secret', 'db-v1-id')], keep_versions=2, rollout=False)
    assert result['current'] == 'db_v4' and result['rollout'] == []
    assert [v['name'] for v in result['prune']] == ['db_v2']  # v3 kept (keep 2), v1 in use
    assert result['in_use'] == [{'version': 'db_v1', 'services': ['pinned']}]


def test_a_changed_hash_key_is_reported_as_such():
    result = sv.plan(sv.validate({'name': 'db', 'data': VALUE}, 'secret', 'new-key'),
                     sv.versions([secret('db', 1)], 'db'), {}, 'secret', 'new-key')
    assert result['action'] == 'create' and result['reason'].startswith('hash_key changed')


def test_a_hand_made_secret_is_taken_over_as_version_0():
    hand_made = secret('db', 0, managed=False, id_='hand-id')
    result = plan([hand_made], [service('app', 'secret', 'hand-id')])
    assert result['current'] == 'db_v1' and 'not made by this module' in result['reason']
    assert result['rollout'] == [('app', 'db')] and [v['name'] for v in result['prune']] == ['db']


def test_labels_only_change_in_place():
    result = plan([secret('db', 1, labels={'team': 'a'})], labels={'team': 'b'})
    assert result['action'] == 'labels' and result['create'] is None and result['current'] == 'db_v1'
    assert result['before'] == {'labels': {'team': 'a'}} and result['after'] == {'labels': {'team': 'b'}}
    assert plan([secret('db', 1, labels={'team': 'a'})])['action'] is None, 'labels not given: left alone'


def test_absent_is_refused_while_services_use_a_version():
    with pytest.raises(VersionedError) as err:
        plan([secret('db', 1), secret('db', 2)], [service('app', 'secret', 'db-v1-id')], state='absent')
    assert 'service(s) app (db_v1)' in str(err.value)
    result = plan([secret('db', 1), secret('db', 2)], state='absent')
    assert result['action'] == 'remove' and [v['name'] for v in result['prune']] == ['db_v1', 'db_v2']
    assert not sv.changed(plan([], state='absent'))


def test_configs_compare_their_content_and_show_it_in_the_diff():
    same = sv.plan(desired('config', data='listen 80;\n'), sv.versions([config('db', 1, 'listen 80;\n')], 'db'),
                   {}, 'config')
    assert not sv.changed(same)
    other = sv.plan(desired('config', data='listen 81;\n'), sv.versions([config('db', 1, 'listen 80;\n')], 'db'),
                    {}, 'config')
    assert other['current'] == 'db_v2' and other['before']['data'] == 'listen 80;\n'
    assert other['after']['data'] == 'listen 81;\n'


def test_secret_diff_never_holds_the_value():
    result = plan([secret('db', 1, value='old')])
    assert VALUE not in repr(result['before']) + repr(result['after'])
    assert result['after']['value'].startswith('(hidden')


def test_replace_references_keeps_the_file_and_touches_only_the_moved():
    spec = {'Name': 'app', 'TaskTemplate': {'ContainerSpec': {'Secrets': [
        {'SecretID': 'old', 'SecretName': 'db_v1', 'File': {'Name': 'db', 'UID': '0', 'GID': '0', 'Mode': 0o400}},
        {'SecretID': 'x', 'SecretName': 'tls', 'File': {'Name': 'tls'}}]}}}
    new, moved = sv.replace_references(spec, 'secret', {'old': ('new', 'db_v2')})
    refs = new['TaskTemplate']['ContainerSpec']['Secrets']
    assert refs[0] == {'SecretID': 'new', 'SecretName': 'db_v2', 'File': {'Name': 'db', 'UID': '0', 'GID': '0',
                                                                          'Mode': 0o400}}
    assert refs[1]['SecretID'] == 'x' and moved == ['db_v1']
    assert spec['TaskTemplate']['ContainerSpec']['Secrets'][0]['SecretID'] == 'old'


def test_resolve_names_to_the_current_version():
    objects = [secret('db', 1), secret('db', 2), secret('tls', 0, managed=False)]
    assert sv.resolve(objects, 'db') == 'db_v2'
    assert sv.resolve(objects, 'tls') == 'tls'
    assert sv.resolve(objects, 'missing') is None
