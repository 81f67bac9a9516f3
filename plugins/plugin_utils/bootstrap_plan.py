# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decide which manager forms or leads the swarm, from what every reachable node reported.

Pure logic (no Ansible objects), so every rule that protects a cluster from being split is unit
tested: use a live manager of an existing swarm; initialise only when nothing anywhere can hold a
swarm already; otherwise refuse and say why.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def _state(report):
    return ((report or {}).get('swarm') or {}).get('local_node_state') or 'inactive'


def _is_manager(report):
    return bool(((report or {}).get('swarm') or {}).get('control_available'))


def _cluster_id(report):
    return ((report or {}).get('swarm') or {}).get('cluster_id')


def plan_bootstrap(managers, workers, reports):
    """Return {'action': 'use'|'init'|'fail', 'manager': host or None, 'reason': text}.

    managers, workers: inventory host names in inventory order.
    reports: {host: swarm_info result} for the hosts that answered; a host missing from it
             was unreachable.
    """
    live_managers = [host for host in managers if host in reports]
    down_managers = [host for host in managers if host not in reports]
    if not live_managers:
        return _fail('No manager answered (unreachable: %s). Nothing can be initialised or joined '
                     'without a live manager: bring one back and re-run.' % ', '.join(down_managers or ['none']))

    # Managers that hold the swarm: active managers, and locked ones (restarted with autolock;
    # they are members that only need their unlock key).
    active = [host for host in live_managers
              if (_state(reports[host]) == 'active' and _is_manager(reports[host]))]
    locked = [host for host in live_managers if _state(reports[host]) == 'locked']

    clusters = {}
    for host in active:
        clusters.setdefault(_cluster_id(reports[host]) or 'unknown', []).append(host)
    if len(clusters) > 1:
        described = '; '.join('%s: %s' % (cluster, ', '.join(hosts)) for cluster, hosts in sorted(clusters.items()))
        return _fail('The managers in the inventory belong to different swarms (%s). One inventory is '
                     'one swarm: remove the hosts of the other swarm from swarm_managers, or make them '
                     'leave it (docker swarm leave --force) if they should join this one.' % described)
    if active:
        return {'action': 'use', 'manager': active[0],
                'reason': '%s is a live manager of swarm %s' % (active[0], _cluster_id(reports[active[0]]))}
    if locked:
        return {'action': 'use', 'manager': locked[0],
                'reason': ('%s is a manager locked by autolock; it is unlocked with swarm_bootstrap_unlock_key'
                           % locked[0])}

    # No live manager holds a swarm. Anything else that might hold one forbids a new init.
    in_swarm_workers = [host for host in workers if host in reports and _state(reports[host]) != 'inactive']
    if in_swarm_workers:
        return _fail('Workers %s are in a swarm, but no live manager is: its managers are down or not in '
                     'this inventory. Initialising now would create a second cluster. Bring a manager of '
                     'that swarm back (or add it to swarm_managers), or make the workers leave it '
                     '(docker swarm leave) to start a new swarm.' % ', '.join(in_swarm_workers))
    odd = [host for host in live_managers if _state(reports[host]) not in ('inactive',)]
    if odd:
        details = ', '.join('%s (%s)' % (host, _state(reports[host])) for host in odd)
        return _fail('Managers %s are in a swarm state that is neither inactive nor active. Look at '
                     '`docker info` on them; `docker swarm leave --force` resets a node that cannot '
                     'recover.' % details)
    if down_managers:
        return _fail('Managers %s are unreachable and no live manager is in a swarm: an unreachable '
                     'manager may hold the existing swarm, so initialising one now could split the cluster. '
                     'Re-run when they answer, or remove them from the inventory if they are gone for '
                     'good.' % ', '.join(down_managers))
    return {'action': 'init', 'manager': live_managers[0],
            'reason': 'no node is in a swarm yet: %s initialises it' % live_managers[0]}


def _fail(reason):
    return {'action': 'fail', 'manager': None, 'reason': reason}


def check_manager_roles(managers, workers, reports, addresses):
    """Refuse an inventory that would take managers of the running swarm out of the manager role.

    Returns {'ok': bool, 'reason': text}. Issue 7, case 5 (quorum protection). site.yml never demotes
    or removes a manager, but the firewall role opens 2377/tcp (raft) only on, and to, the hosts the
    inventory lists: a manager moved to swarm_workers, or left out of the inventory, is cut off from
    the other managers by the very run that was meant to converge the cluster. So this runs in the
    preflight play, before anything changes.

    managers, workers: inventory host names. reports: {manager host: swarm_info result with nodes}
    for the inventory's managers whose engine answered. addresses: {host: advertise address} of the
    inventory's hosts (how swarm nodes are matched to inventory hosts).
    """
    live = [host for host in managers
            if host in reports and ((reports[host] or {}).get('swarm') or {}).get('control_available')
            and (reports[host] or {}).get('nodes')]
    if not live:
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
            dropped.append((name, reachable))
    total = len(swarm_managers)
    quorum = total // 2 + 1
    kept_reachable = len([name for name, reachable in kept if reachable])
    # A reachable manager listed as a worker would lose 2377 and fail to "join" as a worker: always
    # refused. Managers missing from the inventory are refused only when the rest would lose the
    # quorum (a dead manager removed from the inventory is the normal way to forget it).
    demoted_live = [name for name, reachable in demoted if reachable]
    if not demoted_live and kept_reachable >= quorum:
        return {'ok': True, 'reason': 'the inventory keeps %d of the swarm\'s %d managers as managers'
                                      % (len(kept), total)}
    parts = []
    if demoted:
        parts.append('%s %s in swarm_workers' % (', '.join(name for name, _state in demoted),
                                                 'is' if len(demoted) == 1 else 'are'))
    if dropped:
        parts.append('%s %s not in the inventory' % (', '.join(name for name, _state in dropped),
                                                     'is' if len(dropped) == 1 else 'are'))
    if kept_reachable < quorum:
        effect = ('only %d reachable manager%s would remain of the swarm\'s %d, below its quorum of %d: the swarm '
                  'would have no leader and accept no change (services, joins) until the others are back'
                  % (kept_reachable, '' if kept_reachable == 1 else 's', total, quorum))
    else:
        effect = ('the swarm would keep its quorum (%d of %d), but site.yml does not change a node\'s role: '
                  'the run would cut those managers off (the firewall opens 2377/tcp only between the '
                  'inventory\'s managers) and then fail to join them as workers' % (kept_reachable, total))
    return {'ok': False, 'reason': (
        'Refusing to change the swarm\'s managers: the swarm has %d managers (%s); %s. Taking them out of '
        'the manager role at once would drop it below quorum or cut managers off: %s. Fix: put them back in '
        'swarm_managers. To have fewer managers, demote one at a time on a manager (`docker node demote '
        'NODE`, then check `docker node ls` shows a majority Reachable), and only then move it to swarm_workers '
        'or remove it from the inventory.'
        % (total, ', '.join(name for name, _state in kept + demoted + dropped), '; '.join(parts), effect))}
