# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: swarm_rolling_nodes
short_description: The swarm members whose engine change must roll, in roll order
version_added: 0.1.0
description:
  - The hosts whose C(docker_engine_plan.restart) (the C(swarmops.swarm.docker) role's plan) is true while their
    swarm read (host fact C(swarm_node_info)) shows them in a swarm. A bare node or a stopped engine has nothing
    running to keep and changes in parallel with the others.
  - Managers first (a manager that does not come back stops the roll before any worker is touched), the raft leader
    last among them (one leader election instead of one per manager), then the workers; inventory order otherwise.
options:
  _input:
    description: C(hostvars) (or any mapping of host name to its variables).
    type: dict
    required: true
  hosts:
    description: The hosts of the play.
    type: list
    elements: str
    required: true
  managers:
    description: The inventory's managers, in inventory order.
    type: list
    elements: str
    required: true
'''

EXAMPLES = r'''
- name: Put the nodes whose engine restarts into the roll group, in roll order
  run_once: true
  ansible.builtin.add_host:
    name: "{{ item }}"
    groups: [swarm_rolling]
  loop: "{{ hostvars | swarmops.swarm.swarm_rolling_nodes(ansible_play_hosts, groups['swarm_managers']) }}"
'''

RETURN = r'''
_value:
  description: The hosts in roll order.
  type: list
  elements: str
'''

from ansible_collections.swarmops.swarm.plugins.plugin_utils.swarm_plan import rolling_nodes


def swarm_rolling_nodes(hostvars, hosts, managers):
    return rolling_nodes(hostvars, list(hosts or []), list(managers or []))


class FilterModule(object):
    def filters(self):
        return {'swarm_rolling_nodes': swarm_rolling_nodes}
