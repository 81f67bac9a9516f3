#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

DOCUMENTATION = r'''
module: docker_apt_key
short_description: Download an apt repository's signing key, verify it, and store exactly that key for apt
version_added: 0.1.0
description:
  - Downloads the key file at O(url) on the host and accepts it only when it is exactly one ASCII-armored public
    key block (RFC 4880 armor - header line, armor headers, blank line, base64, a CRC-24 checksum that matches,
    footer, and nothing but whitespace around it) or one binary key, holding exactly one version 4 primary key
    whose fingerprint is O(fingerprint), with its user IDs, signatures and subkeys, and no other data.
  - What is written to O(dest) is a keyring built from the packets that were verified, never the downloaded
    bytes, so apt cannot read more into it than was checked. It is binary, or ASCII-armored when O(dest) ends in
    C(.asc) (apt chooses by the extension).
  - A refused key file changes nothing on the host. Check mode downloads and verifies the key too, and reports
    whether the keyring would change.
  - Used by the C(swarmops.swarm.docker) role; the key check is the collection's one OpenPGP reader
    (module_utils C(_openpgp)), which the C(swarmops.swarm.pgp_fingerprints) filter and
    M(swarmops.swarm.docker_engine_info) use as well.
author:
  - swarmops.swarm contributors (@swarmops)
extends_documentation_fragment:
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
    description: Downloads and verifies the key, writes nothing.
  diff_mode:
    support: full
    description: The keys of the keyring before and after, as C(gpg --show-keys) lists them (fingerprints, user IDs).
options:
  url:
    description: Where the host downloads the key file from (C(http), C(https) or C(file)).
    type: str
    required: true
  fingerprint:
    description: The fingerprint the one primary key must have (40 hex digits; spaces and an C(0x) prefix allowed).
    type: str
    required: true
  dest:
    description: The keyring apt uses (the C(Signed-By) of the repository's source). Its directory is created
      (mode C(0755)) when missing, after the key was verified.
    type: path
    required: true
  timeout:
    description: Seconds to wait for the download.
    type: int
    default: 30
  validate_certs:
    description: Check the server's TLS certificate (C(https)).
    type: bool
    default: true
'''

EXAMPLES = r'''
- name: Trust Docker's repository key, and only it
  swarmops.swarm.docker_apt_key:
    url: https://download.docker.com/linux/debian/gpg
    fingerprint: 9DC8 5822 9FC7 DD38 854A  E2D8 8D81 803C 0EBF CD88
    dest: /etc/apt/keyrings/docker.gpg
    owner: root
    group: root
    mode: "0644"
'''

RETURN = r'''
fingerprint:
  description: The primary key's fingerprint (upper-case hex).
  returned: success
  type: str
  sample: 9DC858229FC7DD38854AE2D88D81803C0EBFCD88
subkeys:
  description: Fingerprints of its subkeys, as the key file lists them.
  returned: success
  type: list
  elements: str
user_ids:
  description: Its user IDs.
  returned: success
  type: list
  elements: str
  sample: [Docker Release (CE deb) <docker@docker.com>]
dest:
  description: The keyring written (or that would be written in check mode).
  returned: always
  type: str
'''

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.swarm.plugins.module_utils._download import fetch_with_retries
from ansible_collections.swarmops.swarm.plugins.module_utils._openpgp import (
    OpenPGPError, keyring, read_keys, verified_key)


def describe(data):
    """The keys of a keyring as text for the diff: what `gpg --show-keys` would list."""
    if data is None:
        return ''
    try:
        keys = read_keys(data)
    except OpenPGPError as exc:
        return 'unreadable keyring: %s\n' % exc
    lines = []
    for key in keys:
        lines.append('pub %s' % key.fingerprint)
        lines.extend('uid %s' % user_id for user_id in key.user_ids)
        lines.extend('sub %s' % subkey for subkey in key.subkeys)
    return '\n'.join(lines) + '\n'


def download(module, url):
    """The key file's bytes, or the task fails saying why (after retries: see fetch_with_retries)."""
    response, reason, status = fetch_with_retries(module, url, attempts=5)
    if response is None:
        module.fail_json(msg='Cannot download the key from %s: %s. Nothing was written.' % (url, reason),
                         status=status)
    return response.read()


def main():
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type='str', required=True),
            fingerprint=dict(type='str', required=True),
            dest=dict(type='path', required=True),
            timeout=dict(type='int', default=30),
            validate_certs=dict(type='bool', default=True),
        ),
        add_file_common_args=True,
        supports_check_mode=True,
    )
    url, dest = module.params['url'], module.params['dest']
    data = download(module, url)
    try:
        key = verified_key(data, module.params['fingerprint'])
    except OpenPGPError as exc:
        module.fail_json(msg='The key file at %s is refused: %s. Nothing was written.' % (url, exc), dest=dest)
    wanted = keyring(key, armored=dest.endswith('.asc'))

    current = None
    if os.path.isfile(dest):
        with open(dest, 'rb') as handle:
            current = handle.read()
    changed = current != wanted
    diff = {'before_header': dest, 'after_header': dest, 'before': describe(current), 'after': describe(wanted)}
    if changed and not module.check_mode:
        directory = os.path.dirname(dest)
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o755)
        handle, temporary = tempfile.mkstemp(dir=directory, prefix='.swarmops-keyring-')
        with os.fdopen(handle, 'wb') as out:
            out.write(wanted)
        module.atomic_move(temporary, dest)
    if os.path.exists(dest):
        file_args = module.load_file_common_arguments(module.params, path=dest)
        changed = module.set_fs_attributes_if_different(file_args, changed)
    module.exit_json(changed=changed, diff=diff, dest=dest, fingerprint=key.fingerprint, subkeys=key.subkeys,
                     user_ids=key.user_ids)


if __name__ == '__main__':
    main()
