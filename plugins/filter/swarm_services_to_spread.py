# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: swarm_services_to_spread
short_description: The services a drain would take two or more tasks of at once
version_added: 0.1.0
description:
  - The replicated services that run two or more tasks on a node while another Ready, active node runs at least two
    fewer of them. Draining the node would stop those tasks together; a rolling restart of the service first lets
    the scheduler spread them, so that every service stays at most one task short during the drain.
  - Swarm does not move tasks back to a node that returns from a drain, so after one node of a roll, the next
    one often runs two tasks of a service.
options:
  _input:
    description: A C(swarmops.swarm.swarm_info) result read on a live manager with O(swarmops.swarm.swarm_info#module:nodes),
      O(swarmops.swarm.swarm_info#module:services) and O(swarmops.swarm.swarm_info#module:tasks).
    type: dict
    required: true
  node_id:
    description: The swarm node ID of the node about to be drained.
    type: str
    required: true
  as_updates:
    description: Return C({name, force_update}) items for O(swarmops.swarm.swarm_service#module:services) instead of
      names (a forced update is the rolling restart that lets the scheduler spread the tasks).
    type: bool
    default: false
'''

EXAMPLES = r'''
- name: Read the swarm with its tasks
  swarmops.swarm.swarm_info:
    nodes: true
    services: true
    tasks: true
  register: swarm_read

- name: Spread the services the drain would take two tasks of at once
  swarmops.swarm.swarm_service:
    services: "{{ swarm_read | swarmops.swarm.swarm_services_to_spread(node_id, as_updates=true) }}"
    wait: true
  when: swarm_read | swarmops.swarm.swarm_services_to_spread(node_id) | length > 0
'''

RETURN = r'''
_value:
  description: The names of those services, sorted (with O(as_updates), one C({name, force_update}) item each).
  type: list
  elements: raw
'''

from ansible_collections.swarmops.swarm.plugins.plugin_utils.swarm_plan import services_to_spread, tasks_of_read


def swarm_services_to_spread(read, node_id, as_updates=False):
    names = services_to_spread(tasks_of_read(read), read, node_id)
    if as_updates:
        return [{'name': name, 'force_update': True} for name in names]
    return names


class FilterModule(object):
    def filters(self):
        return {'swarm_services_to_spread': swarm_services_to_spread}
