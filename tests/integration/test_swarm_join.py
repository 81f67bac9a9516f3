"""swarm_join on real multi-node swarms: refusals that leave the node as it was, joins, other swarm, role.

Swarm A: it-join-a1 (bookworm, 10.213.40.20). Swarm B: it-join-b1 (trixie, .21).
Joiners: it-join-w1 (trixie: python3-docker 7.1.0), it-join-w2 (bookworm: 5.0.3), it-join-m2 (bookworm).
10.213.40.49 is never started: an address where no manager answers.
Tokens travel as extra vars into no_log tasks (`ansible.steps`), which asserts that none reaches output.
"""

import pytest

MODULE = 'swarmops.swarm.swarm_join'
NOBODY = '10.213.40.49:2377'


def step(args, check=False):
    return {'module': MODULE, 'args': args, 'check': check}


@pytest.fixture(scope='module')
def cluster(nodes):
    a1, b1, w1, w2, m2 = nodes.start_many([
        ('join-a1', 20, 'bookworm', False), ('join-b1', 21, 'trixie', False), ('join-w1', 22, 'trixie', False),
        ('join-w2', 23, 'bookworm', False), ('join-m2', 24, 'bookworm', False)])
    a1.api_init_swarm()
    b1.api_init_swarm()
    yield {'a1': a1, 'b1': b1, 'w1': w1, 'w2': w2, 'm2': m2}
    for node in (a1, b1, w1, w2, m2):
        nodes.stop(node)


def tokens(cluster):
    a1, b1 = cluster['a1'], cluster['b1']
    values = {'a_worker': a1.api_join_token('worker'), 'a_manager': a1.api_join_token('manager'),
              'b_worker': b1.api_join_token('worker'), 'b_manager': b1.api_join_token('manager')}
    values['a_bad_secret'] = values['a_worker'][:-25] + '0123456789abcdefghijklmno'
    return values


def test_refusals_leave_the_node_as_it_was(ansible, cluster):
    a1, w1 = cluster['a1'], cluster['w1']
    a = '%s:2377' % a1.ip
    r, _run = ansible.steps(w1.name, [
        step({'role': 'worker', 'remote_addrs': [a1.ip], 'join_token': '{{ a_worker }}'}),          # 0 no port
        step({'role': 'worker', 'remote_addrs': [a], 'join_token': 'not-a-token'}),                 # 1 malformed
        step({'role': 'worker', 'remote_addrs': [a], 'join_token': '{{ a_bad_secret }}'}),          # 2 wrong secret
        step({'role': 'worker', 'remote_addrs': [a], 'join_token': '{{ b_worker }}'}),              # 3 other swarm's
        step({'role': 'worker', 'remote_addrs': [NOBODY], 'join_token': '{{ a_worker }}'}),         # 4 unreachable
        step({'role': 'worker', 'remote_addrs': [a], 'join_token': '{{ a_manager }}'}),             # 5 manager token
        step({'role': 'manager', 'remote_addrs': [a], 'join_token': '{{ a_worker }}'}),             # 6 worker token
    ], extra_vars=tokens(cluster))
    r = [x[w1.name] for x in r]
    assert all(x['failed'] and not x['changed'] for x in r), [x.get('msg') for x in r]
    assert 'has no port' in r[0]['msg'] and '%s:2377' % a1.ip in r[0]['msg']
    assert 'not a swarm join token' in r[1]['msg']
    assert 'refused the join token' in r[2]['msg'] and 'not changed' in r[2]['msg']
    assert 'belongs to another swarm' in r[3]['msg'] and 'not changed' in r[3]['msg']
    assert 'manager %s unreachable' % NOBODY in r[4]['msg'] and 'not changed' in r[4]['msg']
    assert 'is a manager token, but role is worker' in r[5]['msg'] and 'has left again' in r[5]['msg']
    assert 'is a worker token, but role is manager' in r[6]['msg'] and 'has left again' in r[6]['msg']
    assert all(x['previous_state'] == 'inactive' for x in r[2:])
    assert w1.api_swarm()['LocalNodeState'] == 'inactive'
    # the wrong-role manager demoted itself before leaving: swarm A still has one raft member, its leader
    raft = [n for n in a1.engine('GET', '/nodes') if n.get('ManagerStatus')]
    assert [n['ManagerStatus'].get('Leader') for n in raft] == [True]


