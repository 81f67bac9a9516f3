#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

DOCUMENTATION = r'''
module: swarm_secret
short_description: Versioned swarm secrets, rotated onto their services, values never shown
version_added: 0.1.0
description:
  - Runs on a swarm manager and converges one secret (O(name)) or many (O(secrets)) to the value given.
  - Swarm secrets are immutable, so a value lives in a versioned secret C(NAME_v<N>) labelled
    C(swarmops.swarm.name=NAME). A new value creates version N+1, moves every service that uses an older version of
    NAME onto it (same file name, owner and mode in the container - a rolling update), waits until they converged,
    and removes the versions no service uses any more, keeping the newest O(keep_versions).
  - The API never returns a secret's value. Whether the value changed is decided by an HMAC-SHA256 of the name and
    the value under O(hash_key), kept in the secret's label C(swarmops.swarm.digest); without the key the label
    does not let anyone test guesses of a short value. A changed O(hash_key) makes a new version of every secret
    once (the result says so).
  - A secret named exactly NAME that this module did not make (no labels) is taken over - the services that use
    it are moved onto the first version, and it is pruned like any old version.
  - The value never appears in the result, the diff, warnings or error messages (the option is C(no_log)).
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
    description: Version names, services moved and versions pruned; never the value.
options:
  name:
    description:
      - The secret's name, as services refer to it. Required unless O(secrets) is given.
      - At most 58 characters, so that the version suffix fits in Docker's 64.
    type: str
  secrets:
    description:
      - Converge many secrets in one call; each item takes this module's per-secret options (O(name), O(state),
        O(data), O(data_is_b64), O(labels), O(keep_versions), O(rollout)). All are validated and planned before the
        first change; a service that uses several rotated secrets is updated once.
      - Mutually exclusive with O(name) and the other per-secret options.
    type: list
    elements: dict
    suboptions:
      name:
        description: The secret's name.
        type: str
        required: true
      state:
        description: V(present) or V(absent).
        type: str
        choices: [present, absent]
        default: present
      data:
        description: The value (never shown).
        type: str
      data_is_b64:
        description: O(secrets[].data) is base64 (binary values).
        type: bool
        default: false
      labels:
        description: Labels of the secret.
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
      - V(present) makes the value the current version; V(absent) removes every version (refused, naming the
        services, while a service uses one).
    type: str
    choices: [present, absent]
    default: present
  data:
    description:
      - The value, from Ansible Vault or a file on the controller
        (C("{{ lookup('ansible.builtin.file', 'files/db_password') }}"), which also decrypts a vaulted file).
      - Required with O(state=present).
    type: str
  data_is_b64:
    description:
      - O(data) is base64-encoded (for binary values); the secret holds the decoded bytes.
    type: bool
    default: false
  labels:
    description:
      - Labels of the secret (the module's own C(swarmops.swarm.*) labels aside). A change of labels only is made in
        place, without a new version.
    type: dict
  keep_versions:
    description:
      - How many versions to keep, the current one included. Older versions are removed once no service uses them
        (never while one does). Set V(2) to keep the previous value for C(docker service rollback).
    type: int
    default: 1
  rollout:
    description:
      - Move the services that use an older version onto the new one. With V(false) they keep theirs (which is then
        not pruned) until their own definition changes.
    type: bool
    default: true
  hash_key:
    description:
      - The key of the digests kept in the secrets' labels; a long random string from Ansible Vault, the same for
        every run. Required with O(state=present).
    type: str
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
  - In the container the secret is the file C(/run/secrets/NAME) (the reference's target), whatever its version.
seealso:
  - module: swarmops.swarm.swarm_config
  - module: swarmops.swarm.swarm_service
'''

EXAMPLES = r'''
- name: A database password from Ansible Vault (docker secret create db_password -)
  swarmops.swarm.swarm_secret:
    name: db_password
    data: "{{ vault_db_password }}"
    hash_key: "{{ vault_swarm_hash_key }}"
  register: rotated

- name: A TLS key from a vaulted file, keeping the previous version for rollbacks
  swarmops.swarm.swarm_secret:
    name: site_key
    data: "{{ lookup('ansible.builtin.file', 'files/site.key.vault') }}"
    keep_versions: 2
    hash_key: "{{ vault_swarm_hash_key }}"

- name: Every secret of the inventory in one call
  swarmops.swarm.swarm_secret:
    secrets: "{{ swarm_secrets }}"
    hash_key: "{{ vault_swarm_hash_key }}"

- name: A service that reads it at /run/secrets/db_password (the current version, by its versioned name)
  swarmops.swarm.swarm_service:
    name: app
    image: registry.example.com/app:1.4
    secrets:
      - name: "{{ rotated.current }}"
        target: db_password
'''

RETURN = r'''
name:
  description: The secret's name.
  returned: when O(name) is given
  type: str
current:
  description: The version services use after the run (predicted in check mode).
  returned: when O(name) is given and O(state=present)
  type: str
  sample: db_password_v3
operation:
  description: V(create) (a new version), V(labels) (labels changed in place), V(remove) or V(none).
  returned: when O(name) is given
  type: str
reason:
  description: Why a new version was made (V(new), V(value changed), V(hash_key changed), or that the existing
    secret was not made by this module).
  returned: when O(name) is given
  type: str
rolled_out:
  description: The services moved onto the current version, each with the version it had.
  returned: when O(name) is given
  type: list
  elements: dict
  sample: [{service: app, from: db_password_v2, to: db_password_v3}]
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
  description: Version, services moved and versions pruned, before and after; the value only as V((hidden)).
  returned: when changed
  type: dict
secrets:
  description: With O(secrets), one result per item (the fields above, plus C(changed)).
  returned: when O(secrets) is given
  type: list
  elements: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.swarm.plugins.module_utils._engine import ENGINE_ARGUMENT_SPEC, EngineClient
from ansible_collections.swarmops.swarm.plugins.module_utils import _swarm_objects


def main():
    module = AnsibleModule(argument_spec=_swarm_objects.versioned_argument_spec('secret', ENGINE_ARGUMENT_SPEC),
                           mutually_exclusive=[('name', 'secrets')], required_one_of=[('name', 'secrets')],
                           supports_check_mode=True)
    _swarm_objects.run_versioned(module, 'secret', EngineClient.from_module)


if __name__ == '__main__':
    main()
