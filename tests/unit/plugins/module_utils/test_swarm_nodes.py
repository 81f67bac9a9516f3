"""swarm_node's planning logic: which node an entry means, what changes, in which order, quorum at each step."""

import pytest

from ansible_collections.swarmops.swarm.plugins.module_utils import _swarm_nodes as sn


def node(node_id, hostname, role='worker', state='ready', reach=None, leader=False, addr=None, labels=None,
         availability='active', version=10):
    """A GET /nodes entry. REACH: None (no raft member) or 'reachable'/'unreachable'."""
    out = {'ID': node_id, 'Version': {'Index': version},
           'Spec': {'Role': role, 'Availability': availability, 'Labels': dict(labels or {})},
           'Description': {'Hostname': hostname},
           'Status': {'State': state, 'Addr': addr or '10.0.0.%d' % (sum(map(ord, node_id)) % 250)}}
    if reach:
        out['ManagerStatus'] = {'Reachability': reach, 'Leader': leader, 'Addr': '%s:2377' % out['Status']['Addr']}
    return out


def three_managers_two_workers():
    return [node('m1', 'manager1', 'manager', reach='reachable', leader=True),
            node('m2', 'manager2', 'manager', reach='reachable'),
            node('m3', 'manager3', 'manager', reach='reachable'),
            node('w1', 'worker1'), node('w2', 'worker2')]


# ---- identifying nodes --------------------------------------------------------------------------

def rejoined():
    """worker1 left and joined again: its old entry is Down, same hostname and address, new ID."""
    return [node('m1', 'manager1', 'manager', reach='reachable', leader=True),
            node('old1', 'worker1', state='down', addr='10.0.0.21'),
            node('new1', 'worker1', addr='10.0.0.21')]


def test_an_ambiguous_hostname_is_refused_with_every_candidate():
    with pytest.raises(sn.NodeInputError) as err:
        sn.resolve(rejoined(), hostname='worker1')
    message = str(err.value)
    assert 'worker1 names 2 nodes' in message
    assert 'worker1 (old1, down, 10.0.0.21)' in message and 'worker1 (new1, ready, 10.0.0.21)' in message
    assert 'give the ID' in message and 'prune_stale' in message
    # the ID names exactly one, whichever state it is in
    assert sn.resolve(rejoined(), node_id='old1')['ID'] == 'old1'
    assert sn.resolve_ref(rejoined(), 'new1')['ID'] == 'new1'
    with pytest.raises(sn.NodeInputError):
        sn.resolve_ref(rejoined(), 'worker1')


def test_resolve_by_unique_hostname_and_mismatched_id():
    nodes = three_managers_two_workers()
    assert sn.resolve(nodes, hostname='worker2')['ID'] == 'w2'
    assert sn.resolve(nodes, hostname='nobody') is None
    assert sn.resolve(nodes, node_id='zz') is None
    assert sn.resolve(nodes, node_id='w1', hostname='worker1')['ID'] == 'w1'
    with pytest.raises(sn.NodeInputError, match='w1 is worker1, not worker2'):
        sn.resolve(nodes, node_id='w1', hostname='worker2')


def test_stale_entries_are_down_workers_with_the_hostname_and_address_of_a_live_entry():
    nodes = rejoined() + [
        node('gone', 'worker9', state='down'),                               # no live twin: not stale
        node('twin', 'worker1', state='down', addr='10.0.0.99'),             # another machine, same hostname
        node('oldm', 'manager1', 'manager', state='down', reach='unreachable',
             addr=rejoined()[0]['Status']['Addr']),                          # a raft member: not pruned
    ]
    assert [n['ID'] for n in sn.stale_entries(nodes)] == ['old1']


# ---- what an entry changes ----------------------------------------------------------------------

