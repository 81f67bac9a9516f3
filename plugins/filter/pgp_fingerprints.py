# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: pgp_fingerprints
short_description: Fingerprints of the primary keys in an OpenPGP public key file
version_added: 0.1.0
description:
  - Reads the key on the controller in pure Python (no C(gpg) needed) and returns the fingerprint of every primary
    public key it holds (subkeys are not listed).
  - The file is read strictly, with the same code the C(swarmops.swarm.docker) role uses to verify its apt
    repository key, so a file gpg or apt would read differently is refused rather than misread. It must be
    exactly one ASCII-armored public key block (RFC 4880 armor with a matching CRC-24 checksum and nothing but
    whitespace around it) or binary packets, holding only version 4 public keys with their user IDs,
    signatures and subkeys.
options:
  _input:
    description: The key file's text, for example C(content) from M(ansible.builtin.uri).
    type: str
    required: true
'''

EXAMPLES = r'''
- name: Refuse a repository key that is not exactly the expected one
  ansible.builtin.assert:
    that: (key.content | swarmops.swarm.pgp_fingerprints) == ['9DC858229FC7DD38854AE2D88D81803C0EBFCD88']
'''

RETURN = r'''
_value:
  description: Fingerprints, 40 upper-case hex digits without spaces, in file order.
  type: list
  elements: str
'''

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_bytes
from ansible_collections.swarmops.swarm.plugins.module_utils._openpgp import OpenPGPError, primary_fingerprints


def pgp_fingerprints(text):
    try:
        return primary_fingerprints(to_bytes(text, errors='surrogate_or_strict'))
    except OpenPGPError as exc:
        raise AnsibleFilterError('pgp_fingerprints: %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'pgp_fingerprints': pgp_fingerprints}
