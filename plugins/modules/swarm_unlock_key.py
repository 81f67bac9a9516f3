#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

DOCUMENTATION = r'''
module: swarm_unlock_key
short_description: Keep an autolocked swarm's unlock key in an ansible-vault file, rotate it, unlock managers with it
version_added: 0.1.0
description:
  - Custody of the unlock key of a swarm whose managers are autolocked (C(docker swarm init --autolock),
    C(docker swarm unlock-key --rotate), C(docker swarm unlock)). Runs on a manager.
  - A manager that is locked (its engine restarted) is unlocked with the key given as O(unlock_key), or else the
    current or a previous key from the key file O(path).
  - When autolock is on, the current key is written to O(path) on the B(controller), encrypted with ansible-vault
    (the vault secret the playbook runs with - C(--vault-id), C(--vault-password-file) or C(--ask-vault-pass)),
    file mode C(0600); the keys it replaced are kept in the same file (a manager that was down during a rotation
    still needs the old one). The file is rewritten only when the swarm's key differs from the one stored.
  - The key never appears in the result, in a diff or in a message, at any verbosity.
  - The work on the controller is done by the action plugin of the same name; without a vault secret the task
    fails before anything is changed.
author:
  - swarmops.swarm contributors (@swarmops)
extends_documentation_fragment:
  - swarmops.swarm.engine
attributes:
  check_mode:
    support: full
    description: Says whether it would unlock, rotate and rewrite the key file; changes nothing.
  diff_mode:
    support: partial
    description: Shows the key file's state (never a key) before and after.
  action:
    support: full
    description: The controller side (the vaulted file) is an action plugin.
options:
  path:
    description:
      - The key file on the controller. Its directory is created (mode C(0700)) when missing.
      - A file that exists must decrypt with the playbook's vault secrets.
    type: path
    required: true
  rotate:
    description:
      - Replace the swarm's unlock key (C(docker swarm unlock-key --rotate)); changed on every run where it is true.
        The new key is stored before the task returns; the old one is kept as a previous key.
      - Fails when autolock is off (there is no key to rotate).
    type: bool
    default: false
  unlock_key:
    description:
      - A key to try first when the manager is locked, for example a vaulted variable; stored in O(path) when it is the
        swarm's current key and the file does not hold it yet.
    type: str
  vault_id:
    description:
      - The vault ID to encrypt the file with (one of the playbook's C(--vault-id) labels); the first vault secret
        when not set.
    type: str
  stored_keys:
    description:
      - Set by the action plugin from the key file; do not set it.
    type: list
    elements: str
  known_key_hashes:
    description:
      - Set by the action plugin (sha256 of the keys the controller holds); do not set it.
    type: list
    elements: str
seealso:
  - module: swarmops.swarm.swarm_init
notes:
  - C(ansible-vault view PATH) shows the file; the key is its C(unlock_key) field.
'''

EXAMPLES = r'''
- name: Keep the unlock key on the controller (after autolock was turned on)
  swarmops.swarm.swarm_unlock_key:
    path: "{{ lookup('ansible.builtin.env', 'HOME') }}/.ansible/swarmops/prod-unlock-key.vault.yml"
  run_once: true

- name: Rotate the unlock key, keeping the new one in the same file
  swarmops.swarm.swarm_unlock_key:
    path: "{{ lookup('ansible.builtin.env', 'HOME') }}/.ansible/swarmops/prod-unlock-key.vault.yml"
    rotate: true
  run_once: true

- name: Unlock managers whose engine restarted (from the file, or a vaulted variable)
  swarmops.swarm.swarm_unlock_key:
    path: "{{ lookup('ansible.builtin.env', 'HOME') }}/.ansible/swarmops/prod-unlock-key.vault.yml"
    unlock_key: "{{ vault_swarm_unlock_key | default(omit) }}"
'''

RETURN = r'''
local_node_state:
  description: The manager's swarm state before the run (V(locked) when it was locked).
  returned: always
  type: str
unlocked:
  description: Whether the manager was (or in check mode would be) unlocked.
  returned: always
  type: bool
rotated:
  description: Whether the key was (or would be) rotated.
  returned: always
  type: bool
autolock:
  description: Whether autolock is on.
  returned: success
  type: bool
cluster_id:
  description: The swarm's ID (the key file records which swarm the key belongs to).
  returned: success
  type: str
key_sha256:
  description: sha256 of the swarm's current unlock key (to compare keys without showing them); null when autolock is off.
  returned: success
  type: str
key_file:
  description: The key file's path, whether it was (or would be) written, and why.
  returned: success
  type: dict
  contains:
    path:
      description: The file.
      type: str
    changed:
      description: Whether it was (or would be) written.
      type: bool
    reason:
      description: Why it was written or left alone.
      type: str
'''

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.swarm.plugins.module_utils._engine import (
    ENGINE_ARGUMENT_SPEC, EngineClient, EngineError)
