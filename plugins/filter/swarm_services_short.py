# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: swarm_services_short
short_description: The services with fewer running tasks than desired
version_added: 0.1.0
description:
  - From a C(swarmops.swarm.swarm_info) read with services, C(name running/desired) for every service whose
    running tasks are fewer than its desired ones (a global job, without a desired count, is left out).
options:
  _input:
    description: A C(swarmops.swarm.swarm_info) result with services.
    type: dict
    required: true
'''

EXAMPLES = r'''
- name: Wait until every service runs all its tasks
  swarmops.swarm.swarm_info:
    nodes: false
  register: swarm_read
  until: swarm_read | swarmops.swarm.swarm_services_short | length == 0
  retries: 60
  delay: 5
'''

RETURN = r'''
_value:
  description: The services short of tasks, as C(name running/desired).
  type: list
  elements: str
'''

from ansible_collections.swarmops.swarm.plugins.plugin_utils.swarm_plan import services_short


def swarm_services_short(read):
    return services_short(read)


class FilterModule(object):
    def filters(self):
        return {'swarm_services_short': swarm_services_short}