def test_worker_and_manager_joins(ansible, cluster):
    a1, w1, w2, m2 = cluster['a1'], cluster['w1'], cluster['w2'], cluster['m2']
    for node in (w1, w2, m2):
        node.api_leave_swarm()
    role = "{{ 'manager' if inventory_hostname == '%s' else 'worker' }}" % m2.name
    args = {'role': role, 'remote_addrs': [NOBODY, '%s:2377' % a1.ip],  # the answering manager goes first
            'join_token': "{{ a_manager if inventory_hostname == '%s' else a_worker }}" % m2.name, 'timeout': 60}
    hosts = ','.join(n.name for n in (w1, w2, m2))
    args['advertise_addr'] = "{{ %r[inventory_hostname] }}" % {w1.name: w1.ip, w2.name: w2.ip, m2.name: m2.ip}
    r, _run = ansible.steps(hosts, [step(args, check=True), step(args), step(args), step(args, check=True)],
                            extra_vars=tokens(cluster))
    for node, want in ((w1, 'worker'), (w2, 'worker'), (m2, 'manager')):
        seq = [x[node.name] for x in r]
        assert [x.get('failed', False) for x in seq] == [False] * 4, [x.get('msg') for x in seq]
        assert [x['changed'] for x in seq] == [True, True, False, False], node
        assert [x['joined'] for x in seq] == [True, True, False, False]
        assert [x['previous_state'] for x in seq] == ['inactive', 'inactive', 'active', 'active']
        assert all(x['role'] == want for x in seq)
        assert seq[1]['diff'] == {'before': {'local_node_state': 'inactive', 'role': None},
                                  'after': {'local_node_state': 'active', 'role': want}}
        assert any(NOBODY in w and 'unreachable' in w for w in seq[1].get('warnings', []))
        assert seq[1]['node_id'] == seq[2]['node_id'] == node.api_swarm()['NodeID']
    listed = dict((n['Description']['Hostname'], n) for n in a1.engine('GET', '/nodes')
                  if n['Status']['State'] == 'ready')
    assert sorted(listed) == sorted([a1.name, w1.name, w2.name, m2.name])
    assert listed[m2.name]['ManagerStatus']['Reachability'] == 'reachable'
    assert listed[w1.name]['Spec']['Role'] == 'worker' and listed[w1.name]['Status']['Addr'] == w1.ip


def test_other_swarm_needs_force_and_role_is_not_rejoined(ansible, cluster):
    a1, b1, w2 = cluster['a1'], cluster['b1'], cluster['w2']
    if w2.api_swarm()['LocalNodeState'] != 'active':
        w2.api_join_swarm(a1, 'worker')
    to_b = {'role': 'worker', 'remote_addrs': ['%s:2377' % b1.ip], 'join_token': '{{ b_worker }}'}
    r, _run = ansible.steps(w2.name, [
        step(to_b),                                   # 0 in swarm A: refused, both swarms named
        step(dict(to_b, force=True), check=True),     # 1 predicts leave + join
        step(dict(to_b, force=True)),                 # 2 leaves A, joins B
        step(dict(to_b, force=True)),                 # 3 in B already: unchanged
        step(dict(to_b, role='manager', join_token='{{ b_manager }}')),  # 4 a worker of B asked to be manager
    ], extra_vars=tokens(cluster))
    r = [x[w2.name] for x in r]

    def digest(manager):
        return manager.api_join_token('worker').split('-')[2].lstrip('0')[:12]

    assert r[0]['failed'] and 'in another swarm' in r[0]['msg'] and 'force: true' in r[0]['msg']
    assert digest(a1) in r[0]['msg'] and digest(b1) in r[0]['msg'] and a1.ip in r[0]['msg']
    assert r[1]['changed'] and r[1]['left_other_swarm']  # check mode: predicted only
    assert r[2]['changed'] and r[2]['left_other_swarm'] and r[2]['joined'] and r[2]['previous_state'] == 'active'
    assert not r[3]['changed'] and not r[3]['left_other_swarm']
    assert r[4]['failed'] and 'already a worker of this swarm' in r[4]['msg'] and 'swarm_node' in r[4]['msg']
    swarm = w2.api_swarm()
    assert swarm['LocalNodeState'] == 'active' and not swarm['ControlAvailable']
    assert [m['Addr'] for m in swarm['RemoteManagers']] == ['%s:2377' % b1.ip]


