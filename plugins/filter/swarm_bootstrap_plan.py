# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: swarm_bootstrap_plan
short_description: Choose the manager that forms or leads the swarm
version_added: 0.1.0
description:
  - From the C(swarmops.swarm.swarm_info) reports of the reachable nodes, decide whether to use a live
    manager of an existing swarm, initialise a new swarm on the first live manager, or refuse because
    initialising could create a second cluster.
options:
  _input:
    description: Reports by host name, as returned by C(swarmops.swarm.swarm_info); unreachable hosts are absent.
    type: dict
    required: true
  managers:
    description: The inventory's managers, in inventory order.
    type: list
    elements: str
    required: true
  workers:
    description: The inventory's workers.
    type: list
    elements: str
    required: true
'''

EXAMPLES = r'''
- name: Choose the bootstrap manager
  ansible.builtin.set_fact:
    swarm_plan: "{{ reports | swarmops.swarm.swarm_bootstrap_plan(groups['swarm_managers'], groups['swarm_workers']) }}"
'''

RETURN = r'''
_value:
  description: C(action) (use, init or fail), C(manager) (host name or null) and C(reason) (a sentence).
  type: dict
'''

from ansible_collections.swarmops.swarm.plugins.plugin_utils.bootstrap_plan import plan_bootstrap


def swarm_bootstrap_plan(reports, managers, workers):
    return plan_bootstrap(list(managers or []), list(workers or []), dict(reports or {}))


class FilterModule(object):
    def filters(self):
        return {'swarm_bootstrap_plan': swarm_bootstrap_plan}
