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
import re
import shlex

MODES = ('replicated', 'global', 'replicated-job', 'global-job')
ENGINE_MODES = {'replicated': 'Replicated', 'global': 'Global',
                'replicated-job': 'ReplicatedJob', 'global-job': 'GlobalJob'}
MODE_NAMES = dict((v, k) for k, v in ENGINE_MODES.items())

# Labels that tooling (docker stack deploy, compose) adds to a service: ignored when comparing unless
# the user sets them, and kept on update.
TOOLING_LABEL_PREFIXES = ('com.docker.stack.', 'com.docker.compose.')

# What the daemon stores when a block or a key is left out (Engine API / swarmkit defaults).
SECOND = 1000000000
DEFAULTS = {
    'RestartPolicy': {'Condition': 'any', 'Delay': 5 * SECOND, 'MaxAttempts': 0, 'Window': 0},
    'UpdateConfig': {'Parallelism': 1, 'Delay': 0, 'FailureAction': 'pause', 'Monitor': 5 * SECOND,
                     'MaxFailureRatio': 0, 'Order': 'stop-first'},
    'RollbackConfig': {'Parallelism': 1, 'Delay': 0, 'FailureAction': 'pause', 'Monitor': 5 * SECOND,
                       'MaxFailureRatio': 0, 'Order': 'stop-first'},
    'Resources': {'NanoCPUs': 0, 'MemoryBytes': 0, 'Pids': 0},
    'HealthCheck': {'Test': [], 'Interval': 0, 'Timeout': 0, 'Retries': 0, 'StartPeriod': 0},
}
STOP_GRACE_DEFAULT = 10 * SECOND

# Option name -> (path in the service spec). Order here is the order of the diff.
PATHS = {
    'image': ('TaskTemplate', 'ContainerSpec', 'Image'),
    'command': ('TaskTemplate', 'ContainerSpec', 'Command'),
    'args': ('TaskTemplate', 'ContainerSpec', 'Args'),
    'mode': ('Mode',),
    'replicas': ('Mode',),
    'env': ('TaskTemplate', 'ContainerSpec', 'Env'),
    'labels': ('Labels',),
    'container_labels': ('TaskTemplate', 'ContainerSpec', 'Labels'),
    'publish': ('EndpointSpec', 'Ports'),
    'endpoint_mode': ('EndpointSpec', 'Mode'),
    'networks': ('TaskTemplate', 'Networks'),
    'mounts': ('TaskTemplate', 'ContainerSpec', 'Mounts'),
    'constraints': ('TaskTemplate', 'Placement', 'Constraints'),
    'placement_preferences': ('TaskTemplate', 'Placement', 'Preferences'),
    'max_replicas_per_node': ('TaskTemplate', 'Placement', 'MaxReplicas'),
    'limits': ('TaskTemplate', 'Resources', 'Limits'),
    'reservations': ('TaskTemplate', 'Resources', 'Reservations'),
    'restart_policy': ('TaskTemplate', 'RestartPolicy'),
    'update_config': ('UpdateConfig',),
    'rollback_config': ('RollbackConfig',),
    'healthcheck': ('TaskTemplate', 'ContainerSpec', 'Healthcheck'),
    'secrets': ('TaskTemplate', 'ContainerSpec', 'Secrets'),
    'configs': ('TaskTemplate', 'ContainerSpec', 'Configs'),
    'user': ('TaskTemplate', 'ContainerSpec', 'User'),
    'workdir': ('TaskTemplate', 'ContainerSpec', 'Dir'),
    'hostname': ('TaskTemplate', 'ContainerSpec', 'Hostname'),
    'init': ('TaskTemplate', 'ContainerSpec', 'Init'),
    'stop_grace_period': ('TaskTemplate', 'ContainerSpec', 'StopGracePeriod'),
}
FIELD_ORDER = list(PATHS)


class SpecError(ValueError):
    """Bad input: the message names the option and says how to fix it."""


# ---- units ---------------------------------------------------------------------------------------

_DURATION_UNITS = {'ns': 1, 'us': 1000, 'µs': 1000, 'ms': 1000000, 's': SECOND, 'm': 60 * SECOND,
                   'h': 3600 * SECOND}
