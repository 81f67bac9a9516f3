# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: swarm_node_ready
short_description: Whether a node is Ready in a manager's read
version_added: 0.1.0
description:
  - True when the node is in the node list of a C(swarmops.swarm.swarm_info) read with status C(ready), and, for a
    manager, with manager status C(Leader) or C(Reachable).
options:
  _input:
    description: A C(swarmops.swarm.swarm_info) result with nodes, read on a live manager.
    type: dict
    required: true
  node_id:
    description: The swarm node ID.
    type: str
    required: true
'''

EXAMPLES = r'''
- name: Wait until the node is Ready
  swarmops.swarm.swarm_info:
    services: false
  register: swarm_read
  until: swarm_read | swarmops.swarm.swarm_node_ready(node_id)
  retries: 60
  delay: 5
'''

RETURN = r'''
_value:
  description: Whether the node is Ready.
  type: bool
'''

from ansible_collections.swarmops.swarm.plugins.plugin_utils.swarm_plan import node_ready


def swarm_node_ready(read, node_id):
    return node_ready(read, node_id)


class FilterModule(object):
    def filters(self):
        return {'swarm_node_ready': swarm_node_ready}
