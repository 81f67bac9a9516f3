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
                'reason': '%s is a manager locked by autolock; it is unlocked with swarm_unlock_key' % locked[0]}

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