def test_labels_merge_leaves_other_labels_alone_and_replace_owns_them_all():
    current = node('w1', 'worker1', labels={'zone': 'a', 'owner': 'db-team'})
    spec, diffs, before, after = sn.wanted_spec(current, {'labels': {'zone': 'b', 'ssd': None},
                                                          'labels_state': 'merge'})
    assert diffs == ['labels']
    assert spec['Labels'] == {'zone': 'b', 'owner': 'db-team', 'ssd': ''}
    assert before == {'labels': {'zone': 'a', 'owner': 'db-team'}} and after['labels'] == spec['Labels']
    spec, diffs, _b, _a = sn.wanted_spec(current, {'labels': {'zone': 'b'}, 'labels_state': 'replace'})
    assert spec['Labels'] == {'zone': 'b'}
    # merge with labels already there: nothing to do; the current spec is not touched
    assert sn.wanted_spec(current, {'labels': {'zone': 'a'}, 'labels_state': 'merge'})[1] == []
    assert current['Spec']['Labels'] == {'zone': 'a', 'owner': 'db-team'}
    # numbers become the strings the engine stores
    assert sn.wanted_spec(node('w', 'w', labels={'rack': '7'}), {'labels': {'rack': 7}})[1] == []


def test_unset_fields_are_left_alone():
    current = node('w1', 'worker1', availability='pause', labels={'a': '1'})
    assert sn.wanted_spec(current, {'role': None, 'availability': None, 'labels': None})[1] == []
    spec, diffs, before, after = sn.wanted_spec(current, {'availability': 'drain', 'role': 'manager'})
    assert diffs == ['availability', 'role'] and spec['Labels'] == {'a': '1'}
    assert before == {'availability': 'pause', 'role': 'worker'} and after == {'availability': 'drain', 'role': 'manager'}


# ---- the plan ------------------------------------------------------------------------------------

def test_plan_orders_plain_changes_then_promotions_then_demotions_self_last():
    nodes = three_managers_two_workers()
    entries = [{'hostname': 'manager1', 'role': 'worker'},            # the node the module runs on
               {'hostname': 'manager2', 'role': 'worker'},
               {'hostname': 'worker1', 'role': 'manager'},
               {'hostname': 'worker2', 'labels': {'zone': 'a'}},
               {'hostname': 'manager3', 'role': 'manager'}]          # already a manager
    the_plan = sn.plan(nodes, entries, self_id='m1')
    assert [(s['node']['ID'], s['role_change']) for s in the_plan['steps']] == [
        ('w2', None), ('w1', 'promote'), ('m2', 'demote'), ('m1', 'demote')]
    assert [n['ID'] for n in the_plan['unchanged']] == ['m3']
    assert the_plan['unlisted'] == [] and the_plan['prune'] == []


def test_plan_refuses_a_sequence_that_breaks_quorum_naming_the_hosts_before_anything():
    nodes = three_managers_two_workers()
    nodes[2]['ManagerStatus']['Reachability'] = 'unreachable'   # manager3 is down
    entries = [{'hostname': 'worker1', 'labels': {'zone': 'a'}}, {'hostname': 'manager2', 'role': 'worker'}]
    with pytest.raises(sn.NodeInputError) as err:
        sn.plan(nodes, entries, self_id='m1')
    message = str(err.value)
    # manager1 and manager3 would remain: a quorum of 2, and manager3 does not answer
    assert 'refusing to demote manager2' in message and 'a quorum of 2' in message
    assert 'only 1 of them are reachable (manager3 unreachable)' in message
    assert 'Nothing was changed' in message
    # force overrides
    assert len(sn.plan(nodes, entries, self_id='m1', force=True)['steps']) == 2
    # demoting the unreachable one as well is safe: it goes first, then manager2 leaves manager1 alone
    entries.append({'hostname': 'manager3', 'role': 'worker'})
    assert [(s['node']['ID'], s['role_change']) for s in sn.plan(nodes, entries, self_id='m1')['steps']] == [
        ('w1', None), ('m3', 'demote'), ('m2', 'demote')]


def test_plan_walks_three_managers_down_to_one_and_refuses_none():
    nodes = three_managers_two_workers()
    entries = [{'hostname': 'manager2', 'role': 'worker'}, {'hostname': 'manager3', 'role': 'worker'}]
    assert [s['node']['ID'] for s in sn.plan(nodes, entries, self_id='m1')['steps']] == ['m2', 'm3']


