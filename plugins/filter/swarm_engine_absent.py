# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: swarm_engine_absent
short_description: Whether a failed swarm_info read means "no engine answers here yet"
version_added: 0.1.0
description:
  - True for the failures of C(swarmops.swarm.swarm_info) that mean no engine answers on the host yet - nothing
    listens on the engine's socket (not installed, or stopped), or the Docker SDK for Python is not installed -
    which the C(swarmops.swarm.docker) role fixes. False for every other result, so a read that fails for any
    other reason (permissions, an engine error, a timeout) stays an error.
options:
  _input:
    description: A registered C(swarmops.swarm.swarm_info) result.
    type: dict
    required: true
'''

EXAMPLES = r'''
- name: Read the node's swarm state; a host without an engine yet is an answer, any other failure an error
  swarmops.swarm.swarm_info:
    nodes: false
  register: swarm_node_info
  failed_when: swarm_node_info is failed and not (swarm_node_info | swarmops.swarm.swarm_engine_absent)
'''

RETURN = r'''
_value:
  description: Whether the result is the "no engine yet" failure.
  type: bool
'''

from ansible_collections.swarmops.swarm.plugins.plugin_utils.swarm_plan import engine_absent


def swarm_engine_absent(result):
    return engine_absent(result)


class FilterModule(object):
    def filters(self):
        return {'swarm_engine_absent': swarm_engine_absent}
