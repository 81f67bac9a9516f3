"""The swarm filters as playbooks call them: hostvars in, the plan's decisions out (the rules themselves are
tested in plugin_utils/test_swarm_plan.py)."""

from ansible_collections.swarmops.swarm.plugins.filter import (
    swarm_advertise_address, swarm_bootstrap_plan, swarm_changed, swarm_engine_absent, swarm_inventory_check,
    swarm_managers_check, swarm_node_ready, swarm_remembered_addresses, swarm_rolling_check, swarm_rolling_nodes,
    swarm_rolling_via, swarm_services_short)


def filters(module):
    return module.FilterModule().filters()


def read(state='active', manager=False, node_id=None, nodes=None):
    swarm = {'local_node_state': state, 'control_available': manager, 'cluster_id': 'c1' if manager else None,
             'node_id': node_id, 'node_addr': '10.0.0.%s' % (node_id or '0')[-1]}
    return {'swarm': swarm, 'nodes': nodes or []}


NODES = [{'id': 'n1', 'role': 'manager', 'manager_status': 'Leader', 'addr': '10.0.0.1', 'hostname': 'node1'},
         {'id': 'n2', 'role': 'worker', 'manager_status': None, 'addr': '10.0.0.2', 'hostname': 'node2'}]
HOSTVARS = {
    'm1': {'swarm_node_info': read('active', True, 'n1', NODES), 'swarm_node_advertise_addr': '10.0.0.1'},
    'w1': {'swarm_node_info': read('active', False, 'n2'), 'swarm_node_advertise_addr': '10.0.0.2'},
    'w2': {'swarm_node_info': read('inactive'), 'swarm_node_advertise_addr': '10.0.0.3'},
}


def test_bootstrap_plan_from_hostvars_distrusts_hosts_that_failed_in_the_run():
    plan_filter = filters(swarm_bootstrap_plan)['swarm_bootstrap_plan']
    plan = plan_filter(HOSTVARS, ['m1'], ['w1', 'w2'])
    assert (plan['action'], plan['manager'], plan['joins']) == ('use', 'm1', {'managers': [], 'workers': ['w2']})
    plan = plan_filter(HOSTVARS, ['m1'], ['w1', 'w2'], failed=['m1'], groups=['mgrs', 'wrks'])
    assert plan['action'] == 'fail' and 'm1: failed: failed earlier in this run' in plan['reason']


def test_managers_check_from_hostvars():
    check = filters(swarm_managers_check)['swarm_managers_check']
    assert check(HOSTVARS, ['m1'], ['w1', 'w2'])['ok']
    hostvars = dict(HOSTVARS, m2={'swarm_node_info': read('active', True, 'n9', NODES)})
    demoted = check(hostvars, ['m2'], ['m1', 'w1', 'w2'], groups=['mgrs', 'wrks'])
    assert not demoted['ok'] and 'm1 is in wrks' in demoted['reason']
    unread = check({'m1': {'swarm_node_info': {'unreachable': True, 'msg': 'gone'}}}, ['m1'], [])
    assert not unread['ok'] and 'm1 (unreachable: gone)' in unread['reason']
    assert 'demoting m1 would leave the swarm without a manager' in demoted['reason']
    # where 2377/tcp stays open: the inventory's managers, read or not (a manager down for the run keeps its
    # place), and the workers' group's managers of now (until demoted); never a worker
    assert unread['firewall_managers'] == ['m1']
    assert demoted['firewall_managers'] == ['m2', 'm1']
    assert check(HOSTVARS, ['m1'], ['w1', 'w2'])['firewall_managers'] == ['m1']


def test_firewall_managers_take_only_a_read_that_says_manager():
    # Hostile or broken reads of a workers'-group host never make it a manager (2377/tcp opened on it): a string,
    # a list, None, a failed or unreachable result, a swarm that is not a mapping, a truthy non-boolean flag
    # inside a failed read; and an inventory manager is kept whatever its read says.
    check = filters(swarm_managers_check)['swarm_managers_check']
    hostile = ['manager', ['control_available'], None, {'failed': True, 'msg': 'boom'},
               {'unreachable': True, 'msg': 'gone'}, {'swarm': 'control_available'}, {'swarm': None},
               {'swarm': {'control_available': False}}, {'swarm': {}}]
    for report in hostile:
        hostvars = dict(HOSTVARS, w1={'swarm_node_info': report, 'swarm_node_advertise_addr': '10.0.0.2'})
        assert check(hostvars, ['m1'], ['w1', 'w2'])['firewall_managers'] == ['m1'], report
        hostvars = dict(hostvars, m1={'swarm_node_info': report})
        assert check(hostvars, ['m1'], ['w1', 'w2'])['firewall_managers'] == ['m1'], report


