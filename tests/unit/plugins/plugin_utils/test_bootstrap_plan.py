"""Which manager forms or leads the swarm: every rule that keeps a cluster from splitting."""

import pytest

from ansible_collections.swarmops.swarm.plugins.plugin_utils.bootstrap_plan import check_manager_roles, plan_bootstrap

MANAGERS = ['m1', 'm2', 'm3']
WORKERS = ['w1', 'w2']


def report(state='inactive', manager=False, cluster=None):
    return {'swarm': {'local_node_state': state, 'control_available': manager, 'cluster_id': cluster}}


def fresh(hosts):
    return {host: report() for host in hosts}


def test_fresh_cluster_initialises_on_first_manager():
    plan = plan_bootstrap(MANAGERS, WORKERS, fresh(MANAGERS + WORKERS))
    assert plan['action'] == 'init' and plan['manager'] == 'm1'


def test_existing_swarm_is_used_through_its_first_live_manager_even_if_not_first_in_inventory():
    reports = fresh(MANAGERS + WORKERS)
    reports['m2'] = report('active', True, 'c1')
    reports['m3'] = report('active', True, 'c1')
    plan = plan_bootstrap(MANAGERS, WORKERS, reports)
    assert (plan['action'], plan['manager']) == ('use', 'm2')


def test_first_manager_down_uses_another_live_manager_and_never_inits():
    reports = {h: report('active', h.startswith('m'), 'c1' if h.startswith('m') else None) for h in MANAGERS + WORKERS}
    del reports['m1']
    plan = plan_bootstrap(MANAGERS, WORKERS, reports)
    assert (plan['action'], plan['manager']) == ('use', 'm2')


def test_locked_manager_is_a_member_not_a_reason_to_init():
    reports = fresh(MANAGERS + WORKERS)
    reports['m1'] = report('locked')
    plan = plan_bootstrap(MANAGERS, WORKERS, reports)
    assert (plan['action'], plan['manager']) == ('use', 'm1')
    assert 'unlock' in plan['reason']


@pytest.mark.parametrize('reports, words', [
    # Workers still in a swarm whose managers are gone: an init would make a second cluster.
    ({'m1': report(), 'm2': report(), 'm3': report(), 'w1': report('active'), 'w2': report()},
     ['w1', 'second cluster']),
    # A manager is unreachable and nobody live is in a swarm: it may hold the swarm.
    ({'m2': report(), 'm3': report(), 'w1': report(), 'w2': report()}, ['m1', 'unreachable', 'split']),
    # Managers of two different swarms in one inventory.
    ({'m1': report('active', True, 'c1'), 'm2': report('active', True, 'c2'), 'm3': report()},
     ['different swarms', 'c1', 'c2', 'm1', 'm2']),
    # No manager answers at all.
    ({'w1': report(), 'w2': report()}, ['No manager answered', 'm1, m2, m3']),
    # A manager stuck in pending/error.
    ({'m1': report('error'), 'm2': report(), 'm3': report()}, ['m1 (error)', 'docker swarm leave']),
])
def test_refusals_say_why(reports, words):
    plan = plan_bootstrap(MANAGERS, WORKERS, reports)
    assert plan['action'] == 'fail' and plan['manager'] is None
    for word in words:
        assert word in plan['reason']


def test_a_worker_of_the_live_swarm_does_not_block_using_it():
    reports = fresh(MANAGERS)
    reports.update({'m1': report('active', True, 'c1'), 'w1': report('active'), 'w2': report('inactive')})
    assert plan_bootstrap(MANAGERS, WORKERS, reports)['action'] == 'use'


# ---- quorum protection (issue 7, case 5): the inventory must not take managers out of their role ----

ADDRESSES = {'m1': '10.0.0.1', 'm2': '10.0.0.2', 'm3': '10.0.0.3', 'w1': '10.0.0.11', 'w2': '10.0.0.12'}


