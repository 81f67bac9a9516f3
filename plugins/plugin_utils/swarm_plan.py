# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The decisions of the swarm roles, taken from the one read of every node.

swarm_preflight reads each node once with swarm_info and registers the result as swarm_node_info; everything
here is decided from those results (and the inventory), so no role has to read the cluster again unless
something changed: which manager leads the swarm or initialises it, which nodes still have to join (managers
one at a time), which managers to unlock, the order in which engine changes roll over the nodes, what the
inventory may not change, and the advertise address of each node. Pure logic (no Ansible objects), so every
rule that protects a cluster is unit tested.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

from ansible.module_utils.six.moves.collections_abc import Mapping

# A node's state when its read gave no swarm state: no engine answered yet (bare host, stopped engine, no
# Docker SDK yet: the docker role installs and starts both), or it was not read at all.
NO_ENGINE = 'no-engine'
UNREAD = ('unreachable', 'failed', 'unknown')

# swarm_info fails with these when nothing answers on the engine's socket (it does not exist, or nothing
# listens), or when the Docker SDK the module talks through is not installed: "no engine yet", an answer.
# Every other failure (permissions, an engine error, a timeout) is an error and is reported as such.
_NO_SDK = 'Failed to import the required Python library'
_NO_SOCKET = ('ConnectionRefusedError', 'Connection refused', 'FileNotFoundError', 'No such file or directory')


def _swarm(report):
    """The 'swarm' part of a swarm_info result; {} for anything that is not one (a failed or malformed read)."""
    swarm = report.get('swarm') if isinstance(report, Mapping) else None
    return swarm if isinstance(swarm, Mapping) else {}


def manager_now(report):
    """Whether a node's own swarm_info read says it is a manager of its swarm now."""
    return _swarm(report).get('control_available') is True


def engine_absent(result):
    """Whether a swarm_info result is the failure that means "no engine answers here yet"."""
    if not isinstance(result, Mapping) or result.get('unreachable') or 'swarm' in result:
        return False
    message = str(result.get('msg') or '')
    return message.startswith(_NO_SDK) or any(marker in message for marker in _NO_SOCKET)


def read_state(result):
    """The node's swarm state from its registered swarm_info result: Docker's LocalNodeState (inactive,
    pending, active, error, locked), 'no-engine', or 'unreachable' / 'failed' / 'unknown' (not read)."""
    if not isinstance(result, Mapping) or result.get('skipped'):
        return 'unknown'
    if result.get('unreachable'):
        return 'unreachable'
    if 'swarm' in result and not result.get('failed'):
        return _swarm(result).get('local_node_state') or 'inactive'
    if engine_absent(result):
        return NO_ENGINE
    return 'failed'


def _why(result):
    state = read_state(result)
    if state == 'unknown':
        return 'not read'
    return '%s: %s' % (state, str((result or {}).get('msg') or 'no message').strip())


def reports_from(hostvars, hosts, failed=(), name='swarm_node_info'):
    """{host: registered read} of HOSTS from hostvars; hosts that FAILED later in the run count as failed."""
    out = {}
    for host in hosts:
        if host in failed:
            out[host] = {'failed': True, 'msg': 'failed earlier in this run'}
            continue
        try:
            out[host] = hostvars[host].get(name)
        except KeyError:
            out[host] = None
    return out


def _node_list(report):
    nodes = (report or {}).get('nodes') if isinstance(report, Mapping) else None
    return nodes if _swarm(report).get('control_available') and nodes else None


def _host_of_node(reports, node_id):
    for host, report in reports.items():
        if node_id and _swarm(report).get('node_id') == node_id:
            return host
    return None


def leader_host(managers, reports):
    """The inventory host that leads the swarm (from the first node list of a live manager), or None."""
    for host in managers:
        nodes = _node_list(reports.get(host))
        if nodes:
            leaders = [node.get('id') for node in nodes if node.get('manager_status') == 'Leader']
            return _host_of_node(reports, leaders[0]) if leaders else None
    return None