def test_small_filters():
    assert filters(swarm_engine_absent)['swarm_engine_absent']({'failed': True, 'msg': 'x Connection refused'})
    assert filters(swarm_advertise_address)['swarm_advertise_address'](
        {'default_ipv4': {'address': '10.0.0.1'}}, 'h', '') == {'address': '10.0.0.1', 'error': ''}
    rolling = dict((host, dict(facts, docker_engine_plan={'restart': host != 'w2'})) for host, facts in HOSTVARS.items())
    assert filters(swarm_rolling_nodes)['swarm_rolling_nodes'](rolling, ['w1', 'w2', 'm1'], ['m1']) == ['m1', 'w1']
    assert filters(swarm_rolling_via)['swarm_rolling_via'](HOSTVARS, 'm1', ['m1']) == 'm1'
    assert filters(swarm_rolling_check)['swarm_rolling_check'](HOSTVARS['m1']['swarm_node_info'], 'n2', 'w1')['ok']
    assert filters(swarm_services_short)['swarm_services_short']({'services': []}) == []
    assert not filters(swarm_node_ready)['swarm_node_ready']({'nodes': NODES}, 'n2')  # no status: not Ready
    assert filters(swarm_changed)['swarm_changed']({'a': {'r': {'changed': True}}}, ['a'], ['r'])
    assert filters(swarm_inventory_check)['swarm_inventory_check']({'m': ['a']}, 'm', 'w', [])['ok']
    assert filters(swarm_remembered_addresses)['swarm_remembered_addresses'](
        HOSTVARS, ['gone'], ['m1']) == {'gone': ''}


def test_a_node_made_in_this_run_is_named_by_the_id_its_join_or_init_reported_not_a_read_again():
    """swarm_nodes reads a new node again only when no result of this run reported its ID: a changed join names the
    joined host, a changed swarm_init names only the leading manager it ran on (the result is registered on every
    host), and a read made anyway wins. Check mode (no ID) and unchanged results name nothing."""
    from ansible_collections.swarmops.swarm.plugins.filter import swarm_node_reported_id, swarm_nodes_plan
    reported = filters(swarm_node_reported_id)['swarm_node_reported_id']
    plan_of = filters(swarm_nodes_plan)['swarm_nodes_plan']
    init = {'changed': True, 'node_id': 'n1'}
    bootstrap = {'swarm_bootstrap_plan': {'manager': 'm1'}, 'swarm_bootstrap_result': init}
    hostvars = {
        'm1': dict(bootstrap, swarm_node_info=read('inactive')),
        'w1': dict(bootstrap, swarm_node_info=read('inactive'), swarm_member_join={'changed': True, 'node_id': 'n2'}),
        'w2': dict(bootstrap, swarm_node_info=read('inactive'), swarm_member_join={'changed': True, 'node_id': None}),
    }
    assert [reported(hostvars[h], h) for h in ('m1', 'w1', 'w2')] == ['n1', 'n2', '']
    assert reported(dict(bootstrap, swarm_bootstrap_result=dict(init, changed=False)), 'm1') == ''
    assert reported({'swarm_member_join': {'changed': False, 'node_id': 'n2'}}, 'w1') == ''
    assert reported({'swarm_member_join': {'skipped': True, 'changed': True, 'node_id': 'n2'}}, 'w1') == ''
    plan = plan_of(hostvars, ['m1', 'w1', 'w2'], ['m1'], 'm1', ['m1', 'w1', 'w2'])
    assert [entry['id'] for entry in plan['entries']] == ['n1', 'n2'] and list(plan['skipped']) == ['w2']
    assert plan['act'] and all('joined in it' in line for line in plan['changes'])
    hostvars['w2']['_swarm_nodes_local'] = read('active', False, 'n3')
    hostvars['w1']['_swarm_nodes_local'] = read('active', False, 'n7')
    plan = plan_of(hostvars, ['m1', 'w1', 'w2'], ['m1'], 'm1', ['m1', 'w1', 'w2'])
    assert [entry['id'] for entry in plan['entries']] == ['n1', 'n7', 'n3']
