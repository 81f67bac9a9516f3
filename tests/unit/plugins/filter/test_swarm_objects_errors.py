"""The role's check of all four object lists before any change (plugins/filter/swarm_objects_errors.py)."""

from ansible_collections.swarmops.swarm.plugins.filter.swarm_objects_errors import swarm_objects_errors

KEY = 'k' * 32
GOOD_STACK = {'name': 'app', 'compose': ['services:\n  web:\n    image: web:1\n']}


def errors(networks=(), secrets=(), configs=(), stacks=(), hash_key=KEY):
    return swarm_objects_errors(list(networks), list(secrets), list(configs), list(stacks), hash_key)


def test_good_lists_pass():
    assert errors([{'name': 'backend', 'encrypted': True}], [{'name': 'db', 'data': 'pw', 'keep_versions': '2'}],
                  [{'name': 'conf', 'data': 'x'}], [GOOD_STACK]) == []


def test_every_error_of_every_list_named():
    found = errors(networks=[{'name': 'n', 'ipam_config': [{'subnet': 'nope'}]}],
                   secrets=[{'name': 'db'}, {'name': 'db', 'data': 'x'}, {'nam': 'typo', 'data': 'y'}],
                   configs=[{'name': 'c', 'data': 'x', 'keep_versions': 'many'}],
                   stacks=[{'name': 'bad.name', 'compose': [{}]}, {'name': 'app', 'compose': ['services: [1]']}])
    text = '\n'.join(found)
    assert 'swarm_networks[0] (n): ipam_config[0].subnet' in text
    assert 'swarm_secrets[0] (db): secret db: data is required' in text
    assert 'swarm_secrets[1]: secret db is listed twice' in text
    assert 'swarm_secrets[2] (None):' in text and 'nam' in text
    assert 'swarm_configs[0] (c):' in text and 'keep_versions' in text
    assert 'swarm_stacks[0] (bad.name): name must be' in text
    assert 'swarm_stacks[1] (app): stack app: compose: services: at least one service' in text


def test_a_secret_value_never_reaches_a_message():
    value = 'Sup3r-s3cret-value'
    found = errors(secrets=[{'name': 'db', 'data': value, 'keep_versions': 'x'},
                            {'name': 'tls', 'data': value, 'unknown_option': value},
                            {'name': 'bad name', 'data': value}], hash_key='')
    assert found and value not in '\n'.join(found)


def test_secrets_need_the_hash_key():
    assert 'hash_key: required' in '\n'.join(errors(secrets=[{'name': 'db', 'data': 'x'}], hash_key=''))
    assert errors(secrets=[{'name': 'db', 'state': 'absent'}], hash_key='') == []
