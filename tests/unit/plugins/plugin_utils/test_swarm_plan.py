"""The swarm roles' decisions from the one read of every node: which manager forms or leads the swarm (every
rule that keeps a cluster from splitting), who joins, who rolls first, what the inventory may not change."""

import pytest

from ansible_collections.swarmops.swarm.plugins.plugin_utils.swarm_plan import (
    advertise_address, changed_in_run, check_inventory, check_manager_roles, engine_absent, leader_host,
    manager_read_failures, node_ready, plan_bootstrap, read_state, remembered_addresses, roll_order, rolling_check,
    rolling_nodes, rolling_via, services_short, services_to_spread, tasks_of_read)
from ansible_collections.swarmops.swarm.plugins.filter.swarm_services_to_spread import swarm_services_to_spread

MANAGERS = ['m1', 'm2', 'm3']
WORKERS = ['w1', 'w2']


def report(state='inactive', manager=False, cluster=None):
    return {'swarm': {'local_node_state': state, 'control_available': manager, 'cluster_id': cluster}}


UNREACHABLE = {'unreachable': True, 'changed': False, 'msg': 'Failed to connect to the host via ssh'}
ERROR = {'failed': True, 'msg': 'Docker engine error: boom'}
NO_ENGINE = {'failed': False, 'failed_when_result': False,
             'msg': "Cannot talk to the Docker engine at unix:///var/run/docker.sock: Error while fetching server API "
                    "version: ('Connection aborted.', FileNotFoundError(2, 'No such file or directory')). Is docker "
                    "installed and running (systemctl status docker)?"}


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
    # No manager could be read at all: each named, with why.
    ({'m1': UNREACHABLE, 'm2': ERROR, 'w1': report(), 'w2': report()},
     ['No manager could be read', 'm1: unreachable: Failed to connect', 'm2: failed: Docker engine error: boom',
      'm3: not read']),
    # Managers whose engine did not answer (even after the run installed it) may hold the swarm: no init.
    ({'m1': report(), 'm2': NO_ENGINE, 'm3': report(), 'w1': report(), 'w2': report()},
     ['m2', 'did not answer', 'split']),
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


# ---- quorum protection: the inventory's changes of the managers must keep the quorum ----

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
    # no engine yet: swarm_info failed (and the read made that an answer) and carries no swarm
    reports = {'m1': {'failed': True, 'msg': 'no engine'}}
    assert check_manager_roles(['m1'], WORKERS, reports, ADDRESSES)['ok']
    assert check_manager_roles(['m1'], WORKERS, {}, ADDRESSES)['ok']


def test_demoting_managers_one_at_a_time_that_all_answer_is_allowed():
    # 3 -> 2 -> 1: each step keeps a majority of the managers that remain (swarmkit's rule)
    check = check_manager_roles(['m1'], ['m2', 'm3'] + WORKERS, {'m1': manager_report(THREE)}, ADDRESSES)
    assert check['ok'] and 'demotes m2, m3 one at a time' in check['reason'], check
    check = check_manager_roles(['m1', 'm2'], ['m3'] + WORKERS, {'m1': manager_report(THREE)}, ADDRESSES)
    assert check['ok'], check


def test_a_demotion_that_leaves_too_few_reachable_managers_is_refused_naming_them():
    statuses = dict(THREE, **{'10.0.0.3': 'Unreachable'})
    check = check_manager_roles(['m1', 'm3'], ['m2'] + WORKERS, {'m1': manager_report(statuses)}, ADDRESSES)
    assert not check['ok']
    reason = check['reason']
    for fragment in ('the swarm has 3 managers', 'm2 is in swarm_workers',
                     'demoting m2 would leave 1 reachable of the 2 remaining managers, below their quorum of 2',
                     'unreachable now: m3', 'Nothing was changed', 'put them back in swarm_managers'):
        assert fragment in reason, reason
    # the unreachable one demoted first, then a reachable one: 5 managers, 1 down, demote it and another
    five = dict(THREE, **{'10.0.0.4': 'Reachable', '10.0.0.5': 'Unreachable'})
    addresses = dict(ADDRESSES, m4='10.0.0.4', m5='10.0.0.5')
    check = check_manager_roles(['m1', 'm2', 'm3'], ['m4', 'm5'] + WORKERS, {'m1': manager_report(five)}, addresses)
    assert check['ok'], check  # 5 -> 4 (4 reachable) -> 3 (3 reachable)


