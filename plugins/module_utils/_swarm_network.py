# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Overlay networks for swarm_network (and the stacks' networks): validate, compare, plan.

Pure functions of the module's options and the engine's JSON (unit-tested without an engine):
- `validate(params)` refuses bad input before any engine call, naming the field (NetworkError);
- `compare(desired, current)` returns the options that differ, each (before, after), comparing only
  what the user set (an option left out keeps what the network has) with the daemon's own additions
  (the VXLAN ids it allocates, the gateway it picks) ignored;
- `plan(desired, matches, holders, force)` decides create / recreate / remove / nothing, and refuses
  to remove or recreate a network that services use unless FORCE says to detach them first.

A network cannot be changed in place (the Engine API has no update for networks): any difference
means remove and create again, which is what makes "in use" matter.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import ipaddress
import re

# Networks Docker makes itself; the module never takes them over.
PREDEFINED = ('ingress', 'bridge', 'host', 'none', 'docker_gwbridge')
# Options the overlay driver adds by itself; compared only when the user sets them.
DAEMON_OPTIONS = ('com.docker.network.driver.overlay.vxlanid_list',)
ENCRYPTED = 'encrypted'
_NAME = re.compile(r'^[a-zA-Z0-9][a-zA-Z0-9_.-]*$')
FIELD_ORDER = ('attachable', 'encrypted', 'internal', 'ipam_driver', 'ipam_config', 'labels', 'driver_options')
IPAM_KEYS = ('subnet', 'gateway', 'ip_range', 'aux_addresses')


class NetworkError(ValueError):
    """Bad input or a refused change: the message names the field or the services and says what to do."""


# ---- validation ----------------------------------------------------------------------------------

def _string_dict(value, field):
    if value is None:
        return None
    if not isinstance(value, dict):
        raise NetworkError('%s must be a dict of name: value, got %r' % (field, value))
    result = {}
    for key, item in value.items():
        if isinstance(item, bool) or isinstance(item, (dict, list)):
            raise NetworkError('%s: the value of %s must be a string (quote "true"/"false"), got %r'
                               % (field, key, item))
        result[str(key)] = '' if item is None else str(item)
    return result


def _network(value, field):
    try:
        return ipaddress.ip_network(str(value), strict=True)
    except ValueError as exc:
        raise NetworkError('%s: %r is not a subnet in CIDR form with its network address, such as 10.10.0.0/24 '
                           '(%s)' % (field, value, exc))


def _address(value, field):
    try:
        return ipaddress.ip_address(str(value))
    except ValueError:
        raise NetworkError('%s: %r is not an IP address' % (field, value))


def parse_ipam_entry(value, field):
    """{subnet, gateway, ip_range, aux_addresses} -> the canonical dict (strings, only the keys set)."""
    if not isinstance(value, dict):
        raise NetworkError('%s: %r is not an IPAM entry; give a dict with subnet, gateway, ip_range, aux_addresses'
                           % (field, value))
    entry = dict(value)
    if 'iprange' in entry and 'ip_range' not in entry:
        entry['ip_range'] = entry.pop('iprange')
    unknown = set(k for k, v in entry.items() if v is not None) - set(IPAM_KEYS)
    if unknown:
        raise NetworkError('%s: unknown key(s) %s; an IPAM entry has %s'
                           % (field, ', '.join(sorted(unknown)), ', '.join(IPAM_KEYS)))
    if not entry.get('subnet'):
        raise NetworkError('%s: subnet is required (such as 10.10.0.0/24)' % field)
    subnet = _network(entry['subnet'], '%s.subnet' % field)
    result = {'subnet': str(subnet)}
    if entry.get('gateway') is not None:
        gateway = _address(entry['gateway'], '%s.gateway' % field)
        if gateway not in subnet:
            raise NetworkError('%s.gateway: %s is not inside the subnet %s' % (field, gateway, subnet))
        result['gateway'] = str(gateway)
    if entry.get('ip_range') is not None:
        ip_range = _network(entry['ip_range'], '%s.ip_range' % field)
        if ip_range.version != subnet.version or not ip_range.subnet_of(subnet):
            raise NetworkError('%s.ip_range: %s is not inside the subnet %s' % (field, ip_range, subnet))
        result['ip_range'] = str(ip_range)
    if entry.get('aux_addresses') is not None:
        aux = _string_dict(entry['aux_addresses'], '%s.aux_addresses' % field)
        for host, address in aux.items():
            if _address(address, '%s.aux_addresses.%s' % (field, host)) not in subnet:
                raise NetworkError('%s.aux_addresses.%s: %s is not inside the subnet %s' % (field, host, address, subnet))
        result['aux_addresses'] = aux
    return result


