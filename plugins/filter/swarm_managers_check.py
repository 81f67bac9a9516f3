# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: swarm_managers_check
short_description: Refuse to plan without a manager read, or with an inventory that demotes managers
version_added: 0.1.0
description:
  - From the managers' C(swarmops.swarm.swarm_info) results (the host fact C(swarm_node_info)), refuses when no
    manager could be read (every one unreachable or failing), naming each manager and why.
  - Compares the managers a live manager of the swarm reports with the inventory's groups (swarm nodes are
    matched to inventory hosts by advertise address, C(swarm_node_advertise_addr)) and refuses when a reachable
    manager is listed in the workers' group (site.yml does not demote), or when the managers the inventory keeps
    would be fewer than a quorum of the swarm's managers (demoting or removing two of three).
    C(swarmops.swarm.swarm_preflight) runs it before the firewall role, which would otherwise close 2377/tcp
    between the managers.
options:
  _input:
    description: C(hostvars) (or any mapping of host name to its variables).
    type: dict
    required: true
  managers:
    description: The inventory's managers.
    type: list
    elements: str
    required: true
  workers:
    description: The inventory's workers.
    type: list
    elements: str
    required: true
  groups:
    description: Names of the managers' and the workers' groups, for the messages.
    type: list
    elements: str
    default: [swarm_managers, swarm_workers]
'''

EXAMPLES = r'''
- name: Refuse to plan without a manager, or to demote managers by an inventory change
  run_once: true
  vars:
    managers_check: "{{ hostvars | swarmops.swarm.swarm_managers_check(groups['swarm_managers'], groups['swarm_workers']) }}"
  ansible.builtin.assert:
    that: managers_check.ok
    fail_msg: "{{ managers_check.reason }}"
'''

RETURN = r'''
_value:
  description: C(ok) (bool) and C(reason) (a sentence naming the managers, the quorum and the fix).
  type: dict
'''

from ansible_collections.swarmops.swarm.plugins.plugin_utils.swarm_plan import (
    check_manager_roles, manager_read_failures, reports_from)


def swarm_managers_check(hostvars, managers, workers, groups=None):
    managers, workers = list(managers or []), list(workers or [])
    reports = reports_from(hostvars, managers)
    refusal = manager_read_failures(managers, reports)
    if refusal:
        return {'ok': False, 'reason': refusal}
    addresses = reports_from(hostvars, managers + workers, name='swarm_node_advertise_addr')
    return check_manager_roles(managers, workers, reports, dict((h, a) for h, a in addresses.items() if a),
                               tuple(groups or ('swarm_managers', 'swarm_workers')))


class FilterModule(object):
    def filters(self):
        return {'swarm_managers_check': swarm_managers_check}
