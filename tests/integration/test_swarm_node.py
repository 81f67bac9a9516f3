"""swarm_node on a real swarm: promote, demote, availability, labels, quorum refusal, removal of a down node.

it-node-n1 (10.213.40.40) inits; it-node-n2 (.41) and it-node-n3 (.42) join as workers. All bookworm:
managers of mixed engine releases can fail to join once the leader has a raft snapshot (see test_swarm_init).
"""

import time

import pytest

MODULE = 'swarmops.swarm.swarm_node'


def step(args, check=False):
    return {'module': MODULE, 'args': args, 'check': check}


@pytest.fixture(scope='module')
def trio(nodes):
    n1, n2, n3 = nodes.start_many([('node-n1', 40, 'bookworm', False), ('node-n2', 41, 'bookworm', False),
                                   ('node-n3', 42, 'bookworm', False)])
    n1.api_init_swarm()
    n2.api_join_swarm(n1)
    n3.api_join_swarm(n1)
    yield n1, n2, n3
    for node in (n1, n2, n3):
        nodes.stop(node)


def test_roles_availability_labels_and_quorum(ansible, trio):
    n1, n2, n3 = trio
    drain = {'node': n3.name, 'availability': 'drain', 'labels': {'zone': 'a'}}
    r, _run = ansible.steps(n1.name, [
        step({'node': n2.name, 'role': 'manager'}, check=True),  # 0 predicts the promotion
        step({'node': n2.name, 'role': 'manager'}),              # 1 promotes
        step({'node': n2.name, 'role': 'manager'}),              # 2 unchanged
        step({'node': n2.name, 'role': 'manager'}, check=True),  # 3 unchanged in check mode
        step(drain, check=True),                                 # 4 predicts
        step(drain),                                             # 5 drains and labels
        step(drain),                                             # 6 unchanged
        step({'node': n3.name, 'role': 'manager'}),              # 7 three managers
        step({'node': n3.name, 'role': 'worker'}),               # 8 3 -> 2
        step({'node': n2.name, 'role': 'worker'}),               # 9 2 -> 1, both answering: the quorum holds
        step({'node': n1.name, 'role': 'worker'}, check=True),   # 10 the last manager: refused, in check mode too
        step({'node': n1.name, 'role': 'worker'}),               # 11 refused
        step({'node': 'no-such-node', 'state': 'absent'}),       # 12 nothing to remove
        step({'node': n1.name, 'state': 'absent'}),              # 13 a manager is not removed
    ])
    r = [x[n1.name] for x in r]
    for number in list(range(0, 10)) + [12]:
        assert not r[number].get('failed'), (number, r[number].get('msg'))
    assert [x['changed'] for x in r[:10]] == [True, True, False, False, True, True, False, True, True, True]
    assert r[1]['diff'] == {'before': {'role': 'worker'}, 'after': {'role': 'manager'}}
    assert r[1]['node']['manager_status'] == 'Reachable' and r[1]['node']['hostname'] == n2.name
    assert r[5]['diff'] == {'before': {'availability': 'active', 'labels': {}},
                            'after': {'availability': 'drain', 'labels': {'zone': 'a'}}}
    assert r[8]['node']['manager_status'] is None and r[8]['node']['role'] == 'worker'
    for refused in (r[10], r[11]):
        assert refused['failed'] and 'refusing to demote' in refused['msg'] and 'last manager' in refused['msg']
    assert not r[12]['changed'] and r[12]['node'] is None
    assert r[13]['failed'] and 'demote it first' in r[13]['msg']
    assert n1.api_swarm()['ControlAvailable'] is True  # the refusal changed nothing
    listed = dict((n['Description']['Hostname'], n) for n in n1.engine('GET', '/nodes'))
    assert listed[n3.name]['Spec']['Availability'] == 'drain' and listed[n3.name]['Spec']['Labels'] == {'zone': 'a'}


def test_remove_a_down_node(ansible, trio):
    n1, n3 = trio[0], trio[2]
    n3.sh('systemctl stop docker.socket docker.service')
    deadline = time.time() + 60
    while time.time() < deadline:
        states = [n['Status']['State'] for n in n1.engine('GET', '/nodes') if n['Description']['Hostname'] == n3.name]
        if states == ['down']:
            break
        time.sleep(1)
    absent = {'node': n3.name, 'state': 'absent'}
    r, _run = ansible.steps(n1.name, [step(absent, check=True), step(absent), step(absent)])
    r = [x[n1.name] for x in r]
    assert [x['changed'] for x in r] == [True, True, False], [x.get('msg') for x in r]
    assert r[1]['diff'] == {'before': {'state': 'present'}, 'after': {'state': 'absent'}}
    assert n3.name not in [n['Description']['Hostname'] for n in n1.engine('GET', '/nodes')]
