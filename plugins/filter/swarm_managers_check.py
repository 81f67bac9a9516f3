# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: swarm_managers_check
short_description: Refuse to plan without a manager read, or with manager changes that lose the quorum
version_added: 0.1.0
description:
  - From the managers' C(swarmops.swarm.swarm_info) results (the host fact C(swarm_node_info)), refuses when no
    manager could be read (every one unreachable or failing), naming each manager and why.
  - Compares the managers a live manager of the swarm reports with the inventory's groups (swarm nodes are
    matched to inventory hosts by advertise address, C(swarm_node_advertise_addr)). site.yml promotes workers
    listed as managers and demotes managers listed as workers, one at a time; managers left out of the inventory
    are cut off by the firewall. Refuses when the reachable managers would not hold a quorum once those are lost
    or after any one of the demotions, and when no manager of now is left in the managers' group (the changes go
    through one). C(swarmops.swarm.swarm_preflight) runs it before anything changes.
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
- name: Refuse to plan without a manager, or manager changes that would lose the quorum
  run_once: true
  vars:
    managers_check: "{{ hostvars | swarmops.swarm.swarm_managers_check(groups['swarm_managers'], groups['swarm_workers']) }}"
  ansible.builtin.assert:
    that: managers_check.ok
    fail_msg: "{{ managers_check.reason }}"
'''

RETURN = r'''
_value:
  description:
    - C(ok) (bool) and C(reason) (a sentence naming the managers, the quorum and the fix).
    - C(firewall_managers) (list of str) the hosts on which 2377/tcp stays open for this run, the inventory's
      managers (reachable or not) and the hosts of the workers' group that are managers now (until they are
      demoted).
  type: dict
'''

from ansible_collections.swarmops.swarm.plugins.plugin_utils.swarm_plan import (
    check_manager_roles, manager_now, manager_read_failures, reports_from)


def swarm_managers_check(hostvars, managers, workers, groups=None):
    managers, workers = list(managers or []), list(workers or [])
    reports = reports_from(hostvars, managers)
    worker_reports = reports_from(hostvars, workers)
    # Where 2377/tcp stays open this run: every manager of the inventory (reachable or not: a member down for the
    # run keeps its place in the others' rules), and every host of the workers' group that is a manager now.
    firewall_managers = managers + [host for host in workers
                                    if manager_now(worker_reports.get(host)) and host not in managers]
    refusal = manager_read_failures(managers, reports)
    if refusal:
        return {'ok': False, 'reason': refusal, 'firewall_managers': firewall_managers}
    addresses = reports_from(hostvars, managers + workers, name='swarm_node_advertise_addr')
    result = check_manager_roles(managers, workers, reports, dict((h, a) for h, a in addresses.items() if a),
                                 tuple(groups or ('swarm_managers', 'swarm_workers')), worker_reports=worker_reports)
    result['firewall_managers'] = firewall_managers
    return result


class FilterModule(object):
    def filters(self):
        return {'swarm_managers_check': swarm_managers_check}
