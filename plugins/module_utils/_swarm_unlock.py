# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure logic of unlock-key custody (the swarm_unlock_key module and its action plugin).

The key file on the controller is a small YAML document, encrypted as a whole with ansible-vault:
the swarm it belongs to, the current key and the keys it replaced (a manager that was down while the
key was rotated still needs the old one). Nothing here encrypts, reads files or talks to an engine;
unit-tested in tests/unit/plugins/module_utils/test_swarm_unlock.py.
"""

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

import hashlib
import json
import re

KEY_RE = re.compile(r'^SWMKEY-1-[0-9A-Za-z+/=_-]+$')
# Keys replaced by a rotation that are kept: enough for a manager that missed one or two rotations.
PREVIOUS_KEPT = 2
HEADER = '# swarmops.swarm: the unlock key of an autolocked swarm (swarm_unlock_key); keep it encrypted\n'


class CustodyError(ValueError):
    """A key file that cannot be used; the message never contains a key."""


def key_sha256(key):
    """sha256 of a key: enough to compare keys without passing them around (a key is 256 random bits)."""
    return hashlib.sha256(key.strip().encode('utf-8')).hexdigest() if key else None


def empty_store():
    return {'cluster_id': None, 'current': None, 'previous': []}


def parse_store(text, path='the key file'):
    """The store in TEXT (the decrypted file). JSON is YAML, so the file is written as JSON and read as such."""
    if text is None or not text.strip():
        return empty_store()
    body = '\n'.join(line for line in text.splitlines() if not line.lstrip().startswith('#'))
    try:
        data = json.loads(body)
    except ValueError:
        raise CustodyError('%s is not a key file written by swarm_unlock_key (not a JSON document once decrypted)'
                           % path)
    if not isinstance(data, dict):
        raise CustodyError('%s is not a key file written by swarm_unlock_key (not a mapping)' % path)
    store = empty_store()
    store['cluster_id'] = data.get('cluster_id') or None
    store['current'] = data.get('unlock_key') or None
    store['previous'] = [k for k in data.get('previous_unlock_keys') or [] if k]
    for key in [store['current']] + store['previous']:
        if key and not KEY_RE.match(key):
            raise CustodyError('%s holds a value that is not a swarm unlock key' % path)
    return store


def render_store(store):
    return HEADER + json.dumps({'cluster_id': store['cluster_id'], 'unlock_key': store['current'],
                                'previous_unlock_keys': store['previous']}, indent=2, sort_keys=True) + '\n'


def candidates(given_key, store):
    """The keys to try on a locked manager, in order: the one given, the stored current, the stored previous."""
    out = []
    for key in [given_key, store['current']] + store['previous']:
        if key and key.strip() not in out:
            out.append(key.strip())
    return out


def next_store(store, cluster_id, key_hash, returned_key, known_keys):
    """(new store or None when the file is current, why). KEY_HASH: sha256 of the swarm's current key;
    RETURNED_KEY: the key itself when the module returned it (it does only for a key the controller did not
    pass in); KNOWN_KEYS: the keys the controller passed in (one of them may be the current key)."""
    if key_hash is None:
        return None, 'autolock is off: no unlock key to keep'
    if store['cluster_id'] == cluster_id and key_sha256(store['current']) == key_hash:
        return None, 'the key file holds the current key'
    key = returned_key
    if not key:
        matching = [k for k in known_keys if key_sha256(k) == key_hash]
        key = matching[0] if matching else None
    if not key or key_sha256(key) != key_hash:
        raise CustodyError('the swarm\'s current unlock key was not returned by the manager: run again')
    if store['cluster_id'] == cluster_id:
        previous = [k for k in [store['current']] + store['previous'] if k and k != key][:PREVIOUS_KEPT]
        why = 'the swarm\'s unlock key changed'
    else:
        previous = []
        why = ('the key file belonged to swarm %s' % store['cluster_id']) if store['cluster_id'] else 'no key stored yet'
    return {'cluster_id': cluster_id, 'current': key, 'previous': previous}, why
