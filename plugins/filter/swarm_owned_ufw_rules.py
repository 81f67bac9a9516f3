# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: swarm_owned_ufw_rules
short_description: The ufw rules the firewall role wrote (comment starting with its marker)
version_added: 0.1.0
description:
  - Picks, from the tuples of ufw's C(user.rules) as C(swarmops.swarm.firewall_state) reads them, the rules whose
    comment starts with the owner marker, so that C(playbooks/reset.yml) removes exactly those.
  - Rules whose comment starts with one of O(keep) stay (the SSH rule - ufw stays on with default deny).
options:
  _input:
    description: The C(### tuple ###) lines.
    type: list
    elements: str
    required: true
  owner:
    description: The comment marker.
    type: str
    default: swarmops
  keep:
    description: Comment prefixes of owned rules to keep.
    type: list
    elements: str
    default: ['swarmops: ssh']
'''

EXAMPLES = r'''
- name: Remove the owned rules
  ansible.builtin.command:
    argv: "{{ item.argv }}"
  loop: "{{ state.ufw.tuples | swarmops.swarm.swarm_owned_ufw_rules }}"
'''

RETURN = r'''
_value:
  description: >-
    Each rule as C(proto), C(port) (V(any) for a protocol rule), C(src) (V(any) for anywhere), C(comment), and
    C(argv), the ufw command that deletes it.
  type: list
  elements: dict
'''

from ansible_collections.swarmops.swarm.plugins.plugin_utils._node_lifecycle import owned_ufw_rules


def swarm_owned_ufw_rules(tuples, owner='swarmops', keep=('swarmops: ssh',)):
    return owned_ufw_rules(list(tuples or []), owner, tuple(keep or ()))


class FilterModule(object):
    def filters(self):
        return {'swarm_owned_ufw_rules': swarm_owned_ufw_rules}
