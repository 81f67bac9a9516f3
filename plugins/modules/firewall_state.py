#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

DOCUMENTATION = r'''
module: firewall_state
short_description: What the firewall role decides on, read from the host in one call
version_added: 0.1.0
description:
  - A read-only probe, run once by the C(swarmops.swarm.firewall) role so that installing the firewall,
    enabling it with default deny, starting it and creating its zone run only when the host needs it.
  - For ufw, the rules the role owns are read from ufw's own rule files (each rule's comment is stored there,
    hex-encoded); for firewalld, the permanent configuration of the role's zone and of the default zone.
  - Never changes anything (always C(changed=false)); runs the same in check mode, also on a host where the
    firewall is not installed yet.
author:
  - swarmops.swarm contributors (@swarmops)
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same in check mode.
  diff_mode:
    support: none
    description: Reports no diff; it changes nothing.
options:
  backend:
    description: The firewall to read.
    type: str
    required: true
    choices: [ufw, firewalld]
  packages:
    description: Packages the backend needs; RV(installed) is true when each is installed (dpkg, else rpm).
    type: list
    elements: str
    default: []
  zone:
    description: The firewalld zone to read (O(backend=firewalld)).
    type: str
    default: swarmops
'''

EXAMPLES = r'''
- name: Read ufw's state
  swarmops.swarm.firewall_state:
    backend: ufw
    packages: [ufw]
  register: firewall

- name: Enable ufw only when it is not active with default deny
  community.general.ufw:
    state: enabled
    default: deny
    direction: incoming
  when: not (firewall.ufw.active and firewall.ufw.default_incoming == 'deny')
'''

RETURN = r'''
installed:
  description: Whether every package of O(packages) is installed.
  returned: always
  type: bool
packages:
  description: Per package of O(packages), whether it is installed.
  returned: always
  type: dict
  sample: {ufw: true}
ufw:
  description: ufw's state (O(backend=ufw)).
  returned: always
  type: dict
  contains:
    active:
      description: C(ufw status) says active.
      type: bool
    default_incoming:
      description: The default incoming policy (deny, allow, reject) when active.
      type: str
    tuples:
      description: The rule tuple lines of user.rules and user6.rules, in that order.
      type: list
      elements: str
  sample:
    active: true
    default_incoming: deny
    tuples: ["### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in comment=73776172..."]
firewalld:
  description: firewalld's state (O(backend=firewalld)).
  returned: always
  type: dict
  contains:
    running:
      description: C(firewall-cmd --state) says running.
      type: bool
    enabled:
      description: The unit is enabled.
      type: bool
    zone_exists:
      description: The permanent configuration has the zone O(zone).
      type: bool
    zone:
      description: Lines of C(firewall-cmd --permanent --info-zone=ZONE).
      type: list
      elements: str
    default:
      description: Lines of C(firewall-cmd --permanent --list-all) (the default zone).
      type: list
      elements: str
'''

import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.swarm.plugins.module_utils._dpkg import package_states

UFW_RULE_FILES = ('/etc/ufw/user.rules', '/etc/ufw/user6.rules')


def packages_installed(module, names):
    return dict((name, state['installed']) for name, state in package_states(module, names).items())


def read_ufw(module):
    state = {'active': False, 'default_incoming': '', 'tuples': []}
    for path in UFW_RULE_FILES:
        try:
            with open(path) as handle:
                state['tuples'].extend(line.rstrip('\n') for line in handle if line.startswith('### tuple ###'))
        except IOError:
            pass
    ufw = module.get_bin_path('ufw')
    if not ufw:
        return state
    rc, out, _err = module.run_command([ufw, 'status', 'verbose'])
    if rc == 0:
        state['active'] = bool(re.search(r'^Status: active', out, re.M))
        match = re.search(r'^Default: (\w+) \(incoming\)', out, re.M)
        state['default_incoming'] = match.group(1) if match else ''
    return state


def read_firewalld(module, zone):
    state = {'running': False, 'enabled': False, 'zone_exists': False, 'zone': [], 'default': []}
    systemctl = module.get_bin_path('systemctl')
    if systemctl:
        rc, out, _err = module.run_command([systemctl, 'is-enabled', 'firewalld'])
        state['enabled'] = out.strip() == 'enabled'
    firewall_cmd = module.get_bin_path('firewall-cmd')
    if not firewall_cmd:
        return state
    rc, out, _err = module.run_command([firewall_cmd, '--state'])
    state['running'] = rc == 0 and out.strip() == 'running'
    if not state['running']:
        return state
    rc, out, _err = module.run_command([firewall_cmd, '--permanent', '--info-zone=%s' % zone])
    if rc == 0:
        state['zone_exists'] = True
        state['zone'] = out.splitlines()
    rc, out, _err = module.run_command([firewall_cmd, '--permanent', '--list-all'])
    if rc == 0:
        state['default'] = out.splitlines()
    return state


def main():
    module = AnsibleModule(
        argument_spec=dict(
            backend=dict(type='str', required=True, choices=['ufw', 'firewalld']),
            packages=dict(type='list', elements='str', default=[]),
            zone=dict(type='str', default='swarmops'),
        ),
        supports_check_mode=True,
    )
    module.run_command_environ_update = dict(LANG='C', LC_ALL='C', LC_MESSAGES='C')
    packages = packages_installed(module, module.params['packages'])
    backend = module.params['backend']
    module.exit_json(
        changed=False,
        installed=all(packages.values()),
        packages=packages,
        ufw=read_ufw(module) if backend == 'ufw' else {'active': False, 'default_incoming': '', 'tuples': []},
        firewalld=(read_firewalld(module, module.params['zone']) if backend == 'firewalld'
                   else {'running': False, 'enabled': False, 'zone_exists': False, 'zone': [], 'default': []}),
    )


if __name__ == '__main__':
    main()