def validate(params):
    """The desired network: {'name', 'state', 'force', 'fields': {option: canonical value}} or NetworkError.

    Only the options the user set are in 'fields' (None means "not set": keep the network's value).
    """
    name = params.get('name')
    if not name or not isinstance(name, str) or not _NAME.match(name):
        raise NetworkError('name: %r is not a network name (letters, digits, "_", "." and "-", starting with a '
                           'letter or digit)' % (name,))
    if name in PREDEFINED:
        raise NetworkError('name: %s is a network Docker creates itself; choose another name' % name)
    state = params.get('state') or 'present'
    if state not in ('present', 'absent'):
        raise NetworkError('state must be present or absent, got %r' % state)
    fields = {}
    for key in ('attachable', 'encrypted', 'internal'):
        if params.get(key) is not None:
            if not isinstance(params[key], bool):
                raise NetworkError('%s must be true or false, got %r' % (key, params[key]))
            fields[key] = params[key]
    options = _string_dict(params.get('driver_options'), 'driver_options')
    if options is not None:
        if ENCRYPTED in options:
            if 'encrypted' in fields:
                raise NetworkError('driver_options: %s is set by the encrypted option; give it in one place only'
                                   % ENCRYPTED)
            fields['encrypted'] = True
            del options[ENCRYPTED]
        fields['driver_options'] = options
    if params.get('ipam_driver') is not None:
        fields['ipam_driver'] = str(params['ipam_driver'])
    if params.get('ipam_config') is not None:
        if not isinstance(params['ipam_config'], list):
            raise NetworkError('ipam_config must be a list of {subnet, gateway, ip_range, aux_addresses}')
        entries = [parse_ipam_entry(e, 'ipam_config[%d]' % i) for i, e in enumerate(params['ipam_config'])]
        subnets = [ipaddress.ip_network(e['subnet']) for e in entries]
        for i, first in enumerate(subnets):
            for second in subnets[i + 1:]:
                if first.version == second.version and first.overlaps(second):
                    raise NetworkError('ipam_config: the subnets %s and %s overlap' % (first, second))
        fields['ipam_config'] = sorted(entries, key=lambda e: e['subnet'])
    labels = _string_dict(params.get('labels'), 'labels')
    if labels is not None:
        fields['labels'] = labels
    return {'name': name, 'state': state, 'force': bool(params.get('force')), 'fields': fields}


# ---- the engine's side -----------------------------------------------------------------------------

def _ipam_view(entry, wanted_keys):
    view = {'subnet': entry.get('Subnet')}
    engine_keys = {'gateway': 'Gateway', 'ip_range': 'IPRange', 'aux_addresses': 'AuxiliaryAddresses'}
    for key in wanted_keys:
        if key == 'subnet':
            continue
        value = entry.get(engine_keys[key])
        if key == 'aux_addresses':
            view[key] = dict(value or {})
        elif value:
            view[key] = value
    return view


