# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The decide step of the firewall role, on the controller (no round trip to the host).

Gathers what only the controller knows -- the members' addresses from hostvars, the SSH ports Ansible resolved
for the connection (its plugin's `port` option, ansible_port, ansible_ssh_port, remote_port / ANSIBLE_REMOTE_PORT,
and what `ssh -G` makes of the ssh_config files) -- and hands it with the host's read to build_plan, which
decides. Documentation: plugins/modules/firewall_plan.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import shlex
import subprocess

from ansible import constants as C
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.swarmops.swarm.plugins.module_utils._firewall import FirewallInputError, source
from ansible_collections.swarmops.swarm.plugins.module_utils._firewall_plan import build_plan

display = Display()

ARGUMENT_SPEC = dict(
    state=dict(type='dict', required=True),
    backend=dict(type='str', default='auto', choices=['auto', 'ufw', 'firewalld']),
    managers_group=dict(type='str', default='swarm_managers'),
    workers_group=dict(type='str', default='swarm_workers'),
    extra_sources=dict(type='list', elements='raw', default=[]),
    allow_esp=dict(type='bool', default=True),
    allow_world=dict(type='bool', default=False),
    ssh_ports=dict(type='list', elements='raw', default=[]),
    ssh_sources=dict(type='list', elements='raw', default=[]),
    published_ports=dict(type='list', elements='raw', default=[]),
    firewalld_policy=dict(type='str', default='swarmops'),
    apt_cache_valid_time=dict(type='int', default=3600),
)