def test_every_manager_of_now_moved_to_the_workers_is_refused():
    # the managers' group names only hosts that are workers now: no manager to act through
    worker_reports = dict((h, {'swarm': {'local_node_state': 'active', 'control_available': True}})
                          for h in MANAGERS)
    check = check_manager_roles(['w1'], MANAGERS + ['w2'], {'w1': {'swarm': {'local_node_state': 'active'}}},
                                ADDRESSES, worker_reports=worker_reports)
    assert not check['ok']
    for fragment in ('none of the hosts in swarm_managers is a manager of the running swarm',
                     'm1, m2, m3 (in swarm_workers) are its managers', 'keep at least one of them in swarm_managers'):
        assert fragment in check['reason'], check['reason']


def test_removing_two_of_three_managers_from_the_inventory_is_refused():
    addresses = dict((h, a) for h, a in ADDRESSES.items() if h not in ('m2', 'm3'))
    check = check_manager_roles(['m1'], WORKERS, {'m1': manager_report(THREE)}, addresses)
    assert not check['ok']
    assert 'node-10.0.0.2 (10.0.0.2), node-10.0.0.3 (10.0.0.3) are not in the inventory' in check['reason']
    assert "only 1 reachable manager would remain of the swarm's 3, below its quorum of 2" in check['reason']


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


def test_roles_check_names_renamed_groups():
    statuses = dict(THREE, **{'10.0.0.3': 'Unreachable'})
    check = check_manager_roles(['m1', 'm3'], ['m2'] + WORKERS, {'m1': manager_report(statuses)}, ADDRESSES,
                                groups=('mgrs', 'wrks'))
    assert 'm2 is in wrks' in check['reason'] and 'put them back in mgrs' in check['reason']


# ---- the read: "no engine yet" is an answer, any other failure an error ---------------------------------

NO_SDK = {'failed': True, 'msg': "Failed to import the required Python library (docker (Docker SDK for Python: install "
                                 "the python3-docker package ...)) on node's Python /usr/bin/python3."}
REFUSED = {'failed': True, 'msg': "Cannot talk to the Docker engine at unix:///var/run/docker.sock: Error while fetching "
                                  "server API version: ('Connection aborted.', ConnectionRefusedError(111, 'Connection "
                                  "refused')). Is docker installed and running (systemctl status docker)?"}
DENIED = {'failed': True, 'msg': "Cannot talk to the Docker engine at unix:///var/run/docker.sock: Error while fetching "
                                 "server API version: ('Connection aborted.', PermissionError(13, 'Permission denied'))"}


@pytest.mark.parametrize('result, absent, state', [
    (NO_SDK, True, 'no-engine'),                  # bare host: the docker role installs the SDK
    (REFUSED, True, 'no-engine'),                 # engine stopped: the socket is there, nothing listens
    (NO_ENGINE, True, 'no-engine'),               # no socket at all; failed_when already made it an answer
    (DENIED, False, 'failed'),                    # permissions: an error, never "nothing there"
    (ERROR, False, 'failed'),                     # the engine answered with an error
    ({'failed': True, 'msg': 'Timeout: the read took too long'}, False, 'failed'),
    (UNREACHABLE, False, 'unreachable'),
    ({'skipped': True}, False, 'unknown'),
    (None, False, 'unknown'),
    (report('active', True, 'c1'), False, 'active'),
    ({'swarm': {'local_node_state': 'locked'}}, False, 'locked'),
    ({'swarm': {}}, False, 'inactive'),
])
def test_reads_are_classified(result, absent, state):
    assert engine_absent(result) is absent
    assert read_state(result) == state


