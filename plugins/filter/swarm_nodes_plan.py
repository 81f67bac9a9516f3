# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: swarm_nodes_plan
short_description: What site.yml's node step converges, decided from the reads the run already made
version_added: 0.1.0
description:
  - Builds the O(swarmops.swarm.swarm_node#module:nodes) list that converges every host's role (from the
    managers' group), C(swarm_node_availability) and C(swarm_node_labels) / C(swarm_node_labels_state), and
    compares it with the leading manager's node list read by C(swarmops.swarm.swarm_preflight)
    (C(swarm_node_info)); when nothing differs, no swarm_node call is needed.
  - Each host is named by the node ID its own engine reports (O(report_var) when that read ran in this play,
    else C(swarm_node_info)), so a hostname listed twice in the swarm (a host that joined again) is never a
    problem. Hosts that are not active nodes of the swarm are left out.
  - Also returns the swarm's nodes that no inventory host stands for (by ID, hostname or address).
  - Refuses a bad value, naming the host and the variable, before anything changes.
options:
  _input:
    description: C(hostvars).
    type: raw
    required: true
  hosts:
    description: The inventory hosts to converge (the play's hosts).
    type: list
    elements: str
    required: true
  managers:
    description: The inventory's managers.
    type: list
    elements: str
    required: true
  manager:
    description: The leading manager (whose C(swarm_node_info.nodes) is the node list).
    type: str
    required: true
  inventory:
    description: Every host of the inventory's swarm (their names and addresses are not "outside").
    type: list
    elements: str
    required: true
  prune_stale:
    description: Stale Down entries of hosts that joined again count as a change (they are pruned).
    type: bool
    default: true
  report_var:
    description: The host variable holding the host's own swarm_info result read in this play, if it ran.
    type: str
    default: _swarm_nodes_local
'''

EXAMPLES = r'''
- name: Decide the node step
  run_once: true
  ansible.builtin.set_fact:
    nodes_plan: >-
      {{ hostvars | swarmops.swarm.swarm_nodes_plan(ansible_play_hosts, groups['swarm_managers'],
         swarm_bootstrap_plan.manager, groups['swarm']) }}
'''

RETURN = r'''
_value:
  description: >-
    C(entries) (the swarm_node O(swarmops.swarm.swarm_node#module:nodes) list), C(skipped) (host - why),
    C(changes) (what differs, one line each), C(act) (swarm_node must be called), C(outside) (node summaries
    that no inventory host stands for).
  type: dict
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.swarmops.swarm.plugins.plugin_utils._node_lifecycle import (
    LifecycleError, converge_plan, reported_node_id)


def _own_report(values, report_var, host=None):
    read = values.get(report_var)
    if isinstance(read, dict) and read.get('swarm') is not None and not read.get('skipped'):
        return read
    node_id = reported_node_id(values, host)
    if node_id:
        # joined or initialised in this run and not read again: the module's result says it is an active node
        return {'swarm': {'local_node_state': 'active', 'node_id': node_id}}
    return values.get('swarm_node_info') or {}


def swarm_nodes_plan(hostvars, hosts, managers, manager, inventory, prune_stale=True,
                     report_var='_swarm_nodes_local'):
    hosts = list(hosts or [])
    reports, settings = {}, {}
    for host in hosts:
        values = hostvars[host]
        reports[host] = _own_report(values, report_var, host)
        settings[host] = {'labels': values.get('swarm_node_labels'),
                          'labels_state': values.get('swarm_node_labels_state'),
                          'availability': values.get('swarm_node_availability')}
    known = []
    for host in inventory or []:
        values = hostvars[host]
        known.append(host)
        for var in ('ansible_host', 'swarm_node_advertise_addr', 'swarm_advertise_addr'):
            value = values.get(var)
            if isinstance(value, str):
                known.append(value)
        node_id = ((values.get('swarm_node_info') or {}).get('swarm') or {}).get('node_id')
        if node_id:
            reports.setdefault(host, values.get('swarm_node_info'))
    node_list = ((hostvars[manager].get('swarm_node_info') or {}).get('nodes') or []) if manager else []
    try:
        return converge_plan(hosts, list(managers or []), reports, settings, node_list, known, prune_stale)
    except LifecycleError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):
    def filters(self):
        return {'swarm_nodes_plan': swarm_nodes_plan}
