# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: swarm_advertise_address
short_description: The address other swarm nodes reach a host at, from its network facts
version_added: 0.1.0
description:
  - With an empty request, the IPv4 address of the host's default route; with an interface name, that
    interface's IPv4 address; with an IPv4 address, that address if the host has it.
  - Returns the address, or an error naming the host, the request and what the host has instead.
options:
  _input:
    description: The host's gathered facts (C(ansible_facts), at least the C(network) subset).
    type: dict
    required: true
  host:
    description: The host's inventory name, for the message.
    type: str
    required: true
  requested:
    description: The host's C(swarm_advertise_addr) (empty, an IPv4 address or an interface name).
    type: str
    required: true
'''

EXAMPLES = r'''
- name: Work out the advertise address
  ansible.builtin.set_fact:
    swarm_preflight_address: "{{ ansible_facts | swarmops.swarm.swarm_advertise_address(inventory_hostname, swarm_advertise_addr) }}"
'''

RETURN = r'''
_value:
  description: C(address) (empty on error) and C(error) (empty on success).
  type: dict
'''

from ansible_collections.swarmops.swarm.plugins.plugin_utils.swarm_plan import advertise_address


def swarm_advertise_address(facts, host, requested):
    return advertise_address(host, requested, facts)


class FilterModule(object):
    def filters(self):
        return {'swarm_advertise_address': swarm_advertise_address}