_DURATION_PART = re.compile(r'(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)')
_MEMORY = re.compile(r'^(\d+(?:\.\d+)?)\s*([bkmgtp]?)(?:i?b)?$', re.IGNORECASE)
_MEMORY_UNITS = {'': 1, 'b': 1, 'k': 1024, 'm': 1024 ** 2, 'g': 1024 ** 3, 't': 1024 ** 4, 'p': 1024 ** 5}


def parse_duration(value, field):
    """'1m30s', '500ms', '10s' or a number of seconds -> nanoseconds (int)."""
    if isinstance(value, bool):
        raise SpecError('%s: expected a duration such as "10s", "1m30s" or "500ms", got %r' % (field, value))
    if isinstance(value, (int, float)):
        if value < 0:
            raise SpecError('%s: a duration cannot be negative, got %r' % (field, value))
        return int(round(value * SECOND))
    text = str(value).strip()
    if re.match(r'^\d+(\.\d+)?$', text):
        return int(round(float(text) * SECOND))
    parts = _DURATION_PART.findall(text)
    if not text or ''.join(n + u for n, u in parts) != text:
        raise SpecError('%s: expected a duration such as "10s", "1m30s" or "500ms" (units ns, us, ms, s, m, h), '
                        'got %r' % (field, value))
    return int(round(sum(float(n) * _DURATION_UNITS[u] for n, u in parts)))


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
            mount[key] = val.strip().lower() in ('1', 'true', 'yes')
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
    engine = {'Type': mtype, 'Target': target, 'ReadOnly': bool(mount.get('readonly'))}
    if source:
        engine['Source'] = str(source)
    if mount.get('propagation'):
        if mount['propagation'] not in ('private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave'):
            raise SpecError('%s: propagation %r is not one of private, rprivate, shared, rshared, slave, rslave'
                            % (field, mount['propagation']))
        engine['BindOptions'] = {'Propagation': mount['propagation']}
    volume = {}
    if mount.get('no_copy') is not None:
        volume['NoCopy'] = bool(mount['no_copy'])
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
        mode = mount['tmpfs_mode']
        tmpfs['Mode'] = int(mode, 8) if isinstance(mode, str) else int(mode)
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
    if mode is None:
        mode = 0o444
    elif isinstance(mode, str):
        try:
            mode = int(mode, 8)
        except ValueError:
            raise SpecError('%s: mode %r of %s is not an octal file mode such as "0440"' % (field, mode, value['name']))
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
    for key, engine_key in (('interval', 'Interval'), ('timeout', 'Timeout'), ('start_period', 'StartPeriod')):
        if value.get(key) is not None:
            engine[engine_key] = parse_duration(value[key], '%s.%s' % (field, key))
    if value.get('retries') is not None:
        engine['Retries'] = parse_int(value['retries'], '%s.retries' % field)
    return engine


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
        if mode in ('global', 'global-job'):
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
        if mode in ('global', 'global-job'):
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
    for key in ('user', 'workdir', 'hostname'):
        if params.get(key) is not None:
            fields[key] = str(params[key])
    if params.get('init') is not None:
        fields['init'] = bool(params['init'])
    if params.get('stop_grace_period') is not None:
        fields['stop_grace_period'] = parse_duration(params['stop_grace_period'], 'stop_grace_period')
    return fields


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


def canonical(option, value, desired=None, ctx=None):
    """The comparable form of option OPTION given engine value VALUE.

    DESIRED is the desired engine fragment of the same option: for options whose value is a partial
    dict (restart_policy, update_config, limits, ...) only the keys the user set are compared, with
    the daemon's default for a key the current spec does not carry.
    """
    ctx = ctx or {}
    if option == 'image':
        return normalise_image(value or '', keep_digest=ctx.get('resolve_image', False))
    if option in ('command', 'args'):
        return list(value or [])
    if option == 'mode':
        return _mode_kind(value)
    if option == 'replicas':
        return _mode_count(value)
    if option == 'env':
        return _env_dict(value)
    if option == 'labels':
        labels = dict(value or {})
        for key in list(labels):
            if key.startswith(TOOLING_LABEL_PREFIXES) and key not in (desired or {}):
                del labels[key]
        return labels
    if option == 'container_labels':
        return dict(value or {})
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
    if option == 'max_replicas_per_node':
        return value or 0
    if option in ('limits', 'reservations'):
        return _partial(value, desired if desired is not None else value or {}, DEFAULTS['Resources'])
    if option == 'restart_policy':
        return _partial(value, desired if desired is not None else value or {}, DEFAULTS['RestartPolicy'])
    if option == 'update_config':
        return _partial(value, desired if desired is not None else value or {}, DEFAULTS['UpdateConfig'])
    if option == 'rollback_config':
        return _partial(value, desired if desired is not None else value or {}, DEFAULTS['RollbackConfig'])
    if option == 'healthcheck':
        return _partial(value, desired if desired is not None else value or {}, DEFAULTS['HealthCheck'])
    if option in ('secrets', 'configs'):
        return sorted((_reference_view(r) for r in value or []), key=lambda v: (v['name'], v['target']))
    if option in ('user', 'workdir', 'hostname'):
        return value or ''
    if option == 'init':
        return bool(value)
    if option == 'stop_grace_period':
        return STOP_GRACE_DEFAULT if value is None else value
    raise KeyError(option)