def test_preflight_refuses_only_when_no_manager_could_be_read():
    assert manager_read_failures(MANAGERS, {'m1': NO_ENGINE, 'm2': UNREACHABLE}) == ''  # bare: an answer
    assert manager_read_failures(MANAGERS, {'m3': report()}) == ''
    refusal = manager_read_failures(MANAGERS, {'m1': UNREACHABLE, 'm2': ERROR, 'm3': DENIED})
    for fragment in ('No manager could be read', 'm1 (unreachable: Failed to connect', 'm2 (failed: Docker engine '
                     'error: boom)', 'm3 (failed: Cannot talk', 'Permission denied', 'Bring at least one manager'):
        assert fragment in refusal


# ---- who joins: only nodes the leading manager's node list does not show with their role --------------

def node(node_id, role, status='Leader'):
    return {'id': node_id, 'role': role, 'manager_status': status if role == 'manager' else None,
            'addr': '10.0.0.%s' % node_id[-1], 'hostname': node_id}


def formed(extra_nodes=()):
    """m1 leads (nodes n1..), m2 and m3 managers, w1 and w2 workers, all in swarm c1."""
    nodes = [node('n1', 'manager'), node('n2', 'manager', 'Reachable'), node('n3', 'manager', 'Reachable'),
             node('n4', 'worker'), node('n5', 'worker')] + list(extra_nodes)
    reports = {}
    for index, host in enumerate(MANAGERS + WORKERS):
        manager = host.startswith('m')
        reports[host] = {'swarm': {'local_node_state': 'active', 'control_available': manager,
                                   'cluster_id': 'c1' if manager else None, 'node_id': 'n%d' % (index + 1),
                                   'node_addr': '10.0.0.%d' % (index + 1)},
                         'nodes': nodes if manager else [], 'has_quorum': manager}
    return reports


def test_an_unchanged_cluster_joins_nobody():
    plan = plan_bootstrap(MANAGERS, WORKERS, formed())
    assert (plan['action'], plan['manager'], plan['cluster_id'], plan['manager_addr']) == ('use', 'm1', 'c1',
                                                                                           '10.0.0.1')
    assert plan['joins'] == {'managers': [], 'workers': []} and plan['unlock'] == []
    assert plan['leader'] == 'm1'


def test_nodes_outside_the_swarm_join_in_inventory_order():
    reports = formed()
    reports['w1'] = report()                                            # left the swarm
    reports['w2']['swarm']['node_id'] = 'other'                         # in another swarm
    reports['m2'] = NO_ENGINE                                           # engine still not answering
    plan = plan_bootstrap(MANAGERS, WORKERS, reports)
    assert plan['joins'] == {'managers': ['m2'], 'workers': ['w1', 'w2']}


def test_a_member_whose_inventory_role_changed_is_not_a_join():
    # m3's node is a worker of the swarm (to be promoted), w1's a manager (to be demoted): swarm_nodes converges
    # roles one at a time; a join of a member would be refused by swarm_join
    reports = formed([node('n6', 'manager', 'Reachable')])
    reports['m3']['swarm'].update(node_id='n4', control_available=False)
    reports['w1']['swarm'].update(node_id='n6', control_available=True)
    plan = plan_bootstrap(MANAGERS, WORKERS, reports)
    assert plan['action'] == 'use' and plan['joins'] == {'managers': [], 'workers': []}


def test_unread_hosts_do_not_join_and_locked_managers_are_unlocked_not_joined():
    reports = formed()
    reports['m2'] = {'swarm': {'local_node_state': 'locked'}}
    reports['w1'] = UNREACHABLE
    reports['w2'] = ERROR
    plan = plan_bootstrap(MANAGERS, WORKERS, reports)
    assert plan['unlock'] == ['m2'] and plan['joins'] == {'managers': [], 'workers': []}


