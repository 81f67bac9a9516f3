# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: docker_service_dropin
short_description: The engine's systemd drop-in for a set of environment variables
version_added: 0.1.0
description:
  - Renders C([Service]) C(Environment=) lines, one per variable in name order, quoted for systemd (C(\\),
    C(") escaped, C(%) doubled so systemd does not read it as a specifier).
  - The values may be credentials (proxy URLs); tasks that use the result must be C(no_log) and write the file
    with mode C(0600), as the C(swarmops.swarm.docker) role does.
  - Names must be environment variable names and values must not hold control characters; anything else is
    refused, naming the variable but never printing the value.
options:
  _input:
    description: Variables by name, as C(docker_service_environment).
    type: dict
    required: true
'''

EXAMPLES = r'''
- name: Write the engine's environment
  ansible.builtin.copy:
    content: "{{ docker_service_environment | swarmops.swarm.docker_service_dropin }}"
    dest: /etc/systemd/system/docker.service.d/swarmops.conf
    mode: "0600"
  no_log: true
'''

RETURN = r'''
_value:
  description: The drop-in's text.
  type: str
'''

from ansible.errors import AnsibleFilterError
from ansible_collections.swarmops.swarm.plugins.plugin_utils.docker_engine import PlanError, service_dropin, validate_environment


def docker_service_dropin(environment):
    try:
        validate_environment(environment)
    except PlanError as exc:
        raise AnsibleFilterError('swarmops.swarm.docker: %s' % exc)
    return service_dropin(environment)


class FilterModule(object):
    def filters(self):
        return {'docker_service_dropin': docker_service_dropin}