def current_view(network, fields):
    """NETWORK (engine JSON) projected onto the options in FIELDS, in their canonical form."""
    ipam = network.get('IPAM') or {}
    options = dict(network.get('Options') or {})
    view = {}
    for option in fields:
        if option == 'attachable':
            view[option] = bool(network.get('Attachable'))
        elif option == 'encrypted':
            view[option] = ENCRYPTED in options
        elif option == 'internal':
            view[option] = bool(network.get('Internal'))
        elif option == 'ipam_driver':
            view[option] = ipam.get('Driver') or 'default'
        elif option == 'ipam_config':
            wanted = dict((e['subnet'], set(e)) for e in fields['ipam_config'])
            view[option] = sorted((_ipam_view(e, wanted.get(e.get('Subnet'), ('subnet',)))
                                   for e in ipam.get('Config') or []), key=lambda e: e['subnet'] or '')
        elif option == 'labels':
            view[option] = dict(network.get('Labels') or {})
        elif option == 'driver_options':
            wanted = fields['driver_options']
            view[option] = dict((k, v) for k, v in options.items()
                                if k != ENCRYPTED and (k not in DAEMON_OPTIONS or k in wanted))
    return view


def compare(fields, network):
    """(before, after): the options of FIELDS whose value on NETWORK differs."""
    have = current_view(network, fields)
    before, after = {}, {}
    for option in FIELD_ORDER:
        if option in fields and fields[option] != have[option]:
            before[option] = have[option]
            after[option] = fields[option]
    return before, after


def create_body(name, fields, labels=None):
    """POST /networks/create for an overlay network with FIELDS (Docker's defaults for what is not set)."""
    options = dict(fields.get('driver_options') or {})
    if fields.get('encrypted'):
        options[ENCRYPTED] = ''
    body = {'Name': name, 'CheckDuplicate': True, 'Driver': 'overlay', 'Scope': 'swarm',
            'Attachable': bool(fields.get('attachable')), 'Internal': bool(fields.get('internal')),
            'Options': options, 'Labels': dict(fields.get('labels') or {}, **(labels or {}))}
    ipam = {'Driver': fields.get('ipam_driver') or 'default', 'Config': []}
    for entry in fields.get('ipam_config') or []:
        config = {'Subnet': entry['subnet']}
        if entry.get('gateway'):
            config['Gateway'] = entry['gateway']
        if entry.get('ip_range'):
            config['IPRange'] = entry['ip_range']
        if entry.get('aux_addresses'):
            config['AuxiliaryAddresses'] = entry['aux_addresses']
        ipam['Config'].append(config)
    body['IPAM'] = ipam
    return body


def predicted_network(name, fields):
    """What the engine will report for a network created from FIELDS (check mode's answer)."""
    body = create_body(name, fields)
    return {'Name': name, 'Id': None, 'Driver': 'overlay', 'Scope': 'swarm', 'Attachable': body['Attachable'],
            'Internal': body['Internal'], 'Options': body['Options'], 'Labels': body['Labels'], 'IPAM': body['IPAM']}


def summary(network):
    """The result's view of a network (engine JSON -> the module's option names)."""
    if not network:
        return None
    ipam = network.get('IPAM') or {}
    options = dict(network.get('Options') or {})
    return {
        'id': network.get('Id'), 'name': network.get('Name'), 'driver': network.get('Driver'),
        'scope': network.get('Scope'), 'attachable': bool(network.get('Attachable')),
        'encrypted': ENCRYPTED in options, 'internal': bool(network.get('Internal')),
        'ipam_driver': ipam.get('Driver') or 'default',
        'ipam_config': [_ipam_view(e, IPAM_KEYS) for e in ipam.get('Config') or []],
        'labels': dict(network.get('Labels') or {}),
        'driver_options': dict((k, v) for k, v in options.items() if k != ENCRYPTED),
    }


# ---- who uses a network ------------------------------------------------------------------------------

def service_networks(service):
    """The network targets (IDs, or names on some old specs) of a service, from its spec."""
    spec = service.get('Spec') or {}
    entries = list((spec.get('TaskTemplate') or {}).get('Networks') or []) + list(spec.get('Networks') or [])
    return [entry.get('Target') for entry in entries if entry.get('Target')]