def test_a_new_swarm_joins_everyone_else_and_a_fresh_node_is_no_reason_to_refuse():
    plan = plan_bootstrap(MANAGERS, WORKERS, fresh(MANAGERS + WORKERS))
    assert plan['joins'] == {'managers': ['m2', 'm3'], 'workers': ['w1', 'w2']}
    reports = fresh(MANAGERS)
    reports.update({'w1': NO_ENGINE, 'w2': report()})  # a worker still without an engine cannot hold a swarm
    assert plan_bootstrap(MANAGERS, WORKERS, reports)['action'] == 'init'


def test_through_a_locked_manager_only_proven_managers_are_left_alone():
    reports = formed()
    for host in MANAGERS:
        reports[host] = {'swarm': {'local_node_state': 'locked', 'node_addr': '10.0.0.9'}}
    plan = plan_bootstrap(MANAGERS, WORKERS, reports)
    assert (plan['action'], plan['manager'], plan['unlock']) == ('use', 'm1', MANAGERS)
    # no node list to prove the workers' membership: swarm_join decides (a member is left alone)
    assert plan['joins'] == {'managers': [], 'workers': ['w1', 'w2']}
    # m3 answers as an active manager: it leads instead
    assert plan_bootstrap(MANAGERS, WORKERS, dict(reports, m3=formed()['m3']))['manager'] == 'm3'


def test_a_manager_without_a_node_list_keeps_managers_of_its_swarm_and_joins_the_rest():
    reports = formed()
    for host in MANAGERS:
        reports[host]['nodes'] = []  # e.g. no leader for a moment
    plan = plan_bootstrap(MANAGERS, WORKERS, reports)
    assert plan['joins'] == {'managers': [], 'workers': ['w1', 'w2']}


# ---- the roll order: managers first, the leader last among them, then the workers ----------------------

def test_roll_order_puts_the_leader_last_among_the_managers():
    reports = formed()
    reports['m1']['nodes'] = [dict(n, manager_status='Reachable' if n['id'] == 'n1' else
                                   ('Leader' if n['id'] == 'n2' else n['manager_status'])) for n in reports['m1']['nodes']]
    assert leader_host(MANAGERS, reports) == 'm2'
    assert roll_order(['w2', 'm2', 'w1', 'm1', 'm3'], MANAGERS, reports) == ['m1', 'm3', 'm2', 'w2', 'w1']
    assert roll_order(['w1', 'm3'], MANAGERS, reports) == ['m3', 'w1']
    assert roll_order(['w1'], MANAGERS, {}) == ['w1']


# ---- the inventory --------------------------------------------------------------------------------

@pytest.mark.parametrize('groups, services, ok, fragments', [
    ({'swarm_managers': ['m1'], 'swarm_workers': ['w1']}, [{'name': 'a'}], True, ['1 manager (swarm_managers), 1 worker']),
    ({'swarm_workers': ['w1']}, [], False, ['The group swarm_managers is empty', 'add at least one host to it',
                                            'swarm_managers_group']),
    ({'swarm_managers': ['m1', 'w1'], 'swarm_workers': ['w1']}, [], False,
     ['Hosts w1 are in both swarm_managers and swarm_workers', 'remove each from one of the groups']),
    ({'swarm_managers': ['m1']}, [{'name': 'a'}, {'name': 'a'}, {'image': 'x'}], False,
     ['each with a unique name (names now: a, a, <no name>)']),
    ({'swarm_managers': ['m1']}, 'web', False, ['swarm_services must be a list', 'got str']),
    ({'swarm_managers': ['m1', 'm2']}, None, True, ['WARNING: 2 managers tolerate the loss of 0']),
])
def test_inventory_check(groups, services, ok, fragments):
    check = check_inventory(groups, 'swarm_managers', 'swarm_workers', services)
    assert check['ok'] is ok
    for fragment in fragments:
        assert fragment in check['reason'] + check['summary']


def test_inventory_check_reads_the_groups_it_is_told():
    check = check_inventory({'mgrs': ['a'], 'swarm_managers': []}, 'mgrs', 'wrks', [])
    assert check['ok'] and check['summary'].startswith('1 manager (mgrs)')
    assert 'WARNING' not in check_inventory({'m': ['a', 'b']}, 'm', 'w', [], warn_even=False)['summary']