def test_which_swarm_is_read_through_a_remote_docker_host(ansible, cluster):
    """The module runs on a1 - a manager of swarm A, whose own disk holds A's root CA - against w2's engine over TCP.

    w2 is a worker of swarm B: its engine does not know B's root CA, B's manager (the one w2's engine lists)
    tells it. Nothing on a1's disk may count: not for "same" (no leave and re-join with force), not for
    "other", and when B's manager cannot be reached from a1, not at all (cannot tell: nothing is done).
    """
    a1, b1, w2 = cluster['a1'], cluster['b1'], cluster['w2']
    if [m['Addr'] for m in w2.api_swarm().get('RemoteManagers') or []] != ['%s:2377' % b1.ip]:
        w2.api_leave_swarm()
        w2.api_join_swarm(b1, 'worker')
        w2.api_wait(lambda s: s['LocalNodeState'] == 'active', what='active in swarm B')
    node_id = w2.api_swarm()['NodeID']
    remote = w2.expose_engine_tcp()
    to_b = {'role': 'worker', 'remote_addrs': ['%s:2377' % b1.ip], 'join_token': '{{ b_worker }}',
            'docker_host': remote}
    to_a = dict(to_b, remote_addrs=['%s:2377' % a1.ip], join_token='{{ a_worker }}')
    r, _run = ansible.steps(a1.name, [
        step(to_b),                        # 0 in the token's swarm: unchanged
        step(dict(to_b, force=True)),      # 1 unchanged with force too: no leave and re-join
        step(to_a),                        # 2 in another swarm: refused, both named
    ], extra_vars=tokens(cluster))
    r = [x[a1.name] for x in r]
    b_digest = b1.api_join_token('worker').split('-')[2].lstrip('0')[:12]
    assert [x.get('failed', False) for x in r] == [False, False, True], [x.get('msg') for x in r]
    assert [x['changed'] for x in r] == [False, False, False]
    assert r[0]['membership']['relation'] == 'same' and r[0]['node_id'] == node_id
    assert r[2]['membership']['relation'] == 'other'
    assert 'in another swarm: swarm with root CA %s' % b_digest in r[2]['msg'] and a1.ip in r[2]['msg']
    # B's managers cannot be reached from where the module runs: which swarm cannot be told
    block = 'OUTPUT -d %s -p tcp --dport 2377 -j REJECT' % b1.ip
    a1.sh('iptables -I ' + block)
    try:
        r, _run = ansible.steps(a1.name, [step(dict(to_a, force=True))], extra_vars=tokens(cluster))
    finally:
        a1.sh('iptables -D ' + block)
    unknown = r[0][a1.name]
    assert unknown['failed'] and not unknown['changed'] and unknown['membership']['relation'] == 'unknown', unknown
    assert 'cannot be told' in unknown['msg'] and 'force does not apply' in unknown['msg'], unknown['msg']
    swarm = w2.api_swarm()
    assert swarm['NodeID'] == node_id and [m['Addr'] for m in swarm['RemoteManagers']] == ['%s:2377' % b1.ip]
