# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Service specs for swarm_service: validate options, build Engine API JSON, compare, merge.

Everything here is a pure function of the module's options and the engine's JSON, so it is
unit-tested without an engine (tests/unit/plugins/module_utils/test_swarm_spec.py).

The model:
- `validate(params)` refuses bad input before any engine call, with a message naming the field
  and the fix (raises SpecError).
- `desired_fields(params)` turns the options the user set into Engine API fragments, one per
  option (options left unset are absent: "not set" means "keep what the service has").
- `compare(fields, current_spec, ctx)` projects the current spec onto exactly those options, with
  the daemon's defaults filled in and tooling labels ignored, canonicalises both sides the same way
  (sets where Docker's semantics are sets) and returns the differing options.
- `merged_spec(fields, current_spec, ctx)` is the spec to send: the current spec (or an empty one)
  with each set option written over it, so nothing the user did not set is touched.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import hashlib
import hmac
import ipaddress
import json
import re
import shlex

from ansible_collections.swarmops.swarm.plugins.module_utils import _durations

MODES = ('replicated', 'global', 'replicated-job', 'global-job')
JOB_MODES = ('replicated-job', 'global-job')
GLOBAL_MODES = ('global', 'global-job')
ENGINE_MODES = {'replicated': 'Replicated', 'global': 'Global',
                'replicated-job': 'ReplicatedJob', 'global-job': 'GlobalJob'}
MODE_NAMES = dict((v, k) for k, v in ENGINE_MODES.items())

# Labels that tooling (docker stack deploy, compose) adds to a service or its containers: ignored when
# comparing unless the user sets them, and kept on update.
TOOLING_LABEL_PREFIXES = ('com.docker.stack.', 'com.docker.compose.')
# The service label in which swarm_service records which env keys are secret (salted hashes, no values).
SECRET_ENV_LABEL = 'swarmops.swarm.secret-env'

# What the daemon stores when a block or a key is left out (Engine API / swarmkit defaults).
SECOND = _durations.SECOND
DEFAULTS = {
    'RestartPolicy': {'Condition': 'any', 'Delay': 5 * SECOND, 'MaxAttempts': 0, 'Window': 0},
    'UpdateConfig': {'Parallelism': 1, 'Delay': 0, 'FailureAction': 'pause', 'Monitor': 5 * SECOND,
                     'MaxFailureRatio': 0, 'Order': 'stop-first'},
    'RollbackConfig': {'Parallelism': 1, 'Delay': 0, 'FailureAction': 'pause', 'Monitor': 5 * SECOND,
                       'MaxFailureRatio': 0, 'Order': 'stop-first'},
    'Resources': {'NanoCPUs': 0, 'MemoryBytes': 0, 'Pids': 0},
    'HealthCheck': {'Test': [], 'Interval': 0, 'Timeout': 0, 'Retries': 0, 'StartPeriod': 0, 'StartInterval': 0},
}
STOP_GRACE_DEFAULT = 10 * SECOND

_CS = ('TaskTemplate', 'ContainerSpec')
# Option name -> (path in the service spec). Order here is the order of the diff.
PATHS = {
    'image': _CS + ('Image',),
    'command': _CS + ('Command',),
    'args': _CS + ('Args',),
    'mode': ('Mode',),
    'replicas': ('Mode',),
    'max_concurrent': ('Mode',),
    'env': _CS + ('Env',),
    'secret_env': _CS + ('Env',),
    'labels': ('Labels',),
    'container_labels': _CS + ('Labels',),
    'publish': ('EndpointSpec', 'Ports'),
    'endpoint_mode': ('EndpointSpec', 'Mode'),
    'networks': ('TaskTemplate', 'Networks'),
    'mounts': _CS + ('Mounts',),
    'constraints': ('TaskTemplate', 'Placement', 'Constraints'),
    'placement_preferences': ('TaskTemplate', 'Placement', 'Preferences'),
    'max_replicas_per_node': ('TaskTemplate', 'Placement', 'MaxReplicas'),
    'limits': ('TaskTemplate', 'Resources', 'Limits'),
    'reservations': ('TaskTemplate', 'Resources', 'Reservations'),
    'generic_resources': ('TaskTemplate', 'Resources', 'Reservations', 'GenericResources'),
    'restart_policy': ('TaskTemplate', 'RestartPolicy'),
    'update_config': ('UpdateConfig',),
    'rollback_config': ('RollbackConfig',),
    'healthcheck': _CS + ('Healthcheck',),
    'secrets': _CS + ('Secrets',),
    'configs': _CS + ('Configs',),
    'user': _CS + ('User',),
    'groups': _CS + ('Groups',),
    'workdir': _CS + ('Dir',),
    'hostname': _CS + ('Hostname',),
    'hosts': _CS + ('Hosts',),
    'dns': _CS + ('DNSConfig', 'Nameservers'),
    'dns_search': _CS + ('DNSConfig', 'Search'),
    'dns_options': _CS + ('DNSConfig', 'Options'),
    'cap_add': _CS + ('CapabilityAdd',),
    'cap_drop': _CS + ('CapabilityDrop',),
    'sysctls': _CS + ('Sysctls',),
    'ulimits': _CS + ('Ulimits',),
    'read_only': _CS + ('ReadOnly',),
    'tty': _CS + ('TTY',),
    'init': _CS + ('Init',),
    'stop_signal': _CS + ('StopSignal',),
    'stop_grace_period': _CS + ('StopGracePeriod',),
    'oom_score_adj': _CS + ('OomScoreAdj',),
    'log_driver': ('TaskTemplate', 'LogDriver', 'Name'),
    'log_options': ('TaskTemplate', 'LogDriver', 'Options'),
}
FIELD_ORDER = list(PATHS)

# Options the engine only knows from an API version on (older engines ignore them silently, so the
# service would differ on every run): refused before anything is sent.
MIN_API = {
    'cap_add': (1, 41), 'cap_drop': (1, 41), 'ulimits': (1, 41), 'sysctls': (1, 40),
    'max_replicas_per_node': (1, 40), 'max_concurrent': (1, 41), 'healthcheck.start_interval': (1, 44),
    'oom_score_adj': (1, 46),
}
DOCKER_RELEASE_OF_API = {(1, 40): '19.03', (1, 41): '20.10', (1, 44): '25.0', (1, 46): '27.0'}


class SpecError(ValueError):
    """Bad input: the message names the option and says how to fix it."""


# ---- units ---------------------------------------------------------------------------------------

_MEMORY = re.compile(r'^(\d+(?:\.\d+)?)\s*([bkmgtp]?)(?:i?b)?$', re.IGNORECASE)
_MEMORY_UNITS = {'': 1, 'b': 1, 'k': 1024, 'm': 1024 ** 2, 'g': 1024 ** 3, 't': 1024 ** 4, 'p': 1024 ** 5}


def parse_duration(value, field):
    """'1m30s', '500ms', '10s' or a number of seconds -> nanoseconds (int)."""
    return _durations.parse_duration(value, field, SpecError)


def parse_memory(value, field):
    """'64M', '1g', '512KiB', '1.5G' or a number of bytes -> bytes (int); units are powers of 1024."""
    if isinstance(value, bool):
        raise SpecError('%s: expected a size such as "64M" or "1G" or a number of bytes, got %r' % (field, value))
    if isinstance(value, int):
        if value < 0:
            raise SpecError('%s: a size cannot be negative, got %r' % (field, value))
        return value
    match = _MEMORY.match(str(value).strip())
    if not match:
        raise SpecError('%s: expected a size such as "64M", "512k" or "1G" (units b, k, m, g, t, p) '
                        'or a number of bytes, got %r' % (field, value))
    return int(float(match.group(1)) * _MEMORY_UNITS[match.group(2).lower()])


def parse_cpus(value, field):
    """0.5 / '1.5' -> NanoCPUs."""
    try:
        if isinstance(value, bool):
            raise ValueError
        cpus = float(value)
    except (TypeError, ValueError):
        raise SpecError('%s: expected a number of CPUs such as 0.5 or 2, got %r' % (field, value))
    if cpus < 0:
        raise SpecError('%s: the number of CPUs cannot be negative, got %r' % (field, value))
    return int(round(cpus * SECOND))


def parse_int(value, field, minimum=0, maximum=None, what='a whole number'):
    """An int from an int or a string of digits, within bounds; SpecError naming FIELD otherwise."""
    bounds = '%d or more' % minimum if maximum is None else 'from %d to %d' % (minimum, maximum)
    if isinstance(value, bool) or isinstance(value, float) and not value.is_integer():
        raise SpecError('%s must be %s (%s), got %r' % (field, what, bounds, value))
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise SpecError('%s must be %s (%s), got %r' % (field, what, bounds, value))
    if number < minimum or (maximum is not None and number > maximum):
        raise SpecError('%s must be %s (%s), got %r' % (field, what, bounds, value))
    return number


_TRUE = ('true', 'yes', 'on', '1', 'y')
_FALSE = ('false', 'no', 'off', '0', 'n')


def parse_bool(value, field):
    """True/False from a boolean or its usual spellings ('false' is false); SpecError otherwise."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise SpecError('%s: expected true or false, got %r' % (field, value))


def parse_file_mode(value, field):
    """A file mode from '0440' / '1777' / 440 / 1777: the digits are octal, as chmod reads them.

    A number whose digits are not all octal is what YAML makes of a leading-zero mode (0440 -> 288):
    refused with the fix (quote it), never read as some other mode.
    """
    if isinstance(value, bool):
        raise SpecError('%s: expected an octal file mode such as "0440", got %r' % (field, value))
    text = str(value).strip()
    if text.startswith('0o'):
        text = text[2:]
    if not re.match(r'^[0-7]{1,4}$', text):
        hint = (' (YAML reads an unquoted leading-zero number such as 0440 as a decimal number; quote it)'
                if isinstance(value, int) else '')
        raise SpecError('%s: expected an octal file mode such as "0440" or "1777", got %r%s' % (field, value, hint))
    return int(text, 8)


# ---- image references ----------------------------------------------------------------------------

def split_digest(image):
    """('name:tag', 'sha256:...') or ('name:tag', None)."""
    if '@' in image:
        name, digest = image.split('@', 1)
        return name, digest
    return image, None


def normalise_image(image, keep_digest=False):
    """A canonical reference: 'busybox' == 'busybox:latest' == 'docker.io/library/busybox:latest'.

    The digest suffix the CLI (or resolve_image) pins is dropped unless KEEP_DIGEST.
    """
    name, digest = split_digest(image)
    last = name.rsplit('/', 1)[-1]
    if ':' not in last and not (digest and keep_digest):
        name += ':latest'
    for prefix in ('docker.io/library/', 'index.docker.io/library/', 'docker.io/', 'index.docker.io/'):
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    if keep_digest and digest:
        return '%s@%s' % (name, digest)
    return name


# ---- option parsers (input -> Engine API fragment) ------------------------------------------------

def parse_command(value, field):
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return [str(item) for item in value]
    if isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError as exc:
            raise SpecError('%s: cannot split %r into words (%s); give a list instead' % (field, value, exc))
    raise SpecError('%s must be a string or a list of strings, got %r' % (field, value))


def _env_value(key, value, field):
    if isinstance(value, bool):
        raise SpecError('%s: the value of %s is the boolean %r; quote it ("true"/"false") so the container '
                        'gets the exact text you mean' % (field, key, value))
    if value is None:
        return ''
    if isinstance(value, (dict, list)):
        raise SpecError('%s: the value of %s must be a string or a number, got %r' % (field, key, value))
    return str(value)


def parse_env(value, field='env'):
    """dict or list of 'K=V' -> list of 'K=V' (the engine's form), sorted by name."""
    if value is None:
        return None
    result = {}
    if isinstance(value, dict):
        for key, item in value.items():
            key = str(key)
            if not key or '=' in key:
                raise SpecError('%s: %r is not a valid variable name (no "=" and not empty)' % (field, key))
            result[key] = '%s=%s' % (key, _env_value(key, item, field))
    elif isinstance(value, (list, tuple)):
        for item in value:
            if not isinstance(item, str) or not item or item.startswith('='):
                raise SpecError('%s: list entries must be "NAME=value" strings, got %r' % (field, item))
            result[item.split('=', 1)[0]] = item
    else:
        raise SpecError('%s must be a dict (NAME: value) or a list of "NAME=value" strings, got %r' % (field, value))
    return [result[key] for key in sorted(result)]


def parse_labels(value, field):
    if value is None:
        return None
    if not isinstance(value, dict):
        raise SpecError('%s must be a dict of label: value, got %r' % (field, value))
    return dict((str(k), _env_value(k, v, field)) for k, v in value.items())


_PORT_SHORTHAND = re.compile(r'^(?:(\d+):)?(\d+)(?:/([a-zA-Z]+))?$')


def parse_port(value, field='publish'):
    """{published, target, protocol, mode} or '8080:80/udp' / '80' -> an EndpointSpec port."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str):
        match = _PORT_SHORTHAND.match(value.strip())
        if not match:
            raise SpecError('%s: %r is not a port; use "PUBLISHED:TARGET[/PROTOCOL]" such as "8080:80/udp", '
                            'or a dict with published, target, protocol, mode' % (field, value))
        port = {'published': match.group(1), 'target': match.group(2), 'protocol': match.group(3)}
    elif isinstance(value, dict):
        unknown = set(value) - set(['published', 'target', 'protocol', 'mode'])
        if unknown:
            raise SpecError('%s: unknown key(s) %s in %r; a port has published, target, protocol, mode'
                            % (field, ', '.join(sorted(unknown)), value))
        port = dict(value)
    else:
        raise SpecError('%s: %r is not a port; use a dict with published, target, protocol, mode or the '
                        '"8080:80/udp" shorthand' % (field, value))
    if port.get('target') is None:
        raise SpecError('%s: %r has no target (the container port)' % (field, value))
    target = parse_int(port['target'], '%s target' % field, 1, 65535, what='a port number')
    published = None
    if port.get('published') is not None:
        published = parse_int(port['published'], '%s published' % field, 1, 65535, what='a port number')
    protocol = (port.get('protocol') or 'tcp')
    if protocol not in ('tcp', 'udp', 'sctp'):
        raise SpecError('%s: protocol %r of %r is not one of tcp, udp, sctp' % (field, protocol, value))
    mode = port.get('mode') or 'ingress'
    if mode not in ('ingress', 'host'):
        raise SpecError('%s: mode %r of %r is not one of ingress, host' % (field, mode, value))
    engine = {'Protocol': protocol, 'TargetPort': target, 'PublishMode': mode}
    if published is not None:
        engine['PublishedPort'] = published
    return engine


MOUNT_TYPES = ('bind', 'volume', 'tmpfs', 'npipe')
_MOUNT_KEYS = {'type', 'source', 'target', 'readonly', 'propagation', 'no_copy', 'volume_labels',
               'volume_driver', 'volume_driver_options', 'tmpfs_size', 'tmpfs_mode'}
_MOUNT_ALIASES = {'src': 'source', 'dst': 'target', 'destination': 'target', 'ro': 'readonly',
                  'read_only': 'readonly', 'bind-propagation': 'propagation', 'volume-nocopy': 'no_copy',
                  'tmpfs-size': 'tmpfs_size', 'tmpfs-mode': 'tmpfs_mode', 'volume-driver': 'volume_driver'}


def _parse_mount_string(text, field):
    """'type=bind,source=/a,target=/b,readonly' (the CLI's --mount form)."""
    mount = {}
    for part in text.split(','):
        part = part.strip()
        if not part:
            continue
        key, sep, val = part.partition('=')
        key = _MOUNT_ALIASES.get(key.strip(), key.strip())
        if not sep:
            if key in ('readonly', 'no_copy'):
                mount[key] = True
                continue
            raise SpecError('%s: %r in %r is not KEY=VALUE; use e.g. "type=bind,source=/srv,target=/data,readonly"'
                            % (field, part, text))
        if key in ('readonly', 'no_copy'):
            mount[key] = parse_bool(val.strip(), '%s %s' % (field, key))
        else:
            mount[key] = val.strip()
    return mount


def parse_mount(value, field='mounts'):
    if isinstance(value, str):
        mount = _parse_mount_string(value, field)
    elif isinstance(value, dict):
        mount = dict((_MOUNT_ALIASES.get(k, k), v) for k, v in value.items())
    else:
        raise SpecError('%s: %r is not a mount; use a dict (type, source, target, readonly, ...) or '
                        '"type=bind,source=/srv,target=/data"' % (field, value))
    unknown = set(mount) - _MOUNT_KEYS
    if unknown:
        raise SpecError('%s: unknown key(s) %s in %r; a mount has %s' % (
            field, ', '.join(sorted(unknown)), value, ', '.join(sorted(_MOUNT_KEYS))))
    mtype = mount.get('type') or 'volume'
    if mtype not in MOUNT_TYPES:
        raise SpecError('%s: type %r of %r is not one of %s' % (field, mtype, value, ', '.join(MOUNT_TYPES)))
    target = mount.get('target')
    if not target or not isinstance(target, str):
        raise SpecError('%s: %r has no target (the path inside the container)' % (field, value))
    if mtype != 'npipe' and not target.startswith('/'):
        raise SpecError('%s: target %r of %r must be an absolute path' % (field, target, value))
    source = mount.get('source')
    if mtype == 'bind' and (not source or not str(source).startswith('/')):
        raise SpecError('%s: a bind mount needs source, an absolute path on the node; %r has %r'
                        % (field, value, source))
    if mtype == 'tmpfs' and source:
        raise SpecError('%s: a tmpfs mount has no source; remove source from %r' % (field, value))
    misplaced = {'bind': ('no_copy', 'volume_labels', 'volume_driver', 'volume_driver_options',
                          'tmpfs_size', 'tmpfs_mode'),
                 'volume': ('propagation', 'tmpfs_size', 'tmpfs_mode'),
                 'tmpfs': ('propagation', 'no_copy', 'volume_labels', 'volume_driver', 'volume_driver_options'),
                 'npipe': ('propagation', 'no_copy', 'volume_labels', 'volume_driver', 'volume_driver_options',
                           'tmpfs_size', 'tmpfs_mode')}[mtype]
    wrong = [key for key in misplaced if mount.get(key) is not None]
    if wrong:
        raise SpecError('%s: %s do(es) not apply to a %s mount (%r)' % (field, ', '.join(wrong), mtype, value))
    readonly = mount.get('readonly')
    engine = {'Type': mtype, 'Target': target,
              'ReadOnly': False if readonly is None else parse_bool(readonly, '%s readonly' % field)}
    if source:
        engine['Source'] = str(source)
    if mount.get('propagation'):
        if mount['propagation'] not in ('private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'):
            raise SpecError('%s: propagation %r is not one of private, rprivate, shared, rshared, slave, rslave'
                            % (field, mount['propagation']))
        engine['BindOptions'] = {'Propagation': mount['propagation']}
    volume = {}
    if mount.get('no_copy') is not None:
        volume['NoCopy'] = parse_bool(mount['no_copy'], '%s no_copy' % field)
    if mount.get('volume_labels') is not None:
        volume['Labels'] = parse_labels(mount['volume_labels'], '%s volume_labels' % field)
    if mount.get('volume_driver') is not None or mount.get('volume_driver_options') is not None:
        volume['DriverConfig'] = {'Name': mount.get('volume_driver') or 'local',
                                  'Options': dict((str(k), str(v)) for k, v in
                                                  (mount.get('volume_driver_options') or {}).items())}
    if volume:
        engine['VolumeOptions'] = volume
    tmpfs = {}
    if mount.get('tmpfs_size') is not None:
        tmpfs['SizeBytes'] = parse_memory(mount['tmpfs_size'], '%s tmpfs_size' % field)
    if mount.get('tmpfs_mode') is not None:
        tmpfs['Mode'] = parse_file_mode(mount['tmpfs_mode'], '%s tmpfs_mode' % field)
    if tmpfs:
        engine['TmpfsOptions'] = tmpfs
    return engine


_CONSTRAINT = re.compile(r'^\s*([A-Za-z0-9_.\-]+)\s*(==|!=)\s*(\S(?:.*\S)?)\s*$')


def parse_constraint(value, field='constraints'):
    match = _CONSTRAINT.match(value) if isinstance(value, str) else None
    if not match or match.group(3)[0] in '=!':
        raise SpecError('%s: %r is not a constraint; write "key==value" or "key!=value", e.g. '
                        '"node.role==manager" or "node.labels.zone!=b"' % (field, value))
    return '%s%s%s' % (match.group(1), match.group(2), match.group(3))


def parse_preference(value, field='placement_preferences'):
    if isinstance(value, str):
        key, sep, descriptor = value.partition('=')
        if not sep or key.strip() != 'spread' or not descriptor.strip():
            raise SpecError('%s: %r is not a preference; write "spread=node.labels.zone" or {spread: '
                            'node.labels.zone}' % (field, value))
        descriptor = descriptor.strip()
    elif isinstance(value, dict) and list(value) == ['spread'] and isinstance(value['spread'], str) \
            and value['spread']:
        descriptor = value['spread']
    else:
        raise SpecError('%s: %r is not a preference; write {spread: node.labels.zone} (spread is the only '
                        'strategy Docker has)' % (field, value))
    return {'Spread': {'SpreadDescriptor': descriptor}}


def parse_reference(value, field, kind):
    """Secrets and configs: 'name' or {name, target, uid, gid, mode} -> engine entry without the ID."""
    if isinstance(value, str):
        value = {'name': value}
    if not isinstance(value, dict) or not value.get('name'):
        raise SpecError('%s: %r is not a %s reference; give its name or a dict with name, target, uid, gid, mode'
                        % (field, value, kind))
    unknown = set(value) - set(['name', 'target', 'uid', 'gid', 'mode'])
    if unknown:
        raise SpecError('%s: unknown key(s) %s in %r; a %s reference has name, target, uid, gid, mode'
                        % (field, ', '.join(sorted(unknown)), value, kind))
    mode = value.get('mode')
    mode = 0o444 if mode is None else parse_file_mode(mode, '%s mode of %s' % (field, value['name']))
    name_key = 'SecretName' if kind == 'secret' else 'ConfigName'
    return {name_key: value['name'], 'File': {
        'Name': str(value.get('target') or value['name']),
        'UID': str(value.get('uid') if value.get('uid') is not None else 0),
        'GID': str(value.get('gid') if value.get('gid') is not None else 0),
        'Mode': int(mode)}}


def parse_network(value, field='networks'):
    if isinstance(value, str) and value:
        return {'Target': value}
    if isinstance(value, dict) and value.get('name') and set(value) <= set(['name', 'aliases']):
        entry = {'Target': value['name']}
        if value.get('aliases') is not None:
            entry['Aliases'] = [str(a) for a in value['aliases']]
        return entry
    raise SpecError('%s: %r is not a network; give its name or {name: NAME, aliases: [...]}' % (field, value))


def parse_resources(value, field, allow_pids):
    engine = {}
    if value.get('cpus') is not None:
        engine['NanoCPUs'] = parse_cpus(value['cpus'], '%s.cpus' % field)
    if value.get('memory') is not None:
        engine['MemoryBytes'] = parse_memory(value['memory'], '%s.memory' % field)
    if allow_pids and value.get('pids') is not None:
        engine['Pids'] = parse_int(value['pids'], '%s.pids' % field)
    return engine


def parse_restart_policy(value, field='restart_policy'):
    engine = {}
    if value.get('condition') is not None:
        if value['condition'] not in ('none', 'on-failure', 'any'):
            raise SpecError('%s.condition must be one of none, on-failure, any, got %r' % (field, value['condition']))
        engine['Condition'] = value['condition']
    if value.get('delay') is not None:
        engine['Delay'] = parse_duration(value['delay'], '%s.delay' % field)
    if value.get('max_attempts') is not None:
        engine['MaxAttempts'] = parse_int(value['max_attempts'], '%s.max_attempts' % field)
    if value.get('window') is not None:
        engine['Window'] = parse_duration(value['window'], '%s.window' % field)
    return engine


def parse_update_config(value, field):
    engine = {}
    actions = ('continue', 'pause', 'rollback') if field == 'update_config' else ('continue', 'pause')
    if value.get('parallelism') is not None:
        engine['Parallelism'] = parse_int(value['parallelism'], '%s.parallelism' % field)
    if value.get('delay') is not None:
        engine['Delay'] = parse_duration(value['delay'], '%s.delay' % field)
    if value.get('failure_action') is not None:
        if value['failure_action'] not in actions:
            raise SpecError('%s.failure_action must be one of %s, got %r'
                            % (field, ', '.join(actions), value['failure_action']))
        engine['FailureAction'] = value['failure_action']
    if value.get('monitor') is not None:
        engine['Monitor'] = parse_duration(value['monitor'], '%s.monitor' % field)
    if value.get('max_failure_ratio') is not None:
        try:
            ratio = float(value['max_failure_ratio'])
        except (TypeError, ValueError):
            ratio = -1
        if not 0 <= ratio <= 1:
            raise SpecError('%s.max_failure_ratio must be a number from 0 to 1, got %r'
                            % (field, value['max_failure_ratio']))
        engine['MaxFailureRatio'] = ratio
    if value.get('order') is not None:
        if value['order'] not in ('stop-first', 'start-first'):
            raise SpecError('%s.order must be stop-first or start-first, got %r' % (field, value['order']))
        engine['Order'] = value['order']
    return engine


def parse_healthcheck(value, field='healthcheck'):
    engine = {}
    if value.get('disable'):
        engine['Test'] = ['NONE']
    elif value.get('test') is not None:
        test = value['test']
        if isinstance(test, str):
            engine['Test'] = ['CMD-SHELL', test]
        elif isinstance(test, list) and test:
            test = [str(t) for t in test]
            engine['Test'] = test if test[0] in ('CMD', 'CMD-SHELL', 'NONE') else ['CMD'] + test
        else:
            raise SpecError('%s.test must be a shell command string or a list such as ["CMD", "wget", "-q", '
                            '"localhost"], got %r' % (field, test))
    for key, engine_key in (('interval', 'Interval'), ('timeout', 'Timeout'), ('start_period', 'StartPeriod'),
                            ('start_interval', 'StartInterval')):
        if value.get(key) is not None:
            engine[engine_key] = parse_duration(value[key], '%s.%s' % (field, key))
    if value.get('retries') is not None:
        engine['Retries'] = parse_int(value['retries'], '%s.retries' % field)
    return engine


_CAPABILITY = re.compile(r'^[A-Z][A-Z0-9_]*$')


def parse_capabilities(value, field):
    """['NET_ADMIN', 'cap_sys_time', 'ALL'] -> ['CAP_NET_ADMIN', 'CAP_SYS_TIME', 'ALL'], sorted, once each."""
    result = set()
    for item in value:
        name = str(item).strip().upper()
        if name != 'ALL' and not name.startswith('CAP_'):
            name = 'CAP_' + name
        if not _CAPABILITY.match(name):
            raise SpecError('%s: %r is not a capability name such as NET_ADMIN or CAP_SYS_TIME' % (field, item))
        result.add(name)
    return sorted(result)


def parse_sysctls(value, field='sysctls'):
    if not isinstance(value, dict):
        raise SpecError('%s must be a dict of name: value (net.core.somaxconn: 1024), got %r' % (field, value))
    result = {}
    for key, item in value.items():
        key = str(key).strip()
        if not re.match(r'^[a-z0-9_]+(\.[A-Za-z0-9_\-]+)+$', key):
            raise SpecError('%s: %r is not a sysctl name such as net.ipv4.ip_forward' % (field, key))
        result[key] = _env_value(key, item, field)
    return result


ULIMIT_NAMES = ('core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss',
                'rtprio', 'rttime', 'sigpending', 'stack')


def _ulimit(name, limits, field):
    if name not in ULIMIT_NAMES:
        raise SpecError('%s: %r is not a ulimit; use one of %s' % (field, name, ', '.join(ULIMIT_NAMES)))
    if isinstance(limits, dict):
        unknown = set(limits) - set(['soft', 'hard'])
        if unknown or 'soft' not in limits:
            raise SpecError('%s.%s: give {soft: N, hard: N} (hard defaults to soft), got %r' % (field, name, limits))
        soft, hard = limits['soft'], limits.get('hard', limits['soft'])
    else:
        text = str(limits)
        soft, _sep, hard = text.partition(':')
        hard = hard or soft
    soft = parse_int(soft, '%s.%s soft' % (field, name), minimum=-1)
    hard = parse_int(hard, '%s.%s hard' % (field, name), minimum=-1)
    if hard != -1 and (soft == -1 or soft > hard):
        raise SpecError('%s.%s: the soft limit %d is above the hard limit %d' % (field, name, soft, hard))
    return {'Name': name, 'Soft': soft, 'Hard': hard}


def _pairs(value, field, separator, form, example):
    """[(key, value)] of a dict, or of a list of 'KEY<SEPARATOR>VALUE' strings (the CLI's form, FORM)."""
    if isinstance(value, dict):
        return list(value.items())
    if not isinstance(value, (list, tuple)):
        raise SpecError('%s must be a dict or a list of "%s" (such as %s), got %r' % (field, form, example, value))
    pairs = []
    for item in value:
        key, sep, rest = str(item).partition(separator)
        if not sep:
            raise SpecError('%s: %r is not %s (such as %s)' % (field, item, form, example))
        pairs.append((key.strip(), rest.strip()))
    return pairs


def parse_ulimits(value, field='ulimits'):
    """{nofile: 1024} / {nofile: '1024:2048'} / {nofile: {soft, hard}} / ['nofile=1024:2048'] -> engine list."""
    pairs = _pairs(value, field, '=', 'NAME=SOFT[:HARD]', 'nofile=1024:2048')
    result = {}
    for name, limits in pairs:
        result[str(name)] = _ulimit(str(name), limits, field)
    return [result[name] for name in sorted(result)]


def parse_nameservers(value, field='dns'):
    result = []
    for item in value:
        try:
            result.append(str(ipaddress.ip_address(u'%s' % str(item).strip())))
        except ValueError:
            raise SpecError('%s: %r is not an IP address of a DNS server' % (field, item))
    return result


def parse_hosts(value, field='hosts'):
    """{name: ip} or ['name:ip'] (the CLI's --host form) -> the engine's 'IP NAME' entries, sorted."""
    entries = set()
    for name, address in _pairs(value, field, ':', 'NAME:IP', 'db.local:10.0.0.5'):
        name = str(name).strip()
        try:
            address = str(ipaddress.ip_address(u'%s' % str(address).strip()))
        except ValueError:
            raise SpecError('%s: %r of %s is not an IP address' % (field, address, name))
        if not name or re.search(r'\s', name):
            raise SpecError('%s: %r is not a host name' % (field, name))
        entries.add('%s %s' % (address, name))
    return sorted(entries)


def parse_generic_resources(value, field='generic_resources'):
    """['gpu=2', 'ssd=fast'] or {gpu: 2} -> the engine's GenericResources (numbers discrete, text named)."""
    result = []
    for kind, amount in _pairs(value, field, '=', 'KIND=VALUE', 'gpu=1 or gpu=UUID1'):
        kind = str(kind).strip()
        if not kind:
            raise SpecError('%s: a resource needs a kind (KIND=VALUE)' % field)
        text = str(amount).strip()
        if isinstance(amount, bool) or not text:
            raise SpecError('%s: %s needs a number or a name, got %r' % (field, kind, amount))
        if re.match(r'^[0-9]+$', text):
            result.append({'DiscreteResourceSpec': {'Kind': kind, 'Value': int(text)}})
        else:
            result.append({'NamedResourceSpec': {'Kind': kind, 'Value': text}})
    return result


def parse_stop_signal(value, field='stop_signal'):
    """'TERM', 'sigterm', 'SIGRTMIN+3' or a number -> 'SIGTERM', 'SIGRTMIN+3', '15'."""
    text = str(value).strip().upper()
    if not text or re.match(r'^[0-9]+$', text):
        return text  # empty: the image's own stop signal
    if not text.startswith('SIG'):
        text = 'SIG' + text
    if not re.match(r'^SIG[A-Z0-9]+([+-][0-9]+)?$', text):
        raise SpecError('%s: %r is not a signal name or number such as SIGTERM, SIGQUIT or 15' % (field, value))
    return text


# ---- validation and desired fields -----------------------------------------------------------------

def _list(params, key):
    value = params.get(key)
    if value is None:
        return None
    if not isinstance(value, (list, tuple)):
        raise SpecError('%s must be a list, got %r' % (key, value))
    return value


def desired_fields(params):
    """Validate PARAMS and return {option: engine fragment} for the options that are set.

    Raises SpecError (naming the option and the fix) on bad input. Nothing here talks to an engine.
    """
    name = params.get('name')
    if not name or not isinstance(name, str) or not re.match(r'^[a-zA-Z0-9][a-zA-Z0-9_.-]*$', name) \
            or len(name) > 63:
        raise SpecError('name: %r is not a service name; use letters, digits, "_", "." and "-", starting with a '
                        'letter or digit, at most 63 characters' % (name,))
    fields = {}
    if params.get('state', 'present') == 'absent':
        return fields
    image = params.get('image')
    if image is not None:
        if not isinstance(image, str) or not image.strip() or re.search(r'\s', image):
            raise SpecError('image: %r is not an image reference; give one such as "nginx:1.27" or '
                            '"registry.example.com/app:2.1"' % (image,))
        fields['image'] = image.strip()
    mode = params.get('mode')
    if mode is not None:
        if mode not in MODES:
            raise SpecError('mode: %r is not a service mode; use one of %s' % (mode, ', '.join(MODES)))
        fields['mode'] = mode
    if params.get('replicas') is not None:
        if mode in GLOBAL_MODES:
            raise SpecError('replicas: a %s service runs one task per eligible node and takes no replicas; '
                            'remove replicas or use mode replicated' % mode)
        fields['replicas'] = parse_int(params['replicas'], 'replicas')
    for key in ('command', 'args'):
        if params.get(key) is not None:
            fields[key] = parse_command(params[key], key)
    if params.get('env') is not None:
        fields['env'] = parse_env(params['env'])
    for key in ('labels', 'container_labels'):
        if params.get(key) is not None:
            fields[key] = parse_labels(params[key], key)
    publish = _list(params, 'publish')
    if publish is not None:
        ports = [parse_port(p) for p in publish]
        seen = set()
        for port in ports:
            key = (port.get('PublishedPort'), port['Protocol'])
            if key[0] is not None and key in seen:
                raise SpecError('publish: published port %s/%s is given twice' % key)
            seen.add(key)
        fields['publish'] = ports
    if params.get('endpoint_mode') is not None:
        if params['endpoint_mode'] not in ('vip', 'dnsrr'):
            raise SpecError('endpoint_mode must be vip or dnsrr, got %r' % params['endpoint_mode'])
        fields['endpoint_mode'] = params['endpoint_mode']
        if params['endpoint_mode'] == 'dnsrr' and any(p['PublishMode'] == 'ingress' for p in fields.get('publish', [])):
            raise SpecError('publish: endpoint_mode dnsrr cannot publish ports in ingress mode; '
                            'set mode: host on those ports or use endpoint_mode vip')
    networks = _list(params, 'networks')
    if networks is not None:
        fields['networks'] = [parse_network(n) for n in networks]
    mounts = _list(params, 'mounts')
    if mounts is not None:
        parsed = [parse_mount(m) for m in mounts]
        targets = [m['Target'] for m in parsed]
        duplicates = sorted(set(t for t in targets if targets.count(t) > 1))
        if duplicates:
            raise SpecError('mounts: target %s is mounted twice' % ', '.join(duplicates))
        fields['mounts'] = parsed
    constraints = _list(params, 'constraints')
    if constraints is not None:
        fields['constraints'] = [parse_constraint(c) for c in constraints]
    preferences = _list(params, 'placement_preferences')
    if preferences is not None:
        fields['placement_preferences'] = [parse_preference(p) for p in preferences]
    if params.get('max_replicas_per_node') is not None:
        if mode in GLOBAL_MODES:
            raise SpecError('max_replicas_per_node: applies to replicated services only, not to mode %s' % mode)
        fields['max_replicas_per_node'] = parse_int(params['max_replicas_per_node'], 'max_replicas_per_node')
    for key, pids in (('limits', True), ('reservations', False)):
        if params.get(key) is not None:
            fields[key] = parse_resources(params[key], key, pids)
    if params.get('restart_policy') is not None:
        fields['restart_policy'] = parse_restart_policy(params['restart_policy'])
    for key in ('update_config', 'rollback_config'):
        if params.get(key) is not None:
            fields[key] = parse_update_config(params[key], key)
    if params.get('healthcheck') is not None:
        fields['healthcheck'] = parse_healthcheck(params['healthcheck'])
    for key, kind in (('secrets', 'secret'), ('configs', 'config')):
        refs = _list(params, key)
        if refs is not None:
            fields[key] = [parse_reference(r, key, kind) for r in refs]
    for key in ('user', 'workdir', 'hostname', 'log_driver'):
        if params.get(key) is not None:
            fields[key] = str(params[key])
    for key in ('init', 'read_only', 'tty'):
        if params.get(key) is not None:
            fields[key] = parse_bool(params[key], key)
    if params.get('stop_grace_period') is not None:
        fields['stop_grace_period'] = parse_duration(params['stop_grace_period'], 'stop_grace_period')
    _container_options(params, fields)
    _mode_rules(params, fields)
    if params.get('state') == 'rolled_back' and fields:
        raise SpecError('state: rolled_back returns service %s to its previous spec (docker service rollback) and '
                        'takes no options that describe a spec; remove %s' % (name, ', '.join(sorted(fields))))
    return fields


def _container_options(params, fields):
    """The options of the container beyond the basics (capabilities, kernel settings, DNS, logging...)."""
    for key in ('cap_add', 'cap_drop'):
        if _list(params, key) is not None:
            fields[key] = parse_capabilities(params[key], key)
    overlap = sorted(set(fields.get('cap_add') or []) & set(fields.get('cap_drop') or []))
    if overlap:
        raise SpecError('cap_drop: %s is also in cap_add; a capability is either added or dropped' % ', '.join(overlap))
    if params.get('sysctls') is not None:
        fields['sysctls'] = parse_sysctls(params['sysctls'])
    if params.get('ulimits') is not None:
        fields['ulimits'] = parse_ulimits(params['ulimits'])
    if _list(params, 'dns') is not None:
        fields['dns'] = parse_nameservers(params['dns'])
    for key in ('dns_search', 'dns_options', 'groups'):
        if _list(params, key) is not None:
            fields[key] = [str(item).strip() for item in params[key]]
    if params.get('hosts') is not None:
        fields['hosts'] = parse_hosts(params['hosts'])
    if params.get('stop_signal') is not None:
        fields['stop_signal'] = parse_stop_signal(params['stop_signal'])
    if params.get('oom_score_adj') is not None:
        fields['oom_score_adj'] = parse_int(params['oom_score_adj'], 'oom_score_adj', -1000, 1000)
    if params.get('log_options') is not None:
        fields['log_options'] = parse_labels(params['log_options'], 'log_options')
    if params.get('generic_resources') is not None:
        fields['generic_resources'] = parse_generic_resources(params['generic_resources'])
    if params.get('secret_env') is not None:
        secret = parse_env(params['secret_env'], 'secret_env')
        fields['secret_env'] = _env_dict(secret)
        both = sorted(set(fields['secret_env']) & set(_env_dict(fields.get('env'))))
        if both:
            raise SpecError('secret_env: %s is also in env; give each variable in one of them' % ', '.join(both))
    reserved = sorted(k for k in fields.get('labels') or {} if k == SECRET_ENV_LABEL)
    if reserved:
        raise SpecError('labels: %s is where swarm_service records the secret_env keys; do not set it' % reserved[0])


def _mode_rules(params, fields):
    """Combinations the engine refuses (or ignores) for the mode given in PARAMS."""
    mode = fields.get('mode')
    if mode in JOB_MODES and 'update_config' in fields:
        raise SpecError('update_config: a job (mode %s) runs to completion and has no rolling updates; the engine '
                        'refuses an update_config for it. Remove update_config' % mode)
    if params.get('max_concurrent') is not None:
        if mode is not None and mode != 'replicated-job':
            raise SpecError('max_concurrent: applies to mode replicated-job only, not to mode %s' % mode)
        fields['max_concurrent'] = parse_int(params['max_concurrent'], 'max_concurrent', minimum=1)


def validate(params):
    """Refuse bad input (SpecError) before anything is sent to an engine; returns the desired fields."""
    return desired_fields(params)


# ---- canonical forms (both sides through the same function) ---------------------------------------

def _dig(spec, path):
    node = spec
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _mode_kind(mode):
    for engine_key in (mode or {}):
        if engine_key in MODE_NAMES:
            return MODE_NAMES[engine_key]
    return 'replicated'


def _mode_count(mode):
    mode = mode or {}
    if 'Replicated' in mode:
        return (mode['Replicated'] or {}).get('Replicas', 1)
    if 'ReplicatedJob' in mode:
        return (mode['ReplicatedJob'] or {}).get('TotalCompletions', 1)
    return None


def _env_dict(env):
    result = {}
    for item in env or []:
        key, sep, val = item.partition('=')
        result[key] = val if sep else None
    return result


def _port_key(port):
    return (port.get('Protocol') or 'tcp', port.get('TargetPort') or 0, port.get('PublishedPort') or 0,
            port.get('PublishMode') or 'ingress')


def _port_view(port):
    protocol, target, published, mode = _port_key(port)
    view = {'target': target, 'protocol': protocol, 'mode': mode}
    if published:
        view['published'] = published
    return view


def _mount_view(mount, keys=None):
    view = {'type': mount.get('Type') or 'volume', 'target': mount.get('Target'),
            'source': mount.get('Source') or '', 'readonly': bool(mount.get('ReadOnly'))}
    extra = {
        'propagation': _dig(mount, ('BindOptions', 'Propagation')),
        'no_copy': _dig(mount, ('VolumeOptions', 'NoCopy')),
        'volume_labels': _dig(mount, ('VolumeOptions', 'Labels')),
        'volume_driver': _dig(mount, ('VolumeOptions', 'DriverConfig', 'Name')),
        'volume_driver_options': _dig(mount, ('VolumeOptions', 'DriverConfig', 'Options')),
        'tmpfs_size': _dig(mount, ('TmpfsOptions', 'SizeBytes')),
        'tmpfs_mode': _dig(mount, ('TmpfsOptions', 'Mode')),
    }
    for key, val in extra.items():
        if (keys is None and val is not None) or (keys is not None and key in keys):
            view[key] = val
    return view


def _reference_view(ref):
    name = ref.get('SecretName') or ref.get('ConfigName')
    f = ref.get('File') or {}
    return {'name': name, 'target': f.get('Name', name), 'uid': str(f.get('UID', '0')),
            'gid': str(f.get('GID', '0')), 'mode': '%04o' % int(f.get('Mode', 0o444))}


def _partial(current, desired, defaults):
    current = current or {}
    return dict((k, current.get(k, defaults.get(k))) for k in desired)


def _network_views(entries, desired, ctx):
    names = (ctx or {}).get('network_names') or {}
    want_aliases = set(d['Target'] for d in desired or [] if 'Aliases' in d)
    desired_names = dict((names.get(d['Target'], d['Target']), d) for d in desired or [])
    views = []
    for entry in entries or []:
        name = names.get(entry.get('Target'), entry.get('Target'))
        view = {'name': name}
        if name in desired_names and desired_names[name].get('Target') in want_aliases:
            view['aliases'] = sorted(entry.get('Aliases') or [])
        views.append(view)
    return sorted(views, key=lambda v: v['name'])


def _mode_max_concurrent(mode):
    return ((mode or {}).get('ReplicatedJob') or {}).get('MaxConcurrent')


def _host_entries(entries):
    """'IP name alias' engine entries -> sorted 'IP name' pairs (one per name)."""
    pairs = set()
    for entry in entries or []:
        words = str(entry).split()
        for name in words[1:]:
            pairs.add('%s %s' % (words[0], name))
    return sorted(pairs)


def _generic_view(resource):
    for key in ('DiscreteResourceSpec', 'NamedResourceSpec'):
        if key in (resource or {}):
            return '%s=%s' % (resource[key].get('Kind'), resource[key].get('Value'))
    return str(resource)


def _capabilities_view(value):
    try:
        return parse_capabilities(value or [], 'capabilities')
    except SpecError:
        return sorted(value or [])


def _stop_signal_view(value):
    try:
        return parse_stop_signal(value, 'stop_signal') if value else ''
    except SpecError:
        return value


def canonical(option, value, desired=None, ctx=None):
    """The comparable form of option OPTION given engine value VALUE.

    DESIRED is the desired engine fragment of the same option: for options whose value is a partial
    dict (restart_policy, update_config, limits, ...) only the keys the user set are compared, with
    the daemon's default for a key the current spec does not carry.
    """
    ctx = ctx or {}
    if option == 'image':
        keep_digest = bool(ctx.get('resolve_image')) or bool(split_digest(desired or '')[1])
        return normalise_image(value or '', keep_digest=keep_digest)
    if option in ('command', 'args', 'dns', 'dns_search', 'dns_options'):
        return list(value or [])
    if option == 'mode':
        return _mode_kind(value)
    if option == 'replicas':
        return _mode_count(value)
    if option == 'max_concurrent':
        return _mode_max_concurrent(value)
    if option == 'env':
        hidden = ctx.get('secret_keys') or ()
        return dict((k, v) for k, v in _env_dict(value).items() if k not in hidden)
    if option == 'secret_env':
        salt = ctx.get('secret_salt') or ''
        hidden = ctx.get('secret_keys') or ()
        return dict((k, fingerprint(salt, k, v)) for k, v in _env_dict(value).items() if k in hidden)
    if option in ('labels', 'container_labels'):
        labels = dict(value or {})
        for key in list(labels):
            internal = key.startswith(TOOLING_LABEL_PREFIXES) or (option == 'labels' and key == SECRET_ENV_LABEL)
            if internal and key not in (desired or {}):
                del labels[key]
        return labels
    if option == 'publish':
        return [_port_view(p) for p in sorted(value or [], key=_port_key)]
    if option == 'endpoint_mode':
        return value or 'vip'
    if option == 'networks':
        return _network_views(value, desired, ctx)
    if option == 'mounts':
        wanted = dict((m['Target'], set(_mount_view(m)) - set(['type', 'target', 'source', 'readonly']))
                      for m in desired or [])
        return [_mount_view(m, wanted.get(m.get('Target'), set()))
                for m in sorted(value or [], key=lambda m: m.get('Target') or '')]
    if option == 'constraints':
        return sorted(parse_constraint(c) if _CONSTRAINT.match(c) else c for c in value or [])
    if option == 'placement_preferences':
        return [_dig(p, ('Spread', 'SpreadDescriptor')) for p in value or []]
    if option in ('max_replicas_per_node', 'oom_score_adj'):
        return value or 0
    if option in PARTIAL_BLOCKS:
        block = PARTIAL_BLOCKS[option]
        return _partial(value, desired if desired is not None else value or {}, DEFAULTS[block])
    if option == 'generic_resources':
        return sorted(_generic_view(r) for r in value or [])
    if option in ('secrets', 'configs'):
        return sorted((_reference_view(r) for r in value or []), key=lambda v: (v['name'], v['target']))
    if option in ('user', 'workdir', 'hostname', 'log_driver'):
        return value or ''
    if option == 'groups':
        return sorted(set(value or []))
    if option == 'hosts':
        return _host_entries(value)
    if option in ('cap_add', 'cap_drop'):
        return _capabilities_view(value)
    if option in ('sysctls', 'log_options'):
        return dict(value or {})
    if option == 'ulimits':
        return sorted(({'Name': u.get('Name'), 'Soft': u.get('Soft', 0), 'Hard': u.get('Hard', 0)}
                       for u in value or []), key=lambda u: u['Name'])
    if option in ('init', 'read_only', 'tty'):
        return bool(value)
    if option == 'stop_signal':
        return _stop_signal_view(value)
    if option == 'stop_grace_period':
        return STOP_GRACE_DEFAULT if value is None else value
    raise KeyError(option)


PARTIAL_BLOCKS = {'limits': 'Resources', 'reservations': 'Resources', 'restart_policy': 'RestartPolicy',
                  'update_config': 'UpdateConfig', 'rollback_config': 'RollbackConfig', 'healthcheck': 'HealthCheck'}
# Blocks that the daemon fills with its defaults only when the whole block is missing: a partial block
# gets Go zero values for the rest (parallelism 0 = every task at once), so the defaults are filled in.
DEFAULTED_BLOCKS = ('RestartPolicy', 'UpdateConfig', 'RollbackConfig')
SECRET_SHOWN_BEFORE = '<secret value>'
SECRET_SHOWN_AFTER = '<new secret value>'


def comparison_context(current_spec, ctx=None):
    """CTX plus what the comparison reads from the current spec: its secret env keys and their salt."""
    ctx = dict(ctx or {})
    label = secret_env_label(current_spec)
    ctx.setdefault('secret_keys', set(label['hashes']) if label else set())
    ctx.setdefault('secret_salt', label['salt'] if label else '')
    return ctx


def _masked_secret_diff(have, want):
    before = dict((k, SECRET_SHOWN_BEFORE) for k in have if have[k] != want.get(k))
    after = dict((k, SECRET_SHOWN_AFTER) for k in want if want[k] != have.get(k))
    return before, after


def compare(fields, current_spec, ctx=None):
    """(before, after) dicts of exactly the options whose canonical values differ.

    Secret env values are compared by their salted hashes and shown as placeholders, never as values.
    """
    ctx = comparison_context(current_spec, ctx)
    before, after = {}, {}
    for option in FIELD_ORDER:
        if option not in fields:
            continue
        desired_value = fields[option]
        if option in ('mode', 'replicas', 'max_concurrent'):
            want = desired_value
        elif option == 'env':
            want = _env_dict(desired_value)
        elif option == 'secret_env':
            want = dict((k, fingerprint(ctx['secret_salt'], k, v)) for k, v in desired_value.items())
        else:
            want = canonical(option, desired_value, desired_value, ctx)
        have = canonical(option, _dig(current_spec, PATHS[option]), desired_value, ctx)
        if want != have:
            if option == 'secret_env':
                have, want = _masked_secret_diff(have, want)
            before[option] = have
            after[option] = want
    return before, after


def desired_view(fields, ctx=None):
    """The options set, in the diff's terms, for a service that does not exist yet."""
    view = {}
    for option in FIELD_ORDER:
        if option not in fields:
            continue
        if option in ('mode', 'replicas', 'max_concurrent'):
            view[option] = fields[option]
        elif option == 'env':
            view[option] = _env_dict(fields[option])
        elif option == 'secret_env':
            view[option] = dict((k, SECRET_SHOWN_AFTER) for k in fields[option])
        else:
            view[option] = canonical(option, fields[option], fields[option], ctx)
    return view


def full_view(spec):
    """Every option of SPEC in the diff's terms (partial blocks with all their keys), secrets as hashes."""
    ctx = comparison_context(spec)
    view = {}
    for option in FIELD_ORDER:
        value = _dig(spec, PATHS[option])
        desired = dict(DEFAULTS[PARTIAL_BLOCKS[option]]) if option in PARTIAL_BLOCKS else None
        if option == 'limits':
            desired = {'NanoCPUs': 0, 'MemoryBytes': 0, 'Pids': 0}
        elif option == 'reservations':
            desired = {'NanoCPUs': 0, 'MemoryBytes': 0}
        elif option in ('labels', 'container_labels', 'image'):
            # every label, tooling ones included (not the secret env record); the image with its digest
            desired = dict((k, v) for k, v in value.items() if k != SECRET_ENV_LABEL) if isinstance(value, dict) \
                else value
        view[option] = canonical(option, value, desired, ctx)
    return view


def spec_differences(spec_from, spec_to):
    """(before, after) of the options that differ between two whole specs (a rollback's diff)."""
    view_from, view_to = full_view(spec_from), full_view(spec_to)
    before, after = {}, {}
    for option in FIELD_ORDER:
        if view_from[option] != view_to[option]:
            if option == 'secret_env':
                before[option], after[option] = _masked_secret_diff(view_from[option], view_to[option])
            else:
                before[option], after[option] = view_from[option], view_to[option]
    return before, after


def needs_recreate(fields, current_spec):
    """The reason a service must be removed and created again, or None (Docker cannot change a mode)."""
    if 'mode' not in fields:
        return None
    current = _mode_kind(current_spec.get('Mode'))
    if current != fields['mode']:
        return 'mode changes from %s to %s, which Docker cannot update in place' % (current, fields['mode'])
    return None


def check_against_current(fields, current_spec, name):
    """Refuse options that cannot apply to the service as it is (SpecError), before anything is sent.

    CURRENT_SPEC is None for a service that does not exist yet.
    """
    kind = fields.get('mode') or (_mode_kind(current_spec.get('Mode')) if current_spec else 'replicated')
    where = 'service %s is %s' % (name, kind) if 'mode' not in fields and current_spec else 'mode %s' % kind
    if 'replicas' in fields and kind in GLOBAL_MODES:
        raise SpecError('replicas: %s: it runs one task per eligible node and takes no replicas; remove '
                        'replicas (or set mode: replicated, which recreates it)' % where)
    if 'max_replicas_per_node' in fields and kind in GLOBAL_MODES:
        raise SpecError('max_replicas_per_node: %s; it applies to replicated services only' % where)
    if 'max_concurrent' in fields and kind != 'replicated-job':
        raise SpecError('max_concurrent: %s; it applies to mode replicated-job only' % where)
    if 'update_config' in fields and kind in JOB_MODES:
        raise SpecError('update_config: %s, a job: it has no rolling updates and the engine refuses an '
                        'update_config for it. Remove update_config' % where)
    if 'log_options' in fields and not fields.get('log_driver') and \
            not _dig(current_spec, ('TaskTemplate', 'LogDriver', 'Name')):
        raise SpecError('log_options: give log_driver too (options belong to a logging driver, such as json-file)')


def engine_rule_errors(spec):
    """What the engine would refuse in SPEC, the whole spec about to be sent (rules the project knows)."""
    errors = []
    kind = _mode_kind(spec.get('Mode'))
    if kind in JOB_MODES and spec.get('UpdateConfig') is not None:
        errors.append('update_config: a job (mode %s) has no rolling updates; the engine refuses an update_config '
                      'for it' % kind)
    endpoint = spec.get('EndpointSpec') or {}
    if endpoint.get('Mode') == 'dnsrr' and any((p.get('PublishMode') or 'ingress') == 'ingress'
                                               for p in endpoint.get('Ports') or []):
        errors.append('publish: endpoint_mode dnsrr cannot publish ports in ingress mode; set mode: host on those '
                      'ports or use endpoint_mode vip')
    return errors


def api_requirements(fields):
    """[(option, (major, minor))] of the options set that need an Engine API version."""
    needed = [(option, MIN_API[option]) for option in FIELD_ORDER if option in fields and option in MIN_API]
    if 'StartInterval' in (fields.get('healthcheck') or {}):
        needed.append(('healthcheck.start_interval', MIN_API['healthcheck.start_interval']))
    return needed


def check_api_version(fields, api_version):
    """SpecError naming the first option set that API_VERSION (a (major, minor) tuple) does not know."""
    for option, wanted in api_requirements(fields):
        if tuple(api_version) < wanted:
            raise SpecError('%s: needs Engine API %d.%d (Docker %s or newer); this manager speaks API %d.%d, whose '
                            'engine would ignore it' % (option, wanted[0], wanted[1], DOCKER_RELEASE_OF_API[wanted],
                                                        api_version[0], api_version[1]))


def _set(spec, path, value):
    node = spec
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[path[-1]] = value


def _mode_spec(kind, fields, current_mode):
    """The Mode block: the count and MaxConcurrent the user set, else the current ones (same kind)."""
    engine_key = ENGINE_MODES[kind]
    same_kind = _mode_kind(current_mode) == kind and bool(current_mode)
    count = fields.get('replicas')
    if count is None and same_kind:
        count = _mode_count(current_mode)
    if kind == 'replicated':
        return {engine_key: {'Replicas': 1 if count is None else count}}
    if kind == 'replicated-job':
        total = 1 if count is None else count
        concurrent = fields.get('max_concurrent')
        if concurrent is None:
            previous = _mode_max_concurrent(current_mode) if same_kind else None
            # like `docker service create --mode replicated-job`: as many at once as completions wanted
            concurrent = total if previous is None else previous
        return {engine_key: {'TotalCompletions': total, 'MaxConcurrent': concurrent}}
    return {engine_key: {}}


def merged_spec(fields, current_spec, name, ctx=None):
    """The spec to send: CURRENT_SPEC (None for a create) with every set option written over it.

    ctx['network_ids'] maps network names to IDs, ctx['secret_ids']/ctx['config_ids'] names to IDs,
    ctx['secret_salt'] is the salt for the secret env hashes (the current one, or a new random one).
    """
    ctx = ctx or {}
    spec = copy.deepcopy(current_spec) if current_spec else {'Name': name, 'TaskTemplate': {'ContainerSpec': {}}}
    spec['Name'] = name
    kind = fields.get('mode') or _mode_kind(spec.get('Mode'))
    spec['Mode'] = _mode_spec(kind, fields, spec.get('Mode'))
    if kind in JOB_MODES and 'update_config' not in fields:
        spec.pop('UpdateConfig', None)  # a job has none; a replicated service becoming a job loses its own
    for option in FIELD_ORDER:
        if option not in fields or option in ('mode', 'replicas', 'max_concurrent', 'env', 'secret_env'):
            continue
        value = copy.deepcopy(fields[option])
        path = PATHS[option]
        if option in ('labels', 'container_labels'):
            current = _dig(spec, path) or {}
            for key, val in current.items():
                internal = key.startswith(TOOLING_LABEL_PREFIXES) or (option == 'labels' and key == SECRET_ENV_LABEL)
                if internal and key not in value:
                    value[key] = val
        elif option in PARTIAL_BLOCKS:
            block = PARTIAL_BLOCKS[option]
            base = dict(_dig(spec, path) or {})
            if block in DEFAULTED_BLOCKS and _dig(spec, path) is None:
                base = dict(DEFAULTS[block], **base)
            base.update(value)
            value = base
        elif option == 'networks':
            ids = ctx.get('network_ids') or {}
            for entry in value:
                entry['Target'] = ids.get(entry['Target'], entry['Target'])
        elif option in ('secrets', 'configs'):
            ids = ctx.get('secret_ids' if option == 'secrets' else 'config_ids') or {}
            id_key, name_key = ('SecretID', 'SecretName') if option == 'secrets' else ('ConfigID', 'ConfigName')
            for entry in value:
                entry[id_key] = ids.get(entry[name_key], entry[name_key])
        elif option == 'image' and ctx.get('resolved_image'):
            value = ctx['resolved_image']
        elif option == 'log_driver':
            if 'log_options' not in fields and _dig(spec, ('TaskTemplate', 'LogDriver', 'Name')) != value:
                # another driver's options would not apply to this one
                (spec['TaskTemplate'].get('LogDriver') or {}).pop('Options', None)
        _set(spec, path, value)
    if 'env' in fields or 'secret_env' in fields:
        _merge_env(spec, fields, ctx)
    if ctx.get('force_update'):
        template = spec.setdefault('TaskTemplate', {})
        template['ForceUpdate'] = int(template.get('ForceUpdate') or 0) + 1
    return spec


# ---- secret env: values in the container's environment, only salted hashes anywhere else --------------

def fingerprint(salt, key, value):
    """HMAC-SHA256 (key: SALT) of 'KEY=VALUE', hex."""
    text = '%s=%s' % (key, '' if value is None else value)
    return hmac.new(salt.encode('utf-8'), text.encode('utf-8'), hashlib.sha256).hexdigest()


def secret_env_label(spec):
    """{'salt', 'hashes': {key: hash}} from the service's secret env label, or None."""
    text = ((spec or {}).get('Labels') or {}).get(SECRET_ENV_LABEL)
    if not text:
        return None
    try:
        label = json.loads(text)
        return {'salt': str(label['salt']), 'hashes': dict(label['hashes'])}
    except (ValueError, KeyError, TypeError):
        return None


def _merge_env(spec, fields, ctx):
    """Env = the plain variables (env, or the current non-secret ones) + the secret ones (secret_env, or the
    current secret ones); the label records which keys are secret, with salted hashes of their values."""
    container = spec['TaskTemplate'].setdefault('ContainerSpec', {})
    current = _env_dict(container.get('Env'))
    label = secret_env_label(spec)
    current_secret = set(label['hashes']) if label else set()
    plain = fields.get('env')
    secret = fields.get('secret_env')
    if plain is not None:
        plain_part = _env_dict(plain)
    else:
        plain_part = dict((k, v) for k, v in current.items() if k not in current_secret)
    if secret is not None:
        secret_part = dict(secret)
    else:
        secret_part = dict((k, current[k]) for k in current_secret if k in current and k not in plain_part)
    for key in secret_part:
        plain_part.pop(key, None)
    merged = dict(plain_part, **secret_part)
    container['Env'] = [key if merged[key] is None else '%s=%s' % (key, merged[key]) for key in sorted(merged)]
    labels = spec.setdefault('Labels', {})
    if secret_part:
        salt = (label or {}).get('salt') or ctx.get('secret_salt') or ''
        hashes = dict((k, fingerprint(salt, k, v)) for k, v in secret_part.items())
        labels[SECRET_ENV_LABEL] = json.dumps({'salt': salt, 'hashes': hashes}, sort_keys=True, separators=(',', ':'))
    else:
        labels.pop(SECRET_ENV_LABEL, None)


def public_spec(spec):
    """SPEC as it may be shown: secret env values masked, the secret env label reduced to its keys."""
    label = secret_env_label(spec)
    if not label:
        return spec
    shown = copy.deepcopy(spec)
    container = _dig(shown, _CS) or {}
    container['Env'] = ['%s=********' % item.partition('=')[0] if item.partition('=')[0] in label['hashes'] else item
                        for item in container.get('Env') or []]
    shown['Labels'][SECRET_ENV_LABEL] = json.dumps({'keys': sorted(label['hashes'])})
    return shown


def reference_names(fields):
    """Names of the networks, secrets and configs FIELDS refer to (resolved to IDs by the module)."""
    return {
        'networks': sorted(set(n['Target'] for n in fields.get('networks') or [])),
        'secrets': sorted(set(s['SecretName'] for s in fields.get('secrets') or [])),
        'configs': sorted(set(c['ConfigName'] for c in fields.get('configs') or [])),
    }


# ---- tasks -----------------------------------------------------------------------------------------

FAILED_TASK_STATES = ('failed', 'rejected', 'orphaned')


def task_summary(tasks, desired, job=False):
    """{desired, running, completed, failed, errors} from the /tasks of one service."""
    running = sum(1 for t in tasks if _dig(t, ('Status', 'State')) == 'running')
    completed = sum(1 for t in tasks if _dig(t, ('Status', 'State')) == 'complete')
    failed = [t for t in tasks if _dig(t, ('Status', 'State')) in FAILED_TASK_STATES]
    errors = []
    for task in tasks:
        err = _dig(task, ('Status', 'Err'))
        state = _dig(task, ('Status', 'State'))
        if err and state != 'complete':
            message = '%s: %s' % (state, err)
            if message not in errors:
                errors.append(message)
    return {'desired': desired, 'running': running, 'completed': completed, 'failed': len(failed),
            'errors': errors}


def _node_matches(node, constraint):
    match = _CONSTRAINT.match(constraint)
    if not match:
        return True
    key, operator, expected = match.groups()
    description = node.get('Description') or {}
    spec = node.get('Spec') or {}
    if key == 'node.role':
        actual = spec.get('Role')
    elif key == 'node.hostname':
        actual = description.get('Hostname')
    elif key == 'node.id':
        actual = node.get('ID')
    elif key.startswith('node.labels.'):
        actual = (spec.get('Labels') or {}).get(key[len('node.labels.'):])
    elif key.startswith('engine.labels.'):
        actual = ((description.get('Engine') or {}).get('Labels') or {}).get(key[len('engine.labels.'):])
    elif key == 'node.platform.os':
        actual = (description.get('Platform') or {}).get('OS')
    elif key == 'node.platform.arch':
        actual = (description.get('Platform') or {}).get('Architecture')
    else:
        return True  # unknown to us: let the scheduler decide, count the node
    equal = actual is not None and actual.lower() == expected.lower() if key == 'node.hostname' \
        else actual == expected
    return equal if operator == '==' else not equal


def eligible_nodes(nodes, constraints):
    """Nodes a global service runs on: ready, active, and matching every constraint."""
    return [n for n in nodes
            if _dig(n, ('Status', 'State')) == 'ready' and _dig(n, ('Spec', 'Availability')) == 'active'
            and all(_node_matches(n, c) for c in constraints or [])]
