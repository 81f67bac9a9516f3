# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: swarm_node_reported_id
short_description: The node ID that this run's join or swarm init reported for a host
version_added: 0.1.0
description:
  - The node ID from the host's C(swarm_member_join) result (M(swarmops.swarm.swarm_join)) when it joined in this
    run, or from C(swarm_bootstrap_result) (M(swarmops.swarm.swarm_init)) when the host is the leading manager
    that initialised the swarm in this run. Empty when neither ran and changed (check mode reports no ID).
  - The C(swarmops.swarm.swarm_nodes) role reads a node that became a node in this run only when this is empty;
    the C(swarmops.swarm.swarm_nodes_plan) filter takes the same ID in place of that read.
options:
  _input:
    description: The host's variables (C(hostvars[inventory_hostname]) or C(vars)).
    type: dict
    required: true
  host:
    description: The inventory name of the host.
    type: str
    required: true
'''

EXAMPLES = r'''
- name: Read the node ID of a host that became a node in this run, unless its join reported it
  swarmops.swarm.swarm_info:
    nodes: false
    services: false
  register: _swarm_nodes_local
  when: hostvars[inventory_hostname] | swarmops.swarm.swarm_node_reported_id(inventory_hostname) == ''
'''

RETURN = r'''
_value:
  description: The node ID, or an empty string.
  type: str
'''

from ansible_collections.swarmops.swarm.plugins.plugin_utils._node_lifecycle import reported_node_id


class FilterModule(object):
    def filters(self):
        return {'swarm_node_reported_id': reported_node_id}
