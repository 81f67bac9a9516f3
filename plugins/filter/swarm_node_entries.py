# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: swarm_node_entries
short_description: The inventory's per-host node state as one swarmops.swarm.swarm_node nodes list
version_added: 0.1.0
description:
  - Builds the O(swarmops.swarm.swarm_node#module:nodes) list that converges every host's role (from the
    managers' group), C(swarm_node_availability) and C(swarm_node_labels) / C(swarm_node_labels_state).
  - Each host is named by the node ID its own engine reports, so a hostname listed twice in the swarm (a host
    that joined again) is never a problem. Hosts that are not active nodes of the swarm are left out.
  - Refuses a bad value, naming the host and the variable, before anything changes.
options:
  _input:
    description: The inventory hosts to converge.
    type: list
    elements: str
    required: true
  hostvars:
    description: C(hostvars); each host's own C(swarmops.swarm.swarm_info) result is read from O(report_var).
    type: raw
    required: true
  managers:
    description: The inventory's managers.
    type: list
    elements: str
    required: true
  report_var:
    description: The host variable holding the host's own swarm_info result.
    type: str
    default: _swarm_nodes_local
'''

EXAMPLES = r'''
- name: Converge every node through the leading manager
  swarmops.swarm.swarm_node:
    nodes: "{{ ansible_play_hosts | swarmops.swarm.swarm_node_entries(hostvars, groups['swarm_managers']) }}"
  run_once: true
'''

RETURN = r'''
_value:
  description: The swarm_node O(swarmops.swarm.swarm_node#module:nodes) entries (id, role, and availability / labels / labels_state when set).
  type: list
  elements: dict
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.swarmops.swarm.plugins.plugin_utils._node_lifecycle import LifecycleError, node_entries


def swarm_node_entries(hosts, hostvars, managers, report_var='_swarm_nodes_local'):
    hosts = list(hosts or [])
    reports, settings = {}, {}
    for host in hosts:
        values = hostvars[host]
        reports[host] = values.get(report_var) or {}
        settings[host] = {'labels': values.get('swarm_node_labels'),
                          'labels_state': values.get('swarm_node_labels_state'),
                          'availability': values.get('swarm_node_availability')}
    try:
        return node_entries(hosts, list(managers or []), reports, settings)[0]
    except LifecycleError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):
    def filters(self):
        return {'swarm_node_entries': swarm_node_entries}
