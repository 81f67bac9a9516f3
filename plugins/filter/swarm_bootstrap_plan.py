# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: swarm_bootstrap_plan
short_description: Choose the manager that forms or leads the swarm, and the nodes that still have to join
version_added: 0.1.0
description:
  - From every node's C(swarmops.swarm.swarm_info) result (the host fact C(swarm_node_info) that
    C(swarmops.swarm.swarm_preflight) registers), decide whether to use a live manager of an existing swarm,
    initialise a new swarm on the first live manager, or refuse because initialising could create a second cluster.
  - Also lists the nodes that still have to join (those the leading manager's node list does not show in this
    swarm with their role), the locked managers to unlock, and the raft leader.
options:
  _input:
    description: C(hostvars) (or any mapping of host name to its variables).
    type: dict
    required: true
  managers:
    description: The inventory's managers, in inventory order.
    type: list
    elements: str
    required: true
  workers:
    description: The inventory's workers.
    type: list
    elements: str
    required: true
  failed:
    description: Hosts that failed earlier in this run (their read is not trusted).
    type: list
    elements: str
    default: []
  groups:
    description: Names of the managers' and the workers' groups, for the messages.
    type: list
    elements: str
    default: [swarm_managers, swarm_workers]
'''

EXAMPLES = r'''
- name: Choose the manager that leads the swarm
  run_once: true
  ansible.builtin.set_fact:
    swarm_bootstrap_plan: >-
      {{ hostvars | swarmops.swarm.swarm_bootstrap_plan(groups['swarm_managers'], groups['swarm_workers'],
         failed=ansible_play_hosts_all | difference(ansible_play_hosts)) }}
'''

RETURN = r'''
_value:
  description:
    - C(action) (use, init or fail), C(manager) (host name or null), C(reason) (a sentence), C(cluster_id),
      C(manager_addr), C(leader), C(joins) (C(managers) and C(workers) lists), C(unlock) (list) and C(states)
      (each host's swarm state, C(no-engine), C(unreachable), C(failed) or C(unknown)).
  type: dict
'''

from ansible_collections.swarmops.swarm.plugins.plugin_utils.swarm_plan import plan_bootstrap, reports_from


def swarm_bootstrap_plan(hostvars, managers, workers, failed=None, groups=None):
    managers, workers = list(managers or []), list(workers or [])
    reports = reports_from(hostvars, managers + workers, list(failed or []))
    return plan_bootstrap(managers, workers, reports, tuple(groups or ('swarm_managers', 'swarm_workers')))


class FilterModule(object):
    def filters(self):
        return {'swarm_bootstrap_plan': swarm_bootstrap_plan}
