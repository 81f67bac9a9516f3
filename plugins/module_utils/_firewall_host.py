# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading a host's firewall, for the firewall_info and firewall_rules modules. Private to the collection.

One reader, so the module that decides nothing (firewall_info) and the one that changes the host (firewall_rules)
see the host the same way. "Not installed", "not running" and "no such policy or zone yet" are answers; anything
else fails the module with the reason.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

from ansible_collections.swarmops.swarm.plugins.module_utils._firewall import (
    DOCKER_USER_CHAIN, DOCKER_USER_FILES, DOCKER_USER_SCRIPT_PATH, DOCKER_USER_UNIT_NAME, DOCKER_USER_UNIT_PATH,
    ufw_tuples,
)

UFW_FILES = {'v4': '/etc/ufw/user.rules', 'v6': '/etc/ufw/user6.rules'}
UFW_POLICIES = {'DROP': 'deny', 'ACCEPT': 'allow', 'REJECT': 'reject'}
DOCKER_WANTS = '/etc/systemd/system/docker.service.wants/' + DOCKER_USER_UNIT_NAME


def read_text(module, path):
    """The file's text; None when it does not exist. Any other error is one."""
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError) as exc:
        if not os.path.lexists(path):
            return None
        module.fail_json(msg='cannot read %s: %s' % (path, exc))


def shell_vars(text):
    """KEY=value lines (quotes dropped), as /etc/os-release, ufw's files and `systemctl show` have them."""
    out = {}
    for line in (text or '').splitlines():
        key, sep, value = line.strip().partition('=')
        if sep and not key.startswith('#'):
            out[key.strip()] = value.strip().strip('"\'')
    return out


def run(module, argv, answers=(0,), data=None):
    """(rc, out, err) of ARGV; an exit status outside ANSWERS fails the module with what the command said."""
    rc, out, err = module.run_command(argv, data=data, binary_data=data is not None)
    if rc not in answers:
        module.fail_json(msg='%s exited %d: %s' % (' '.join(argv), rc, (err or out).strip()))
    return rc, out, err


def read_ufw(module):
    conf = shell_vars(read_text(module, '/etc/ufw/ufw.conf'))
    defaults = shell_vars(read_text(module, '/etc/default/ufw'))
    texts = dict((key, read_text(module, path)) for key, path in UFW_FILES.items())
    return {'active': conf.get('ENABLED', 'no').lower() == 'yes',
            'default_incoming': UFW_POLICIES.get(defaults.get('DEFAULT_INPUT_POLICY', ''), ''),
            'ipv6': defaults.get('IPV6', 'yes').lower() == 'yes',
            'tuples': dict((key, ufw_tuples(text or '')) for key, text in texts.items()),
            'texts': texts}


