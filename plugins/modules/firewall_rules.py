#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

DOCUMENTATION = r'''
module: firewall_rules
short_description: Put the firewall role's rules on a host in one transaction (ufw or firewalld, and DOCKER-USER)
version_added: 0.1.0
description:
  - The apply step of the C(swarmops.swarm.firewall) role. Its input is what M(swarmops.swarm.firewall_plan)
    decided; every value is validated again here.
  - The role's rules are owned. B(ufw) - rules whose comment starts with C(swarmops:); they are written into
    C(/etc/ufw/user.rules) and C(user6.rules) in place of the role's earlier ones, every other byte of those files
    (rules added by anyone else) kept as it was, and loaded in one C(iptables-restore --noflush) per family (the
    user chains are replaced atomically); ufw is then enabled, or its default incoming policy set, to deny.
    B(firewalld) - the policy O(policy) (any zone to the host, before the zones' own rules) holds every rule as a
    rich rule; it is written as one permanent change and applied with one reload; the zone of the role's earlier
    design (O(legacy_zone)) is deleted, or when it is one of firewalld's own zones only unbound from its sources.
  - Ports that containers publish bypass ufw and firewalld (Docker forwards them before either looks). For each
    entry of O(published) with sources, the role's chain in Docker's C(DOCKER-USER) chain lets only those
    sources reach it. The rules are kept in files under C(/etc/swarmops/firewall) and re-applied by the unit
    C(swarmops-docker-user.service) after every start of the engine, boot included.
  - Access is never narrower during the change than before or after it - the rules are in place before default
    deny is switched on, and each family's rules are replaced in one step.
author:
  - swarmops.swarm contributors (@swarmops)
attributes:
  check_mode:
    support: full
    description: Reports what would change, also on a host where the firewall is not installed or running yet.
  diff_mode:
    support: full
    description: The rules before and after, one line each.
options:
  backend:
    description: The firewall to drive.
    type: str
    required: true
    choices: [ufw, firewalld]
  rules:
    description: Every rule the role wants on the host (from M(swarmops.swarm.firewall_plan)).
    type: list
    elements: dict
    required: true
    suboptions:
      kind:
        description: What the rule is for.
        type: str
        required: true
        choices: [swarm, ssh, published]
      proto:
        description: V(tcp), V(udp) or V(esp).
        type: str
        required: true
      port:
        description: A port, a range V(LO:HI), or V(any) (ESP).
        type: str
        required: true
      src:
        description: An address, a network in network form, or V(any).
        type: str
        required: true
      comment:
        description: Starts with C(swarmops:).
        type: str
        required: true
  published:
    description: The validated C(firewall_published_ports); those with sources are enforced in C(DOCKER-USER).
    type: list
    elements: dict
    default: []
    suboptions:
      port:
        description: A port or a range V(LO:HI).
        type: str
        required: true
      protocol:
        description: V(tcp) or V(udp).
        type: str
        default: tcp
      sources:
        description: Addresses or networks allowed; V([any]) or empty for anywhere.
        type: list
        elements: str
        default: []
      comment:
        description: Free text added to the rules' comments.
        type: str
        default: ''
  policy:
    description: The firewalld policy the role owns.
    type: str
    default: swarmops
  legacy_zone:
    description: The firewalld zone of the role's earlier design, to remove; empty for none.
    type: str
    default: ''
seealso:
  - module: swarmops.swarm.firewall_info
  - module: swarmops.swarm.firewall_plan
'''

EXAMPLES = r'''
- name: Decide
  swarmops.swarm.firewall_plan:
    state: "{{ firewall_read }}"
  register: plan

- name: Apply the owned rules in one transaction
  swarmops.swarm.firewall_rules:
    backend: "{{ plan.backend }}"
    rules: "{{ plan.rules }}"
    published: "{{ plan.published }}"
    policy: "{{ plan.policy }}"
    legacy_zone: "{{ plan.legacy_zone }}"
  when: plan.apply
'''

