"""Which manager forms or leads the swarm: every rule that keeps a cluster from splitting."""

import pytest

from ansible_collections.swarmops.swarm.plugins.plugin_utils.bootstrap_plan import plan_bootstrap

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
