# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compose files -> the swarm objects `docker stack deploy` makes of them (for swarm_stack).

A stack is services, overlay networks and volumes named STACK_<key> and labelled
com.docker.stack.namespace=STACK, like the CLI makes them, so `docker stack ls/ps/services/rm` see a
stack deployed here as their own and the other way round. `stack_objects()` turns a compose mapping
into:
- services as swarmops.swarm.swarm_service parameters, with EVERY option set (a key left out of the
  compose file means Docker's default, as with `docker stack deploy`, which replaces the whole spec);
  swarm_spec then compares and merges them like any service;
- networks as swarmops.swarm.swarm_network parameters, and the external networks that must exist;
- the secrets and configs the services reference, by the names they have on the swarm.

Pure (unit-tested); it refuses what it cannot honour, naming the key: options swarm services do not
have are ignored with a warning, as the CLI does; options this module does not support yet are
refused rather than dropped.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re
import shlex

NAMESPACE_LABEL = 'com.docker.stack.namespace'
IMAGE_LABEL = 'com.docker.stack.image'

# What `docker stack deploy` ignores (with "Ignoring unsupported options"): they have no meaning for a
# swarm service. Warned about, then left out.
IGNORED_SERVICE_KEYS = ('build', 'cgroup_parent', 'container_name', 'depends_on', 'devices', 'external_links',
                        'links', 'network_mode', 'restart', 'security_opt', 'userns_mode', 'expose', 'pull_policy',
                        'profiles')
SERVICE_KEYS = ('image', 'command', 'entrypoint', 'environment', 'labels', 'ports', 'networks', 'volumes',
                'secrets', 'configs', 'deploy', 'healthcheck', 'user', 'working_dir', 'hostname', 'init',
                'stop_grace_period')
DEPLOY_KEYS = ('mode', 'replicas', 'labels', 'placement', 'resources', 'restart_policy', 'update_config',
               'rollback_config', 'endpoint_mode')
TOP_KEYS = ('version', 'name', 'services', 'networks', 'volumes', 'secrets', 'configs')
NETWORK_KEYS = ('driver', 'driver_opts', 'attachable', 'internal', 'labels', 'ipam', 'external', 'name')

# Docker's values for what a compose file leaves out (the stack's services are declared whole).
RESTART_DEFAULT = {'condition': 'any', 'delay': '5s', 'max_attempts': 0, 'window': 0}
UPDATE_DEFAULT = {'parallelism': 1, 'delay': 0, 'failure_action': 'pause', 'monitor': '5s', 'max_failure_ratio': 0,
                  'order': 'stop-first'}
ROLLBACK_DEFAULT = dict(UPDATE_DEFAULT)


class ComposeError(ValueError):
    """The compose file asks for something this module cannot do; the message names the key."""


# ---- merging and interpolation -------------------------------------------------------------------------

def merge(documents):
    """Several compose mappings -> one: mappings merged key by key, later files winning; other values
    (lists included) replaced whole."""
    result = {}
    for index, document in enumerate(documents):
        if not isinstance(document, dict):
            raise ComposeError('compose[%d]: a compose file is a mapping (services:, networks:, ...), got %s'
                               % (index, type(document).__name__))
        result = _merge(result, document)
    return result


def _merge(base, extra):
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


_DOLLAR = re.compile(r'\$(\$|\{[^}]*\}?|[A-Za-z_][A-Za-z0-9_]*)')


def unescape(value, path='compose'):
    """'$$' -> '$' in every string, as compose does; a ${VAR} / $VAR is refused: variables come from
    Jinja (the role templates the compose file) and are not read from any environment here."""
    if isinstance(value, dict):
        return dict((k, unescape(v, '%s.%s' % (path, k))) for k, v in value.items())
    if isinstance(value, list):
        return [unescape(v, '%s[%d]' % (path, i)) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def replace(match):
        if match.group(1) == '$':
            return '$'
        raise ComposeError('%s: %r uses the variable $%s; swarm_stack does not interpolate variables: template the '
                           'compose file with Jinja instead (write $$ for a literal $)' % (path, value, match.group(1)))
    return _DOLLAR.sub(replace, value)


# ---- small parsers -------------------------------------------------------------------------------------

def _mapping(value, path):
    """A compose dict or list of 'KEY=VALUE' -> dict of strings."""
    if value is None:
        return {}
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            if item is None:
                raise ComposeError('%s.%s has no value; compose would take it from the environment of the CLI, '
                                   'which swarm_stack does not read: give the value' % (path, key))
            if isinstance(item, bool):
                item = 'true' if item else 'false'
            result[str(key)] = str(item)
        return result
    if isinstance(value, list):
        result = {}
        for item in value:
            if not isinstance(item, str) or '=' not in item:
                raise ComposeError('%s: %r is not "KEY=VALUE"; compose would take a bare name from the environment '
                                   'of the CLI, which swarm_stack does not read' % (path, item))
            key, _sep, val = item.partition('=')
            result[key] = val
        return result
    raise ComposeError('%s must be a mapping or a list of "KEY=VALUE", got %r' % (path, value))


def _words(value, path):
    if value is None:
        return []
    if isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError as exc:
            raise ComposeError('%s: cannot split %r into words (%s)' % (path, value, exc))
    if isinstance(value, list):
        return [str(v) for v in value]
    raise ComposeError('%s must be a string or a list, got %r' % (path, value))


def _unknown(mapping, allowed, path, ignored=()):
    keys = [k for k in mapping if not str(k).startswith('x-') and k not in allowed and k not in ignored]
    if keys:
        raise ComposeError('%s: %s not supported by swarm_stack (it supports %s)'
                           % (path, ', '.join(sorted(str(k) for k in keys)), ', '.join(allowed)))


_PORT = re.compile(r'^(?:(\d+(?:-\d+)?):)?(\d+(?:-\d+)?)(?:/([a-z]+))?$')


def parse_ports(value, path):
    """Compose ports (short "8080:80/udp", "8000-8001:80-81", or long {target, published, protocol, mode})
    -> swarm_service publish entries."""
    result = []
    for index, port in enumerate(value or []):
        where = '%s[%d]' % (path, index)
        if isinstance(port, int) and not isinstance(port, bool):
            port = str(port)
        if isinstance(port, dict):
            _unknown(port, ('target', 'published', 'protocol', 'mode'), where)
            entry = dict((k, port[k]) for k in ('target', 'published', 'protocol', 'mode') if port.get(k) is not None)
            result.append(entry)
            continue
        if not isinstance(port, str):
            raise ComposeError('%s: %r is not a port' % (where, port))
        match = _PORT.match(port.strip())
        if not match:
            raise ComposeError('%s: %r is not a port swarm_stack understands ("PUBLISHED:TARGET[/PROTOCOL]", ranges '
                               'allowed; a host IP has no meaning for a swarm service)' % (where, port))
        published, target, protocol = match.groups()
        targets = _port_range(target, where)
        publisheds = _port_range(published, where) if published else [None] * len(targets)
        if len(publisheds) != len(targets):
            raise ComposeError('%s: %r maps ranges of different lengths' % (where, port))
        for pub, tgt in zip(publisheds, targets):
            entry = {'target': tgt, 'protocol': protocol or 'tcp', 'mode': 'ingress'}
            if pub is not None:
                entry['published'] = pub
            result.append(entry)
    return result


def _port_range(text, where):
    first, _sep, last = text.partition('-')
    first, last = int(first), int(last or first)
    if last < first:
        raise ComposeError('%s: the range %s goes backwards' % (where, text))
    return list(range(first, last + 1))


# ---- the stack ---------------------------------------------------------------------------------------

def _real_name(stack, key, spec):
    """The name of a network, volume, secret or config on the swarm: its `name:`, else STACK_key
    (external objects: their `name:`, else the key itself)."""
    spec = spec or {}
    external = spec.get('external')
    if isinstance(external, dict):  # compose v3.4's external: {name: ...}
        return external.get('name') or spec.get('name') or key
    if external:
        return spec.get('name') or key
    return spec.get('name') or '%s_%s' % (stack, key)


def _is_external(spec):
    return bool((spec or {}).get('external'))


def parse_network(stack, key, spec, path):
    """A top-level network -> swarm_network parameters (None for an external one)."""
    spec = spec or {}
    if not isinstance(spec, dict):
        raise ComposeError('%s must be a mapping' % path)
    _unknown(spec, NETWORK_KEYS, path)
    if _is_external(spec):
        return None
    if spec.get('driver') not in (None, 'overlay'):
        raise ComposeError('%s.driver: %s; a stack\'s networks are overlay networks' % (path, spec['driver']))
    params = {'name': _real_name(stack, key, spec), 'state': 'present',
              'labels': dict(_mapping(spec.get('labels'), '%s.labels' % path), **{NAMESPACE_LABEL: stack}),
              'driver_options': _mapping(spec.get('driver_opts'), '%s.driver_opts' % path)}
    for flag in ('attachable', 'internal'):
        if spec.get(flag) is not None:
            params[flag] = bool(spec[flag])
    ipam = spec.get('ipam')
    if ipam:
        if not isinstance(ipam, dict):
            raise ComposeError('%s.ipam must be a mapping with driver and config' % path)
        _unknown(ipam, ('driver', 'config', 'options'), '%s.ipam' % path)
        if ipam.get('options'):
            raise ComposeError('%s.ipam.options: not supported by swarm_stack' % path)
        if ipam.get('driver'):
            params['ipam_driver'] = ipam['driver']
        if ipam.get('config') is not None:
            params['ipam_config'] = [dict(entry) for entry in ipam['config']] if isinstance(ipam['config'], list) \
                else ipam['config']
    return params


def _volume_mount(stack, spec, volumes, path):
    """A compose volume (short "src:dst[:ro]" or long form) -> a swarm_service mount dict."""
    if isinstance(spec, str):
        parts = spec.split(':')
        if len(parts) == 1:
            mount = {'type': 'volume', 'target': parts[0]}
        elif len(parts) in (2, 3):
            mount = {'source': parts[0], 'target': parts[1]}
            for mode in (parts[2].split(',') if len(parts) == 3 else []):
                if mode == 'ro':
                    mount['read_only'] = True
                elif mode == 'nocopy':
                    mount['volume'] = {'nocopy': True}
                elif mode not in ('rw', 'z', 'Z'):
                    raise ComposeError('%s: mode %r of %r is not supported (ro, rw, nocopy)' % (path, mode, spec))
            mount['type'] = 'bind' if parts[0].startswith(('/', '.', '~')) else 'volume'
        else:
            raise ComposeError('%s: %r is not "SOURCE:TARGET[:MODE]"' % (path, spec))
    elif isinstance(spec, dict):
        _unknown(spec, ('type', 'source', 'target', 'read_only', 'bind', 'volume', 'tmpfs', 'consistency'), path)
        mount = dict(spec)
    else:
        raise ComposeError('%s: %r is not a volume' % (path, spec))
    mtype = mount.get('type') or 'volume'
    source = mount.get('source')
    if mtype == 'bind' and source and not str(source).startswith('/'):
        raise ComposeError('%s: the bind source %r is relative; on a swarm it must be an absolute path that exists '
                           'on every node the service can run on' % (path, source))
    result = {'type': mtype, 'target': mount.get('target'), 'readonly': bool(mount.get('read_only'))}
    if mtype == 'volume' and source:
        declared = volumes.get(source, False)
        if declared is False:
            raise ComposeError('%s: the volume %s is not declared under the top-level volumes' % (path, source))
        declared = declared or {}
        result['source'] = _real_name(stack, source, declared)
        if not _is_external(declared):
            result['volume_labels'] = dict(_mapping(declared.get('labels'), 'volumes.%s.labels' % source),
                                           **{NAMESPACE_LABEL: stack})
            if declared.get('driver') or declared.get('driver_opts'):
                result['volume_driver'] = declared.get('driver') or 'local'
                result['volume_driver_options'] = _mapping(declared.get('driver_opts'),
                                                           'volumes.%s.driver_opts' % source)
    elif source:
        result['source'] = source
    if isinstance(mount.get('bind'), dict) and mount['bind'].get('propagation'):
        result['propagation'] = mount['bind']['propagation']
    if isinstance(mount.get('volume'), dict) and mount['volume'].get('nocopy') is not None:
        result['no_copy'] = bool(mount['volume']['nocopy'])
    if isinstance(mount.get('tmpfs'), dict):
        if mount['tmpfs'].get('size') is not None:
            result['tmpfs_size'] = mount['tmpfs']['size']
        if mount['tmpfs'].get('mode') is not None:
            result['tmpfs_mode'] = mount['tmpfs']['mode']
    return result


def _references(stack, value, declared, kind, path):
    """Service secrets/configs (short "name" or long {source, target, uid, gid, mode}) -> swarm_service refs."""
    result = []
    for index, ref in enumerate(value or []):
        where = '%s[%d]' % (path, index)
        if isinstance(ref, str):
            ref = {'source': ref}
        if not isinstance(ref, dict) or not ref.get('source'):
            raise ComposeError('%s: %r is not a %s reference (a name or {source, target, uid, gid, mode})'
                               % (where, ref, kind))
        _unknown(ref, ('source', 'target', 'uid', 'gid', 'mode'), where)
        source = ref['source']
        if source not in declared:
            raise ComposeError('%s: the %s %s is not declared under the top-level %ss' % (where, kind, source, kind))
        spec = declared[source] or {}
        if not _is_external(spec):
            raise ComposeError('%ss.%s: only external %ss are supported (external: true): declare the value in '
                               'swarm_%ss, which versions it and rolls the services onto a new value, and refer to '
                               'it by its name here' % (kind, source, kind, kind))
        default_target = source if kind == 'secret' else '/' + source
        entry = {'name': _real_name(stack, source, spec), 'target': ref.get('target') or default_target}
        for key in ('uid', 'gid', 'mode'):
            if ref.get(key) is not None:
                entry[key] = ref[key]
        result.append(entry)
    return result


def _service_networks(stack, name, value, networks, path):
    if value is None:
        value = ['default']
    if isinstance(value, list):
        value = dict((n, None) for n in value)
    if not isinstance(value, dict):
        raise ComposeError('%s must be a list of network names or a mapping' % path)
    result = []
    for key, options in value.items():
        options = options or {}
        _unknown(options, ('aliases',), '%s.%s' % (path, key))
        if key != 'default' and key not in networks:
            raise ComposeError('%s: the network %s is not declared under the top-level networks' % (path, key))
        # Like the CLI: the service's compose name is an alias on every network, so the stack's services
        # find each other by the names the compose file uses.
        aliases = [name] + [str(a) for a in options.get('aliases') or [] if str(a) != name]
        result.append({'name': _real_name(stack, key, networks.get(key)), 'aliases': aliases})
    return sorted(result, key=lambda n: n['name'])


def _healthcheck(value, path):
    if value is None:
        return None
    _unknown(value, ('test', 'interval', 'timeout', 'retries', 'start_period', 'disable'), path)
    return dict((k, v) for k, v in value.items() if v is not None)


def _block(value, defaults, allowed, path):
    value = value or {}
    _unknown(value, allowed, path)
    block = dict(defaults)
    block.update(dict((k, v) for k, v in value.items() if v is not None))
    return block


def parse_service(stack, key, spec, top, path):
    """One compose service -> (swarm_service parameters, [warnings])."""
    if not isinstance(spec, dict):
        raise ComposeError('%s must be a mapping' % path)
    warnings = []
    ignored = sorted(k for k in spec if k in IGNORED_SERVICE_KEYS)
    if ignored:
        warnings.append('stack %s, service %s: ignoring %s (not used by swarm services, as docker stack deploy '
                        'does)' % (stack, key, ', '.join(ignored)))
    _unknown(spec, SERVICE_KEYS, path, IGNORED_SERVICE_KEYS)
    if not spec.get('image'):
        raise ComposeError('%s.image is required (a stack deploys images; build them first)' % path)
    if spec.get('env_file'):
        raise ComposeError('%s.env_file: not supported; put the variables under environment' % path)
    deploy = spec.get('deploy') or {}
    if not isinstance(deploy, dict):
        raise ComposeError('%s.deploy must be a mapping' % path)
    _unknown(deploy, DEPLOY_KEYS, '%s.deploy' % path)
    image = str(spec['image'])
    params = {
        'name': '%s_%s' % (stack, key), 'state': 'present', 'image': image,
        'command': _words(spec.get('entrypoint'), '%s.entrypoint' % path),
        'args': _words(spec.get('command'), '%s.command' % path),
        'env': _mapping(spec.get('environment'), '%s.environment' % path),
        'labels': dict(_mapping(deploy.get('labels'), '%s.deploy.labels' % path),
                       **{NAMESPACE_LABEL: stack, IMAGE_LABEL: image}),
        'container_labels': dict(_mapping(spec.get('labels'), '%s.labels' % path), **{NAMESPACE_LABEL: stack}),
        'publish': parse_ports(spec.get('ports'), '%s.ports' % path),
        'networks': _service_networks(stack, key, spec.get('networks'), top['networks'], '%s.networks' % path),
        'mounts': [_volume_mount(stack, v, top['volumes'], '%s.volumes[%d]' % (path, i))
                   for i, v in enumerate(spec.get('volumes') or [])],
        'secrets': _references(stack, spec.get('secrets'), top['secrets'], 'secret', '%s.secrets' % path),
        'configs': _references(stack, spec.get('configs'), top['configs'], 'config', '%s.configs' % path),
        'user': str(spec.get('user') or ''),
        'workdir': str(spec.get('working_dir') or ''),
        'hostname': str(spec.get('hostname') or ''),
        'init': bool(spec.get('init')),
        'stop_grace_period': spec.get('stop_grace_period') if spec.get('stop_grace_period') is not None else '10s',
        'endpoint_mode': deploy.get('endpoint_mode') or 'vip',
    }
    mode = deploy.get('mode') or 'replicated'
    params['mode'] = mode
    # Jobs have no rolling updates (the engine refuses an update or rollback config on them) and their
    # restart default differs: only what the file says goes to a job.
    job = mode.endswith('-job')
    for option, defaults, allowed in (('restart_policy', RESTART_DEFAULT, tuple(RESTART_DEFAULT)),
                                      ('update_config', UPDATE_DEFAULT, tuple(UPDATE_DEFAULT)),
                                      ('rollback_config', ROLLBACK_DEFAULT, tuple(ROLLBACK_DEFAULT))):
        if not job or deploy.get(option) is not None:
            params[option] = _block(deploy.get(option), {} if job else defaults, allowed,
                                    '%s.deploy.%s' % (path, option))
    if mode in ('replicated', 'replicated-job'):
        params['replicas'] = deploy.get('replicas') if deploy.get('replicas') is not None else 1
    elif deploy.get('replicas') is not None:
        params['replicas'] = deploy['replicas']  # swarm_spec refuses it with the reason
    placement = deploy.get('placement') or {}
    _unknown(placement, ('constraints', 'preferences', 'max_replicas_per_node'), '%s.deploy.placement' % path)
    params['constraints'] = list(placement.get('constraints') or [])
    params['placement_preferences'] = list(placement.get('preferences') or [])
    if mode in ('replicated', 'replicated-job'):
        params['max_replicas_per_node'] = placement.get('max_replicas_per_node') or 0
    resources = deploy.get('resources') or {}
    _unknown(resources, ('limits', 'reservations'), '%s.deploy.resources' % path)
    limits = resources.get('limits') or {}
    _unknown(limits, ('cpus', 'memory', 'pids'), '%s.deploy.resources.limits' % path)
    params['limits'] = {'cpus': limits.get('cpus') or 0, 'memory': limits.get('memory') or 0}
    if limits.get('pids'):
        params['limits']['pids'] = limits['pids']
    reservations = resources.get('reservations') or {}
    _unknown(reservations, ('cpus', 'memory'), '%s.deploy.resources.reservations' % path)
    params['reservations'] = {'cpus': reservations.get('cpus') or 0, 'memory': reservations.get('memory') or 0}
    health = _healthcheck(spec.get('healthcheck'), '%s.healthcheck' % path)
    if health is not None:
        params['healthcheck'] = health
    return params, warnings


def stack_objects(stack, compose):
    """COMPOSE (one merged mapping) -> {'services': [swarm_service params], 'networks': [swarm_network params],
    'external_networks': [names], 'secrets': [names], 'configs': [names], 'warnings': [...]}."""
    if not isinstance(compose, dict):
        raise ComposeError('compose: a compose file is a mapping (services:, networks:, ...)')
    compose = unescape(compose)
    _unknown(compose, TOP_KEYS, 'compose')
    services = compose.get('services') or {}
    if not isinstance(services, dict) or not services:
        raise ComposeError('compose: services: at least one service is needed')
    top = {}
    for section in ('networks', 'volumes', 'secrets', 'configs'):
        value = compose.get(section) or {}
        if not isinstance(value, dict):
            raise ComposeError('compose: %s must be a mapping' % section)
        top[section] = value
    result = {'services': [], 'networks': [], 'external_networks': [], 'secrets': [], 'configs': [], 'warnings': []}
    used_networks = set()
    for key in sorted(services):
        params, warnings = parse_service(stack, key, services[key], top, 'services.%s' % key)
        result['services'].append(params)
        result['warnings'].extend(warnings)
        used_networks.update(n['name'] for n in params['networks'])
        result['secrets'].extend(r['name'] for r in params['secrets'])
        result['configs'].extend(r['name'] for r in params['configs'])
    declared = dict(top['networks'])
    declared.setdefault('default', None)
    for key in sorted(declared):
        real = _real_name(stack, key, declared[key])
        if real not in used_networks:
            continue  # like the CLI: only the networks some service uses are created
        params = parse_network(stack, key, declared[key], 'networks.%s' % key)
        if params is None:
            result['external_networks'].append(real)
        else:
            result['networks'].append(params)
    result['secrets'] = sorted(set(result['secrets']))
    result['configs'] = sorted(set(result['configs']))
    return result
