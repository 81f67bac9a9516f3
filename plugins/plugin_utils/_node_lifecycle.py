# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side decisions of the day-2 roles and playbooks, from what swarm_info reported.

- node_entries: the inventory's per-host node state as one swarm_node ``nodes`` list.
- converge_plan: whether site.yml's node step must call swarm_node at all, from the reads the run already has,
  and the swarm's nodes that no inventory host stands for.
- removal_plan: what playbooks/remove_node.yml does for ``-e node=NAME``, and through which manager.
Unit-tested in tests/unit/plugins/plugin_utils/test_node_lifecycle.py.
"""

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

from ansible_collections.swarmops.swarm.plugins.module_utils._swarm_nodes import (
    AVAILABILITIES, LABELS_STATES, stale_entries, wanted_spec,
)


class LifecycleError(ValueError):
    """Bad input, refused before anything changes; the message names the host and the variable."""


def _report_swarm(report):
    return (report or {}).get('swarm') or {}


def live_manager(reports, preferred=None, exclude=()):
    """An inventory host whose engine is an active manager of a swarm that has quorum (PREFERRED first)."""
    order = ([preferred] if preferred else []) + sorted(h for h in reports if h != preferred)
    for host in order:
        report = reports.get(host) or {}
        swarm = _report_swarm(report)
        if host in exclude or not swarm.get('control_available'):
            continue
        if report.get('has_quorum') is False:
            continue
        return host
    return None


def _changed_result(values, name):
    result = values.get(name)
    return result if isinstance(result, dict) and result.get('changed') and not result.get('skipped') else {}


def reported_node_id(values, host):
    """The node ID this run's own change reported for HOST: its join (swarm_member_join), or the swarm_init that
    made it the first manager (swarm_bootstrap_result, registered on every host, is the leading manager's).
    Empty when neither ran and changed (check mode reports none either)."""
    joined = _changed_result(values, 'swarm_member_join')
    if joined.get('node_id'):
        return joined['node_id']
    plan = values.get('swarm_bootstrap_plan')
    if isinstance(plan, dict) and plan.get('manager') == host:
        return _changed_result(values, 'swarm_bootstrap_result').get('node_id') or ''
    return ''


# ---- per-host node state -------------------------------------------------------------------------

def node_entries(hosts, managers, reports, settings):
    """(entries for swarm_node's ``nodes``, hosts left out with why).

    HOSTS: the inventory hosts to converge; MANAGERS: the inventory's manager group; REPORTS: each host's own
    swarm_info (nodes: false) after it joined; SETTINGS: per host {labels, labels_state, availability}
    (labels / availability None = not managed). A host is named by the node ID its own engine reports, never
    by hostname: a hostname can be listed twice in the swarm, an ID cannot.
    """
    entries, skipped = [], {}
    for host in hosts:
        swarm = _report_swarm(reports.get(host))
        if swarm.get('local_node_state') != 'active' or not swarm.get('node_id'):
            skipped[host] = 'not an active node of the swarm (state %s)' % (swarm.get('local_node_state') or 'unknown')
            continue
        wanted = settings.get(host) or {}
        entry = {'id': swarm['node_id'], 'role': 'manager' if host in managers else 'worker'}
        availability = wanted.get('availability')
        if availability not in (None, ''):
            if availability not in AVAILABILITIES:
                raise LifecycleError('%s: swarm_node_availability %r is not one of %s'
                                     % (host, availability, ', '.join(AVAILABILITIES)))
            entry['availability'] = availability
        labels = wanted.get('labels')
        if labels is not None:
            if not isinstance(labels, dict):
                raise LifecycleError('%s: swarm_node_labels must be a dict of label names to values, not %s'
                                     % (host, type(labels).__name__))
            for name, value in labels.items():
                if isinstance(value, (dict, list)):
                    raise LifecycleError('%s: swarm_node_labels.%s must be a string, not a %s'
                                         % (host, name, type(value).__name__))
            entry['labels'] = dict((str(k), '' if v is None else str(v)) for k, v in labels.items())
            state = wanted.get('labels_state') or 'merge'
            if state not in LABELS_STATES:
                raise LifecycleError('%s: swarm_node_labels_state %r is not one of %s'
                                     % (host, state, ', '.join(LABELS_STATES)))
            entry['labels_state'] = state
        entries.append(entry)
    return entries, skipped


def outside_inventory(unlisted, known_names):
    """The nodes of UNLISTED (swarm_node's unlisted summaries) that match no inventory host: neither their
    hostname nor their address is among KNOWN_NAMES (inventory names, ansible_host values, advertise addresses).
    The others are inventory hosts that did not take part in this run (unreachable, or outside --limit)."""
    known = set(str(n) for n in known_names if n)
    return [n for n in unlisted or [] if n.get('hostname') not in known and n.get('addr') not in known]


def engine_node(summary):
    """A node as swarm_info summarises it, in the Engine's shape the module's own planning functions read."""
    return {'ID': summary.get('id'),
            'Spec': {'Role': summary.get('role'), 'Availability': summary.get('availability'),
                     'Labels': dict(summary.get('labels') or {})},
            'Description': {'Hostname': summary.get('hostname')},
            'Status': {'State': summary.get('status'), 'Addr': summary.get('addr')},
            'ManagerStatus': {'Reachability': summary['manager_status']} if summary.get('manager_status') else None}


def converge_plan(hosts, managers, reports, settings, node_list, known_names, prune_stale=True):
    """What site.yml's node step does, decided from reads the run already made (no read of its own).

    HOSTS, MANAGERS, REPORTS, SETTINGS: as for node_entries (REPORTS: each host's latest own swarm_info).
    NODE_LIST: the leading manager's node list as read before this run's changes (swarm_info summaries; empty
    for a swarm formed in this run). KNOWN_NAMES: names and addresses of every inventory host.
    Returns {'entries', 'skipped', 'changes' (one line each), 'act' (swarm_node must be called), 'outside'
    (nodes no inventory host stands for)}. An entry whose node is not in NODE_LIST (it joined in this run)
    counts as a change: swarm_node reads the swarm as it is now and decides.
    """
    entries, skipped = node_entries(hosts, managers, reports, settings)
    nodes = [engine_node(n) for n in node_list or []]
    by_id = dict((n['ID'], n) for n in nodes)
    changes = []
    for entry in entries:
        node = by_id.get(entry['id'])
        if node is None:
            changes.append('%s: not in the node list read before this run (joined in it)' % entry['id'])
            continue
        _spec, differences, before, after = wanted_spec(node, entry)
        for field in differences:
            changes.append('%s: %s %s -> %s' % (node['Description']['Hostname'], field, before[field], after[field]))
    stale = stale_entries(nodes) if prune_stale else []
    changes += ['%s (%s): stale Down entry of a host that joined again' % (n['Description']['Hostname'], n['ID'])
                for n in stale]
    stale_ids = set(n['ID'] for n in stale)
    own_ids = set(entry['id'] for entry in entries)
    for report in (reports or {}).values():
        own_ids.add(_report_swarm(report).get('node_id'))
    others = [n for n in node_list or [] if n.get('id') not in own_ids and n.get('id') not in stale_ids]
    return {'entries': entries, 'skipped': skipped, 'changes': changes, 'act': bool(changes),
            'outside': outside_inventory(others, known_names)}


# ---- removing a node -----------------------------------------------------------------------------

def _find(nodes, ref):
    """Nodes (swarm_info summaries) meant by REF: an exact ID, else every node with that hostname."""
    by_id = [n for n in nodes if n.get('id') == ref]
    return by_id or [n for n in nodes if n.get('hostname') == ref]


def _describe(node):
    return '%s (%s, %s%s)' % (node.get('hostname'), node.get('id'), node.get('status'),
                              ', %s' % node.get('addr') if node.get('addr') else '')


def removal_plan(name, reports, inventory, preferred=None, force=False):
    """What remove_node.yml does for NAME (an inventory host, a node's hostname or a node ID).

    REPORTS: swarm_info (nodes: true) of the hosts that answered, by inventory host; INVENTORY: {host:
    ansible_host or host} of every inventory host; PREFERRED: the leading manager found by discovery.
    Returns {'action': 'remove'|'none'|'fail', 'reason', 'manager', 'node_id', 'hostname', 'is_manager',
    'inventory_host', 'leave' (make it leave from its own engine), 'force' (remove while not down)}.
    """
    plan = {'action': 'fail', 'reason': '', 'manager': None, 'node_id': None, 'hostname': None, 'is_manager': False,
            'inventory_host': None, 'leave': False, 'force': False}
    if not name:
        plan['reason'] = 'say which node to remove: -e node=NAME (an inventory host, a hostname or a node ID)'
        return plan
    manager = live_manager(reports, preferred)
    if manager is None:
        plan['reason'] = ('no manager of a swarm with quorum answered: a node is removed through a live manager. '
                          'Bring the managers back first')
        return plan
    nodes = reports[manager].get('nodes') or []
    host = name if name in inventory else None
    own = _report_swarm(reports.get(host)) if host else {}
    matches = []
    if own.get('local_node_state') in ('active', 'locked') and own.get('node_id'):
        matches = [n for n in nodes if n.get('id') == own['node_id']]
    if not matches:
        for ref in [name] + ([inventory[host]] if host and inventory[host] != name else []):
            matches = _find(nodes, ref)
            if matches:
                break
    if not matches:
        plan.update(action='none', manager=manager, inventory_host=host,
                    reason='%s is not in the swarm (already removed); nothing to remove' % name)
        return plan
    if len(matches) > 1:
        plan['reason'] = ('%s names %d nodes: %s. Give the node ID (-e node=ID); stale Down entries of a host that '
                          'joined again are pruned when the live one is removed'
                          % (name, len(matches), '; '.join(_describe(n) for n in matches)))
        return plan
    target = matches[0]
    plan.update(node_id=target['id'], hostname=target.get('hostname'), is_manager=target.get('role') == 'manager',
                inventory_host=host)
    if host is None:
        # the node may still be a host of the inventory under another name: match it by ansible_host / name
        hosts = [h for h, address in sorted(inventory.items())
                 if target.get('hostname') in (h, address) or _report_swarm(reports.get(h)).get('node_id') == target['id']]
        plan['inventory_host'] = host = hosts[0] if len(hosts) == 1 else None
    own = _report_swarm(reports.get(host)) if host else {}
    plan['leave'] = own.get('node_id') == target['id'] and own.get('local_node_state') == 'active'
    if plan['is_manager']:
        managers = [n for n in nodes if n.get('manager_status')]
        remaining = [n for n in managers if n.get('id') != target['id']]
        reachable = [n for n in remaining if n.get('manager_status') in ('Leader', 'Reachable')]
        needed = len(remaining) // 2 + 1
        if not remaining:
            plan['reason'] = ('%s is the last manager of the swarm: removing it would destroy the swarm. Promote '
                              'another node first (or tear the swarm down with playbooks/reset.yml)' % _describe(target))
            return plan
        if len(reachable) < needed:
            plan['reason'] = ('%s is a manager; without it the swarm would keep %d manager(s), so a quorum of %d, but '
                              'only %d of them are reachable: the swarm would stop accepting changes. Bring the '
                              'unreachable managers back (or remove them first)'
                              % (_describe(target), len(remaining), needed, len(reachable)))
            return plan
    acting = manager
    if _report_swarm(reports.get(manager)).get('node_id') == target['id']:
        acting = live_manager(reports, None, exclude=(manager,))
        if acting is None:
            plan['reason'] = ('%s is the only manager that answered: the removal must go through another live manager '
                              '(add it to the inventory, or make sure it answers)' % _describe(target))
            return plan
    plan['manager'] = acting
    if target.get('status') != 'down' and not plan['leave']:
        if not force:
            plan['reason'] = ('%s is %s but cannot be made to leave from here (%s): stop it, or let it be removed while '
                              'it runs with -e swarm_remove_node_force=true (its engine then still believes it is in '
                              'a swarm until it leaves or is reset)'
                              % (_describe(target), target.get('status'),
                                 'not in the inventory' if host is None else '%s did not answer as this node' % host))
            return plan
        plan['force'] = True
    plan.update(action='remove', reason='%s: drain%s, %sremove it from the node list%s' % (
        _describe(target), ', demote (quorum checked)' if plan['is_manager'] else '',
        'make it leave, ' if plan['leave'] else '', ' (forced)' if plan['force'] else ''))
    return plan