RETURN = r'''
changes:
  description: What changed (or would change in check mode), one line each.
  returned: always
  type: list
  elements: str
  sample: ["+ ufw: allow 7946/tcp from 10.0.0.12  # swarmops: swarm node gossip (7946/tcp)", "ufw: enable"]
'''

import os
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.swarm.plugins.module_utils._firewall import (
    BUILTIN_ZONES, DOCKER_USER_CHAIN, DOCKER_USER_DIR, DOCKER_USER_FILES, DOCKER_USER_SCRIPT_PATH,
    DOCKER_USER_UNIT_NAME, DOCKER_USER_UNIT_PATH, FirewallInputError, check_rules, describe, docker_user_diff,
    docker_user_files, policy_diff, policy_name, policy_settings, published_ports, render_ufw_rules_file,
    ufw_describe_tuple, ufw_diff, ufw_rules_for, ufw_tuple_owned,
)
from ansible_collections.swarmops.swarm.plugins.module_utils._firewall_host import (
    UFW_FILES, Firewalld, dbus_error, firewalld_unit, read_docker_user, read_firewalld_config, read_ufw, run,
)


def write_file(module, path, content, mode=None):
    """Replace PATH with CONTENT in one rename (a reader never sees half a file), with MODE, or keeping the mode of
    the file it replaces."""
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o755)
    if mode is None:
        mode = os.stat(path).st_mode & 0o7777 if os.path.exists(path) else 0o640
    handle, temporary = tempfile.mkstemp(dir=directory, prefix='.swarmops-')
    with os.fdopen(handle, 'w') as out:
        out.write(content)
    module.atomic_move(temporary, path)
    # atomic_move gives a new file the umask's mode
    os.chmod(path, mode)


def apply_ufw(module, rules, check):
    state = read_ufw(module)
    before, after = [], []
    for key, v6 in (('v4', False), ('v6', True)):
        suffix = ' (v6)' if v6 else ''
        if v6 and not state['ipv6']:
            continue
        before += ['ufw: ' + ufw_describe_tuple(line) + suffix for line in state['tuples'][key] if ufw_tuple_owned(line)]
        after += ['ufw: ' + describe(rule) + suffix for rule in ufw_rules_for(rules, v6)]
    changes = []
    for key, (add, remove) in sorted(ufw_diff(state['tuples']['v4'], state['tuples']['v6'], rules,
                                              state['ipv6']).items()):
        suffix = ' (v6)' if key == 'v6' else ''
        changes += ['+ ufw: %s%s' % (ufw_describe_tuple(line), suffix) for line in add]
        changes += ['- ufw: %s%s' % (ufw_describe_tuple(line), suffix) for line in remove]
    texts = {}
    for key, v6 in (('v4', False), ('v6', True)):
        text = state['texts'][key]
        if (v6 and not state['ipv6']) or (text is None and check):
            continue  # not installed yet (check mode): the lines above say what would be added
        if text is None:
            module.fail_json(msg='ufw is not installed: %s is missing' % UFW_FILES[key])
        try:
            new = render_ufw_rules_file(text, rules, v6)
        except ValueError as exc:
            module.fail_json(msg='%s: %s' % (UFW_FILES[key], exc))
        if new != text:
            texts[key] = new
    deny = state['default_incoming'] != 'deny'
    was = 'active' if state['active'] else 'inactive'
    before.append('ufw: %s, incoming %s by default' % (was, state['default_incoming'] or 'unknown'))
    after.append('ufw: active, incoming deny by default')
    if not state['active']:
        changes.append('ufw: enable, incoming denied by default')
    elif deny:
        changes.append('ufw: deny incoming by default')
    if texts and not changes:
        changes.append('ufw: the role\'s rules put back in order')
    if check or not changes:
        return changes, before, after
    # The new rules first (the SSH ports with them), default deny last.
    for key, text in texts.items():
        write_file(module, UFW_FILES[key], text)
    ufw = module.get_bin_path('ufw', required=True)
    if state['active']:
        for key, text in texts.items():
            restore = module.get_bin_path('ip6tables-restore' if key == 'v6' else 'iptables-restore', required=True)
            # The file declares ufw's user chains: --noflush replaces exactly those, in one commit.
            run(module, [restore, '-w', '--noflush', UFW_FILES[key]])
    if deny:
        run(module, [ufw, 'default', 'deny', 'incoming'])
    if not state['active']:
        run(module, [ufw, '--force', 'enable'])
    return changes, before, after


