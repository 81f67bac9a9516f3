# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: swarm_manager_roles_check
short_description: Refuse an inventory that takes managers of the running swarm out of the manager role
version_added: 0.1.0
description:
  - Compares the managers a live manager of the swarm reports with the inventory's groups (swarm nodes are
    matched to inventory hosts by advertise address).
  - Refuses when a reachable manager is listed in the workers' group (site.yml does not demote), or when the
    managers the inventory keeps would be fewer than a quorum of the swarm's managers (demoting or removing
    two of three). swarm_preflight runs it before the firewall role, which would otherwise close 2377/tcp
    between the managers.
options:
  _input:
    description: C(swarmops.swarm.swarm_info) results (with nodes) of the inventory's managers, by host name.
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
  addresses:
    description: The advertise address of each inventory host, by host name.
    type: dict
    required: true
'''

EXAMPLES = r'''
- name: Refuse to demote managers by an inventory change
  ansible.builtin.assert:
    that: roles_check.ok
    fail_msg: "{{ roles_check.reason }}"
  vars:
    roles_check: >-
      {{ reports | swarmops.swarm.swarm_manager_roles_check(groups['swarm_managers'], groups['swarm_workers'],
         addresses) }}
'''

RETURN = r'''
_value:
  description: C(ok) (bool) and C(reason) (a sentence naming the managers, the quorum and the fix).
  type: dict
'''

from ansible_collections.swarmops.swarm.plugins.plugin_utils.bootstrap_plan import check_manager_roles


def swarm_manager_roles_check(reports, managers, workers, addresses):
    return check_manager_roles(list(managers or []), list(workers or []), dict(reports or {}), dict(addresses or {}))


class FilterModule(object):
    def filters(self):
        return {'swarm_manager_roles_check': swarm_manager_roles_check}