def manager_report(statuses, workers=('10.0.0.11', '10.0.0.12')):
    """swarm_info of a live manager whose swarm has managers {addr: manager_status} and WORKERS."""
    nodes = [{'hostname': 'node-%s' % addr, 'addr': addr, 'role': 'manager', 'manager_status': status}
             for addr, status in statuses.items()]
    nodes += [{'hostname': 'node-%s' % addr, 'addr': addr, 'role': 'worker', 'manager_status': None}
              for addr in workers]
    return {'swarm': {'local_node_state': 'active', 'control_available': True, 'cluster_id': 'c1'}, 'nodes': nodes}


THREE = {'10.0.0.1': 'Leader', '10.0.0.2': 'Reachable', '10.0.0.3': 'Reachable'}


def test_roles_check_passes_when_the_inventory_matches_the_swarm():
    check = check_manager_roles(MANAGERS, WORKERS, {'m1': manager_report(THREE)}, ADDRESSES)
    assert check['ok'], check


def test_roles_check_passes_on_bare_hosts_and_failed_probes():
    # no engine yet: swarm_info failed (failed_when: false) and carries no swarm
    reports = {'m1': {'failed': True, 'msg': 'no engine'}}
    assert check_manager_roles(['m1'], WORKERS, reports, ADDRESSES)['ok']
    assert check_manager_roles(['m1'], WORKERS, {}, ADDRESSES)['ok']


def test_demoting_two_of_three_managers_is_refused_naming_the_quorum():
    check = check_manager_roles(['m1'], ['m2', 'm3'] + WORKERS, {'m1': manager_report(THREE)}, ADDRESSES)
    assert not check['ok']
    reason = check['reason']
    assert 'm2, m3 are in swarm_workers' in reason
    assert 'below its quorum of 2' in reason and "swarm's 3" in reason
    assert 'put them back in swarm_managers' in reason and 'docker node demote' in reason


def test_removing_two_of_three_managers_from_the_inventory_is_refused():
    addresses = dict((h, a) for h, a in ADDRESSES.items() if h not in ('m2', 'm3'))
    check = check_manager_roles(['m1'], WORKERS, {'m1': manager_report(THREE)}, addresses)
    assert not check['ok']
    assert 'node-10.0.0.2 (10.0.0.2), node-10.0.0.3 (10.0.0.3) are not in the inventory' in check['reason']
    assert 'below its quorum of 2' in check['reason']


def test_demoting_one_live_manager_is_refused_even_with_quorum_kept():
    check = check_manager_roles(['m1', 'm2'], ['m3'] + WORKERS, {'m1': manager_report(THREE)}, ADDRESSES)
    assert not check['ok']
    assert 'm3 is in swarm_workers' in check['reason'] and 'keep its quorum (2 of 3)' in check['reason']


def test_forgetting_one_dead_manager_is_allowed():
    statuses = dict(THREE, **{'10.0.0.3': 'Unreachable'})
    addresses = dict((h, a) for h, a in ADDRESSES.items() if h != 'm3')
    check = check_manager_roles(['m1', 'm2'], WORKERS, {'m1': manager_report(statuses)}, addresses)
    assert check['ok'], check


def test_first_manager_down_is_not_a_role_change():
    # m1 unreachable (no report); the inventory still lists it as a manager
    statuses = dict(THREE, **{'10.0.0.1': 'Unreachable', '10.0.0.2': 'Leader'})
    check = check_manager_roles(MANAGERS, WORKERS, {'m2': manager_report(statuses)}, ADDRESSES)
    assert check['ok'], check


def test_locked_manager_plan_names_the_role_variable_for_the_unlock_key():
    reports = fresh(MANAGERS + WORKERS)
    reports['m1'] = report('locked', False, None)
    plan = plan_bootstrap(MANAGERS, WORKERS, reports)
    assert (plan['action'], plan['manager']) == ('use', 'm1')
    assert 'swarm_bootstrap_unlock_key' in plan['reason']