def holders(network, services):
    """Names of the services attached to NETWORK, sorted."""
    keys = set([network.get('Id'), network.get('Name')]) - set([None])
    return sorted(s['Spec']['Name'] for s in services if keys & set(service_networks(s)))


def detach_spec(service_spec, network):
    """A copy of SERVICE_SPEC without NETWORK in its networks; returns (spec, removed entries)."""
    spec = copy.deepcopy(service_spec)
    keys = set([network.get('Id'), network.get('Name')]) - set([None])
    removed = []
    template = spec.setdefault('TaskTemplate', {})
    for container, key in ((template, 'Networks'), (spec, 'Networks')):
        entries = container.get(key) or []
        kept = [e for e in entries if e.get('Target') not in keys]
        removed.extend(e for e in entries if e.get('Target') in keys)
        if key in container:
            container[key] = kept
    return spec, removed


def attach_spec(service_spec, network_id, entries):
    """A copy of SERVICE_SPEC with ENTRIES (removed by detach_spec) attached again to NETWORK_ID."""
    spec = copy.deepcopy(service_spec)
    template = spec.setdefault('TaskTemplate', {})
    networks = template.setdefault('Networks', [])
    for entry in entries:
        attached = dict(entry, Target=network_id)
        networks.append(attached)
    return spec


# ---- the plan ----------------------------------------------------------------------------------------

def plan(desired, matches, users):
    """What to do for one network.

    DESIRED is validate()'s answer; MATCHES the engine's networks of that name (any scope); USERS the
    names of the services attached to the swarm-scoped match. Returns {'action': None | 'create' |
    'recreate' | 'remove', 'before', 'after', 'detach': [service names], 'current', 'reason'} or raises
    NetworkError for what must not be done.
    """
    name = desired['name']
    swarm = [n for n in matches if n.get('Scope') == 'swarm']
    local = [n for n in matches if n.get('Scope') != 'swarm']
    if len(swarm) > 1:
        raise NetworkError('network %s: %d swarm networks have this name (%s); remove all but one (docker network '
                           'rm ID)' % (name, len(swarm), ', '.join(sorted(n['Id'][:12] for n in swarm))))
    current = swarm[0] if swarm else None
    result = {'action': None, 'before': {}, 'after': {}, 'detach': [], 'current': current, 'reason': None}
    if current is None and local and desired['state'] == 'present':
        raise NetworkError('network %s: a %s network of this name exists on the manager (scope %s); an overlay '
                           'network needs a name of its own' % (name, local[0].get('Driver'), local[0].get('Scope')))
    if current is not None and (current.get('Ingress') or current.get('Driver') != 'overlay'):
        raise NetworkError('network %s: the existing network is %s, not an overlay network this module manages'
                           % (name, 'the ingress network' if current.get('Ingress') else
                              'a %s network' % current.get('Driver')))
    if desired['state'] == 'absent':
        if current is None:
            return result
        if users and not desired['force']:
            raise NetworkError('network %s is used by the service(s) %s; detach them first (their networks option), '
                               'or set force: true to detach them and remove it' % (name, ', '.join(users)))
        result.update(action='remove', before={'state': 'present'}, after={'state': 'absent'}, detach=list(users))
        return result
    if current is None:
        result.update(action='create', before={'state': 'absent'}, after=dict(desired['fields'], state='present'))
        return result
    before, after = compare(desired['fields'], current)
    if not after:
        return result
    reason = ('%s cannot be changed on an existing network: Docker has no update for networks, so it is '
              'removed and created again' % ', '.join(sorted(after)))
    if users and not desired['force']:
        raise NetworkError('network %s: %s; it is used by the service(s) %s, which would lose it. Set force: true to '
                           'detach them, recreate the network and attach them again (two rolling updates of each)'
                           % (name, reason, ', '.join(users)))
    result.update(action='recreate', before=before, after=after, detach=list(users), reason=reason)
    return result
