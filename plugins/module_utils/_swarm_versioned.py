# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Versioned secrets and configs for swarm_secret / swarm_config: validate, version, plan, roll out.

Swarm secrets and configs are immutable: only their labels can change. A value given for the name
NAME therefore lives in an object NAME_v<N>, labelled with NAME and N; a new value makes N+1, the
services using an older version are moved onto the new one (same file name, owner and mode in the
container), and versions that no service uses any more are removed, keeping the newest KEEP.

Deciding "same value or not" without reading the value back (the API never returns a secret's data):
- a secret carries, in a label, an HMAC-SHA256 of its name and value under a key the user keeps in
  Ansible Vault (`hash_key`). A plain or salted hash would let anyone who can read the labels test
  guesses of a short value offline; without the key a digest tells nothing about the value. The
  key's own fingerprint (an HMAC of a fixed text) is labelled too, so a changed key is reported as
  such instead of as a changed value;
- a config's data is returned by the API, so it is compared directly.

Everything here is pure (unit-tested without an engine); plugins/module_utils/_swarm_objects.py
does the engine calls.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import copy
import hashlib
import hmac
import re

LABEL_NAME = 'swarmops.swarm.name'
LABEL_VERSION = 'swarmops.swarm.version'
LABEL_DIGEST = 'swarmops.swarm.digest'
LABEL_KEY_ID = 'swarmops.swarm.key-id'
OWN_LABELS = (LABEL_NAME, LABEL_VERSION, LABEL_DIGEST, LABEL_KEY_ID)
# swarmkit's limits (manager/controlapi: MaxSecretSize, MaxConfigSize) and name rule.
MAX_SIZE = {'secret': 500 * 1024, 'config': 1000 * 1024}
MAX_NAME = 64
_NAME = re.compile(r'^[a-zA-Z0-9](?:[a-zA-Z0-9_.-]*[a-zA-Z0-9])?$')
REF_KEYS = {'secret': ('SecretID', 'SecretName'), 'config': ('ConfigID', 'ConfigName')}


class VersionedError(ValueError):
    """Bad input or a refused change; the message names the field or the services."""


def version_name(name, number):
    return '%s_v%d' % (name, number)


# ---- input -----------------------------------------------------------------------------------------

def validate(params, kind, hash_key=None):
    """The desired object: {name, state, data (bytes or None), labels (or None), keep, rollout}.

    Raises VersionedError naming the field. The message never holds the value.
    """
    name = params.get('name')
    longest = version_name(name or '', 9999)
    if not name or not isinstance(name, str) or not _NAME.match(name) or len(longest) > MAX_NAME:
        raise VersionedError('name: %r is not a %s name (letters, digits, "_", "." and "-", starting and ending with a '
                             'letter or digit, at most %d characters so that a version suffix such as _v12 fits)'
                             % (name, kind, MAX_NAME - len('_v9999')))
    state = params.get('state') or 'present'
    if state not in ('present', 'absent'):
        raise VersionedError('%s %s: state must be present or absent, got %r' % (kind, name, state))
    keep = params.get('keep_versions')
    keep = 1 if keep is None else keep
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
        raise VersionedError('%s %s: keep_versions must be a whole number, 1 or more (the current version counts)'
                             % (kind, name))
    labels = params.get('labels')
    if labels is not None:
        if not isinstance(labels, dict):
            raise VersionedError('%s %s: labels must be a dict of name: value' % (kind, name))
        own = sorted(set(labels) & set(OWN_LABELS))
        if own:
            raise VersionedError('%s %s: labels: %s are set by the module itself' % (kind, name, ', '.join(own)))
        labels = dict((str(k), '' if v is None else str(v)) for k, v in labels.items())
    data = None
    if state == 'present':
        data = decode_data(params.get('data'), params.get('data_is_b64'), kind, name)
        if kind == 'secret' and not hash_key:
            raise VersionedError('hash_key: required for secrets: a random string kept in Ansible Vault that keys the '
                                 'hash stored in each secret\'s labels (so the labels do not let anyone test guesses '
                                 'of a value); changing it makes a new version of every secret once')
    return {'name': name, 'state': state, 'data': data, 'labels': labels, 'keep': keep,
            'rollout': params.get('rollout', True) is not False}


def decode_data(value, is_b64, kind, name):
    if value is None:
        raise VersionedError('%s %s: data is required with state present (from Ansible Vault, or a file: '
                             'data: "{{ lookup(\'ansible.builtin.file\', \'files/%s\') }}")' % (kind, name, name))
    if not isinstance(value, str):
        # The value itself is never put in a message: a mistyped secret is still a secret.
        raise VersionedError('%s %s: data must be a string (got a %s)' % (kind, name, type(value).__name__))
    if is_b64:
        try:
            data = base64.b64decode(value.encode('ascii'), validate=True)
        except (binascii.Error, ValueError, UnicodeEncodeError):
            raise VersionedError('%s %s: data is not valid base64 (data_is_b64 is true)' % (kind, name))
    else:
        data = value.encode('utf-8')
    if not data:
        raise VersionedError('%s %s: data is empty; Docker refuses an empty %s' % (kind, name, kind))
    if len(data) > MAX_SIZE[kind]:
        raise VersionedError('%s %s: data is %d bytes; Docker takes at most %d' % (kind, name, len(data), MAX_SIZE[kind]))
    return data


# ---- digests ---------------------------------------------------------------------------------------

def _key(hash_key):
    return hash_key.encode('utf-8') if not isinstance(hash_key, bytes) else hash_key


def secret_digest(name, data, hash_key):
    """HMAC-SHA256 over the name and the value, under HASH_KEY (safe to store in a label)."""
    mac = hmac.new(_key(hash_key), name.encode('utf-8') + b'\0' + data, hashlib.sha256)
    return 'hmac-sha256:' + mac.hexdigest()


def key_id(hash_key):
    """A fingerprint of HASH_KEY that reveals nothing about it (an HMAC of a fixed text)."""
    return hmac.new(_key(hash_key), b'swarmops.swarm hash key id', hashlib.sha256).hexdigest()[:16]


def config_digest(data):
    return 'sha256:' + hashlib.sha256(data).hexdigest()


# ---- the engine's side -------------------------------------------------------------------------------

def versions(objects, name):
    """The versions of NAME among OBJECTS (engine JSON), oldest first.

    A version is labelled by this module; an object named exactly NAME without the labels (made by
    hand or by another tool) is taken as version 0, so declaring NAME takes it over: its services are
    moved onto the first managed version.
    """
    found = []
    for obj in objects:
        spec = obj.get('Spec') or {}
        labels = spec.get('Labels') or {}
        if labels.get(LABEL_NAME) == name:
            try:
                number = int(labels.get(LABEL_VERSION))
            except (TypeError, ValueError):
                number = 0
        elif spec.get('Name') == name:
            number = 0
        else:
            continue
        found.append({'id': obj.get('ID'), 'name': spec.get('Name'), 'version': number,
                      'digest': labels.get(LABEL_DIGEST), 'key_id': labels.get(LABEL_KEY_ID),
                      'labels': dict((k, v) for k, v in labels.items() if k not in OWN_LABELS),
                      'all_labels': dict(labels),
                      'data': spec.get('Data'), 'managed': LABEL_NAME in labels,
                      'version_index': (obj.get('Version') or {}).get('Index')})
    return sorted(found, key=lambda v: (v['version'], v['name']))


def references(services, kind):
    """{object ID: sorted service names} over SERVICES' specs."""
    id_key = REF_KEYS[kind][0]
    users = {}
    for service in services:
        container = ((service.get('Spec') or {}).get('TaskTemplate') or {}).get('ContainerSpec') or {}
        for ref in container.get('Secrets' if kind == 'secret' else 'Configs') or []:
            users.setdefault(ref.get(id_key), set()).add(service['Spec']['Name'])
    return dict((k, sorted(v)) for k, v in users.items())


def replace_references(service_spec, kind, moves):
    """A copy of SERVICE_SPEC whose references to the objects in MOVES ({old id: (new id, new name)})
    point at the new objects; the file name, owner and mode stay. Returns (spec, [old names moved])."""
    spec = copy.deepcopy(service_spec)
    id_key, name_key = REF_KEYS[kind]
    container = (spec.get('TaskTemplate') or {}).get('ContainerSpec') or {}
    moved = []
    for ref in container.get('Secrets' if kind == 'secret' else 'Configs') or []:
        if ref.get(id_key) in moves:
            moved.append(ref.get(name_key))
            ref[id_key], ref[name_key] = moves[ref[id_key]]
    return spec, moved


def create_body(kind, name, number, data, labels, digest, hash_key_id=None):
    all_labels = dict(labels or {})
    all_labels.update({LABEL_NAME: name, LABEL_VERSION: str(number), LABEL_DIGEST: digest})
    if hash_key_id:
        all_labels[LABEL_KEY_ID] = hash_key_id
    return {'Name': version_name(name, number), 'Labels': all_labels,
            'Data': base64.b64encode(data).decode('ascii')}


def _text(b64):
    """A config's data for the diff: its text, or a note when it is not UTF-8."""
    if b64 is None:
        return None
    raw = base64.b64decode(b64)
    try:
        return raw.decode('utf-8')
    except UnicodeDecodeError:
        return '(%d bytes, not UTF-8)' % len(raw)


# ---- the plan ---------------------------------------------------------------------------------------

def plan(desired, found, users, kind, hash_key=None):
    """What to do for one name.

    DESIRED is validate()'s answer, FOUND versions() of the name, USERS references(). Returns a dict:
      action: None, 'create' (a new version) or 'labels' (the current version's labels change), or
              'remove' (state absent);
      create: the POST body of the new version (with the value; never put in a result), or None;
      current: the version services should use after the run (a version dict, or the new version's name);
      rollout: [(service name, old version name)] to move onto the current version;
      prune: versions to remove; in_use: versions kept because a service not moved still uses them;
      reason, before, after (the diff, without any secret value).
    Raises VersionedError for a refused change (removing what services use).
    """
    name = desired['name']
    result = {'name': name, 'action': None, 'create': None, 'current': None, 'rollout': [], 'prune': [],
              'in_use': [], 'reason': None, 'before': {}, 'after': {}, 'labels': None}
    if desired['state'] == 'absent':
        used = [(v['name'], users[v['id']]) for v in found if users.get(v['id'])]
        if used:
            raise VersionedError('%s %s is used by %s; take it out of those services first'
                                 % (kind, name, '; '.join('service(s) %s (%s)' % (', '.join(s), v) for v, s in used)))
        if found:
            result.update(action='remove', prune=list(found),
                          before={'versions': [v['name'] for v in found]}, after={'versions': []})
        return result
    data = desired['data']
    current = found[-1] if found else None
    if kind == 'secret':
        digest, this_key = secret_digest(name, data, hash_key), key_id(hash_key)
    else:
        digest, this_key = config_digest(data), None
    if current is None:
        reason = 'new'
    elif not current['managed']:
        reason = ('%s was not made by this module (no %s label): its value cannot be compared'
                  % (current['name'], LABEL_DIGEST))
    elif kind == 'secret' and current['key_id'] != this_key:
        reason = 'hash_key changed (the stored digest was made with another key)'
    elif kind == 'secret' and current['digest'] != digest:
        reason = 'value changed'
    elif kind == 'config' and base64.b64decode(current['data'] or '') != data:
        reason = 'value changed'
    else:
        reason = None
    wanted_labels = desired['labels']
    if reason:
        number = max([v['version'] for v in found] + [0]) + 1
        labels = wanted_labels if wanted_labels is not None else (current['labels'] if current else {})
        result['create'] = create_body(kind, name, number, data, labels, digest, this_key)
        result['action'] = 'create'
        result['reason'] = reason
        target_name = version_name(name, number)
        result['before']['version'] = current['name'] if current else None
        result['after']['version'] = target_name
        if kind == 'config':
            result['before']['data'] = _text(current['data']) if current else None
            result['after']['data'] = _text(result['create']['Data'])
        else:
            result['before']['value'] = None if current is None else '(hidden)'
            result['after']['value'] = '(hidden, %s)' % reason
        target_id = None
    else:
        target_name, target_id = current['name'], current['id']
        if wanted_labels is not None and wanted_labels != current['labels']:
            result['action'] = 'labels'
            result['labels'] = wanted_labels
            result['before']['labels'] = current['labels']
            result['after']['labels'] = wanted_labels
    result['current'] = target_name
    older = [v for v in found if v['id'] != target_id]
    moved_services = set()
    if desired['rollout']:
        for version in older:
            for service in users.get(version['id'], []):
                result['rollout'].append((service, version['name']))
                moved_services.add(service)
    if result['rollout']:
        result['before']['services'] = dict((s, v) for s, v in result['rollout'])
        result['after']['services'] = dict((s, target_name) for s, _v in result['rollout'])
    # The newest KEEP versions stay (the current one counts); older ones go once nobody uses them.
    spare = desired['keep'] - 1
    for version in reversed(older):
        still_used = [s for s in users.get(version['id'], []) if s not in moved_services]
        if still_used:
            result['in_use'].append({'version': version['name'], 'services': still_used})
        elif spare > 0:
            spare -= 1
        else:
            result['prune'].append(version)
    if result['prune']:
        result['before']['pruned'] = []
        result['after']['pruned'] = [v['name'] for v in result['prune']]
    return result


def changed(result):
    return bool(result['action'] or result['rollout'] or result['prune'])


def public(result):
    """The result of one name for the module's output: no data, no request bodies."""
    out = {'name': result['name'], 'changed': changed(result), 'operation': result['action'] or 'none',
           'current': result['current'], 'reason': result['reason'],
           'rolled_out': [{'service': s, 'from': v, 'to': result['current']} for s, v in result['rollout']],
           'pruned': [v['name'] for v in result['prune']], 'kept_in_use': result['in_use']}
    if out['changed']:
        out['diff'] = {'before': result['before'], 'after': result['after']}
    return out


def resolve(objects, name):
    """The name a service references for NAME: the current version when NAME is versioned by this module,
    else NAME itself when an object of exactly that name exists, else None."""
    managed = [v for v in versions(objects, name) if v['managed']]
    if managed:
        return managed[-1]['name']
    if any((o.get('Spec') or {}).get('Name') == name for o in objects):
        return name
    return None
