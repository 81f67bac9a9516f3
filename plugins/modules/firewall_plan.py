#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

DOCUMENTATION = r'''
module: firewall_plan
short_description: Decide a host's firewall rules from the inventory and the host's read
version_added: 0.1.0
description:
  - The decide step of the C(swarmops.swarm.firewall) role. Runs on the controller only, as an action plugin, with no
    round trip to the host.
  - "From the inventory: the swarm's members (O(managers_group), O(workers_group)) and their addresses
    (C(swarm_node_advertise_addr), C(swarm_advertise_addr) - an address, or an interface name looked up in the
    member's read - the default IPv4 address M(swarmops.swarm.firewall_info) read on the member in the same play,
    or the C(ansible_default_ipv4) fact)."
  - "The SSH ports to keep open: the port of the live connection (C(SSH_CONNECTION) read on the host), every port
    Ansible resolved for it (the connection plugin's C(port) option, C(ansible_port), C(ansible_ssh_port),
    C(remote_port) in ansible.cfg or C(ANSIBLE_REMOTE_PORT), and, when none is set, the C(Port) that C(ssh -G)
    reads from the ssh_config files with the connection's own arguments), the ports C(sshd) listens on, and
    O(ssh_ports). It never assumes 22. On an SSH connection whose live port cannot be read, it refuses (unless
    O(ssh_ports) says which port to keep)."
  - Validates every value that reaches a rule or a command, and refuses, naming each variable, before anything
    changes - sources that are not addresses or networks in network form, world sources (C(any), C(0.0.0.0/0),
    C(::/0), or any prefix shorter than /8 or /16 that is not private space) for the swarm ports unless
    O(allow_world), ports outside 1-65535, protocols other than tcp/udp, comments with quotes, backslashes or
    control characters, members without an address, a host in neither group.
  - Returns the wanted rules and what differs from the read (the host's firewall, its packages, the role's
    C(DOCKER-USER) part); never changes anything, C(changed) is always false.
author:
  - swarmops.swarm contributors (@swarmops)
attributes:
  check_mode:
    support: full
    description: Decides the same in check mode.
  diff_mode:
    support: none
    description: The apply step (M(swarmops.swarm.firewall_rules)) shows the diff.
options:
  state:
    description: The host's read (the registered result of M(swarmops.swarm.firewall_info)).
    type: dict
    required: true
  backend:
    description: V(auto) (ufw on the Debian family, firewalld on the RedHat family), V(ufw) or V(firewalld).
    type: str
    default: auto
    choices: [auto, ufw, firewalld]
  managers_group:
    description: Inventory group of the swarm's managers (2377/tcp is opened on them only).
    type: str
    default: swarm_managers
  workers_group:
    description: Inventory group of the swarm's workers.
    type: str
    default: swarm_workers
  extra_sources:
    description: Further addresses or networks (network form) allowed to reach the swarm ports.
    type: list
    elements: raw
    default: []
  allow_esp:
    description: Allow IP protocol 50 (ESP) from the members (encrypted overlay networks).
    type: bool
    default: true
  allow_world:
    description: Accept world sources for the swarm ports.
    type: bool
    default: false
  ssh_ports:
    description: SSH ports to keep open besides those found.
    type: list
    elements: raw
    default: []
  ssh_sources:
    description: Sources allowed to reach SSH; empty for anywhere. The live connection's client address is added.
    type: list
    elements: raw
    default: []
  published_ports:
    description: "Ports reachable from outside the swarm: C({port, protocol, sources, comment})."
    type: list
    elements: raw
    default: []
  firewalld_policy:
    description: The firewalld policy the role owns.
    type: str
    default: swarmops
  apt_cache_valid_time:
    description: Seconds within which the apt cache counts as fresh (no refresh before installing).
    type: int
    default: 3600
seealso:
  - module: swarmops.swarm.firewall_info
  - module: swarmops.swarm.firewall_rules
'''

EXAMPLES = r'''
- name: Read the host
  swarmops.swarm.firewall_info:
  register: _firewall_info

- name: Decide
  swarmops.swarm.firewall_plan:
    state: "{{ _firewall_info }}"
    ssh_sources: [192.0.2.0/24]
  register: plan

- name: Show what would change
  ansible.builtin.debug:
    var: plan.changes
'''

RETURN = r'''
backend:
  description: The backend driven.
  returned: success
  type: str
  sample: ufw
rules:
  description: "Every rule the host should carry: C({kind, proto, port, src, comment})."
  returned: success
  type: list
  elements: dict
published:
  description: O(published_ports), validated; C(sources) is V([any]) when open to all.
  returned: success
  type: list
  elements: dict
ssh_ports:
  description: The SSH ports kept open.
  returned: success
  type: list
  elements: int
ssh_port_origins:
  description: For each SSH port, where it was found.
  returned: success
  type: dict
  sample: {"2222": ["SSH_CONNECTION on the host (the live connection)", "ansible_port"]}
ssh_sources:
  description: Sources allowed to reach SSH (the controller's address added); empty for anywhere.
  returned: success
  type: list
  elements: str
policy:
  description: The firewalld policy name.
  returned: success
  type: str
legacy_zone:
  description: The firewalld zone of the role's earlier design to remove; empty for none.
  returned: success
  type: str
packages:
  description: The packages the backend needs.
  returned: success
  type: list
  elements: str
install:
  description: Those not installed.
  returned: success
  type: list
  elements: str
python_apt:
  description: python3-apt is installed (the apt module can be used).
  returned: success
  type: bool
apt_update:
  description: The apt cache must be refreshed before the install (it is older than O(apt_cache_valid_time)).
  returned: success
  type: bool
start:
  description: firewalld must be started or enabled.
  returned: success
  type: bool
changes:
  description: What differs between the host and the wanted rules, one line each.
  returned: success
  type: list
  elements: str
apply:
  description: The rules must be applied (M(swarmops.swarm.firewall_rules)).
  returned: success
  type: bool
act:
  description: Any of C(install), C(start), C(apply) - the host needs a change.
  returned: success
  type: bool
changed:
  description: Always false; C(install), C(start) and C(apply) say what the later steps will change.
  returned: always
  type: bool
'''