def test_plan_refuses_the_last_manager_and_a_swarm_without_quorum():
    single = [node('m1', 'manager1', 'manager', reach='reachable', leader=True), node('w1', 'worker1')]
    with pytest.raises(sn.NodeInputError, match='refusing to demote manager1: it is the last manager'):
        sn.plan(single, [{'hostname': 'manager1', 'role': 'worker'}], self_id='m1')
    # a worker promoted in the same call keeps the swarm managed: the promotion goes first
    swap = [{'hostname': 'manager1', 'role': 'worker'}, {'hostname': 'worker1', 'role': 'manager'}]
    assert [s['role_change'] for s in sn.plan(single, swap, self_id='m1')['steps']] == ['promote', 'demote']
    lost = three_managers_two_workers()
    lost[1]['ManagerStatus']['Reachability'] = 'unreachable'
    lost[2]['ManagerStatus']['Reachability'] = 'unreachable'
    with pytest.raises(sn.NodeInputError, match='1 of 3 managers reachable'):
        sn.plan(lost, [{'hostname': 'worker1', 'role': 'manager'}])
    # label changes need no quorum check
    assert len(sn.plan(lost, [{'hostname': 'worker1', 'labels': {'a': 'b'}}])['steps']) == 1


def test_quorum_after_demotion_counts_the_swarm_that_remains():
    nodes = three_managers_two_workers()
    assert sn.quorum_after_demotion(nodes, 'm2') == (True, '')
    assert sn.quorum_after_demotion(nodes, 'w1') == (True, '')       # not a manager
    two = nodes[:2] + nodes[3:]
    assert sn.quorum_after_demotion(two, 'm2') == (True, '')         # 2 -> 1, both answering
    two[0]['ManagerStatus']['Reachability'] = 'unreachable'
    two[0]['ManagerStatus']['Leader'] = False
    ok, why = sn.quorum_after_demotion(two, 'm2')
    assert not ok and 'only 0 of them are reachable' in why
    assert sn.quorum_after_demotion(two, 'm1') == (True, '')         # demoting the one that is down


def test_plan_refuses_promoting_a_node_that_is_down():
    nodes = three_managers_two_workers()
    nodes[4]['Status']['State'] = 'down'
    with pytest.raises(sn.NodeInputError, match='refusing to promote worker2'):
        sn.plan(nodes, [{'hostname': 'worker2', 'role': 'manager'}])


def test_plan_refuses_unknown_duplicate_and_ambiguous_entries_before_anything():
    nodes = three_managers_two_workers()
    with pytest.raises(sn.NodeInputError, match='no node nobody, zz in this swarm'):
        sn.plan(nodes, [{'hostname': 'nobody'}, {'id': 'zz'}, {'hostname': 'worker1'}])
    with pytest.raises(sn.NodeInputError, match=r'nodes\[0\] and nodes\[2\] both name worker1'):
        sn.plan(nodes, [{'hostname': 'worker1'}, {'hostname': 'worker2'}, {'id': 'w1'}])
    with pytest.raises(sn.NodeInputError, match=r'nodes\[1\]: hostname worker1 names 2 nodes'):
        sn.plan(rejoined(), [{'hostname': 'manager1'}, {'hostname': 'worker1', 'labels': {}}])
    with pytest.raises(sn.NodeInputError, match=r'nodes\[0\]: give hostname or id'):
        sn.plan(nodes, [{'labels': {}}])
    with pytest.raises(sn.NodeInputError, match=r'nodes\[0\].availability'):
        sn.plan(nodes, [{'hostname': 'worker1', 'availability': 'drained'}])