def compare(fields, current_spec, ctx=None):
    """(before, after) dicts of exactly the options whose canonical values differ."""
    before, after = {}, {}
    for option in FIELD_ORDER:
        if option not in fields:
            continue
        desired_value = fields[option]
        if option == 'mode':
            want = desired_value
        elif option == 'replicas':
            want = desired_value
        else:
            want = canonical(option, desired_value, desired_value, ctx)
        have = canonical(option, _dig(current_spec, PATHS[option]), desired_value, ctx)
        if want != have:
            before[option] = have
            after[option] = want
    return before, after


def needs_recreate(fields, current_spec):
    """The reason a service must be removed and created again, or None (Docker cannot change a mode)."""
    if 'mode' not in fields:
        return None
    current = _mode_kind(current_spec.get('Mode'))
    if current != fields['mode']:
        return 'mode changes from %s to %s, which Docker cannot update in place' % (current, fields['mode'])
    return None


def _set(spec, path, value):
    node = spec
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[path[-1]] = value


def _mode_spec(kind, count, current_mode):
    engine_key = ENGINE_MODES[kind]
    if kind == 'replicated':
        return {engine_key: {'Replicas': 1 if count is None else count}}
    if kind == 'replicated-job':
        total = 1 if count is None else count
        previous = (current_mode or {}).get(engine_key) or {}
        return {engine_key: {'TotalCompletions': total,
                             'MaxConcurrent': previous.get('MaxConcurrent', total) if count is None else total}}
    return {engine_key: {}}


def merged_spec(fields, current_spec, name, ctx=None):
    """The spec to send: CURRENT_SPEC (None for a create) with every set option written over it.

    ctx['network_ids'] maps network names to IDs, ctx['secret_ids']/ctx['config_ids'] names to IDs.
    """
    ctx = ctx or {}
    creating = current_spec is None
    spec = copy.deepcopy(current_spec) if current_spec else {'Name': name, 'TaskTemplate': {'ContainerSpec': {}}}
    spec['Name'] = name
    kind = fields.get('mode') or _mode_kind(spec.get('Mode'))
    count = fields.get('replicas')
    if count is None and kind == _mode_kind(spec.get('Mode')):
        count = _mode_count(spec.get('Mode'))
    spec['Mode'] = _mode_spec(kind, count, spec.get('Mode'))
    for option in FIELD_ORDER:
        if option not in fields or option in ('mode', 'replicas'):
            continue
        value = copy.deepcopy(fields[option])
        path = PATHS[option]
        if option == 'labels':
            current = _dig(spec, path) or {}
            for key, val in current.items():
                if key.startswith(TOOLING_LABEL_PREFIXES) and key not in value:
                    value[key] = val
        elif option in ('limits', 'reservations', 'restart_policy', 'update_config', 'rollback_config',
                        'healthcheck'):
            block = {'limits': 'Resources', 'reservations': 'Resources', 'restart_policy': 'RestartPolicy',
                     'update_config': 'UpdateConfig', 'rollback_config': 'RollbackConfig',
                     'healthcheck': 'HealthCheck'}[option]
            base = dict(_dig(spec, path) or {})
            if creating and block in ('RestartPolicy', 'UpdateConfig', 'RollbackConfig'):
                # A partial block sent to the API gets Go zero values for the rest (parallelism 0 =
                # all at once), not the defaults it would use for a missing block: fill those in.
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
        _set(spec, path, value)
    if ctx.get('force_update'):
        template = spec.setdefault('TaskTemplate', {})
        template['ForceUpdate'] = int(template.get('ForceUpdate') or 0) + 1
    return spec


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
