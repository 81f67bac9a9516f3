# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: docker_engine_plan
short_description: What the docker role changes on a host, decided from one read of it
version_added: 0.1.0
description:
  - The decisions of the C(swarmops.swarm.docker) role, as one pure function of the host's state (as
    M(swarmops.swarm.docker_engine_info) reports it) and the role's variables. The role stores the result as the
    host fact C(docker_engine_plan) and applies exactly what it lists.
  - Validates every value that reaches a file or a command (codename, architecture, URLs, channel, version,
    package and user names, daemon.json keys, service environment names and values) and refuses, naming the
    variable, a newline or control character in any of them, a live-restore setting on a swarm member, and a
    distribution Docker does not serve.
  - Internal to the role; its input and output may change between minor releases, except the keys documented
    in the role's C(plan) entry point (C(restart), C(reasons), C(changed), C(swarm_state), C(engine_version),
    C(target_version)).
options:
  _input:
    description: The registered result of M(swarmops.swarm.docker_engine_info), called as the role calls it.
    type: dict
    required: true
  settings:
    description: The role's variables by name (C(docker_apt_repository_url), ...), plus C(check_mode) and C(paths)
      (the source, drop-in and daemon.json paths), as C(roles/docker/vars/main.yml) assembles them.
    type: dict
    required: true
  madison:
    description: Versions on offer (newest first, as RV(swarmops.swarm.docker_engine_info#module:madison)) that
      replace those the first read found, after the apt cache was refreshed.
    type: list
    elements: str
'''

EXAMPLES = r'''
- name: Decide what must change
  ansible.builtin.set_fact:
    docker_engine_plan: "{{ docker_probe | swarmops.swarm.docker_engine_plan(docker_settings) }}"
'''

RETURN = r'''
_value:
  description:
    - C(restart) (applying restarts dockerd or containerd), C(reasons) (short sentences), C(changed),
      C(swarm_state), C(engine_version), C(target_version), and the role's internal decisions (what to write,
      install, start, add and load).
  type: dict
'''

from ansible.errors import AnsibleFilterError
from ansible_collections.swarmops.swarm.plugins.plugin_utils.docker_engine import PlanError, plan


def docker_engine_plan(probe, settings, madison=None):
    try:
        return plan(probe, settings, madison)
    except PlanError as exc:
        raise AnsibleFilterError('swarmops.swarm.docker: %s' % exc)
    except KeyError as exc:
        raise AnsibleFilterError('docker_engine_plan: the read of the host or the settings lack %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'docker_engine_plan': docker_engine_plan}