def test_prune_stale_makes_the_hostname_unambiguous_and_lists_what_it_removes():
    the_plan = sn.plan(rejoined(), [{'hostname': 'worker1', 'labels': {'zone': 'a'}}], prune_stale=True)
    assert [n['ID'] for n in the_plan['prune']] == ['old1']
    assert [s['node']['ID'] for s in the_plan['steps']] == ['new1']
    assert [n['ID'] for n in the_plan['unlisted']] == ['m1']


def test_simulated_summary_of_a_demotion_drops_the_manager_status():
    manager = node('m2', 'manager2', 'manager', reach='reachable')
    spec = dict(manager['Spec'], Role='worker')
    summary = sn.simulated_summary(manager, spec)
    assert summary['role'] == 'worker' and summary['manager_status'] is None
    assert manager['ManagerStatus']  # the original is untouched


# ---- waiting -------------------------------------------------------------------------------------

def test_role_reached():
    assert sn.role_reached(node('m', 'm', 'manager', reach='reachable'), 'manager')
    assert not sn.role_reached(node('m', 'm', 'manager', reach='unreachable'), 'manager')
    assert not sn.role_reached(node('w', 'w', 'manager'), 'manager')  # spec says manager, not a member yet
    assert sn.role_reached(node('w', 'w', 'worker'), 'worker')
    assert not sn.role_reached(node('m', 'm', 'worker', reach='reachable'), 'worker')


def task(service, node_id, state, desired='running', err=None):
    return {'ServiceID': service, 'NodeID': node_id, 'DesiredState': desired,
            'Status': {'State': state, 'Err': err}}


def service(service_id, name, running, desired, mode='Replicated'):
    return {'ID': service_id, 'Spec': {'Name': name, 'Mode': {mode: {}}},
            'ServiceStatus': {'RunningTasks': running, 'DesiredTasks': desired}}


def test_drain_progress_waits_for_the_tasks_to_leave_and_the_replicas_to_come_back():
    services = [service('s1', 'web', 1, 2), service('s2', 'agent', 2, 3, mode='Global')]
    tasks = [task('s1', 'w1', 'running', desired='shutdown'), task('s2', 'w1', 'running', desired='shutdown'),
             task('s1', 'w2', 'running'), task('s1', None, 'pending', err='no suitable node (max replicas per node)')]
    done, waiting = sn.drain_progress('w1', tasks, services)
    assert not done
    assert '2 task(s) still on the node' in waiting
    assert 'service web has 1 of 2 replicas running (no suitable node (max replicas per node))' in waiting
    assert 'agent' not in waiting  # a global service has no replicas to move
    # the tasks stopped, one replica still cannot be placed
    tasks = [task('s1', 'w1', 'shutdown', desired='shutdown'), task('s1', 'w2', 'running'),
             task('s1', None, 'pending', err='no suitable node')]
    done, waiting = sn.drain_progress('w1', tasks, services)
    assert not done and waiting.startswith('service web has 1 of 2')
    # moved: stopped on w1, both running elsewhere
    services = [service('s1', 'web', 2, 2)]
    tasks = [task('s1', 'w1', 'shutdown', desired='shutdown'), task('s1', 'w2', 'running'),
             task('s1', 'w3', 'running')]
    assert sn.drain_progress('w1', tasks, services) == (True, '')
    # a service that never ran on the node is not waited for
    assert sn.drain_progress('w9', tasks, [service('s1', 'web', 0, 2)]) == (True, '')


def test_port_verdict_tells_a_firewall_from_a_worker_not_listening():
    import errno
    import socket
    assert sn.port_verdict(None) == 'open'
    assert sn.port_verdict(ConnectionRefusedError(errno.ECONNREFUSED, 'Connection refused')) == 'open'
    assert sn.port_verdict(socket.timeout('timed out')) == 'blocked'
    assert sn.port_verdict(OSError(errno.EHOSTUNREACH, 'No route to host')) == 'blocked'
    message = sn.blocked_message([(node('w1', 'worker1', addr='10.0.0.21'), '10.0.0.21:2377: timed out')])
    assert 'refusing to promote worker1 (w1, ready, 10.0.0.21)' in message and '2377/tcp' in message
    assert 'Nothing was changed' in message
