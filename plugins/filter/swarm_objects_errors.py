# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: swarm_objects_errors
short_description: Check the swarm objects of an inventory the way their modules will, before any change
version_added: 0.1.0
description:
  - Runs on the controller the checks that M(swarmops.swarm.swarm_network), M(swarmops.swarm.swarm_secret),
    M(swarmops.swarm.swarm_config) and M(swarmops.swarm.swarm_stack) make before their first engine call, on all
    four lists at once, so that a mistake in a stack does not stop a run after the networks were changed.
  - Each message names the list, the item and the field; a secret's value is never part of one.
options:
  _input:
    description: The overlay networks (C(swarm_networks)).
    type: list
    elements: dict
    required: true
  secrets:
    description: The secrets (C(swarm_secrets)).
    type: list
    elements: dict
    required: true
  configs:
    description: The configs (C(swarm_configs)).
    type: list
    elements: dict
    required: true
  stacks:
    description: The stacks (C(swarm_stacks)).
    type: list
    elements: dict
    required: true
  hash_key:
    description: The secrets' hash key (only whether it is set matters here).
    type: str
    required: true
'''

EXAMPLES = r'''
- name: Check every object before anything changes
  ansible.builtin.assert:
    that: errors | length == 0
    fail_msg: "{{ errors }}"
  vars:
    errors: "{{ swarm_networks | swarmops.swarm.swarm_objects_errors(swarm_secrets, swarm_configs, swarm_stacks,
                swarm_objects_secret_hash_key) }}"
'''

RETURN = r'''
_value:
  description: The error messages, empty when every object is acceptable.
  type: list
  elements: str
'''

import yaml

from ansible_collections.swarmops.swarm.plugins.module_utils._swarm_objects import validate_all


def swarm_objects_errors(networks, secrets, configs, stacks, hash_key):
    return validate_all(networks, secrets, configs, stacks, hash_key, parse_yaml=yaml.safe_load)


class FilterModule(object):
    def filters(self):
        return {'swarm_objects_errors': swarm_objects_errors}
