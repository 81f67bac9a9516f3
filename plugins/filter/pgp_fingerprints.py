# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: pgp_fingerprints
short_description: Fingerprints of the primary keys in an ASCII-armored OpenPGP public key
version_added: 0.1.0
description:
  - Parses the key on the controller in pure Python (no C(gpg) needed on the host, works in check mode) and
    returns the fingerprint of every primary public key it holds (subkeys are not listed).
  - Used by the C(swarmops.swarm.docker) role to verify the apt repository key before apt trusts it.
options:
  _input:
    description: The key file's text, for example C(content) from M(ansible.builtin.uri).
    type: str
    required: true
'''

EXAMPLES = r'''
- name: Refuse a repository key that is not the expected one
  ansible.builtin.assert:
    that: "'9DC858229FC7DD38854AE2D88D81803C0EBFCD88' in (key.content | swarmops.swarm.pgp_fingerprints)"
'''

RETURN = r'''
_value:
  description: Fingerprints, 40 (v4) or 64 (v5/v6) upper-case hex digits without spaces, in file order.
  type: list
  elements: str
'''

from ansible.errors import AnsibleFilterError
from ansible_collections.swarmops.swarm.plugins.plugin_utils.openpgp import OpenPGPError, primary_fingerprints


def pgp_fingerprints(text):
    try:
        return primary_fingerprints(str(text))
    except OpenPGPError as exc:
        raise AnsibleFilterError('pgp_fingerprints: %s' % exc)


class FilterModule(object):
    def filters(self):
        return {'pgp_fingerprints': pgp_fingerprints}
