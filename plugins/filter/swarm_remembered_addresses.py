# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: swarm_remembered_addresses
short_description: The advertise addresses of members that did not answer, as the swarm remembers them
version_added: 0.1.0
description:
  - A member that is down during a run still has an address the other members must keep in their firewall (raft
    and gossip resume when it comes back). The swarm remembers it - this filter takes it from the node list of the
    first manager that has one (host fact C(swarm_node_info)), matching the node's hostname or address with the
    host's inventory name or C(ansible_host). An unknown host maps to an empty string.
options:
  _input:
    description: C(hostvars) (or any mapping of host name to its variables).
    type: dict
    required: true
  missing:
    description: The hosts that did not answer.
    type: list
    elements: str
    required: true
  managers:
    description: The inventory's managers.
    type: list
    elements: str
    required: true
'''

EXAMPLES = r'''
- name: Remember the addresses of members that did not answer
  run_once: true
  delegate_to: "{{ item.key }}"
  delegate_facts: true
  ansible.builtin.set_fact:
    swarm_node_advertise_addr: "{{ item.value }}"
  loop: >-
    {{ hostvars | swarmops.swarm.swarm_remembered_addresses(ansible_play_hosts_all | difference(ansible_play_hosts),
       groups['swarm_managers']) | dict2items }}
'''

RETURN = r'''
_value:
  description: The address of each missing host (empty when the swarm does not know it).
  type: dict
'''

from ansible_collections.swarmops.swarm.plugins.plugin_utils.swarm_plan import remembered_addresses


def swarm_remembered_addresses(hostvars, missing, managers):
    return remembered_addresses(hostvars, list(missing or []), list(managers or []))


class FilterModule(object):
    def filters(self):
        return {'swarm_remembered_addresses': swarm_remembered_addresses}
