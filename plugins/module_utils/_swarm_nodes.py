# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure planning logic of swarm_node: which node an entry means, what changes, in which order, and
whether the managers keep their quorum through every step.

Nothing here talks to an engine: functions take the Engine API's own JSON (GET /nodes, /tasks,
/services) and return decisions. Unit-tested in tests/unit/plugins/module_utils/test_swarm_nodes.py.
"""

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

import copy
import errno

from ansible_collections.swarmops.swarm.plugins.module_utils.swarm_cluster import manager_status, summarize_node

ROLES = ('worker', 'manager')
AVAILABILITIES = ('active', 'pause', 'drain')
LABELS_STATES = ('merge', 'replace')
# Task states in which a task still holds (or is about to hold) a container on its node.
ACTIVE_TASK_STATES = ('new', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting', 'running')


class NodeInputError(ValueError):
    """A request that cannot be carried out safely; raised before anything changes."""


# ---- reading node objects -----------------------------------------------------------------------

def node_hostname(node):
    return (node.get('Description') or {}).get('Hostname')


def node_state(node):
    """'ready', 'down', 'unknown', 'disconnected' (the node's Status.State)."""
    return (node.get('Status') or {}).get('State') or 'unknown'


def node_addr(node):
    return (node.get('Status') or {}).get('Addr')


def node_role(node):
    return (node.get('Spec') or {}).get('Role')


def is_manager(node):
    """A raft member (what quorum counts), or a node whose spec already says manager."""
    return bool(node.get('ManagerStatus')) or node_role(node) == 'manager'


def describe(node):
    """'hostname (ID, state, address)' for messages."""
    return '%s (%s, %s%s)' % (node_hostname(node) or '?', node.get('ID'), node_state(node),
                              ', %s' % node_addr(node) if node_addr(node) else '')


def quorum_after_demotion(nodes, node_id):
    """(ok, explanation): would the managers keep a quorum once NODE_ID is no longer one of them?

    The quorum is the one of the smaller swarm (a majority of the managers that remain), as swarmkit itself
    counts it: going from two managers to one is safe when both answer; demoting a reachable manager while
    another is unreachable may not be, and demoting the last manager never is.
    """
    managers = [n for n in nodes if n.get('ManagerStatus')]
    if node_id not in [n.get('ID') for n in managers]:
        return True, ''
    remaining = [n for n in managers if n.get('ID') != node_id]
    if not remaining:
        return False, 'it is the last manager: the swarm would have none'
    reachable = [n for n in remaining if manager_status(n) in ('Leader', 'Reachable')]
    needed = len(remaining) // 2 + 1
    if len(reachable) < needed:
        return False, ('the swarm would keep %d manager(s), so a quorum of %d, but only %d of them are reachable (%s '
                       'unreachable): it would stop accepting changes. Bring the unreachable managers back, or demote '
                       'them first' % (len(remaining), needed, len(reachable),
                                       ', '.join(node_hostname(n) or n.get('ID') for n in remaining if n not in reachable)))
    return True, ''


# ---- identifying nodes --------------------------------------------------------------------------

def resolve(nodes, node_id=None, hostname=None):
    """The one node meant by NODE_ID or HOSTNAME (None when no node matches).

    An ID names exactly one node. A hostname names a node only when exactly one entry carries it: a host
    that left and joined again is listed twice (a stale Down entry and the live one), and an unlucky
    guess between them could change or remove the wrong node, so an ambiguous hostname is refused with
    every candidate's ID, state and address.
    """
    if node_id:
        for node in nodes:
            if node.get('ID') == node_id:
                if hostname and node_hostname(node) != hostname:
                    raise NodeInputError('node ID %s is %s, not %s: give one of them, or both matching'
                                         % (node_id, node_hostname(node), hostname))
                return node
        return None
    named = [n for n in nodes if node_hostname(n) == hostname]
    if len(named) > 1:
        raise NodeInputError(
            'hostname %s names %d nodes: %s. A hostname is used only when it is unambiguous: give the ID of the '
            'node meant, or remove the stale entries first (prune_stale: true removes Down entries of a host '
            'that joined again)' % (hostname, len(named), '; '.join(describe(n) for n in named)))
    return named[0] if named else None


def resolve_ref(nodes, ref):
    """The node meant by REF, an ID or a hostname (an exact ID wins)."""
    for node in nodes:
        if node.get('ID') == ref:
            return node
    return resolve(nodes, hostname=ref)


def stale_entries(nodes):
    """Down worker entries left behind by a host that joined again: same hostname AND address as an entry
    that is not down. (Two different machines that share a hostname have different addresses, and a
    Down manager is still a raft member: neither is stale.)"""
    live = set((node_hostname(n), node_addr(n)) for n in nodes if node_state(n) != 'down')
    return [n for n in nodes
            if node_state(n) == 'down' and not is_manager(n) and (node_hostname(n), node_addr(n)) in live]


# ---- what an entry changes ----------------------------------------------------------------------

def normalize_labels(labels):
    return dict((str(k), '' if v is None else str(v)) for k, v in (labels or {}).items())


def wanted_spec(node, entry):
    """(new Spec, differences, before, after) for ENTRY ({role, availability, labels, labels_state}) on NODE."""
    spec = copy.deepcopy(node.get('Spec') or {})
    differences, before, after = [], {}, {}
    if entry.get('availability') is not None and spec.get('Availability') != entry['availability']:
        differences.append('availability')
        before['availability'], after['availability'] = spec.get('Availability'), entry['availability']
        spec['Availability'] = entry['availability']
    if entry.get('labels') is not None:
        current = dict(spec.get('Labels') or {})
        given = normalize_labels(entry['labels'])
        if (entry.get('labels_state') or 'replace') == 'merge':
            labels = dict(current, **given)
        else:
            labels = given
        if labels != current:
            differences.append('labels')
            before['labels'], after['labels'] = current, labels
            spec['Labels'] = labels
    if entry.get('role') is not None and spec.get('Role') != entry['role']:
        differences.append('role')
        before['role'], after['role'] = spec.get('Role'), entry['role']
        spec['Role'] = entry['role']
    return spec, differences, before, after


# ---- the plan ------------------------------------------------------------------------------------

def check_entries(entries):
    """Refuse entries that name no node, or a field with a value the Engine does not know."""
    for number, entry in enumerate(entries):
        where = 'nodes[%d]' % number
        if not entry.get('id') and not entry.get('hostname'):
            raise NodeInputError('%s: give hostname or id (as docker node ls shows them)' % where)
        for field, allowed in (('role', ROLES), ('availability', AVAILABILITIES), ('labels_state', LABELS_STATES)):
            if entry.get(field) is not None and entry[field] not in allowed:
                raise NodeInputError('%s.%s: %r is not one of %s' % (where, field, entry[field], ', '.join(allowed)))
        if entry.get('labels') is not None and not isinstance(entry['labels'], dict):
            raise NodeInputError('%s.labels: expected a dict of label names to values' % where)


def plan(nodes, entries, self_id=None, force=False, prune_stale=False):
    """Decide everything a bulk swarm_node call does, before any of it is done.

    NODES: GET /nodes. ENTRIES: [{id or hostname, role, availability, labels, labels_state}].
    SELF_ID: the node the module runs on (a demotion of it comes last: afterwards it cannot act as a manager).
    Returns {'prune': [node], 'steps': [step], 'unlisted': [node], 'unchanged': [node]} where each step is
    {'node', 'spec', 'differences', 'before', 'after', 'role_change': None|'promote'|'demote', 'entry'}:
    label and availability changes first, then promotions, then demotions (unreachable managers first), one at
    a time. Raises
    NodeInputError naming the hosts when an entry is ambiguous or unknown, a node is listed twice, or a role
    change would leave the managers without quorum at any step (unless FORCE).
    """
    check_entries(entries)
    prune = stale_entries(nodes) if prune_stale else []
    pruned_ids = set(n.get('ID') for n in prune)
    remaining = [n for n in nodes if n.get('ID') not in pruned_ids]

    resolved, missing, seen = [], [], {}
    for number, entry in enumerate(entries):
        try:
            node = resolve(remaining, node_id=entry.get('id'), hostname=entry.get('hostname'))
        except NodeInputError as exc:
            raise NodeInputError('nodes[%d]: %s' % (number, exc))
        if node is None:
            missing.append(entry.get('id') or entry.get('hostname'))
            continue
        if node.get('ID') in seen:
            raise NodeInputError('nodes[%d] and nodes[%d] both name %s: list each node once'
                                 % (seen[node['ID']], number, describe(node)))
        seen[node['ID']] = number
        resolved.append((entry, node))
    if missing:
        raise NodeInputError('no node %s in this swarm (docker node ls lists hostnames and IDs); nothing was changed'
                             % ', '.join(str(m) for m in missing))

    plain, promotions, demotions, unchanged = [], [], [], []
    for entry, node in resolved:
        spec, differences, before, after = wanted_spec(node, entry)
        step = {'node': node, 'spec': spec, 'differences': differences, 'before': before, 'after': after,
                'entry': entry, 'role_change': None}
        if not differences:
            unchanged.append(node)
        elif 'role' not in differences:
            plain.append(step)
        elif entry['role'] == 'manager':
            step['role_change'] = 'promote'
            promotions.append(step)
        else:
            step['role_change'] = 'demote'
            demotions.append(step)
    # Unreachable managers are demoted first (each one out raises the share of managers that answer); the node
    # the module runs on comes last: after that it is no manager and cannot go on.
    demotions.sort(key=lambda s: (s['node'].get('ID') == self_id,
                                  manager_status(s['node']) in ('Leader', 'Reachable')))
    steps = plain + promotions + demotions
    if promotions or demotions:
        check_role_changes(remaining, promotions, demotions, force)
    unlisted = [n for n in remaining if n.get('ID') not in seen]
    return {'prune': prune, 'steps': steps, 'unlisted': unlisted, 'unchanged': unchanged}


def check_role_changes(nodes, promotions, demotions, force):
    """Walk the role changes in order on a copy of the node list; refuse the whole plan (naming the hosts)
    when any step would fail or break the managers' quorum."""
    problems = []
    not_ready = [s['node'] for s in promotions if node_state(s['node']) != 'ready']
    if not_ready and not force:
        # A manager that cannot vote raises the quorum at once: promoting a node that is down weakens the swarm.
        problems.append('refusing to promote %s: a node is promoted only when it is ready (a manager that is down '
                        'counts towards the quorum without voting)' % ', '.join(describe(n) for n in not_ready))
    simulated = copy.deepcopy(nodes)
    by_id = dict((n.get('ID'), n) for n in simulated)
    managers = [n for n in simulated if n.get('ManagerStatus')]
    reachable = [n for n in managers if manager_status(n) in ('Leader', 'Reachable')]
    if managers and len(reachable) < len(managers) // 2 + 1 and not force:
        problems.append('refusing role changes: the swarm has %d of %d managers reachable, fewer than its quorum of '
                        '%d; no role change is safe until the unreachable managers are back'
                        % (len(reachable), len(managers), len(managers) // 2 + 1))
    for step in promotions:
        by_id[step['node']['ID']]['ManagerStatus'] = {'Reachability': 'reachable'}
    for step in demotions:
        node = by_id[step['node']['ID']]
        if not node.get('ManagerStatus'):
            continue
        ok, why = quorum_after_demotion(simulated, node['ID'])
        if not ok and not force:
            problems.append('refusing to demote %s: %s' % (node_hostname(node), why))
        node.pop('ManagerStatus', None)
    if problems:
        raise NodeInputError('%s. Nothing was changed (force: true overrides the quorum check)' % '; '.join(problems))


def step_summary(step):
    return {'id': step['node'].get('ID'), 'hostname': node_hostname(step['node']), 'differences': step['differences'],
            'before': step['before'], 'after': step['after']}


def simulated_summary(node, spec):
    """summarize_node of NODE as it will be once SPEC is applied (for check mode and a demoted self)."""
    after = copy.deepcopy(node)
    after['Spec'] = spec
    if spec.get('Role') == 'worker':
        after.pop('ManagerStatus', None)
    return summarize_node(after)


# ---- can the managers reach a node about to be promoted ------------------------------------------

MANAGEMENT_PORT = 2377


def port_verdict(error):
    """'open' or 'blocked' for the outcome of a TCP connect to a node's management port: ERROR is None (it
    answered) or the exception. A worker does not listen on 2377 yet, so a refused connection means the packet
    got there (the port is open in its firewall); a timeout or an unreachable host means a firewall drops or
    rejects it, and a promotion would leave the node in an error state ("could not connect to prospective new
    cluster member") until the port is opened and its engine restarted."""
    if error is None:
        return 'open'
    if getattr(error, 'errno', None) == errno.ECONNREFUSED or type(error).__name__ == 'ConnectionRefusedError':
        return 'open'
    return 'blocked'


def blocked_message(blocked):
    """The refusal for promotions whose node the managers cannot reach on 2377/tcp; BLOCKED: [(node, why)]."""
    return ('refusing to promote %s: the managers cannot reach %s on %d/tcp (raft), so the promotion would fail and '
            'leave the node in an error state. Open %d/tcp on it to the other managers first (the firewall role does '
            'for hosts in the managers\' group). Nothing was changed (force: true skips this check)'
            % (', '.join(describe(n) for n, _why in blocked),
               ', '.join('%s (%s)' % (node_hostname(n), why) for n, why in blocked), MANAGEMENT_PORT, MANAGEMENT_PORT))


# ---- waiting -------------------------------------------------------------------------------------

def role_reached(node, role):
    """Whether NODE's raft membership matches ROLE: a reachable manager, or no manager at all."""
    if role == 'manager':
        return manager_status(node) in ('Leader', 'Reachable')
    return not node.get('ManagerStatus')


def drain_progress(node_id, tasks, services):
    """(done, what is still awaited) for a drained node: no task of it holds a container any more, and every
    replicated service that ran there has its replicas running elsewhere.

    TASKS: GET /tasks; SERVICES: GET /services?status=true (ServiceStatus: RunningTasks, DesiredTasks).
    """
    waiting = []
    on_node = [t for t in tasks if t.get('NodeID') == node_id]
    still = [t for t in on_node if (t.get('Status') or {}).get('State') in ACTIVE_TASK_STATES
             and (t.get('DesiredState') == 'running' or (t.get('Status') or {}).get('State') == 'running')]
    if still:
        waiting.append('%d task(s) still on the node' % len(still))
    touched = set(t.get('ServiceID') for t in on_node)
    for service in services:
        if service.get('ID') not in touched:
            continue
        mode = (service.get('Spec') or {}).get('Mode') or {}
        if 'Replicated' not in mode:
            continue
        status = service.get('ServiceStatus') or {}
        running, desired = status.get('RunningTasks'), status.get('DesiredTasks')
        if running is None or desired is None or running >= desired:
            continue
        name = (service.get('Spec') or {}).get('Name')
        errors = sorted(set((t.get('Status') or {}).get('Err') or (t.get('Status') or {}).get('Message') or ''
                            for t in tasks if t.get('ServiceID') == service.get('ID')
                            and t.get('DesiredState') == 'running'
                            and (t.get('Status') or {}).get('State') != 'running') - set(['']))
        waiting.append('service %s has %d of %d replicas running%s' % (
            name, running, desired, ' (%s)' % '; '.join(errors) if errors else ''))
    return not waiting, '; '.join(waiting)
