# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The firewall role's read of a host (module firewall_info), also made by swarm_info's firewall option.

One function, so that a playbook can make this read in the same module call as its first swarm read (one
round trip per host instead of two) and the firewall role can take it instead of reading the host again.
"""

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

import glob
import os
import time

from ansible_collections.swarmops.swarm.plugins.module_utils._dpkg import package_states
from ansible_collections.swarmops.swarm.plugins.module_utils._firewall import PACKAGES, resolve_backend
from ansible_collections.swarmops.swarm.plugins.module_utils._firewall_host import (
    read_docker_user, read_firewalld, read_text, read_ufw, shell_vars,
)
from ansible_collections.swarmops.swarm.plugins.module_utils._host_addresses import ipv4_addresses

APT_STAMPS = ('/var/lib/apt/periodic/update-success-stamp', '/var/lib/apt/lists')


def os_family(module):
    release = shell_vars(read_text(module, '/etc/os-release') or read_text(module, '/usr/lib/os-release'))
    ids = [release.get('ID', '')] + release.get('ID_LIKE', '').split()
    if set(ids) & set(['debian', 'ubuntu']):
        return 'Debian'
    if set(ids) & set(['rhel', 'fedora', 'centos']):
        return 'RedHat'
    return release.get('ID', '')


def parent_pid(pid):
    with open('/proc/%d/stat' % pid) as handle:
        return int(handle.read().rsplit(')', 1)[1].split()[1])


def ssh_connection():
    """(fields, note): SSH_CONNECTION of this process or of its nearest ancestor that has it.

    sudo (become) starts the module with a clean environment; the login shell sshd started for this session
    still has the variable, and root may read it in /proc.
    """
    value = os.environ.get('SSH_CONNECTION')
    note = 'this process'
    pid = os.getpid()
    denied = False
    for _depth in range(64):
        if value or pid <= 1:
            break
        try:
            pid = parent_pid(pid)
            with open('/proc/%d/environ' % pid, 'rb') as handle:
                for item in handle.read().split(b'\0'):
                    if item.startswith(b'SSH_CONNECTION='):
                        value = item.split(b'=', 1)[1].decode('utf-8', 'replace')
                        note = 'parent process %d' % pid
        except (IOError, OSError, ValueError, IndexError):
            denied = True
            break
    if not value:
        return {}, ('not set in this session or its parent processes' if not denied else
                    'not set in this process, and its parent processes could not be read (become root?)')
    fields = value.split()
    if len(fields) != 4 or not fields[1].isdigit() or not fields[3].isdigit():
        return {}, 'malformed (%r) in %s' % (value, note)
    return ({'client': fields[0], 'client_port': int(fields[1]), 'server': fields[2],
             'server_port': int(fields[3])}, 'found in %s' % note)


def sshd_ports():
    """Ports on which a process named sshd holds a listening TCP socket (needs root to see other processes)."""
    listening = {}
    for path in ('/proc/net/tcp', '/proc/net/tcp6'):
        try:
            with open(path) as handle:
                lines = handle.read().splitlines()[1:]
        except (IOError, OSError):
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == '0A':
                listening[fields[9]] = int(fields[1].rsplit(':', 1)[1], 16)
    ports = set()
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open('/proc/%s/comm' % pid) as handle:
                if handle.read().strip() != 'sshd':
                    continue
            for fd in os.listdir('/proc/%s/fd' % pid):
                target = os.readlink('/proc/%s/fd/%s' % (pid, fd))
                if target.startswith('socket:[') and target[8:-1] in listening:
                    ports.add(listening[target[8:-1]])
        except (IOError, OSError):
            continue
    return sorted(ports)


def apt_cache_age():
    """Seconds since the last `apt-get update`; None when there are no package lists at all (an image built
    with them removed has a recent lists directory and nothing in it)."""
    if not glob.glob('/var/lib/apt/lists/*_Packages*'):
        return None
    for path in APT_STAMPS:
        if os.path.exists(path):
            return max(time.time() - os.stat(path).st_mtime, 0.0)
    return None


# The options of firewall_info, and of swarm_info's firewall option (validated the same way).
FIREWALL_READ_SPEC = dict(
    backend=dict(type='str', default='auto', choices=['auto', 'ufw', 'firewalld']),
    policy=dict(type='str', default='swarmops'),
    legacy_zone=dict(type='str', default='swarmops', aliases=['zone']),
    packages=dict(type='list', elements='str', default=[]),
)


def read_firewall(module, params):
    """The read firewall_info returns (without `changed`), for the validated PARAMS (FIREWALL_READ_SPEC)."""
    module.run_command_environ_update = dict(LANG='C', LC_ALL='C', LC_MESSAGES='C')
    family = os_family(module)
    backend = resolve_backend(params['backend'], family) or ''
    names = list(PACKAGES.get(backend, [])) + (['python3-apt'] if family == 'Debian' else [])
    names += [name for name in params['packages'] if name not in names]
    packages = dict((name, state['installed']) for name, state in package_states(module, names).items())
    host = ipv4_addresses(module)
    connection, note = ssh_connection()
    ufw = {}
    if backend == 'ufw':
        ufw = read_ufw(module)
        del ufw['texts']
    return dict(
        backend=backend,
        os_family=family,
        installed=bool(backend) and all(packages.get(name) for name in PACKAGES.get(backend, [])),
        packages=packages,
        apt_cache_age=apt_cache_age() if family == 'Debian' else None,
        interfaces=host['interfaces'],
        default_ipv4=host['default_ipv4'],
        ssh_connection=connection,
        ssh_connection_note=note,
        sshd_ports=sshd_ports(),
        ufw=ufw,
        firewalld=(read_firewalld(module, params['policy'], params['legacy_zone'])
                   if backend == 'firewalld' else {}),
        docker_user=read_docker_user(module),
    )