# ---- the advertise address ------------------------------------------------------------------------

FACTS = {'default_ipv4': {'address': '10.0.0.1', 'interface': 'eth0'}, 'all_ipv4_addresses': ['10.0.0.1', '192.168.5.1'],
         'interfaces': ['lo', 'eth0', 'eth-1'], 'eth_1': {'ipv4': {'address': '192.168.5.1'}}, 'eth0': {}}
# swarm_info addresses=true (what site.yml uses: no facts): addresses by interface (an interface may hold several)
# and the default route's source
READ = {'interfaces': {'lo': ['127.0.0.1'], 'eth0': [], 'eth-1': ['192.168.5.1', '192.168.5.2'], 'ens3': ['10.0.0.1']},
        'default_ipv4': '10.0.0.1'}


@pytest.mark.parametrize('read, requested, address, error', [
    (FACTS, '', '10.0.0.1', ''),
    (FACTS, '192.168.5.1', '192.168.5.1', ''),
    (FACTS, 'eth-1', '192.168.5.1', ''),                 # interface names with dashes: facts use underscores
    (FACTS, '10.9.9.9', '', 'swarm_advertise_addr 10.9.9.9 is not an address of h1 (its IPv4 addresses: 10.0.0.1, '
     '192.168.5.1): other nodes could not reach it there. Use one of those addresses, or an interface name'),
    (FACTS, 'eth0', '', 'names an interface of h1 without an IPv4 address'),
    (FACTS, 'wlan9', '', 'neither an IPv4 address nor an interface of h1 (its interfaces: lo, eth0, eth-1)'),
    (READ, '', '10.0.0.1', ''),
    (READ, '192.168.5.2', '192.168.5.2', ''),
    (READ, 'eth-1', '192.168.5.1', ''),
    (READ, '10.9.9.9', '', 'swarm_advertise_addr 10.9.9.9 is not an address of h1 (its IPv4 addresses: 127.0.0.1, '
     '192.168.5.1, 192.168.5.2, 10.0.0.1)'),
    (READ, 'eth0', '', 'names an interface of h1 without an IPv4 address'),
    (READ, 'wlan9', '', 'neither an IPv4 address nor an interface of h1 (its interfaces: lo, eth0, eth-1, ens3)'),
], ids=lambda value: value if isinstance(value, str) else None)
def test_advertise_address(read, requested, address, error):
    # the same answers and messages from gathered facts and from the swarm read
    result = advertise_address('h1', requested, read)
    assert result['address'] == address and error in result['error'] and bool(result['error']) is bool(error)


def test_advertise_address_from_hostile_reads():
    assert advertise_address('h1', 'eth-1', READ)['address'] == '192.168.5.1'
    for hostile in (None, {}, {'interfaces': {}, 'default_ipv4': None}, {'interfaces': None}, {'interfaces': []}):
        assert 'h1 has no default IPv4 route' in advertise_address('h1', '', hostile)['error'], hostile
        assert 'is neither an IPv4 address nor an interface' in advertise_address('h1', 'eth0', hostile)['error']
    # an address the host does not have is refused whatever the read says its default is
    assert advertise_address('h1', '10.0.0.9', dict(READ, default_ipv4='10.0.0.9'))['error']


def test_no_default_route_asks_for_an_address():
    assert 'h1 has no default IPv4 route' in advertise_address('h1', '', {})['error']


# ---- changes in the run, and the addresses the swarm remembers --------------------------------------

def test_changed_in_run_looks_at_results_and_loops():
    hostvars = {'a': {'x': {'changed': False}, 'y': {'skipped': True, 'changed': False}},
                'b': {'x': {'results': [{'changed': False}, {'changed': True}]}}}
    assert changed_in_run(hostvars, ['a', 'b'], ['x'])
    assert not changed_in_run(hostvars, ['a'], ['x', 'y', 'z'])
    assert not changed_in_run(hostvars, ['missing'], ['x'])