def apply_firewalld(module, rules, policy, legacy_zone, check):
    wanted = policy_settings(rules)
    after = ['firewalld policy %s: %s' % (policy, rule) for rule in wanted['rich_rules']]
    _installed, running, _enabled = firewalld_unit(module)
    if not running:
        if not check:
            module.fail_json(msg='firewalld is not running (the role starts it before applying the rules)')
        return ['firewalld: create policy %s' % policy] + ['+ ' + line for line in after], [], after
    client = Firewalld(module)
    try:
        _default, current, legacy = read_firewalld_config(client, policy, legacy_zone)
    except client.dbus.DBusException as exc:
        module.fail_json(msg='cannot read firewalld: %s' % dbus_error(exc))
    before = ['firewalld policy %s: %s' % (policy, rule) for rule in (current or {}).get('rich_rules', [])]
    add, remove, differ = policy_diff(current, rules)
    changes = []
    if current is None:
        changes.append('firewalld: create policy %s' % policy)
    elif differ:
        changes.append('firewalld: reset policy %s to ANY -> HOST, rich rules only' % policy)
    changes += ['+ firewalld policy %s: %s' % (policy, rule) for rule in add]
    changes += ['- firewalld policy %s: %s' % (policy, rule) for rule in remove]
    unbind = legacy['exists'] and (legacy['builtin'] or legacy['default'] or legacy_zone in BUILTIN_ZONES)
    if legacy['exists'] and not (unbind and not legacy['sources']):
        before += ['firewalld zone %s (earlier design): source %s' % (legacy_zone, src) for src in legacy['sources']]
        changes.append('firewalld: %s zone %s (earlier design; sources %s)' % (
            'unbind the sources of' if unbind else 'delete', legacy_zone, ', '.join(legacy['sources']) or 'none'))
    if check or not changes:
        return changes, before, after
    settings = dict(wanted, short='swarmops', version='',
                    description='Owned by the swarmops.swarm firewall role: the swarm ports to members, SSH and '
                                'published ports. Reconciled on every run; edits here are undone.')
    engine = docker_user_exists(module)
    try:
        if legacy['exists'] and unbind:
            client.unbind_zone_sources(legacy_zone, legacy['sources'])
        elif legacy['exists']:
            # First: a zone and a policy cannot share a name, and the earlier zone was called like the policy.
            client.remove_zone(legacy_zone)
        client.set_policy(policy, settings, exists=current is not None)
        # One reload applies the whole permanent change to the running firewall at once.
        client.reload()
    except client.dbus.DBusException as exc:
        module.fail_json(msg='firewalld refused the change: %s' % dbus_error(exc), changes=changes)
    if engine:
        wait_for_docker_user(module)
    return changes, before, after


def docker_user_exists(module):
    iptables = module.get_bin_path('iptables')
    return bool(iptables) and module.run_command([iptables, '-w', '-n', '-L', 'DOCKER-USER'])[0] == 0


def wait_for_docker_user(module, timeout=60):
    """A firewalld reload empties iptables; an engine hooked into firewalld rebuilds its chains when it sees the
    reload. Wait for DOCKER-USER to be back before the role's part of it is put in again."""
    deadline = time.time() + timeout
    while not docker_user_exists(module):
        if time.time() > deadline:
            module.warn('DOCKER-USER did not come back within %ds of the firewalld reload (an engine started before '
                        'firewalld does not rebuild its chains: restart it); the role\'s part of it is loaded when '
                        'the engine starts' % timeout)
            return
        time.sleep(1)


def chain_rules(content):
    return [line for line in (content or '').splitlines() if line.startswith('-A ')]


