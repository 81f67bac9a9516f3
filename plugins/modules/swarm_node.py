#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

DOCUMENTATION = r'''
module: swarm_node
short_description: Promote, demote, drain, label or remove a swarm node, guarding the managers' quorum
version_added: 0.1.0
description:
  - The idempotent C(docker node promote/demote), C(docker node update --availability/--label-add) and
    C(docker node rm). Runs on a manager.
  - A demotion or removal that would leave fewer reachable managers than the swarm's current quorum (a majority
    of its managers) is refused with an explanation, unless O(force=true). Going from three managers to one is
    therefore refused at its second step.
author:
  - swarmops.swarm contributors (@swarmops)
extends_documentation_fragment:
  - swarmops.swarm.engine
attributes:
  check_mode:
    support: full
    description: Predicts every change, and every refusal, without making it.
  diff_mode:
    support: full
    description: Shows before/after of exactly the fields that differ.
options:
  node:
    description: The node's hostname or ID (as C(docker node ls) shows them).
    type: str
    required: true
  state:
    description:
      - V(present) - the node has the given settings.
      - V(absent) - the node is removed from the swarm's node list (C(docker node rm)). A node that is not
        C(down) is removed only with O(force=true); a manager must be demoted first.
    type: str
    choices: [present, absent]
    default: present
  role:
    description: V(manager) promotes, V(worker) demotes.
    type: str
    choices: [worker, manager]
  availability:
    description: Whether the scheduler may place tasks on the node.
    type: str
    choices: [active, pause, drain]
  labels:
    description: The node's labels, the complete set (labels not listed are removed; V({}) removes all).
    type: dict
  force:
    description:
      - Allow a demotion that goes below the current quorum, and the removal of a node that is not down.
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait for a promotion or demotion to take effect in the managers' membership.
    type: int
    default: 60
seealso:
  - module: swarmops.swarm.swarm_info
  - module: swarmops.swarm.swarm_join
'''

EXAMPLES = r'''
- name: Promote worker1 (docker node promote worker1)
  swarmops.swarm.swarm_node:
    node: worker1
    role: manager

- name: Drain a node for maintenance and label it
  swarmops.swarm.swarm_node:
    node: worker2
    availability: drain
    labels:
      zone: b

- name: Remove a node that is gone for good
  swarmops.swarm.swarm_node:
    node: worker3
    state: absent
'''

RETURN = r'''
node:
  description: The node after the run, in the shape of swarm_info's nodes (null once removed or not found).
  returned: always
  type: dict
differences:
  description: Names of the fields that differed (and were or would be changed).
  returned: always
  type: list
  elements: str
'''

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.swarm.plugins.module_utils._engine import (
    ENGINE_ARGUMENT_SPEC, EngineClient, EngineError)
from ansible_collections.swarmops.swarm.plugins.module_utils.swarm_cluster import (
    quorum_after_removal, redact, summarize_node)


def fail(module, msg, **kwargs):
    module.fail_json(msg=redact(msg), **kwargs)


def find_node(client, name):
    """The node whose ID or hostname is NAME (an ID wins over a hostname), or None."""
    nodes = client.get('/nodes') or []
    for node in nodes:
        if node.get('ID') == name:
            return node
    named = [n for n in nodes if (n.get('Description') or {}).get('Hostname') == name]
    if len(named) > 1:
        # a host that left and joined again is listed twice: the live entry is the one meant
        live = [n for n in named if (n.get('Status') or {}).get('State') != 'down']
        named = live if len(live) == 1 else named
    if len(named) > 1:
        raise EngineError('%d nodes are named %s (IDs %s): give the ID' % (
            len(named), name, ', '.join(n.get('ID') for n in named)))
    return named[0] if named else None


def main():
    argument_spec = dict(
        node=dict(type='str', required=True),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        role=dict(type='str', choices=['worker', 'manager']),
        availability=dict(type='str', choices=['active', 'pause', 'drain']),
        labels=dict(type='dict'),
        force=dict(type='bool', default=False),
        wait_timeout=dict(type='int', default=60),
    )
    argument_spec.update(ENGINE_ARGUMENT_SPEC)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    client = EngineClient.from_module(module)
    try:
        run(module, client, module.params)
    except EngineError as exc:
        fail(module, 'Docker engine error: %s' % exc)


def run(module, client, params):
    info = client.info()
    if not (info.get('Swarm') or {}).get('ControlAvailable'):
        fail(module, 'swarm_node runs on a manager; this node is %s' % (
            (info.get('Swarm') or {}).get('LocalNodeState') == 'active' and 'a worker' or 'not in a swarm'))
    node = find_node(client, params['node'])
    if params['state'] == 'absent':
        remove(module, client, params, node)
    if node is None:
        fail(module, 'no node %r in this swarm (docker node ls lists hostnames and IDs)' % params['node'])

    spec = dict(node.get('Spec') or {})
    wanted = {}
    if params['role'] is not None:
        wanted['role'] = ('Role', params['role'])
    if params['availability'] is not None:
        wanted['availability'] = ('Availability', params['availability'])
    if params['labels'] is not None:
        wanted['labels'] = ('Labels', dict((str(k), '' if v is None else str(v)) for k, v in params['labels'].items()))
    differences, before, after = [], {}, {}
    for option, (key, value) in sorted(wanted.items()):
        current = spec.get(key) if key != 'Labels' else (spec.get('Labels') or {})
        if current != value:
            differences.append(option)
            before[option], after[option] = current, value
            spec[key] = value
    diff = {'before': before, 'after': after}

    if 'role' in differences and params['role'] == 'worker' and not params['force']:
        ok, why = quorum_after_removal(client.get('/nodes'), [node['ID']])
        if not ok:
            fail(module, 'refusing to demote %s: %s (force: true overrides)' % (params['node'], why),
                 differences=differences, diff=diff, node=summarize_node(node))

    if differences and not module.check_mode:
        client.post('/nodes/%s/update' % node['ID'], data=spec,
                    params={'version': (node.get('Version') or {}).get('Index')})
        if 'role' in differences:
            wait_for_role(client, node['ID'], params['role'], params['wait_timeout'])
        node = find_node(client, node['ID'])
    module.exit_json(changed=bool(differences), differences=differences, diff=diff,
                     node=summarize_node(node) if node else None)


def wait_for_role(client, node_id, role, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        node = find_node(client, node_id) or {}
        is_member = bool(node.get('ManagerStatus'))
        if is_member == (role == 'manager'):
            return
        time.sleep(0.5)


def remove(module, client, params, node):
    if node is None:
        module.exit_json(changed=False, differences=[], node=None, diff={'before': {}, 'after': {}})
    summary = summarize_node(node)
    if node.get('ManagerStatus') or (node.get('Spec') or {}).get('Role') == 'manager':
        fail(module, '%s is a manager: demote it first (role: worker), then remove it' % params['node'],
             node=summary, differences=[])
    if (node.get('Status') or {}).get('State') != 'down' and not params['force']:
        fail(module, '%s is %s, not down: stop it or make it leave first (swarm_init state=absent on it), or '
                     'set force: true' % (params['node'], (node.get('Status') or {}).get('State')),
             node=summary, differences=[])
    if not module.check_mode:
        client.delete('/nodes/%s' % node['ID'], params={'force': 'true' if params['force'] else 'false'})
    module.exit_json(changed=True, differences=['state'], node=None,
                     diff={'before': {'state': 'present'}, 'after': {'state': 'absent'}})


if __name__ == '__main__':
    main()
