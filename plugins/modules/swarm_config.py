#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

DOCUMENTATION = r'''
module: swarm_config
short_description: Versioned swarm configs, rotated onto their services
version_added: 0.1.0
description:
  - Runs on a swarm manager and converges one config (O(name)) or many (O(configs)) to the content given.
  - Swarm configs are immutable, so a content lives in a versioned config C(NAME_v<N>) labelled
    C(swarmops.swarm.name=NAME). New content creates version N+1, moves every service that uses an older version of
    NAME onto it (same file path, owner and mode in the container - a rolling update), waits until they converged,
    and removes the versions no service uses any more, keeping the newest O(keep_versions).
  - The content is compared with what the API returns for the current version. Configs are not secret (anyone who
    can reach a manager's API can read them), so the diff shows the content. Use M(swarmops.swarm.swarm_secret) for
    anything sensitive.
  - A config named exactly NAME that this module did not make (no labels) is taken over - the services that use it
    are moved onto the first version, and it is pruned like any old version.
author:
  - swarmops.swarm contributors (@swarmops)
extends_documentation_fragment:
  - swarmops.swarm.engine
attributes:
  check_mode:
    support: full
    description: Predicts the new version, the services moved onto it and the versions pruned, without any change.
  diff_mode:
    support: full
    description: Content before and after, version names, services moved, versions pruned.
options:
  name:
    description:
      - The config's name, as services refer to it. Required unless O(configs) is given.
      - At most 58 characters, so that the version suffix fits in Docker's 64.
    type: str
  configs:
    description:
      - Converge many configs in one call; each item takes this module's per-config options (O(name), O(state),
        O(data), O(data_is_b64), O(labels), O(keep_versions), O(rollout)). All are validated and planned before the
        first change; a service that uses several rotated configs is updated once.
      - Mutually exclusive with O(name) and the other per-config options.
    type: list
    elements: dict
    suboptions:
      name:
        description: The config's name.
        type: str
        required: true
      state:
        description: V(present) or V(absent).
        type: str
        choices: [present, absent]
        default: present
      data:
        description: The content.
        type: str
      data_is_b64:
        description: O(configs[].data) is base64 (binary content).
        type: bool
        default: false
      labels:
        description: Labels of the config.
        type: dict
      keep_versions:
        description: Versions kept, the current one included.
        type: int
        default: 1
      rollout:
        description: Move the services onto a new version.
        type: bool
        default: true
  state:
    description:
      - V(present) makes the content the current version; V(absent) removes every version (refused, naming the
        services, while a service uses one).
    type: str
    choices: [present, absent]
    default: present
  data:
    description:
      - The content, for example from a template on the controller
        (C("{{ lookup('ansible.builtin.template', 'nginx.conf.j2') }}")). Required with O(state=present).
    type: str
  data_is_b64:
    description:
      - O(data) is base64-encoded (for binary content); the config holds the decoded bytes.
    type: bool
    default: false
  labels:
    description:
      - Labels of the config (the module's own C(swarmops.swarm.*) labels aside). A change of labels only is made in
        place, without a new version.
    type: dict
  keep_versions:
    description:
      - How many versions to keep, the current one included. Older versions are removed once no service uses them
        (never while one does). Set V(2) to keep the previous content for C(docker service rollback).
    type: int
    default: 1
  rollout:
    description:
      - Move the services that use an older version onto the new one. With V(false) they keep theirs (which is then
        not pruned) until their own definition changes.
    type: bool
    default: true
  wait:
    description:
      - Wait until the services moved onto a new version converged before pruning the old versions; fail with
        Docker's task errors (keeping the old versions) when they do not.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for the services.
    type: int
    default: 120
notes:
  - Runs on a swarm manager.
  - In the container the config is the file at the reference's target (C(/NAME) by default), whatever its version.
seealso:
  - module: swarmops.swarm.swarm_secret
  - module: swarmops.swarm.swarm_service
'''

EXAMPLES = r'''
- name: The web server's configuration, rendered on the controller (docker config create nginx_conf -)
  swarmops.swarm.swarm_config:
    name: nginx_conf
    data: "{{ lookup('ansible.builtin.template', 'nginx.conf.j2') }}"

- name: Every config of the inventory in one call
  swarmops.swarm.swarm_config:
    configs: "{{ swarm_configs }}"
'''

RETURN = r'''
name:
  description: The config's name.
  returned: when O(name) is given
  type: str
current:
  description: The version services use after the run (predicted in check mode).
  returned: when O(name) is given and O(state=present)
  type: str
  sample: nginx_conf_v2
operation:
  description: V(create) (a new version), V(labels) (labels changed in place), V(remove) or V(none).
  returned: when O(name) is given
  type: str
reason:
  description: Why a new version was made (V(new), V(value changed), or that the existing config was not made by
    this module).
  returned: when O(name) is given
  type: str
rolled_out:
  description: The services moved onto the current version, each with the version it had.
  returned: when O(name) is given
  type: list
  elements: dict
  sample: [{service: web, from: nginx_conf_v1, to: nginx_conf_v2}]
pruned:
  description: The versions removed.
  returned: when O(name) is given
  type: list
  elements: str
kept_in_use:
  description: Old versions kept because a service that was not moved (O(rollout=false)) still uses them.
  returned: when O(name) is given
  type: list
  elements: dict
diff:
  description: Content, version, services moved and versions pruned, before and after.
  returned: when changed
  type: dict
configs:
  description: With O(configs), one result per item (the fields above, plus C(changed)).
  returned: when O(configs) is given
  type: list
  elements: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.swarm.plugins.module_utils._engine import ENGINE_ARGUMENT_SPEC, EngineClient
from ansible_collections.swarmops.swarm.plugins.module_utils import _swarm_objects


def main():
    module = AnsibleModule(argument_spec=_swarm_objects.versioned_argument_spec('config', ENGINE_ARGUMENT_SPEC),
                           mutually_exclusive=[('name', 'configs')], required_one_of=[('name', 'configs')],
                           supports_check_mode=True)
    _swarm_objects.run_versioned(module, 'config', EngineClient.from_module)


if __name__ == '__main__':
    main()