def plain(value):
    """D-Bus values as plain Python (lists, dicts, str, int, bool), for JSON and comparisons."""
    if isinstance(value, dict):
        return dict((str(key), plain(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


def firewalld_unit(module):
    """(installed, running, enabled) of the firewalld unit, in one `systemctl show`."""
    systemctl = module.get_bin_path('systemctl')
    if not systemctl:
        return False, False, False
    _rc, out, _err = run(module, [systemctl, 'show', '--property=LoadState,ActiveState,UnitFileState', 'firewalld'])
    unit = shell_vars(out)
    installed = unit.get('LoadState') == 'loaded'
    return installed, installed and unit.get('ActiveState') == 'active', unit.get('UnitFileState') == 'enabled'


FIREWALLD = 'org.fedoraproject.FirewallD1'
# D-Bus types of a policy's list settings (an empty list has no type of its own).
POLICY_SIGNATURES = {'ingress_zones': 's', 'egress_zones': 's', 'rich_rules': 's', 'services': 's', 'ports': '(ss)',
                     'protocols': 's', 'source_ports': '(ss)', 'forward_ports': '(ssss)', 'icmp_blocks': 's'}


class Firewalld(object):
    """firewalld's D-Bus API, called directly through python3-dbus (firewall.client would load GLib as well,
    several times the cost of a read)."""

    def __init__(self, module):
        try:
            import dbus
        except ImportError as exc:
            module.fail_json(msg='firewalld runs, but this Python (%s) cannot import dbus (package python3-dbus): %s'
                             % (sys.executable, exc))
        self.dbus = dbus
        try:
            self.bus = dbus.SystemBus()
            self.main = self._interface('/org/fedoraproject/FirewallD1', '')
            self.config = self._interface('/org/fedoraproject/FirewallD1/config', '.config')
        except dbus.DBusException as exc:
            module.fail_json(msg='firewalld runs, but does not answer on D-Bus: %s' % dbus_error(exc))

    def _interface(self, path, suffix):
        return self.dbus.Interface(self.bus.get_object(FIREWALLD, path), FIREWALLD + suffix)

    def default_zone(self):
        return str(self.main.getDefaultZone())

    def _policy(self, name):
        return self._interface(self.config.getPolicyByName(name), '.config.policy')

    def policy_settings(self, name):
        """The permanent settings of policy NAME; None when there is no such policy."""
        if name not in plain(self.config.getPolicyNames()):
            return None
        return plain(self._policy(name).getSettings())

    def _zone(self, name):
        path = self.config.getZoneByName(name)
        return path, self._interface(path, '.config.zone')

    def zone(self, name):
        """{exists, builtin, sources} of the permanent zone NAME."""
        if name not in plain(self.config.getZoneNames()):
            return {'exists': False, 'builtin': False, 'sources': []}
        path, zone = self._zone(name)
        properties = self.dbus.Interface(self.bus.get_object(FIREWALLD, path), 'org.freedesktop.DBus.Properties')
        return {'exists': True, 'builtin': bool(properties.Get(FIREWALLD + '.config.zone', 'builtin')),
                'sources': plain(zone.getSources())}

    def remove_zone(self, name):
        self._zone(name)[1].remove()

    def unbind_zone_sources(self, name, sources):
        zone = self._zone(name)[1]
        for source in sources:
            zone.removeSource(source)

    def set_policy(self, name, settings, exists):
        """Write policy NAME with SETTINGS (every field given), as one permanent change."""
        dbus = self.dbus
        typed = {}
        for key, value in settings.items():
            if key in POLICY_SIGNATURES:
                items = [dbus.Struct(item, signature=None) if isinstance(item, (list, tuple)) else item for item in value]
                typed[key] = dbus.Array(items, signature=POLICY_SIGNATURES[key])
            elif isinstance(value, bool):
                typed[key] = dbus.Boolean(value)
            elif isinstance(value, int):
                typed[key] = dbus.Int32(value)
            else:
                typed[key] = dbus.String(value)
        typed = dbus.Dictionary(typed, signature='sv')
        if exists:
            self._policy(name).update(typed)
        else:
            self.config.addPolicy(name, typed)

    def reload(self):
        self.main.reload()


def dbus_error(exc):
    """The message of a D-Bus error (firewalld's own text), else the exception's."""
    getter = getattr(exc, 'get_dbus_message', None)
    return (getter() if getter else None) or str(exc)


def read_firewalld_config(client, policy, legacy_zone):
    """(default zone, policy settings or None, legacy zone dict) from a connected Firewalld."""
    default_zone = client.default_zone()
    legacy = {'name': legacy_zone, 'exists': False, 'builtin': False, 'default': False, 'sources': []}
    if legacy_zone:
        legacy.update(client.zone(legacy_zone), default=legacy_zone == default_zone)
    return default_zone, client.policy_settings(policy), legacy


def read_firewalld(module, policy, legacy_zone):
    installed, running, enabled = firewalld_unit(module)
    state = {'installed': installed, 'running': running, 'enabled': enabled, 'default_zone': '', 'policy': None,
             'legacy_zone': {'name': legacy_zone, 'exists': False, 'builtin': False, 'default': False, 'sources': []}}
    if not running:
        return state
    client = Firewalld(module)
    try:
        state['default_zone'], state['policy'], state['legacy_zone'] = read_firewalld_config(client, policy,
                                                                                             legacy_zone)
    except client.dbus.DBusException as exc:
        module.fail_json(msg='cannot read firewalld: %s' % dbus_error(exc))
    return state


def read_chains(module, binary):
    """{docker_user, jump, rules} from `iptables -S` (or ip6tables): the filter table, in one call."""
    state = {'docker_user': False, 'jump': False, 'rules': None}
    path = module.get_bin_path(binary)
    if not path:
        return state
    rc, out, err = module.run_command([path, '-w', '-S'])
    if rc != 0:
        if binary == 'ip6tables' and ('not supported' in err or "can't initialize" in err.lower()):
            return state  # a kernel without IPv6 filtering: no DOCKER-USER there to restrict
        module.fail_json(msg='%s -S exited %d: %s' % (binary, rc, err.strip()))
    lines = out.splitlines()
    state['docker_user'] = '-N DOCKER-USER' in lines
    state['jump'] = '-A DOCKER-USER -j %s' % DOCKER_USER_CHAIN in lines
    if '-N %s' % DOCKER_USER_CHAIN in lines:
        state['rules'] = sum(1 for line in lines if line.startswith('-A %s ' % DOCKER_USER_CHAIN))
    return state


def read_docker_user(module):
    paths = list(DOCKER_USER_FILES.values()) + [DOCKER_USER_SCRIPT_PATH, DOCKER_USER_UNIT_PATH]
    return {'files': dict((path, read_text(module, path)) for path in paths),
            'enabled': os.path.lexists(DOCKER_WANTS),
            'chains': {'v4': read_chains(module, 'iptables'), 'v6': read_chains(module, 'ip6tables')}}
