# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: swarm_rolling_check
short_description: Whether a node may go down for an engine restart now
version_added: 0.1.0
description:
  - From a live manager's C(swarmops.swarm.swarm_info) read (with nodes). The node must be in the swarm's node
    list; a manager only while the swarm keeps its quorum without it (a single-manager swarm is allowed, as it has
    no other choice).
options:
  _input:
    description: A C(swarmops.swarm.swarm_info) result with nodes, read on a live manager.
    type: dict
    required: true
  node_id:
    description: The swarm node ID of the node (its own read's C(swarm.node_id)).
    type: str
    required: true
  host:
    description: The node's inventory name, for the message.
    type: str
    required: true
'''

EXAMPLES = r'''
- name: Refuse to take the node down now
  vars:
    check: "{{ swarm_read | swarmops.swarm.swarm_rolling_check(swarm_node_info.swarm.node_id, inventory_hostname) }}"
  ansible.builtin.assert:
    that: check.ok
    fail_msg: "{{ check.reason }}"
'''

RETURN = r'''
_value:
  description: C(ok) (bool), C(reason) (a sentence) and C(node) (the node's entry, or null).
  type: dict
'''

from ansible_collections.swarmops.swarm.plugins.plugin_utils.swarm_plan import rolling_check


def swarm_rolling_check(read, node_id, host):
    return rolling_check(read, node_id, host)


class FilterModule(object):
    def filters(self):
        return {'swarm_rolling_check': swarm_rolling_check}