def plan_bootstrap(managers, workers, reports, groups=('swarm_managers', 'swarm_workers')):
    """Decide how this run forms or uses the swarm.

    managers, workers: inventory host names in inventory order. reports: {host: registered swarm_info result}
    (failed, unreachable and "no engine" results included; a host missing from it was not read). groups: the
    names of the managers' and the workers' groups, for the messages.

    Returns a dict: action ('use', 'init' or 'fail'), manager (the host that leads: every change to the swarm
    and every join goes through it; None on fail), reason (a sentence), cluster_id and manager_addr (of the
    leading manager, when known), leader (the inventory host that is the raft leader, when known), joins
    ({'managers': [...], 'workers': [...]}: the hosts not known to be in this swarm with their role, in
    inventory order; the managers join one at a time), unlock (locked managers), states ({host: state}).
    """
    managers, workers = list(managers), list(workers)
    reports = dict(reports or {})
    states = dict((host, read_state(reports.get(host))) for host in managers + workers)
    read = [host for host in managers if states[host] not in UNREAD]
    if not read:
        return _fail('No manager could be read (%s). Nothing can be initialised or joined without a live manager: '
                     'bring one back (or fix what the message says) and re-run.'
                     % '; '.join('%s: %s' % (host, _why(reports.get(host))) for host in managers) if managers
                     else 'The inventory has no manager.', states)
    # Managers whose swarm state is unknown may hold the swarm: they count as down for an init.
    down = [host for host in managers if states[host] in UNREAD + (NO_ENGINE,)]

    active = [host for host in managers if states[host] == 'active' and _swarm(reports[host]).get('control_available')]
    locked = [host for host in managers if states[host] == 'locked']
    clusters = {}
    for host in active:
        clusters.setdefault(_swarm(reports[host]).get('cluster_id') or 'unknown', []).append(host)
    if len(clusters) > 1:
        described = '; '.join('%s: %s' % (cluster, ', '.join(hosts)) for cluster, hosts in sorted(clusters.items()))
        return _fail('The managers in the inventory belong to different swarms (%s). One inventory is one swarm: '
                     'remove the hosts of the other swarm from %s, or make them leave it (docker swarm leave --force) '
                     'if they should join this one.' % (described, groups[0]), states)
    if active:
        manager = active[0]
        swarm = _swarm(reports[manager])
        plan = _plan('use', manager, '%s is a live manager of swarm %s' % (manager, swarm.get('cluster_id')), states)
        plan.update(cluster_id=swarm.get('cluster_id'), manager_addr=swarm.get('node_addr'),
                    leader=leader_host(active, reports))
    elif locked:
        manager = locked[0]
        plan = _plan('use', manager, '%s is a manager locked by autolock; it is unlocked with '
                                     'swarm_bootstrap_unlock_key' % manager, states)
        plan.update(manager_addr=_swarm(reports[manager]).get('node_addr'))
    else:
        # No live manager holds a swarm. Anything else that might hold one forbids a new init.
        in_swarm_workers = [host for host in workers if states[host] not in UNREAD + (NO_ENGINE, 'inactive')]
        if in_swarm_workers:
            return _fail('Workers %s are in a swarm, but no live manager is: its managers are down or not in this '
                         'inventory. Initialising now would create a second cluster. Bring a manager of that swarm '
                         'back (or add it to %s), or make the workers leave it (docker swarm leave) to start a new '
                         'swarm.' % (', '.join(in_swarm_workers), groups[0]), states)
        odd = [host for host in read if states[host] not in ('inactive', NO_ENGINE)]
        if odd:
            details = ', '.join('%s (%s)' % (host, states[host]) for host in odd)
            return _fail('Managers %s are in a swarm state that is neither inactive nor active. Look at `docker info` '
                         'on them; `docker swarm leave --force` resets a node that cannot recover.' % details, states)
        if down:
            return _fail('Managers %s are unreachable or their engine did not answer, and no live manager is in a '
                         'swarm: such a manager may hold the existing swarm, so initialising one now could split '
                         'the cluster. Re-run when they answer, or remove them from the inventory if they are gone '
                         'for good. (%s)' % (', '.join(down), '; '.join('%s: %s' % (host, _why(reports.get(host)))
                                                                        for host in down)), states)
        manager = read[0]
        plan = _plan('init', manager, 'no node is in a swarm yet: %s initialises it' % manager, states)

    plan['unlock'] = locked
    plan['joins'] = _joins(plan, managers, workers, reports, states)
    return plan


