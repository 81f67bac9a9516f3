# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: swarm_changed
short_description: Whether any host's registered results report a change in this run
version_added: 0.1.0
description:
  - Looks at the registered results C(names) (a loop's results included) of C(hosts); missing or skipped ones
    count as unchanged. C(swarmops.swarm.swarm_status) reads the swarm again for its report only when something
    changed since the first read.
options:
  _input:
    description: C(hostvars) (or any mapping of host name to its variables).
    type: dict
    required: true
  hosts:
    description: The hosts to look at.
    type: list
    elements: str
    required: true
  names:
    description: The registered variables to look at.
    type: list
    elements: str
    required: true
'''

EXAMPLES = r'''
- name: Read the swarm again when the run changed it
  when: hostvars | swarmops.swarm.swarm_changed(ansible_play_hosts_all, ['swarm_member_join', 'swarm_services_result'])
  swarmops.swarm.swarm_info:
  register: swarm_status_read
'''

RETURN = r'''
_value:
  description: Whether a change was reported.
  type: bool
'''

from ansible_collections.swarmops.swarm.plugins.plugin_utils.swarm_plan import changed_in_run


def swarm_changed(hostvars, hosts, names):
    return changed_in_run(hostvars, list(hosts or []), list(names or []))


class FilterModule(object):
    def filters(self):
        return {'swarm_changed': swarm_changed}
