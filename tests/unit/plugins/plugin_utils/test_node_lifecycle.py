"""Day-2 decisions on the controller: inventory node state as swarm_node entries (and whether site.yml must call
swarm_node at all), the removal plan."""

import pytest

from ansible_collections.swarmops.swarm.plugins.plugin_utils import _node_lifecycle as nl


def own(node_id, state='active', manager=False, has_quorum=None, nodes=None):
    """A host's swarm_info result."""
    report = {'swarm': {'local_node_state': state, 'node_id': node_id, 'control_available': manager}}
    if manager:
        report['has_quorum'] = True if has_quorum is None else has_quorum
        report['nodes'] = nodes or []
    return report


def summary(node_id, hostname, role='worker', status='ready', manager_status=None, addr=None):
    return {'id': node_id, 'hostname': hostname, 'role': role, 'status': status, 'manager_status': manager_status,
            'addr': addr or '10.0.0.%d' % len(node_id)}


# ---- node entries --------------------------------------------------------------------------------

def test_entries_name_nodes_by_their_own_id_with_the_role_from_the_group():
    reports = {'m1': own('ID-M1', manager=True), 'w1': own('ID-W1'), 'w2': own('', state='inactive')}
    settings = {'w1': {'labels': {'zone': 'a', 'rack': 7, 'flag': None}, 'availability': 'drain'},
                'm1': {'labels': None, 'availability': '', 'labels_state': 'replace'}}
    entries, skipped = nl.node_entries(['m1', 'w1', 'w2'], ['m1'], reports, settings)
    assert entries == [{'id': 'ID-M1', 'role': 'manager'},
                       {'id': 'ID-W1', 'role': 'worker', 'availability': 'drain',
                        'labels': {'zone': 'a', 'rack': '7', 'flag': ''}, 'labels_state': 'merge'}]
    assert list(skipped) == ['w2'] and 'inactive' in skipped['w2']


@pytest.mark.parametrize('settings, words', [
    ({'availability': 'drained'}, "w1: swarm_node_availability 'drained' is not one of active, pause, drain"),
    ({'labels': ['zone=a']}, 'w1: swarm_node_labels must be a dict'),
    ({'labels': {'zone': {'a': 1}}}, 'w1: swarm_node_labels.zone must be a string'),
    ({'labels': {}, 'labels_state': 'own'}, "w1: swarm_node_labels_state 'own' is not one of merge, replace"),
])
def test_bad_values_name_the_host_and_the_variable(settings, words):
    with pytest.raises(nl.LifecycleError) as err:
        nl.node_entries(['w1'], [], {'w1': own('ID-W1')}, {'w1': settings})
    assert words in str(err.value)


# ---- removal plan --------------------------------------------------------------------------------

def cluster(managers=1, extra=()):
    """Inventory m1..mN + w1, w2; reports as after discovery; the node list on every manager."""
    nodes = [summary('ID-M%d' % i, 'lc-m%d' % i, 'manager', manager_status='Leader' if i == 1 else 'Reachable')
             for i in range(1, managers + 1)]
    nodes += [summary('ID-W1', 'lc-w1'), summary('ID-W2', 'lc-w2')] + list(extra)
    reports = dict(('m%d' % i, own('ID-M%d' % i, manager=True, nodes=nodes)) for i in range(1, managers + 1))
    reports.update(w1=own('ID-W1'), w2=own('ID-W2'))
    inventory = dict((h, 'lc-' + h) for h in reports)
    return reports, inventory


# ---- site.yml's node step: a call only when something differs ------------------------------------

def listed(node_id, hostname, role='worker', availability='active', labels=None, status='ready', addr=None,
           manager_status=None):
    return {'id': node_id, 'hostname': hostname, 'role': role, 'availability': availability, 'labels': labels or {},
            'status': status, 'addr': addr or '10.0.0.%s' % node_id[-1], 'manager_status': manager_status}


LISTED = [listed('ID-1', 'm1', role='manager', manager_status='Leader'), listed('ID-2', 'w1', labels={'own': 'x'}),
          listed('ID-3', 'w2', availability='drain')]
REPORTS = {'m1': own('ID-1', manager=True), 'w1': own('ID-2'), 'w2': own('ID-3')}
KNOWN = ['m1', 'w1', 'w2']


def test_an_unchanged_cluster_needs_no_call():
    settings = {'w1': {'labels': {'own': 'x'}}, 'w2': {'availability': 'drain'},
                'm1': {'labels': {}, 'labels_state': 'merge'}}
    plan = nl.converge_plan(['m1', 'w1', 'w2'], ['m1'], REPORTS, settings, LISTED, KNOWN)
    assert plan['act'] is False and plan['changes'] == [] and plan['outside'] == []
    assert [e['id'] for e in plan['entries']] == ['ID-1', 'ID-2', 'ID-3']


@pytest.mark.parametrize('settings, line', [
    ({'w1': {'labels': {'zone': 'a'}}}, "w1: labels {'own': 'x'} -> {'own': 'x', 'zone': 'a'}"),
    ({'w1': {'labels': {}, 'labels_state': 'replace'}}, "w1: labels {'own': 'x'} -> {}"),
    ({'w2': {'availability': 'active'}}, 'w2: availability drain -> active'),
])
def test_a_label_or_availability_that_differs_is_a_change(settings, line):
    plan = nl.converge_plan(['m1', 'w1', 'w2'], ['m1'], REPORTS, settings, LISTED, KNOWN)
    assert plan['act'] is True and plan['changes'] == [line]


