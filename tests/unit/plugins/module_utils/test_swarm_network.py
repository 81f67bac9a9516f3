"""Overlay networks: validation, comparison with what the engine stores, and the in-use rules
(plugins/module_utils/_swarm_network.py)."""

import pytest

from ansible_collections.swarmops.swarm.plugins.module_utils import _swarm_network as sn
from ansible_collections.swarmops.swarm.plugins.module_utils._swarm_network import NetworkError

# GET /networks/<id> on a 20.10 manager for
#   docker network create -d overlay --opt encrypted --attachable --subnet 10.77.0.0/24 --label team=x enc1
STORED = {
    'Name': 'enc1', 'Id': '9xbe70dkwu0sd39zqrsz7ttax', 'Scope': 'swarm', 'Driver': 'overlay', 'EnableIPv6': False,
    'IPAM': {'Driver': 'default', 'Options': None, 'Config': [{'Subnet': '10.77.0.0/24', 'Gateway': '10.77.0.1'}]},
    'Internal': False, 'Attachable': True, 'Ingress': False, 'ConfigFrom': {'Network': ''}, 'ConfigOnly': False,
    'Options': {'com.docker.network.driver.overlay.vxlanid_list': '4098', 'encrypted': ''},
    'Labels': {'team': 'x'},
}


def want(**params):
    return sn.validate(dict({'name': 'enc1'}, **params))


def service(name, *targets, legacy=()):
    return {'ID': name + '-id', 'Spec': {'Name': name, 'TaskTemplate': {'Networks': [{'Target': t} for t in targets]},
                                         'Networks': [{'Target': t} for t in legacy]}}


# ---- validation ----------------------------------------------------------------------------------------

@pytest.mark.parametrize('params, message', [
    ({'name': ''}, 'name:'),
    ({'name': 'bad name'}, 'name:'),
    ({'name': 'ingress'}, 'Docker creates itself'),
    ({'name': 'n', 'encrypted': 'yes'}, 'encrypted must be true or false'),
    ({'name': 'n', 'ipam_config': [{'gateway': '10.0.0.1'}]}, 'ipam_config[0]: subnet is required'),
    ({'name': 'n', 'ipam_config': [{'subnet': '10.0.0.5/24'}]}, 'ipam_config[0].subnet'),
    ({'name': 'n', 'ipam_config': [{'subnet': '10.0.0.0/24', 'gateway': '10.0.1.1'}]}, 'not inside the subnet'),
    ({'name': 'n', 'ipam_config': [{'subnet': '10.0.0.0/24', 'ip_range': '10.0.0.0/16'}]}, 'ipam_config[0].ip_range'),
    ({'name': 'n', 'ipam_config': [{'subnet': '10.0.0.0/24', 'aux_addresses': {'a': '10.9.0.1'}}]}, 'aux_addresses.a'),
    ({'name': 'n', 'ipam_config': [{'subnet': '10.0.0.0/24', 'vlan': 3}]}, 'unknown key(s) vlan'),
    ({'name': 'n', 'ipam_config': [{'subnet': '10.0.0.0/16'}, {'subnet': '10.0.1.0/24'}]}, 'overlap'),
    ({'name': 'n', 'encrypted': True, 'driver_options': {'encrypted': ''}}, 'one place only'),
    ({'name': 'n', 'labels': {'a': True}}, 'labels: the value of a'),
    ({'name': 'n', 'labels': ['a=b']}, 'labels must be a dict'),
])
def test_bad_input_names_the_field(params, message):
    with pytest.raises(NetworkError) as err:
        sn.validate(params)
    assert message in str(err.value)


def test_only_what_is_set_is_desired():
    assert want()['fields'] == {}
    assert want(encrypted=False)['fields'] == {'encrypted': False}
    fields = want(driver_options={'encrypted': '', 'com.docker.network.driver.mtu': 1400})['fields']
    assert fields == {'encrypted': True, 'driver_options': {'com.docker.network.driver.mtu': '1400'}}
    entries = want(ipam_config=[{'subnet': '10.2.0.0/24'}, {'subnet': '10.1.0.0/24', 'iprange': '10.1.0.128/25'}])
    assert entries['fields']['ipam_config'] == [{'subnet': '10.1.0.0/24', 'ip_range': '10.1.0.128/25'},
                                                {'subnet': '10.2.0.0/24'}]


# ---- comparison ----------------------------------------------------------------------------------------

def test_the_stored_network_matches_what_created_it():
    desired = want(encrypted=True, attachable=True, ipam_config=[{'subnet': '10.77.0.0/24'}], labels={'team': 'x'},
                   driver_options={})
    assert sn.compare(desired['fields'], STORED) == ({}, {})