def test_remembered_addresses_come_from_a_managers_node_list():
    reports = formed()
    hostvars = dict((host, {'swarm_node_info': report_}) for host, report_ in reports.items())
    hostvars['w1'] = {'ansible_host': 'n4'}
    hostvars['m1'] = {'swarm_node_info': UNREACHABLE}  # down: the next manager's list is used
    assert remembered_addresses(hostvars, ['w1', 'nobody'], MANAGERS) == {'w1': '10.0.0.4', 'nobody': ''}


def test_rolling_nodes_are_members_whose_engine_restarts_in_roll_order():
    reports = formed()
    hostvars = dict((host, {'swarm_node_info': report_, 'docker_engine_plan': {'restart': True}})
                    for host, report_ in reports.items())
    hostvars['w1']['swarm_node_info'] = NO_ENGINE       # stopped engine: nothing running to keep
    hostvars['w2']['docker_engine_plan'] = {'restart': False, 'changed': True}
    hostvars['m3']['swarm_node_info'] = {'swarm': {'local_node_state': 'inactive'}}  # not a member
    assert rolling_nodes(hostvars, MANAGERS + WORKERS, MANAGERS) == ['m2', 'm1']  # m1 leads: last
    del hostvars['m2']['docker_engine_plan']
    assert rolling_nodes(hostvars, MANAGERS + WORKERS, MANAGERS) == ['m1']


def test_rolling_via_is_another_live_manager_or_the_only_one():
    hostvars = dict((host, {'swarm_node_info': report_}) for host, report_ in formed().items())
    assert rolling_via(hostvars, 'm1', MANAGERS) == 'm2'
    assert rolling_via(hostvars, 'w1', MANAGERS) == 'm1'
    hostvars['m2']['swarm_node_info'] = hostvars['m3']['swarm_node_info'] = UNREACHABLE
    assert rolling_via(hostvars, 'm1', MANAGERS) == 'm1'
    assert rolling_via({'w1': {}}, 'w1', ['m1']) == ''


