# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of swarm_unlock_key: the ansible-vault encrypted key file.

The module runs on the manager (unlock, rotate, read the key); this plugin reads the key file before,
hands the module the stored keys (no_log), and writes the file after when the swarm's key differs from
the one stored. The key is removed from the result before it leaves this plugin.
"""

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

import os
import tempfile

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_bytes, to_text
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.parsing.vault import VaultLib, is_encrypted, match_encrypt_secret
from ansible.plugins.action import ActionBase

from ansible_collections.swarmops.swarm.plugins.module_utils._swarm_unlock import (
    CustodyError, candidates, empty_store, key_sha256, next_store, parse_store, render_store)

MODULE = 'swarmops.swarm.swarm_unlock_key'
NO_SECRET = ('swarm_unlock_key keeps the unlock key encrypted with ansible-vault, but this run has no vault secret: run '
             'the playbook with --vault-id, --vault-password-file or --ask-vault-pass (or set ANSIBLE_VAULT_PASSWORD_FILE)')


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(('path', 'rotate', 'unlock_key', 'vault_id', 'docker_host', 'docker_url', 'api_timeout'))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        path = args.get('path')
        if not path:
            return dict(result, failed=True, msg='path is required: the key file on the controller')
        path = os.path.abspath(os.path.expanduser(to_text(path)))
        try:
            vault, vault_id, secret = self._vault_secret(args.get('vault_id'))
            if vault is None and (os.path.exists(path) or boolean(args.get('rotate', False), strict=False)):
                # Reading the file, or a rotation whose new key must be stored: both need the secret, and are
                # refused before the manager is touched.
                raise AnsibleError(NO_SECRET)
            store = self._read(path, vault) if vault is not None else empty_store()
            self._check_writable(path)
        except (AnsibleError, CustodyError) as exc:
            # Before the module ran: nothing on the swarm or on disk has changed.
            return dict(result, failed=True, changed=False, msg=to_text(exc))

        known = candidates(args.get('unlock_key'), store)
        module_args = dict((k, v) for k, v in args.items() if k not in ('unlock_key',))
        module_args.update(path=path, stored_keys=known, known_key_hashes=[key_sha256(k) for k in known])
        module_result = self._execute_module(module_name=MODULE, module_args=module_args, task_vars=task_vars)
        returned_key = module_result.pop('unlock_key', None)
        result.update(module_result)
        if result.get('failed') or result.get('skipped'):
            return result

        if 'autolock' not in result:
            # check mode on a locked manager: the swarm's key is read only once it is unlocked
            result['key_file'] = {'path': path, 'changed': False, 'reason': 'the manager is locked: read once unlocked'}
            return result
        try:
            new_store, reason = next_store(store, result.get('cluster_id'), result.get('key_sha256'), returned_key,
                                           known)
        except CustodyError as exc:
            return dict(result, failed=True, msg=to_text(exc))
        if result.get('rotated') and self._play_context.check_mode:
            # the new key does not exist yet: the file would be rewritten with it
            new_store, reason = True, 'the key would be rotated'
        result['key_file'] = {'path': path, 'changed': bool(new_store), 'reason': reason}
        before = {'key_file': 'cluster %s, key %s' % (store['cluster_id'], (key_sha256(store['current']) or 'none')[:12])}
        if new_store and vault is None:
            return dict(result, failed=True, msg='autolock is on, and its unlock key must be kept: ' + NO_SECRET)
        if new_store:
            result['changed'] = True
            if new_store is not True:
                after = {'key_file': 'cluster %s, key %s' % (new_store['cluster_id'],
                                                             key_sha256(new_store['current'])[:12])}
            else:
                after = {'key_file': 'cluster %s, a new key' % result.get('cluster_id')}
            result['diff'] = {'before': before, 'after': after}
            if not self._play_context.check_mode:
                try:
                    self._write(path, render_store(new_store), vault, vault_id, secret)
                except (OSError, AnsibleError) as exc:
                    return dict(result, failed=True,
                                msg='the swarm\'s unlock key could not be written to %s (%s). It is still readable on '
                                    'any unlocked manager: docker swarm unlock-key -q' % (path, to_text(exc)))
        return result

    # ---- the vault ---------------------------------------------------------------------------------
    def _vault_secret(self, vault_id):
        """(VaultLib, vault ID, secret) to encrypt with; (None, None, None) when the run has no vault secret."""
        secrets = getattr(getattr(self._loader, '_vault', None), 'secrets', None) or []
        if not secrets:
            return None, None, None
        match = match_encrypt_secret(secrets, vault_id or None)
        if not match:
            raise AnsibleError('no vault secret to encrypt the key file with')
        found_id, secret = match
        return VaultLib(secrets), (vault_id or (found_id if found_id and found_id != 'default' else None)), secret

    @staticmethod
    def _read(path, vault):
        if not os.path.exists(path):
            return empty_store()
        with open(path, 'rb') as handle:
            data = handle.read()
        if not is_encrypted(data):
            raise CustodyError('%s is not encrypted with ansible-vault: refusing to read or overwrite it (move it away, '
                               'or encrypt it: ansible-vault encrypt %s)' % (path, path))
        try:
            text = to_text(vault.decrypt(data))
        except AnsibleError as exc:
            raise CustodyError('%s does not decrypt with this run\'s vault secrets (%s)' % (path, to_text(exc)))
        return parse_store(text, path)

    @staticmethod
    def _check_writable(path):
        directory = os.path.dirname(path)
        probe = directory
        while not os.path.exists(probe):
            probe = os.path.dirname(probe)
        if not os.access(probe, os.W_OK | os.X_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
            raise CustodyError('cannot write the key file %s (no write permission in %s)' % (path, probe))

    @staticmethod
    def _write(path, text, vault, vault_id, secret):
        directory = os.path.dirname(path)
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o700)
        data = vault.encrypt(to_bytes(text), secret=secret, vault_id=vault_id)
        # A temporary file in the same directory, 0600 from the start, renamed over the old one: a reader never
        # sees half a file, and the key is never on disk with wider permissions.
        fd, tmp_path = tempfile.mkstemp(prefix='.swarm-unlock-key.', dir=directory)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, 'wb') as handle:
                handle.write(data)
            os.rename(tmp_path, path)
        except Exception:
            if os.path.exists(tmp_path):
                os.unlink(tmp_path)
            raise