def test_gateway_picked_by_the_daemon_is_not_a_difference_but_a_different_one_is():
    assert sn.compare(want(ipam_config=[{'subnet': '10.77.0.0/24'}])['fields'], STORED) == ({}, {})
    before, after = sn.compare(want(ipam_config=[{'subnet': '10.77.0.0/24', 'gateway': '10.77.0.254'}])['fields'],
                               STORED)
    assert before == {'ipam_config': [{'subnet': '10.77.0.0/24', 'gateway': '10.77.0.1'}]}
    assert after == {'ipam_config': [{'subnet': '10.77.0.0/24', 'gateway': '10.77.0.254'}]}


def test_differences_are_exactly_the_options_that_differ():
    before, after = sn.compare(want(encrypted=False, internal=True, attachable=True, labels={'team': 'y'})['fields'],
                               STORED)
    assert before == {'encrypted': True, 'internal': False, 'labels': {'team': 'x'}}
    assert after == {'encrypted': False, 'internal': True, 'labels': {'team': 'y'}}


def test_driver_options_compared_whole_without_the_vxlan_ids():
    assert sn.compare(want(driver_options={})['fields'], STORED) == ({}, {})
    before, after = sn.compare(want(driver_options={'com.docker.network.driver.mtu': '1400'})['fields'], STORED)
    assert before == {'driver_options': {}} and after == {'driver_options': {'com.docker.network.driver.mtu': '1400'}}


def test_create_body_says_overlay_swarm_and_encrypted():
    body = sn.create_body('n', want(encrypted=True, ipam_config=[{'subnet': '10.5.0.0/24', 'gateway': '10.5.0.9'}],
                                    labels={'a': 'b'})['fields'], {'com.docker.stack.namespace': 's'})
    assert body['Driver'] == 'overlay' and body['Scope'] == 'swarm' and body['CheckDuplicate'] is True
    assert body['Options'] == {'encrypted': ''}
    assert body['IPAM'] == {'Driver': 'default', 'Config': [{'Subnet': '10.5.0.0/24', 'Gateway': '10.5.0.9'}]}
    assert body['Labels'] == {'a': 'b', 'com.docker.stack.namespace': 's'}
    assert sn.compare(want(encrypted=True)['fields'], sn.predicted_network('n', want(encrypted=True)['fields'])) \
        == ({}, {})


# ---- who holds it, and the plan -------------------------------------------------------------------------

def test_holders_by_id_or_name_in_both_places():
    services = [service('a', STORED['Id']), service('b', 'other'), service('c', legacy=['enc1'])]
    assert sn.holders(STORED, services) == ['a', 'c']


def test_detach_then_attach_keeps_aliases_and_other_networks():
    spec = {'Name': 'a', 'TaskTemplate': {'Networks': [{'Target': STORED['Id'], 'Aliases': ['db']},
                                                       {'Target': 'other'}]}}
    detached, removed = sn.detach_spec(spec, STORED)
    assert detached['TaskTemplate']['Networks'] == [{'Target': 'other'}]
    assert spec['TaskTemplate']['Networks'][0]['Target'] == STORED['Id'], 'the input must not be changed'
    attached = sn.attach_spec(detached, 'new-id', removed)
    assert attached['TaskTemplate']['Networks'] == [{'Target': 'other'}, {'Target': 'new-id', 'Aliases': ['db']}]


def test_plan_create_nothing_and_recreate():
    assert sn.plan(want(encrypted=True), [], [])['action'] == 'create'
    assert sn.plan(want(encrypted=True), [STORED], ['a'])['action'] is None
    result = sn.plan(want(encrypted=False), [STORED], [])
    assert result['action'] == 'recreate' and 'encrypted' in result['reason'] and result['detach'] == []


def test_a_network_in_use_is_not_recreated_or_removed_without_force():
    with pytest.raises(NetworkError) as err:
        sn.plan(want(encrypted=False), [STORED], ['api', 'web'])
    assert 'api, web' in str(err.value) and 'force: true' in str(err.value)
    with pytest.raises(NetworkError) as err:
        sn.plan(want(state='absent'), [STORED], ['api'])
    assert 'used by the service(s) api' in str(err.value)
    forced = sn.plan(want(encrypted=False, force=True), [STORED], ['api', 'web'])
    assert forced['action'] == 'recreate' and forced['detach'] == ['api', 'web']
    removal = sn.plan(want(state='absent', force=True), [STORED], ['api'])
    assert removal['action'] == 'remove' and removal['detach'] == ['api']


def test_plan_refuses_foreign_and_duplicate_networks():
    local = dict(STORED, Scope='local', Driver='bridge', Id='l1')
    with pytest.raises(NetworkError, match='a bridge network of this name exists'):
        sn.plan(want(), [local], [])
    with pytest.raises(NetworkError, match='2 swarm networks have this name'):
        sn.plan(want(), [STORED, dict(STORED, Id='second-id-xyz')], [])
    with pytest.raises(NetworkError, match='the ingress network'):
        sn.plan(sn.validate({'name': 'mesh'}), [dict(STORED, Name='mesh', Ingress=True)], [])
    assert sn.plan(want(state='absent'), [], [])['action'] is None
