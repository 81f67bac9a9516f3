# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: swarm_outside_inventory
short_description: The swarm's nodes that no inventory host stands for
version_added: 0.1.0
description:
  - From the nodes a C(swarmops.swarm.swarm_node) call left alone (its C(unlisted) result), keeps those whose
    hostname and address match no inventory host (its name, C(ansible_host), C(swarm_node_advertise_addr) or
    C(swarm_advertise_addr)). The others are inventory hosts that did not take part in the run.
options:
  _input:
    description: Node summaries (C(unlisted) of swarm_node).
    type: list
    elements: dict
    required: true
  hostvars:
    description: C(hostvars).
    type: raw
    required: true
  hosts:
    description: Every host of the inventory's swarm.
    type: list
    elements: str
    required: true
'''

EXAMPLES = r'''
- name: Report nodes that left the inventory
  ansible.builtin.debug:
    msg: "{{ result.unlisted | swarmops.swarm.swarm_outside_inventory(hostvars, groups['swarm']) }}"
'''

RETURN = r'''
_value:
  description: The node summaries that match no inventory host.
  type: list
  elements: dict
'''

from ansible_collections.swarmops.swarm.plugins.plugin_utils._node_lifecycle import outside_inventory


def swarm_outside_inventory(unlisted, hostvars, hosts):
    names = []
    for host in hosts or []:
        values = hostvars[host]
        names.append(host)
        for var in ('ansible_host', 'swarm_node_advertise_addr', 'swarm_advertise_addr'):
            value = values.get(var)
            if isinstance(value, str):
                names.append(value)
    return outside_inventory(list(unlisted or []), names)


class FilterModule(object):
    def filters(self):
        return {'swarm_outside_inventory': swarm_outside_inventory}