def quorum_read(statuses, has_quorum=True):
    nodes = [{'id': 'n%d' % i, 'role': 'manager', 'manager_status': status} for i, status in enumerate(statuses, 1)]
    nodes.append({'id': 'w', 'role': 'worker', 'manager_status': None})
    reachable = len([s for s in statuses if s in ('Leader', 'Reachable')])
    return {'nodes': nodes, 'managers_total': len(statuses), 'managers_reachable': reachable,
            'quorum': len(statuses) // 2 + 1, 'has_quorum': has_quorum}


def test_rolling_check_keeps_the_quorum():
    three = quorum_read(['Leader', 'Reachable', 'Reachable'])
    assert rolling_check(three, 'n2', 'm2')['ok'] and rolling_check(three, 'w', 'w1')['ok']
    degraded = quorum_read(['Leader', 'Reachable', 'Unreachable'])
    check = rolling_check(degraded, 'n1', 'm1')
    assert not check['ok'] and 'leave 1 of the swarm\'s 3 managers reachable, below its quorum of 2' in check['reason']
    assert rolling_check(degraded, 'n3', 'm3')['ok']          # the unreachable one: nothing more to lose
    assert not rolling_check(quorum_read(['Leader', 'Reachable', 'Reachable'], has_quorum=False), 'n2', 'm2')['ok']
    assert rolling_check(quorum_read(['Leader']), 'n1', 'm1')['ok']   # the only manager
    missing = rolling_check(three, 'gone', 'm9')
    assert not missing['ok'] and 'm9 (node gone) is not in the node list' in missing['reason']


def test_services_short_and_node_ready():
    read = {'services': [{'name': 'a', 'replicas_running': 1, 'replicas_desired': 2},
                         {'name': 'b', 'replicas_running': 3, 'replicas_desired': 3},
                         {'name': 'job', 'replicas_running': 0, 'replicas_desired': None}]}
    assert services_short(read) == ['a 1/2'] and services_short({}) == []
    nodes = {'nodes': [{'id': 'm', 'role': 'manager', 'status': 'ready', 'manager_status': 'Unreachable'},
                       {'id': 'w', 'role': 'worker', 'status': 'Ready'}, {'id': 'd', 'role': 'worker', 'status': 'down'}]}
    assert node_ready(nodes, 'w') and not node_ready(nodes, 'm') and not node_ready(nodes, 'd')
    assert not node_ready(nodes, 'x')


def test_services_to_spread_before_a_drain():
    read = {'nodes': [{'id': 'a', 'status': 'ready', 'availability': 'active'},
                      {'id': 'b', 'status': 'ready', 'availability': 'active'},
                      {'id': 'c', 'status': 'down', 'availability': 'active'}],
            'services': [{'id': 's1', 'name': 'web', 'mode': 'replicated'}, {'id': 's2', 'name': 'agent', 'mode': 'global'},
                         {'id': 's3', 'name': 'db', 'mode': 'replicated'}, {'id': 's4', 'name': 'even', 'mode': 'replicated'}]}

    def task(service, node, state='running', desired='running'):
        return {'ServiceID': service, 'NodeID': node, 'DesiredState': desired, 'Status': {'State': state}}
    tasks = [task('s1', 'a'), task('s1', 'a'), task('s1', 'b', 'starting'),      # web: 2 here, 0 running on b
             task('s2', 'a'), task('s2', 'a', 'shutdown', 'shutdown'),            # global: never spread
             task('s3', 'a'), task('s3', 'b'),                                    # db: one here
             task('s4', 'a'), task('s4', 'a'), task('s4', 'b'), task('s4', 'b')]  # even: b runs as many
    assert services_to_spread(tasks, read, 'a') == ['web']
    assert services_to_spread(tasks, read, 'b') == []
    # the only other node is down: nowhere to spread to
    assert services_to_spread(tasks, dict(read, nodes=[read['nodes'][0], read['nodes'][2]]), 'a') == []


def test_services_to_spread_from_a_swarm_info_read_with_tasks():
    """The filter's input: swarm_info's services[].tasks (summaries), not the Engine API's task objects."""
    def task(node, state='running', desired='running'):
        return {'node_id': node, 'state': state, 'desired_state': desired}
    read = {'nodes': [{'id': 'a', 'status': 'ready', 'availability': 'active'},
                      {'id': 'b', 'status': 'ready', 'availability': 'active'}],
            'services': [{'id': 's1', 'name': 'web', 'mode': 'replicated',
                          'tasks': [task('a'), task('a'), task('b', 'failed', 'shutdown')]},
                         {'id': 's2', 'name': 'db', 'mode': 'replicated', 'tasks': [task('a'), task('a'), task('b')]},
                         {'id': 's3', 'name': 'quiet', 'mode': 'replicated'}]}
    assert tasks_of_read(read)[0] == {'ServiceID': 's1', 'NodeID': 'a', 'DesiredState': 'running',
                                      'Status': {'State': 'running'}}
    assert services_to_spread(tasks_of_read(read), read, 'a') == ['web']
    assert swarm_services_to_spread(read, 'a') == ['web']
    assert swarm_services_to_spread(read, 'a', as_updates=True) == [{'name': 'web', 'force_update': True}]
    assert swarm_services_to_spread({}, 'a') == []


def test_the_engine_clients_own_errors_are_classified(tmp_path):
    """The messages of module_utils/_engine.py itself, produced against a missing socket, one nobody listens on,
    and one that answers but is not an engine: only the first two mean "no engine yet"."""
    import socket
    from ansible_collections.swarmops.swarm.plugins.module_utils._engine import EngineClient, EngineError

    def message_for(url):
        with pytest.raises(EngineError) as err:
            EngineClient(base_url=url, timeout=5).negotiate()
        return {'failed': True, 'msg': str(err.value)}

    assert engine_absent(message_for('unix://%s/missing.sock' % tmp_path))
    dead = tmp_path / 'dead.sock'
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(dead))
    listener.close()                                   # the file stays, nothing listens: ECONNREFUSED
    assert engine_absent(message_for('unix://%s' % dead))
    assert read_state(message_for('unix://%s' % dead)) == 'no-engine'
