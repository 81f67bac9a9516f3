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
    description: The swarm's tasks as the Engine API lists them (C(ServiceID), C(NodeID), C(DesiredState),
      C(Status.State)), for example C(tasks) of C(community.docker.docker_swarm_info) with C(verbose_output).
    type: list
    elements: dict
    required: true
  read:
    description: A C(swarmops.swarm.swarm_info) result with nodes and services, read on a live manager.
    type: dict
    required: true
  node_id:
    description: The swarm node ID of the node about to be drained.
    type: str
    required: true
'''

EXAMPLES = r'''
- name: Spread the services the drain would take two tasks of at once
  swarmops.swarm.swarm_service:
    services: "{{ swarm_tasks.tasks | swarmops.swarm.swarm_services_to_spread(swarm_read, node_id)
                  | map('community.general.dict_kv', 'name') | map('combine', {'force_update': true}) }}"
    wait: true
'''

RETURN = r'''
_value:
  description: The names of those services, sorted.
  type: list
  elements: str
'''

from ansible_collections.swarmops.swarm.plugins.plugin_utils.swarm_plan import services_to_spread


def swarm_services_to_spread(tasks, read, node_id):
    return services_to_spread(list(tasks or []), read, node_id)


class FilterModule(object):
    def filters(self):
        return {'swarm_services_to_spread': swarm_services_to_spread}