def apply_docker_user(module, published, check):
    state = read_docker_user(module)
    wanted = docker_user_files(published)
    changes = ['DOCKER-USER: ' + line for line in docker_user_diff(state, published)]
    before, after = [], []
    for path in DOCKER_USER_FILES.values():
        before += ['DOCKER-USER: ' + line for line in chain_rules(state['files'].get(path))]
        after += ['DOCKER-USER: ' + line for line in chain_rules(wanted.get(path))]
    if check or not changes:
        return changes, before, after
    systemctl = module.get_bin_path('systemctl', required=True)
    if wanted:
        for path, content in sorted(wanted.items()):
            if state['files'].get(path) != content:
                write_file(module, path, content, 0o755 if path == DOCKER_USER_SCRIPT_PATH else 0o644)
        if state['files'].get(DOCKER_USER_UNIT_PATH) != wanted[DOCKER_USER_UNIT_PATH]:
            run(module, [systemctl, 'daemon-reload'])
        if not state['enabled']:
            # Wanted by docker.service: it runs after every start of the engine, also one installed later.
            run(module, [systemctl, 'enable', DOCKER_USER_UNIT_NAME])
        # Now, with the engine running (the script does nothing without DOCKER-USER).
        run(module, ['/bin/sh', DOCKER_USER_SCRIPT_PATH])
        return changes, before, after
    if state['enabled']:
        run(module, [systemctl, 'disable', DOCKER_USER_UNIT_NAME])
    for path, content in state['files'].items():
        if content is not None:
            os.remove(path)
    if state['files'].get(DOCKER_USER_UNIT_PATH) is not None:
        run(module, [systemctl, 'daemon-reload'])
    for key, binary in (('v4', 'iptables'), ('v6', 'ip6tables')):
        chain = state['chains'][key]
        path = module.get_bin_path(binary)
        if chain['jump']:
            run(module, [path, '-w', '-D', 'DOCKER-USER', '-j', DOCKER_USER_CHAIN])
        if chain['rules'] is not None:
            run(module, [path, '-w', '-F', DOCKER_USER_CHAIN])
            run(module, [path, '-w', '-X', DOCKER_USER_CHAIN])
    if os.path.isdir(DOCKER_USER_DIR) and not os.listdir(DOCKER_USER_DIR):
        os.rmdir(DOCKER_USER_DIR)
    return changes, before, after


def main():
    module = AnsibleModule(
        argument_spec=dict(
            backend=dict(type='str', required=True, choices=['ufw', 'firewalld']),
            rules=dict(type='list', elements='dict', required=True, options=dict(
                kind=dict(type='str', required=True, choices=['swarm', 'ssh', 'published']),
                proto=dict(type='str', required=True),
                port=dict(type='str', required=True),
                src=dict(type='str', required=True),
                comment=dict(type='str', required=True),
            )),
            published=dict(type='list', elements='dict', default=[], options=dict(
                port=dict(type='str', required=True),
                protocol=dict(type='str', default='tcp'),
                sources=dict(type='list', elements='str', default=[]),
                comment=dict(type='str', default=''),
            )),
            policy=dict(type='str', default='swarmops'),
            legacy_zone=dict(type='str', default=''),
        ),
        supports_check_mode=True,
    )
    module.run_command_environ_update = dict(LANG='C', LC_ALL='C', LC_MESSAGES='C')
    params = module.params
    errors = []
    try:
        rules = check_rules(params['rules'])
        policy = policy_name(params['policy'], 'policy')
    except FirewallInputError as exc:
        module.fail_json(msg=str(exc))
    published = published_ports(params['published'], 'published', errors)
    if errors:
        module.fail_json(msg='; '.join(errors))
    check = module.check_mode
    if params['backend'] == 'ufw':
        changes, before, after = apply_ufw(module, rules, check)
    else:
        changes, before, after = apply_firewalld(module, rules, policy, params['legacy_zone'], check)
    more, docker_before, docker_after = apply_docker_user(module, published, check)
    changes += more
    module.exit_json(changed=bool(changes), changes=changes,
                     diff={'before': '\n'.join(before + docker_before) + '\n',
                           'after': '\n'.join(after + docker_after) + '\n'})


if __name__ == '__main__':
    main()
