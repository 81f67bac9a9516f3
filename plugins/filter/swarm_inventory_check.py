# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: swarm_inventory_check
short_description: Refuse an inventory that cannot describe one swarm
version_added: 0.1.0
description:
  - Reads only the inventory's groups and the service definitions, nothing on a host. Refuses an empty managers'
    group, a host in both groups, and C(swarm_services) that is not a list of dicts with unique names, saying
    what to fix. Its summary counts the nodes and warns about an even number of managers.
options:
  _input:
    description: C(groups).
    type: dict
    required: true
  managers_group:
    description: Name of the managers' group.
    type: str
    required: true
  workers_group:
    description: Name of the workers' group.
    type: str
    required: true
  services:
    description: C(swarm_services).
    type: raw
    required: true
  warn_even:
    description: Warn about an even number of managers.
    type: bool
    default: true
'''

EXAMPLES = r'''
- name: Check the inventory
  run_once: true
  vars:
    inventory_check: "{{ groups | swarmops.swarm.swarm_inventory_check('swarm_managers', 'swarm_workers', swarm_services) }}"
  ansible.builtin.assert:
    that: inventory_check.ok
    fail_msg: "{{ inventory_check.reason }}"
    success_msg: "{{ inventory_check.summary }}"
'''

RETURN = r'''
_value:
  description: C(ok) (bool), C(reason) (what to fix) and C(summary) (node counts and warnings).
  type: dict
'''

from ansible_collections.swarmops.swarm.plugins.plugin_utils.swarm_plan import check_inventory


def swarm_inventory_check(groups, managers_group, workers_group, services, warn_even=True):
    return check_inventory(dict(groups or {}), managers_group, workers_group, services, warn_even)


class FilterModule(object):
    def filters(self):
        return {'swarm_inventory_check': swarm_inventory_check}