def _joins(plan, managers, workers, reports, states):
    """The hosts that still have to join, in inventory order. A host is left alone when the leading manager's
    node list (or, for a manager, its own read) shows it in this swarm, whatever its role (a role the inventory
    changed is converged by swarm_nodes, one node at a time); anything else goes to swarm_join, which leaves a
    member alone and refuses (or, when forced, moves) one of another swarm."""
    leading = reports.get(plan['manager'])
    nodes = dict((node.get('id'), node) for node in _node_list(leading) or [])
    out = {'managers': [], 'workers': []}
    for host in managers + workers:
        role = 'manager' if host in managers else 'worker'
        state = states[host]
        if host == plan['manager'] or state in UNREAD or (state == 'locked' and role == 'manager'):
            continue
        swarm = _swarm(reports.get(host))
        if state == 'active' and plan['action'] == 'use':
            node = nodes.get(swarm.get('node_id'))
            # in this swarm: its role, if the inventory changed it, is swarm_nodes' to converge (promote/demote)
            if node is not None:
                continue
            if (node is None and not nodes and role == 'manager' and swarm.get('control_available')
                    and swarm.get('cluster_id') == plan.get('cluster_id') and plan.get('cluster_id')):
                continue
        out[role + 's'].append(host)
    return out


def _plan(action, manager, reason, states):
    return {'action': action, 'manager': manager, 'reason': reason, 'cluster_id': None, 'manager_addr': None,
            'leader': None, 'joins': {'managers': [], 'workers': []}, 'unlock': [], 'states': states}


def _fail(reason, states):
    return _plan('fail', None, reason, states)


def manager_read_failures(managers, reports):
    """'' when at least one manager was read (an engine answered, or "no engine yet"), otherwise the refusal,
    naming every manager and why it could not be read."""
    if not managers:
        return ''
    if any(read_state(reports.get(host)) not in UNREAD for host in managers):
        return ''
    return ('No manager could be read, so there is nothing to plan the swarm from: %s. Bring at least one manager '
            'back (or fix what the message says), then re-run.'
            % '; '.join('%s (%s)' % (host, _why(reports.get(host))) for host in managers))


# Swarm states of a node whose engine restart takes running tasks (or a manager) away for a while.
MEMBER_STATES = ('active', 'locked', 'pending', 'error')


def roll_order(hosts, managers, reports):
    """The order in which engine changes roll over HOSTS, one node at a time: managers first (a manager that
    does not come back stops the roll before any worker is touched), the raft leader last among them (one
    leader election instead of one per manager), then the workers; inventory order otherwise."""
    hosts = list(hosts)
    leader = leader_host(managers, reports)
    first = [host for host in managers if host in hosts and host != leader]
    return first + ([leader] if leader in hosts else []) + [host for host in hosts if host not in managers]


def rolling_nodes(hostvars, hosts, managers, plan_name='docker_engine_plan'):
    """The HOSTS whose engine change restarts dockerd or containerd (PLAN_NAME.restart) while they are swarm
    members (their read shows a swarm state), in roll order. Other nodes change in parallel: a bare node or a
    stopped engine has nothing running to keep."""
    managers = list(managers)
    reports = reports_from(hostvars, list(hosts) + [m for m in managers if m not in hosts])
    restarting = []
    for host in hosts:
        try:
            plan = hostvars[host].get(plan_name) or {}
        except KeyError:
            continue
        if plan.get('restart') and read_state(reports.get(host)) in MEMBER_STATES:
            restarting.append(host)
    return roll_order(restarting, managers, reports)