from ansible_collections.swarmops.swarm.plugins.module_utils.swarm_cluster import describe_state, redact
from ansible_collections.swarmops.swarm.plugins.module_utils._swarm_unlock import key_sha256


def fail(module, msg, **extra):
    module.fail_json(msg=redact(msg), **extra)


def unlock(module, client, result, info):
    keys = [k for k in module.params['stored_keys'] or [] if k]
    if not keys:
        fail(module, '%s, and no key to unlock it: set unlock_key (swarm_bootstrap_unlock_key with site.yml), or keep '
                     'the key file %s (written when autolock is turned on), or run `docker swarm unlock` on the node'
             % (describe_state(info), module.params['path']), **result)
    result.update(changed=True, unlocked=True)
    if module.check_mode:
        module.exit_json(msg='the manager is locked and would be unlocked with one of %d key(s)' % len(keys),
                         diff={'before': {'local_node_state': 'locked'}, 'after': {'local_node_state': 'active'}},
                         **result)
    refused = 0
    for key in keys:
        try:
            client.post('/swarm/unlock', data={'UnlockKey': key})
            break
        except EngineError as exc:
            if 'invalid key' not in exc.message.lower() and 'not valid' not in exc.message.lower():
                raise
            refused += 1
    else:
        fail(module, 'none of the %d key(s) unlocked this manager (the unlock_key given, then the current and previous '
                     'keys in %s): the swarm\'s key was rotated since they were stored. `docker swarm unlock-key -q` '
                     'on an unlocked manager prints the current one' % (refused, module.params['path']),
             **dict(result, changed=False, unlocked=False))
    deadline = time.time() + max(30, module.params['api_timeout'])
    while time.time() < deadline:
        swarm = (client.get('/info') or {}).get('Swarm') or {}
        if swarm.get('LocalNodeState') == 'active' and swarm.get('ControlAvailable'):
            return
        time.sleep(0.5)
    fail(module, 'the manager accepted the unlock key but is not an active manager after %ss' %
         max(30, module.params['api_timeout']), **result)


def main():
    argument_spec = dict(
        path=dict(type='path', required=True),
        rotate=dict(type='bool', default=False),
        unlock_key=dict(type='str', no_log=True),
        vault_id=dict(type='str'),
        stored_keys=dict(type='list', elements='str', no_log=True),
        known_key_hashes=dict(type='list', elements='str', no_log=False),
    )
    argument_spec.update(ENGINE_ARGUMENT_SPEC)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    client = EngineClient.from_module(module)
    result = dict(changed=False, unlocked=False, rotated=False)
    try:
        run(module, client, result)
    except EngineError as exc:
        fail(module, 'Docker engine error: %s' % exc, **result)


def run(module, client, result):
    params = module.params
    info = client.get('/info') or {}
    state = (info.get('Swarm') or {}).get('LocalNodeState') or 'inactive'
    result['local_node_state'] = state
    if state == 'locked':
        unlock(module, client, result, info)
        info = client.get('/info') or {}
    swarm_state = info.get('Swarm') or {}
    if swarm_state.get('LocalNodeState') != 'active' or not swarm_state.get('ControlAvailable'):
        fail(module, '%s: swarm_unlock_key runs on a manager' % describe_state(info), **result)
    swarm = client.get('/swarm') or {}
    spec = swarm.get('Spec') or {}
    autolock = bool((spec.get('EncryptionConfig') or {}).get('AutoLockManagers'))
    result.update(autolock=autolock, cluster_id=swarm.get('ID'), key_sha256=None)
    if params['rotate']:
        if not autolock:
            fail(module, 'rotate: autolock is off, so the swarm has no unlock key to rotate (turn it on first: '
                         'swarm_bootstrap_autolock: true with site.yml)', **result)
        result.update(changed=True, rotated=True)
        if module.check_mode:
            module.exit_json(**result)
        version = (swarm.get('Version') or {}).get('Index')
        client.post('/swarm/update', data=spec, params={'version': version, 'rotateManagerUnlockKey': 'true'})
    if autolock:
        key = ((client.get('/swarm/unlockkey') or {}).get('UnlockKey') or '').strip()
        result['key_sha256'] = key_sha256(key)
        # The key goes back only when the controller does not hold it: one it passed in would come back
        # masked (a no_log value), and the action plugin already has it.
        if key and result['key_sha256'] not in (params['known_key_hashes'] or []):
            result['unlock_key'] = key
    module.exit_json(**result)


if __name__ == '__main__':
    main()