# The role's variables before they took the role's prefix: still read (the defaults fall back to them), with a
# deprecation warning, until 0.3.0.
RENAMED = {
    'swarm_firewall_backend': 'firewall_backend',
    'swarm_firewall_manager_group': 'firewall_managers_group',
    'swarm_firewall_worker_group': 'firewall_workers_group',
    'swarm_firewall_extra_sources': 'firewall_extra_sources',
    'swarm_firewall_allow_esp': 'firewall_allow_esp',
    'swarm_firewall_ssh_port': 'firewall_ssh_ports',
    'swarm_firewall_ssh_sources': 'firewall_ssh_sources',
    'swarm_firewall_published_ports': 'firewall_published_ports',
    'swarm_firewall_firewalld_zone': None,
}
SSH_CONNECTIONS = ('ssh', 'paramiko', 'paramiko_ssh')


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        self._warn_renamed(task_vars)
        host = task_vars.get('inventory_hostname')
        groups = task_vars.get('groups') or {}
        managers = list(groups.get(args['managers_group']) or [])
        workers = [name for name in groups.get(args['workers_group']) or [] if name not in managers]
        hostvars = task_vars.get('hostvars') or {}
        addresses = dict((name, self._member_address(name, hostvars, args['state'] if name == host else None))
                         for name in managers + workers)
        members = {'managers': managers, 'workers': workers, 'managers_group': args['managers_group'],
                   'workers_group': args['workers_group'], 'addresses': addresses}
        keys = ('backend', 'extra_sources', 'allow_esp', 'allow_world', 'ssh_ports', 'ssh_sources', 'published_ports',
                'firewalld_policy', 'apt_cache_valid_time')
        params = dict((key, args[key]) for key in keys)
        try:
            plan = build_plan(host, params, members, args['state'], self._connection_ports(task_vars))
        except FirewallInputError as exc:
            result.update(failed=True, msg=str(exc))
            return result
        for warning in plan.pop('warnings'):
            display.warning('%s: %s' % (host, warning))
        result.update(plan)
        result['changed'] = False
        return result

    @staticmethod
    def _warn_renamed(task_vars):
        for old in sorted(RENAMED):
            if old not in task_vars:
                continue
            new = RENAMED[old]
            if new:
                message = '%s is deprecated: use %s (the firewall role reads the old name until then)' % (old, new)
            else:
                message = ('%s is deprecated: firewalld rules now live in a policy (firewall_firewalld_policy); the '
                           'old name only says which zone of the earlier design to remove' % old)
            display.deprecated(message, version='0.3.0', collection_name='swarmops.swarm')

    @staticmethod
    def _member_address(name, hostvars, own_read=None):
        """{'value', 'origin'}: where the member's address comes from, most specific first. OWN_READ is the
        firewall_info read this task decides from, when NAME is the host itself: a caller that registered its
        read under another name than the firewall role's (swarm_reset) needs no facts for the host's address."""
        hv = hostvars.get(name) or {}
        resolved = hv.get('swarm_node_advertise_addr')
        if resolved:
            return {'value': resolved, 'origin': 'swarm_node_advertise_addr'}
        info = hv.get('_firewall_info') or own_read or {}
        requested = hv.get('swarm_advertise_addr')
        if requested:
            try:
                source(requested, 'swarm_advertise_addr')
            except FirewallInputError:
                found = (info.get('interfaces') or {}).get(str(requested)) or []
                if found:
                    return {'value': found[0], 'origin': 'swarm_advertise_addr (interface %s)' % requested}
            return {'value': requested, 'origin': 'swarm_advertise_addr'}
        if info.get('default_ipv4'):
            return {'value': info['default_ipv4'], 'origin': 'the default IPv4 address (firewall_info)'}
        facts = (hv.get('ansible_facts') or {}).get('default_ipv4') or {}
        if facts.get('address'):
            return {'value': facts['address'], 'origin': 'ansible_default_ipv4'}
        return {}

    def _option(self, name):
        try:
            return self._connection.get_option(name)
        except Exception:  # an option this connection plugin does not have
            return None

    def _connection_ports(self, task_vars):
        """{'name', 'ssh', 'ports': [{port, origin}]}: every port Ansible resolved for this SSH connection."""
        name = (getattr(self._connection, 'ansible_name', None) or getattr(self._connection, '_load_name', None)
                or getattr(self._connection, 'transport', ''))
        info = {'name': name, 'ssh': name.split('.')[-1] in SSH_CONNECTIONS, 'ports': []}
        if not info['ssh']:
            return info

        def add(value, origin):
            try:
                info['ports'].append({'port': int(value), 'origin': origin})
            except (TypeError, ValueError):
                display.warning('%s = %r is not a port number; ignored' % (origin, value))

        for var in ('ansible_port', 'ansible_ssh_port'):
            if task_vars.get(var) not in (None, ''):
                add(self._templar.template(task_vars[var]), var)
        remote_port, origin = C.config.get_config_value_and_origin('DEFAULT_REMOTE_PORT')
        if remote_port:
            add(remote_port, 'remote_port (%s)' % origin)
        effective = self._option('port')
        if effective:
            add(effective, 'the connection\'s port option')
        elif name.split('.')[-1] == 'ssh':
            resolved = self._ssh_config_port()
            if resolved:
                add(resolved, 'ssh -G (ssh_config)')
        return info

    def _ssh_config_port(self):
        """The port ssh itself would use for this host, with the connection's own arguments (ssh_config, -F)."""
        host = self._option('host') or self._play_context.remote_addr
        argv = [self._option('ssh_executable') or 'ssh']
        for option in ('ssh_args', 'ssh_common_args', 'ssh_extra_args'):
            argv += shlex.split(self._option(option) or '')
        if self._option('remote_user'):
            argv += ['-o', 'User=%s' % self._option('remote_user')]
        try:
            out = subprocess.run(argv + ['-G', str(host)], capture_output=True, text=True, timeout=15,
                                 check=False)
        except (OSError, subprocess.SubprocessError) as exc:
            display.warning('ssh -G %s failed (%s): the port from ssh_config is not known' % (host, exc))
            return None
        for line in out.stdout.splitlines():
            key, _sep, value = line.partition(' ')
            if key == 'port' and value.strip().isdigit():
                return int(value)
        display.warning('ssh -G %s gave no port (%s)' % (host, out.stderr.strip()))
        return None