def rolling_via(hostvars, host, managers):
    """The manager the roll of HOST talks to: the first live manager (by its read) other than HOST, so the
    node's return can be watched while its engine restarts; HOST itself when it is the only manager."""
    reports = reports_from(hostvars, list(managers))
    for manager in managers:
        swarm = _swarm(reports.get(manager))
        if manager != host and swarm.get('local_node_state') == 'active' and swarm.get('control_available'):
            return manager
    return host if host in managers else ''


def rolling_check(read, node_id, host):
    """May HOST (swarm node NODE_ID) go down for an engine restart now? READ: swarm_info (nodes) of a live manager.

    Returns {'ok', 'reason', 'node'}: the node must be in the swarm's node list; a manager only while the swarm
    keeps its quorum without it (a single-manager swarm has no other choice, and is allowed)."""
    nodes = (read or {}).get('nodes') or []
    node = next((entry for entry in nodes if node_id and entry.get('id') == node_id), None)
    if node is None:
        return {'ok': False, 'node': None, 'reason': '%s (node %s) is not in the node list of the swarm: the roll '
                                                     'stops before touching it.' % (host, node_id or 'unknown')}
    if node.get('role') != 'manager':
        return {'ok': True, 'node': node, 'reason': '%s is a worker' % host}
    total = read.get('managers_total') or 0
    reachable = read.get('managers_reachable') or 0
    quorum = read.get('quorum') or (total // 2 + 1)
    if total <= 1:
        return {'ok': True, 'node': node, 'reason': '%s is the only manager: the control plane pauses while its '
                                                    'engine restarts' % host}
    keeps = reachable - (1 if node.get('manager_status') in ('Leader', 'Reachable') else 0)
    if not read.get('has_quorum') or keeps < quorum:
        return {'ok': False, 'node': node, 'reason': (
            'Restarting the engine of %s now would leave %d of the swarm\'s %d managers reachable, below its quorum of '
            '%d: the roll stops before touching it. Bring the unreachable managers back, then re-run.'
            % (host, keeps, total, quorum))}
    return {'ok': True, 'node': node, 'reason': '%d of %d managers stay reachable while %s restarts'
                                                % (keeps, total, host)}


def services_to_spread(tasks, read, node_id):
    """The replicated services that run two or more tasks on NODE_ID while another Ready, active node runs at least
    two fewer of them: draining the node now would stop two of their tasks at once. Spreading them first (a
    rolling restart lets the scheduler place the tasks evenly) keeps every service at most one task short.

    tasks: raw task objects (ServiceID, NodeID, DesiredState, Status.State) of the swarm, as the Engine API lists
    them; read: swarm_info of a manager with nodes and services."""
    read = read or {}
    services = dict((service.get('id'), service) for service in read.get('services') or [])
    eligible = [node.get('id') for node in read.get('nodes') or []
                if node.get('id') != node_id and str(node.get('status')).lower() == 'ready'
                and node.get('availability') == 'active']
    counts = {}
    for task in tasks or []:
        if task.get('DesiredState') != 'running' or (task.get('Status') or {}).get('State') != 'running':
            continue
        per_node = counts.setdefault(task.get('ServiceID'), {})
        per_node[task.get('NodeID')] = per_node.get(task.get('NodeID'), 0) + 1
    out = []
    for service_id, per_node in counts.items():
        service = services.get(service_id) or {}
        here = per_node.get(node_id, 0)
        if service.get('mode') != 'replicated' or here < 2:
            continue
        if any(per_node.get(node, 0) <= here - 2 for node in eligible):
            out.append(service.get('name'))
    return sorted(name for name in out if name)


def tasks_of_read(read):
    """The tasks of a swarmops.swarm.swarm_info READ made with services and tasks (services[].tasks), in the
    Engine API's shape that services_to_spread counts (ServiceID, NodeID, DesiredState, Status.State)."""
    out = []
    for service in (read or {}).get('services') or []:
        for task in service.get('tasks') or []:
            out.append({'ServiceID': service.get('id'), 'NodeID': task.get('node_id'),
                        'DesiredState': task.get('desired_state'), 'Status': {'State': task.get('state')}})
    return out


def services_short(read):
    """'name running/desired' for every service of a swarm_info READ with fewer tasks running than desired."""
    return ['%s %s/%s' % (service.get('name'), service.get('replicas_running'), service.get('replicas_desired'))
            for service in (read or {}).get('services') or []
            if service.get('replicas_desired') is not None
            and (service.get('replicas_running') or 0) < service.get('replicas_desired')]


def node_ready(read, node_id):
    """Whether NODE_ID is Ready in a swarm_info READ with nodes (and, for a manager, Leader or Reachable)."""
    node = next((entry for entry in (read or {}).get('nodes') or [] if entry.get('id') == node_id), None)
    if node is None or str(node.get('status')).lower() != 'ready':
        return False
    return node.get('role') != 'manager' or node.get('manager_status') in ('Leader', 'Reachable')


def check_manager_roles(managers, workers, reports, addresses, groups=('swarm_managers', 'swarm_workers'),
                        worker_reports=None):
    """Refuse, before anything changes, an inventory whose change of the swarm's managers would lose its quorum.

    Returns {'ok': bool, 'reason': text}. site.yml converges the managers to the inventory's groups: a worker
    listed in the managers' group is promoted and a manager listed in the workers' group is demoted, one at a
    time through the leading manager (role swarm_nodes), and the firewall keeps 2377/tcp open on a manager until
    it has been demoted. A manager left out of the inventory is not demoted (playbooks/remove_node.yml does that)
    but the firewall, which opens the swarm ports to inventory hosts only, cuts it off: it counts as lost. So the
    reachable managers must hold a quorum of the swarm's managers once those are lost, and again after each
    demotion, one at a time (a majority of the managers that remain, as swarmkit counts it). And at least one
    manager of now must stay in the managers' group: the promotions and demotions go through it.

    managers, workers: inventory host names. reports: {manager host: swarm_info result with nodes} of the
    inventory's managers (failed reads included: they hold no node list). addresses: {host: advertise address}
    of the inventory's hosts (how swarm nodes are matched to inventory hosts). groups: the names of the
    managers' and the workers' groups, for the message. worker_reports: {worker host: its own swarm_info}, to
    tell an inventory that moved every manager of now to the workers' group.
    """
    live = [host for host in managers if _node_list(reports.get(host))]
    if not live:
        current = [host for host in workers if manager_now((worker_reports or {}).get(host))]
        if current:
            return {'ok': False, 'reason': (
                'Refusing to change the swarm\'s managers: none of the hosts in %s is a manager of the running '
                'swarm, and %s (in %s) %s. The promotions and demotions go through a manager of now: keep at least '
                'one of them in %s for this run (site.yml promotes the new managers, then demotes the others one at '
                'a time); move it to %s in a later run.'
                % (groups[0], ', '.join(current), groups[1], 'is its manager' if len(current) == 1 else
                   'are its managers', groups[0], groups[1]))}
        return {'ok': True, 'reason': 'no manager of a running swarm answered: nothing to protect yet'}
    nodes = reports[live[0]]['nodes']
    by_addr = dict((addr, host) for host, addr in addresses.items() if addr)
    swarm_managers = [n for n in nodes if n.get('manager_status')]
    kept, demoted, dropped = [], [], []
    for node in swarm_managers:
        host = by_addr.get(node.get('addr'))
        name = host or '%s (%s)' % (node.get('hostname'), node.get('addr'))
        reachable = node.get('manager_status') in ('Leader', 'Reachable')
        if host in managers:
            kept.append((name, reachable))
        elif host in workers:
            demoted.append((name, reachable))
        else:
            dropped.append((name, False))  # cut off by the firewall: lost to the quorum either way
    total = len(swarm_managers)
    quorum = total // 2 + 1
    reachable_now = len([name for name, reachable in kept + demoted if reachable])
    problem = None
    if reachable_now < quorum:
        problem = ('only %d reachable manager%s would remain of the swarm\'s %d, below its quorum of %d: the swarm '
                   'would have no leader and accept no change (services, joins) until the others are back'
                   % (reachable_now, '' if reachable_now == 1 else 's', total, quorum))
    else:
        # one demotion at a time; the unreachable ones first (taking those out only helps the others)
        remaining = kept + dropped + demoted
        for entry in sorted(demoted, key=lambda item: item[1]):
            remaining.remove(entry)
            have = len([name for name, reachable in remaining if reachable])
            need = len(remaining) // 2 + 1
            if not remaining:
                problem = 'demoting %s would leave the swarm without a manager' % entry[0]
                break
            if have < need:
                problem = ('demoting %s would leave %d reachable of the %d remaining managers, below their quorum '
                           'of %d: the swarm would stop accepting changes' % (entry[0], have, len(remaining), need))
                break
    if problem is None:
        return {'ok': True, 'reason': 'the inventory keeps %d of the swarm\'s %d managers as managers%s'
                                      % (len(kept), total, ' and demotes %s one at a time'
                                         % ', '.join(name for name, _state in demoted) if demoted else '')}
    parts = []
    if demoted:
        parts.append('%s %s in %s' % (', '.join(name for name, _state in demoted),
                                      'is' if len(demoted) == 1 else 'are', groups[1]))
    if dropped:
        parts.append('%s %s not in the inventory' % (', '.join(name for name, _state in dropped),
                                                     'is' if len(dropped) == 1 else 'are'))
    unreachable = [name for name, reachable in kept + demoted if not reachable]
    return {'ok': False, 'reason': (
        'Refusing to change the swarm\'s managers: the swarm has %d managers (%s); %s; %s%s. Nothing was changed. '
        'Fix: put them back in %s, or bring the unreachable managers back first; to have fewer managers, move '
        'them to %s a few at a time so that a quorum stays (site.yml demotes them one at a time), and remove a '
        'node for good with playbooks/remove_node.yml.'
        % (total, ', '.join(name for name, _state in kept + demoted + dropped), '; '.join(parts),
           problem,
           ' (unreachable now: %s)' % ', '.join(unreachable) if unreachable else '', groups[0], groups[1]))}


def check_inventory(groups, managers_group, workers_group, services, warn_even=True):
    """Refuse an inventory that cannot describe one swarm, and service definitions without unique names.

    Returns {'ok': bool, 'reason': text, 'summary': text}; summary also carries the warnings (an even number
    of managers). Reads only the inventory and the variables, nothing on a host.
    """
    managers = list(groups.get(managers_group) or [])
    workers = list(groups.get(workers_group) or [])
    problems = []
    if not managers:
        problems.append('The group %s is empty: add at least one host to it (see inventories/example/hosts.yml), or '
                        'set swarm_managers_group to the group that holds the managers.' % managers_group)
    both = [host for host in managers if host in workers]
    if both:
        problems.append('Hosts %s are in both %s and %s: a node is either a manager or a worker; remove each from '
                        'one of the groups.' % (', '.join(both), managers_group, workers_group))
    services = services if services is not None else []
    if isinstance(services, (str, bytes)) or not isinstance(services, (list, tuple)):
        problems.append('swarm_services must be a list of swarmops.swarm.swarm_service parameter dicts, got %s.'
                        % type(services).__name__)
    else:
        names = [service.get('name') if isinstance(service, Mapping) else None for service in services]
        repeated = sorted(set(name for name in names if name is not None and names.count(name) > 1))
        if None in names or repeated:
            problems.append('swarm_services must be a list of swarmops.swarm.swarm_service parameter dicts, each with '
                            'a unique name (names now: %s).' % ', '.join(str(name or '<no name>') for name in names))
    summary = '%d manager%s (%s), %d worker%s' % (len(managers), '' if len(managers) == 1 else 's', managers_group,
                                                  len(workers), '' if len(workers) == 1 else 's')
    if warn_even and managers and len(managers) % 2 == 0:
        summary += ('. WARNING: %d managers tolerate the loss of %d, no more than %d would. Use an odd number of '
                    'managers.' % (len(managers), (len(managers) - 1) // 2, len(managers) - 1))
    if problems:
        return {'ok': False, 'reason': 'The inventory cannot describe one swarm. ' + ' '.join(problems),
                'summary': summary}
    return {'ok': True, 'reason': '', 'summary': summary}


def host_addresses(read):
    """{'interfaces': {name: [IPv4 addresses]}, 'default': str} from READ: swarm_info's C(host) (what
    site.yml's first play reads, with the swarm, in one call) or gathered network facts (ansible_facts)."""
    read = read or {}
    interfaces = read.get('interfaces')
    if isinstance(interfaces, Mapping):  # swarm_info's host: addresses by interface already
        return {'interfaces': dict((str(name), [str(a) for a in (addresses or [])])
                                   for name, addresses in interfaces.items()),
                'default': str(read.get('default_ipv4') or '')}
    out = {}
    for name in interfaces or []:  # facts: interface names, each interface's facts under its name (- as _)
        address = ((read.get(str(name).replace('-', '_')) or {}).get('ipv4') or {}).get('address')
        out[str(name)] = [address] if address else []
    return {'interfaces': out, 'default': str((read.get('default_ipv4') or {}).get('address') or ''),
            'all': [str(a) for a in read.get('all_ipv4_addresses') or []]}


def advertise_address(host, requested, read):
    """The address other nodes reach HOST at, from its addresses (swarm_info's C(host), or gathered network
    facts): REQUESTED when it is an IPv4 address of the host, the address of the interface REQUESTED names, or
    (REQUESTED empty) the address of the default route. Returns {'address': str, 'error': str}."""
    known = host_addresses(read)
    requested = str(requested or '').strip()
    addresses = known.get('all') or [a for found in known['interfaces'].values() for a in found]
    if not requested:
        if not known['default']:
            return {'address': '', 'error': '%s has no default IPv4 route to take the advertise address from: set '
                                            'swarm_advertise_addr for it (an IPv4 address or interface of the host).'
                                            % host}
        return {'address': known['default'], 'error': ''}
    if requested in known['interfaces']:
        address = (known['interfaces'][requested] or [''])[0]
        if not address:
            return {'address': '', 'error': 'swarm_advertise_addr %s names an interface of %s without an IPv4 '
                                            'address.' % (requested, host)}
        return {'address': address, 'error': ''}
    try:
        ipaddress.ip_address(requested)
    except ValueError:
        return {'address': '', 'error': 'swarm_advertise_addr %s is neither an IPv4 address nor an interface of %s '
                                        '(its interfaces: %s).' % (requested, host,
                                                                   ', '.join(known['interfaces']))}
    if requested not in addresses:
        return {'address': '', 'error': 'swarm_advertise_addr %s is not an address of %s (its IPv4 addresses: %s): '
                                        'other nodes could not reach it there. Use one of those addresses, or an '
                                        'interface name.' % (requested, host, ', '.join(addresses))}
    return {'address': requested, 'error': ''}


def changed_in_run(hostvars, hosts, names):
    """Whether any of the registered results NAMES (a loop's results included) of HOSTS reports a change."""
    for host in hosts:
        try:
            facts = hostvars[host]
        except KeyError:
            continue
        for name in names:
            result = facts.get(name)
            if not isinstance(result, Mapping):
                continue
            if result.get('changed') or any(isinstance(item, Mapping) and item.get('changed')
                                            for item in result.get('results') or []):
                return True
    return False


def remembered_addresses(hostvars, missing, managers):
    """{host: address} for the MISSING hosts (members that did not answer this run), from the node list of the
    first manager that has one: the node whose hostname or address is the host's inventory name or ansible_host.
    A member that is down still has an address the others must keep in their firewall; the swarm remembers it."""
    reports = reports_from(hostvars, list(managers))
    nodes = next((_node_list(reports[host]) for host in managers if _node_list(reports[host])), None) or []
    out = {}
    for host in missing:
        try:
            names = [host, hostvars[host].get('ansible_host') or host]
        except KeyError:
            names = [host]
        known = [node.get('addr') for node in nodes if node.get('hostname') in names or node.get('addr') in names]
        out[host] = known[0] if known and known[0] else ''
    return out
