#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

DOCUMENTATION = r'''
module: firewall_info
short_description: What the firewall role decides on, read from the host in one call
version_added: 0.1.0
description:
  - A read-only probe, run once per host by the C(swarmops.swarm.firewall) role; its result is the input of
    M(swarmops.swarm.firewall_plan), which decides what the host must get.
  - "Reads: the OS family; the firewall packages (and python3-apt) and the apt cache age; the host's IPv4
    addresses; the live SSH connection (C(SSH_CONNECTION) of this session, or of the nearest parent process that
    has it, since C(sudo) drops it from the environment) and the ports C(sshd) listens on; for ufw, the rule tuples
    of C(user.rules)/C(user6.rules), whether it is enabled and its default incoming policy; for firewalld, whether
    it runs and is enabled, the default zone, the role's policy and the zone of the role's earlier design; the
    files, unit and chains of the role's part of Docker's C(DOCKER-USER) chain."
  - Never changes anything. A firewall that is not installed, not running, or has no policy yet reads as such;
    any other error fails the module with the reason.
  - Replaces C(swarmops.swarm.firewall_state), which is redirected here.
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
    description: The firewall to read; V(auto) reads ufw on the Debian family and firewalld on the RedHat family.
    type: str
    default: auto
    choices: [auto, ufw, firewalld]
  policy:
    description: The firewalld policy the role owns (O(backend=firewalld)).
    type: str
    default: swarmops
  legacy_zone:
    description: The firewalld zone the role's earlier design owned, read so that it can be removed.
    type: str
    default: swarmops
    aliases: [zone]
  packages:
    description: Further packages whose installed state RV(packages) reports.
    type: list
    elements: str
    default: []
seealso:
  - module: swarmops.swarm.firewall_plan
  - module: swarmops.swarm.firewall_rules
'''

EXAMPLES = r'''
- name: Read the host's firewall
  swarmops.swarm.firewall_info:
  register: firewall

- name: Show which port the live SSH connection uses
  ansible.builtin.debug:
    msg: "{{ firewall.ssh_connection.server_port | default('not an SSH session') }}"
'''

RETURN = r'''
backend:
  description: The backend read (O(backend), or the one V(auto) picks; empty when the family has none).
  returned: always
  type: str
  sample: ufw
os_family:
  description: Debian or RedHat (from /etc/os-release), else the distribution's ID.
  returned: always
  type: str
installed:
  description: Whether every package the backend needs is installed.
  returned: always
  type: bool
packages:
  description: Per package (the backend's, python3-apt on the Debian family, O(packages)), whether it is installed.
  returned: always
  type: dict
  sample: {ufw: true, python3-apt: true}
apt_cache_age:
  description: Seconds since the apt cache was refreshed; null when unknown (no apt, or never refreshed).
  returned: always
  type: float
default_ipv4:
  description: The IPv4 address of the interface of the default route; empty without one.
  returned: always
  type: str
interfaces:
  description: IPv4 addresses by interface name.
  returned: always
  type: dict
  sample: {eth0: [10.0.0.11]}
ssh_connection:
  description: The live SSH connection (C(SSH_CONNECTION)); empty when this is no SSH session.
  returned: always
  type: dict
  sample: {client: 10.0.0.1, client_port: 51234, server: 10.0.0.11, server_port: 2222}
ssh_connection_note:
  description: Where SSH_CONNECTION was found, or why it was not.
  returned: always
  type: str
sshd_ports:
  description: TCP ports a process named sshd listens on (read from /proc; empty when not root).
  returned: always
  type: list
  elements: int
ufw:
  description: ufw's state (O(backend=ufw)).
  returned: always
  type: dict
  contains:
    active:
      description: ENABLED=yes in /etc/ufw/ufw.conf (what C(ufw status) reports).
      type: bool
    default_incoming:
      description: The default incoming policy (deny, allow, reject), from /etc/default/ufw.
      type: str
    ipv6:
      description: IPV6=yes in /etc/default/ufw (user6.rules in use).
      type: bool
    tuples:
      description: The rule tuple lines of user.rules (V(v4)) and user6.rules (V(v6)), in order.
      type: dict
firewalld:
  description: firewalld's state (O(backend=firewalld)).
  returned: always
  type: dict
  contains:
    running:
      description: The firewalld unit is active.
      type: bool
    enabled:
      description: The firewalld unit is enabled.
      type: bool
    default_zone:
      description: The default zone.
      type: str
    policy:
      description: The permanent settings of O(policy) (firewalld's settings dict); null when it does not exist.
      type: dict
    legacy_zone:
      description: O(legacy_zone) - C(name), C(exists), C(builtin), C(default) (it is the default zone), C(sources).
      type: dict
docker_user:
  description: The role's part of Docker's DOCKER-USER chain.
  returned: always
  type: dict
  contains:
    files:
      description: Content of each file the role writes for it (null when absent).
      type: dict
    enabled:
      description: Its systemd unit is enabled (wanted by docker.service).
      type: bool
    chains:
      description: Per family (V(v4), V(v6)) - C(docker_user) (the chain exists), C(jump) (DOCKER-USER jumps to
        the role's chain), C(rules) (rules in the role's chain; null when it does not exist).
      type: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.swarm.plugins.module_utils._firewall_read import FIREWALL_READ_SPEC, read_firewall


def main():
    module = AnsibleModule(argument_spec=FIREWALL_READ_SPEC, supports_check_mode=True)
    module.exit_json(changed=False, **read_firewall(module, module.params))


if __name__ == '__main__':
    main()
