# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: swarm_rolling_via
short_description: The manager a node's roll talks to
version_added: 0.1.0
description:
  - The first live manager (by its read, host fact C(swarm_node_info)) other than the node, so the node's return
    can be watched while its engine restarts; the node itself when it is the only manager; empty when there is none.
options:
  _input:
    description: C(hostvars) (or any mapping of host name to its variables).
    type: dict
    required: true
  host:
    description: The node that rolls.
    type: str
    required: true
  managers:
    description: The inventory's managers, in inventory order.
    type: list
    elements: str
    required: true
'''

EXAMPLES = r'''
- name: Choose the manager the roll talks to
  ansible.builtin.set_fact:
    swarm_rolling_via: "{{ hostvars | swarmops.swarm.swarm_rolling_via(inventory_hostname, groups['swarm_managers']) }}"
'''

RETURN = r'''
_value:
  description: A host name, or an empty string.
  type: str
'''

from ansible_collections.swarmops.swarm.plugins.plugin_utils.swarm_plan import rolling_via


def swarm_rolling_via(hostvars, host, managers):
    return rolling_via(hostvars, host, list(managers or []))


class FilterModule(object):
    def filters(self):
        return {'swarm_rolling_via': swarm_rolling_via}