def test_a_role_change_a_node_joined_in_this_run_and_a_stale_entry_are_changes():
    reports = dict(REPORTS, w3=own('ID-4'))
    plan = nl.converge_plan(['m1', 'w1', 'w2', 'w3'], ['m1', 'w1'], reports, {}, LISTED, KNOWN + ['w3'])
    assert plan['changes'] == ['w1: role worker -> manager',
                               'ID-4: not in the node list read before this run (joined in it)']
    stale = LISTED + [listed('ID-9', 'w2', status='down', addr='10.0.0.3')]
    plan = nl.converge_plan(['m1', 'w1', 'w2'], ['m1'], REPORTS, {}, stale, KNOWN)
    assert plan['changes'] == ['w2 (ID-9): stale Down entry of a host that joined again'] and plan['outside'] == []
    assert nl.converge_plan(['m1', 'w1', 'w2'], ['m1'], REPORTS, {}, stale, KNOWN, prune_stale=False)['act'] is False


def test_nodes_no_inventory_host_stands_for_are_reported_and_hosts_outside_the_play_are_not():
    extra = LISTED + [listed('ID-7', 'old-worker', status='down', addr='10.0.0.77')]
    # w2 is outside the play (--limit): its own read still says which node it is
    plan = nl.converge_plan(['m1', 'w1'], ['m1'], REPORTS, {}, extra, KNOWN)
    assert [n['id'] for n in plan['outside']] == ['ID-7'] and plan['act'] is False


def test_remove_a_worker_by_inventory_name_through_the_leading_manager():
    reports, inventory = cluster()
    plan = nl.removal_plan('w2', reports, inventory, preferred='m1')
    assert plan['action'] == 'remove' and plan['manager'] == 'm1'
    assert (plan['node_id'], plan['hostname'], plan['inventory_host']) == ('ID-W2', 'lc-w2', 'w2')
    assert plan['leave'] and not plan['is_manager'] and not plan['force']
    # the same node by hostname or ID
    assert nl.removal_plan('lc-w2', reports, inventory, 'm1')['inventory_host'] == 'w2'
    assert nl.removal_plan('ID-W2', reports, inventory, 'm1')['node_id'] == 'ID-W2'


def test_a_removed_node_is_nothing_to_do():
    reports, inventory = cluster()
    reports['w2'] = own('', state='inactive')
    reports['m1']['nodes'] = [n for n in reports['m1']['nodes'] if n['id'] != 'ID-W2']
    plan = nl.removal_plan('w2', reports, inventory, 'm1')
    assert plan['action'] == 'none' and 'already removed' in plan['reason']


def test_the_last_manager_and_a_manager_below_quorum_are_refused():
    reports, inventory = cluster(managers=1)
    plan = nl.removal_plan('m1', reports, inventory, 'm1')
    assert plan['action'] == 'fail' and 'last manager' in plan['reason']
    reports, inventory = cluster(managers=3)
    reports['m1']['nodes'][2]['manager_status'] = 'Unreachable'   # m3 is down
    plan = nl.removal_plan('m2', reports, inventory, 'm1')
    assert plan['action'] == 'fail' and 'a quorum of 2' in plan['reason'] and 'only 1 of them' in plan['reason']
    # the one that is down can go
    assert nl.removal_plan('m3', reports, inventory, 'm1')['action'] == 'remove'
    reports, inventory = cluster(managers=2)
    assert nl.removal_plan('m2', reports, inventory, 'm1')['action'] == 'remove'
    reports, inventory = cluster(managers=3)
    plan = nl.removal_plan('m1', reports, inventory, 'm1')
    # removing the leading manager goes through another one
    assert plan['action'] == 'remove' and plan['is_manager'] and plan['manager'] == 'm2'


def test_an_ambiguous_hostname_is_refused_and_the_live_inventory_host_is_found_by_its_own_id():
    stale = summary('ID-OLD', 'lc-w2', status='down')
    reports, inventory = cluster(extra=[stale])
    # by inventory name: the host's own engine says which entry it is
    plan = nl.removal_plan('w2', reports, inventory, 'm1')
    assert plan['action'] == 'remove' and plan['node_id'] == 'ID-W2'
    # by the hostname alone: ambiguous
    plan = nl.removal_plan('lc-w2', reports, {'m1': 'lc-m1'}, 'm1')
    assert plan['action'] == 'fail' and 'names 2 nodes' in plan['reason'] and 'ID-OLD' in plan['reason']


def test_a_running_node_that_cannot_leave_needs_force_and_a_down_one_does_not():
    reports, inventory = cluster(extra=[summary('ID-X', 'stranger'), summary('ID-D', 'gone', status='down')])
    plan = nl.removal_plan('stranger', reports, inventory, 'm1')
    assert plan['action'] == 'fail' and 'swarm_remove_node_force' in plan['reason']
    plan = nl.removal_plan('stranger', reports, inventory, 'm1', force=True)
    assert plan['action'] == 'remove' and plan['force'] and not plan['leave']
    plan = nl.removal_plan('gone', reports, inventory, 'm1')
    assert plan['action'] == 'remove' and not plan['force'] and not plan['leave'] and plan['inventory_host'] is None


def test_no_live_manager_or_no_name_is_refused():
    reports, inventory = cluster()
    reports['m1']['has_quorum'] = False
    assert 'no manager of a swarm with quorum' in nl.removal_plan('w1', reports, inventory, 'm1')['reason']
    assert nl.removal_plan('', reports, inventory)['action'] == 'fail'


def test_outside_inventory_matches_hostnames_and_addresses():
    unlisted = [summary('A', 'lc-w3', addr='10.0.0.23'), summary('B', 'ip-172-31-1-5', addr='172.31.1.5'),
                summary('C', 'old-box', status='down', addr='10.0.0.99')]
    assert [n['id'] for n in nl.outside_inventory(unlisted, ['w3', 'lc-w3', '172.31.1.5', None])] == ['C']
