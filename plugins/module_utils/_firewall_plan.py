# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The firewall role's decision for one host: from the inventory, the role's variables, the connection and the
one read of the host (firewall_info), what the host must get and what differs. Private to the collection.

Pure: the firewall_plan action gathers the inputs (hostvars, the connection plugin's options, `ssh -G`), this
decides. Every refusal is collected and raised together, naming each variable, before anything has changed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.swarmops.swarm.plugins.module_utils._firewall import (
    PACKAGES, BUILTIN_ZONES, FirewallInputError, address, describe, docker_user_diff, family, policy_diff,
    policy_name, port, published_ports, sources_list, ufw_describe_tuple, ufw_diff, ufw_foreign_ssh_openers,
    resolve_backend, wanted_rules, _collect,
)


def _member_addresses(host, members, errors):
    addresses = []
    for member in members['managers'] + [m for m in members['workers'] if m not in members['managers']]:
        found = (members.get('addresses') or {}).get(member) or {}
        if not found.get('value'):
            errors.append('the address of member %s is unknown: set swarm_advertise_addr for it, or run the role on '
                          'it in the same play (its default IPv4 address is read then)' % member)
            continue
        value = _collect(errors, address, found['value'], '%s of %s' % (found.get('origin', 'address'), member))
        if value and value not in addresses:
            addresses.append(value)
    return addresses


def _ssh(host, params, state, connection, errors, warnings):
    """(ports {port: [where it was found]}, sources) for SSH; refusals appended to ERRORS."""
    live = state.get('ssh_connection') or {}
    found = {}

    def note(number, origin):
        found.setdefault(int(number), [])
        if origin not in found[int(number)]:
            found[int(number)].append(origin)

    user_ports = []
    for index, value in enumerate(params.get('ssh_ports') or []):
        number = _collect(errors, port, value, 'firewall_ssh_ports[%d]' % index)
        if number and ':' in number:
            errors.append('firewall_ssh_ports[%d]: %r is a range; give single ports' % (index, value))
        elif number:
            user_ports.append(int(number))
            note(number, 'firewall_ssh_ports')
    if live.get('server_port'):
        note(live['server_port'], 'SSH_CONNECTION on the host (the live connection)')
    for item in connection.get('ports') or []:
        note(item['port'], item['origin'])
    for number in state.get('sshd_ports') or []:
        note(number, 'sshd listens on it')
    if connection.get('ssh') and not live.get('server_port') and not user_ports:
        errors.append(
            'cannot tell which port the live SSH connection to %s uses: SSH_CONNECTION was not found in the '
            'session on the host (%s), so default deny could cut it off; refusing to change the firewall. Set '
            'firewall_ssh_ports to the port(s) sshd serves this connection on.'
            % (host, state.get('ssh_connection_note') or 'not set'))
    restricted = sources_list(params.get('ssh_sources') or [], 'firewall_ssh_sources', errors, allow_any=True)
    if 'any' in restricted:
        restricted = []
    if restricted:
        client = live.get('client')
        if client:
            client = _collect(errors, address, client, 'the SSH client address in SSH_CONNECTION')
            if client and client not in restricted:
                restricted.append(client)
        elif connection.get('ssh'):
            errors.append('firewall_ssh_sources is restricted, but the controller address of the live SSH '
                          'connection to %s is unknown (no SSH_CONNECTION on the host): it could not be kept '
                          'in; refusing to change the firewall' % host)
        else:
            warnings.append('firewall_ssh_sources is restricted and the connection (%s) is not SSH: no controller '
                            'address is added' % connection.get('name'))
    return found, restricted


def build_plan(host, params, members, state, connection):
    """The plan for HOST (see the firewall_plan module's RETURN for its keys). Raises FirewallInputError."""
    errors = []
    warnings = []
    backend = resolve_backend(params.get('backend', 'auto'), state.get('os_family'))
    if backend not in PACKAGES:
        errors.append('firewall_backend: auto drives ufw on the Debian family and firewalld on the RedHat family; '
                      '%s is %s: set firewall_backend to ufw, firewalld or none'
                      % (host, state.get('os_family') or 'of an unknown family'))
    if host not in members['managers'] and host not in members['workers']:
        errors.append('%s is in neither firewall_managers_group (%s) nor firewall_workers_group (%s): the role '
                      'opens the swarm ports between members only'
                      % (host, members.get('managers_group'), members.get('workers_group')))
    swarm_sources = _member_addresses(host, members, errors)
    swarm_sources += [src for src in sources_list(params.get('extra_sources'), 'firewall_extra_sources', errors,
                                                  allow_world=bool(params.get('allow_world')))
                      if src not in swarm_sources]
    published = published_ports(params.get('published_ports'), 'firewall_published_ports', errors)
    ssh_ports, ssh_sources = _ssh(host, params, state, connection, errors, warnings)
    policy = _collect(errors, policy_name, params.get('firewalld_policy', 'swarmops'), 'firewall_firewalld_policy')
    if errors:
        raise FirewallInputError('The firewall role refuses to run on %s (nothing was changed):\n- %s'
                                 % (host, '\n- '.join(errors)))

    rules = wanted_rules(host in members['managers'], swarm_sources, bool(params.get('allow_esp', True)),
                         sorted(ssh_ports), ssh_sources, published)
    plan = {'backend': backend, 'os_family': state.get('os_family'), 'rules': rules, 'published': published,
            'ssh_ports': sorted(ssh_ports), 'ssh_port_origins': dict((str(k), v) for k, v in ssh_ports.items()),
            'ssh_sources': ssh_sources, 'policy': policy, 'legacy_zone': '', 'start': False, 'changes': [],
            'warnings': warnings}
    if backend == 'ufw':
        _plan_ufw(plan, state.get('ufw') or {}, rules, ssh_sources, warnings)
    else:
        _plan_firewalld(plan, state.get('firewalld') or {}, params, rules)
    plan['changes'] += ['DOCKER-USER: ' + line for line in docker_user_diff(state.get('docker_user'), published)]
    _plan_install(plan, state, params)
    plan['apply'] = bool(plan['changes'])
    plan['act'] = bool(plan['install'] or plan['start'] or plan['apply'])
    return plan


def _plan_ufw(plan, ufw, rules, ssh_sources, warnings):
    ipv6 = ufw.get('ipv6', True)
    if not ipv6:
        dropped = [rule for rule in rules if family(rule['src']) == 6]
        if dropped:
            warnings.append('ufw has IPv6 off (IPV6=no in /etc/default/ufw): not added: %s'
                            % '; '.join(describe(rule) for rule in dropped))
    tuples = ufw.get('tuples') or {}
    for key, (add, remove) in sorted(ufw_diff(tuples.get('v4'), tuples.get('v6'), rules, ipv6).items()):
        suffix = ' (v6)' if key == 'v6' else ''
        plan['changes'] += ['+ ufw: %s%s' % (ufw_describe_tuple(line), suffix) for line in add]
        plan['changes'] += ['- ufw: %s%s' % (ufw_describe_tuple(line), suffix) for line in remove]
    if not ufw.get('active'):
        plan['changes'].append('ufw: enable, incoming denied by default')
    elif ufw.get('default_incoming') != 'deny':
        plan['changes'].append('ufw: deny incoming by default (was %s)' % (ufw.get('default_incoming') or 'unknown'))
    if ssh_sources:
        openers = ufw_foreign_ssh_openers((tuples.get('v4') or []) + (tuples.get('v6') or []), plan['ssh_ports'])
        if openers:
            warnings.append('firewall_ssh_sources cannot restrict SSH while rules the role does not own let anyone '
                            'in: %s' % '; '.join(ufw_describe_tuple(line) for line in openers))


def _plan_firewalld(plan, firewalld, params, rules):
    plan['start'] = not (firewalld.get('running') and firewalld.get('enabled'))
    current = firewalld.get('policy')
    add, remove, differ = policy_diff(current, rules)
    name = plan['policy']
    if current is None:
        plan['changes'].append('firewalld: create policy %s (ANY -> HOST, priority -100)' % name)
    elif differ:
        plan['changes'].append('firewalld: reset policy %s to ANY -> HOST, priority -100, rich rules only' % name)
    plan['changes'] += ['+ firewalld policy %s: %s' % (name, rule) for rule in add]
    plan['changes'] += ['- firewalld policy %s: %s' % (name, rule) for rule in remove]
    legacy = firewalld.get('legacy_zone') or {}
    if legacy.get('exists') and legacy.get('name'):
        plan['legacy_zone'] = legacy['name']
        if legacy.get('builtin') or legacy.get('default') or legacy['name'] in BUILTIN_ZONES:
            if legacy.get('sources'):
                plan['changes'].append('firewalld: unbind %s from zone %s (the earlier design of the role)'
                                       % (', '.join(legacy['sources']), legacy['name']))
            else:
                plan['legacy_zone'] = ''
        else:
            plan['changes'].append('firewalld: delete zone %s (the earlier design of the role; its members: %s)'
                                   % (legacy['name'], ', '.join(legacy.get('sources') or []) or 'none'))


def _plan_install(plan, state, params):
    installed = state.get('packages') or {}
    plan['packages'] = list(PACKAGES[plan['backend']])
    plan['install'] = [name for name in plan['packages'] if not installed.get(name)]
    plan['python_apt'] = bool(installed.get('python3-apt'))
    age = state.get('apt_cache_age')
    valid = int(params.get('apt_cache_valid_time', 3600))
    plan['apt_update'] = bool(plan['install']) and (age is None or age > valid)
