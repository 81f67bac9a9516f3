# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: swarm_removal_plan
short_description: Decide how playbooks/remove_node.yml removes a node, and through which live manager
version_added: 0.1.0
description:
  - Finds the node meant (an inventory host, a node hostname or a node ID), a live manager of a swarm with quorum
    to act through (never the node itself), and whether the node can be made to leave from its own engine.
  - Refuses, before anything changes, the last manager, a manager whose removal would leave fewer reachable
    managers than the swarm's quorum, an ambiguous name, and a running node that cannot be made to leave
    (unless O(force)).
  - A node that is not in the swarm any more is nothing to do (C(action=none)), so a re-run changes nothing.
options:
  _input:
    description: C(swarmops.swarm.swarm_info) results (with nodes) of the hosts that answered, by inventory host.
    type: dict
    required: true
  name:
    description: The node to remove.
    type: str
    required: true
  hostvars:
    description: C(hostvars) (each host's C(ansible_host) is read from it).
    type: raw
    required: true
  hosts:
    description: Every host of the inventory's swarm.
    type: list
    elements: str
    required: true
  preferred:
    description: The manager to act through when it is live (the leading manager found by discovery).
    type: str
  force:
    description: Remove a node that runs but cannot be made to leave.
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: Plan the removal
  ansible.builtin.set_fact:
    swarm_remove_plan: >-
      {{ reports | swarmops.swarm.swarm_removal_plan(node, hostvars, groups['swarm'], swarm_bootstrap_plan.manager) }}
'''

RETURN = r'''
_value:
  description: >-
    C(action) (remove, none or fail), C(reason), C(manager) (the inventory host to act through), C(node_id),
    C(hostname), C(is_manager), C(inventory_host) (or null), C(leave) (make it leave from its own engine), C(force).
  type: dict
'''

from ansible_collections.swarmops.swarm.plugins.plugin_utils._node_lifecycle import removal_plan


def swarm_removal_plan(reports, name, hostvars, hosts, preferred=None, force=False):
    inventory = {}
    for host in hosts or []:
        address = hostvars[host].get('ansible_host')
        inventory[host] = address if isinstance(address, str) and address else host
    return removal_plan(name, dict(reports or {}), inventory, preferred, bool(force))


class FilterModule(object):
    def filters(self):
        return {'swarm_removal_plan': swarm_removal_plan}
