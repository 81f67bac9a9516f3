#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

DOCUMENTATION = r'''
module: swarm_node
short_description: Promote, demote, drain, label or remove swarm nodes, one or many, guarding the managers' quorum
version_added: 0.1.0
description:
  - The idempotent C(docker node promote/demote), C(docker node update --availability/--label-add/--label-rm)
    and C(docker node rm). Runs on a manager.
  - One node (O(node)) or many in one call (O(nodes)) - the node list is read once, label and availability
    changes are applied first, then promotions, then demotions, one at a time, each waited for.
  - A demotion that would leave the managers without a quorum (fewer reachable managers than a majority of those
    that remain), or the swarm without a manager, is refused with an explanation, unless O(force=true). With
    O(nodes), every role change is checked in order B(before) the first change (and again against the swarm as it
    is just before it is made), so a refused plan changes nothing.
  - A node is named by its ID, or by its hostname when exactly one entry of the node list carries that hostname.
    A host that left and joined again is listed twice (a stale C(Down) entry and the live one); its hostname is
    then refused with both IDs, so the wrong one is never changed or removed. O(prune_stale) removes such stale
    entries.
  - The module may demote the very node it runs on; that demotion is applied last, and the result then shows the
    node list as it was just before, with the changes applied.
  - Before a promotion the module connects from the manager it runs on to the node's management port (2377/tcp).
    A worker does not listen there yet, so a refused connection is fine; a connection that times out or is
    rejected by a firewall means the new manager could not join the raft, and the promotion is refused before
    anything changes (in check mode it is a warning - a firewall task earlier in the same run may open the port).
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
    description: Shows before/after of exactly the fields that differ (per hostname with O(nodes)).
options:
  node:
    description:
      - The node's ID, or its hostname (as C(docker node ls) shows them). A hostname listed more than once is
        refused.
      - Mutually exclusive with O(nodes).
    type: str
  nodes:
    description:
      - Many nodes in one call, each converged to the settings given for it. Nodes not listed are left alone
        (and returned as RV(unlisted)).
      - Mutually exclusive with O(node), O(state=absent), O(role), O(availability) and O(labels).
    type: list
    elements: dict
    suboptions:
      id:
        description: The node's ID.
        type: str
      hostname:
        description: The node's hostname; used when O(nodes[].id) is not given, and only when unambiguous.
        type: str
      role:
        description: V(manager) promotes, V(worker) demotes.
        type: str
        choices: [worker, manager]
      availability:
        description: Whether the scheduler may place tasks on the node.
        type: str
        choices: [active, pause, drain]
      labels:
        description: Labels of the node (see O(nodes[].labels_state)).
        type: dict
      labels_state:
        description:
          - V(replace) - O(nodes[].labels) is the complete set; labels not listed are removed.
          - V(merge) - the labels listed are set; labels not listed are left alone.
        type: str
        choices: [merge, replace]
        default: replace
  state:
    description:
      - V(present) - the node has the given settings.
      - V(absent) - the node is removed from the swarm's node list (C(docker node rm)). A node that is not
        C(down) is removed only with O(force=true); a manager must be demoted first. Only with O(node).
    type: str
    choices: [present, absent]
    default: present
  role:
    description: V(manager) promotes, V(worker) demotes (with O(node)).
    type: str
    choices: [worker, manager]
  availability:
    description: Whether the scheduler may place tasks on the node (with O(node)).
    type: str
    choices: [active, pause, drain]
  labels:
    description: The node's labels (with O(node)); see O(labels_state).
    type: dict
  labels_state:
    description:
      - With O(node) - V(replace) makes O(labels) the complete set (labels not listed are removed; V({}) removes
        all); V(merge) sets the labels listed and leaves the others alone.
    type: str
    choices: [merge, replace]
    default: replace
  prune_stale:
    description:
      - First remove the stale entries of hosts that left and joined again - C(Down) workers with the same hostname
        and address as an entry that is not down. Down entries of any other kind are never removed by this.
    type: bool
    default: false
  force:
    description:
      - Allow a demotion that loses the quorum, the promotion of a node that is not ready or whose 2377/tcp the
        manager cannot reach, and the removal of a node that is not down.
    type: bool
    default: false
  wait:
    description:
      - Wait until each change took effect before the next one - a promotion until the node is a reachable
        manager, a demotion until it left the managers, a drain until no task holds a container on the node and
        the replicated services that ran there have their replicas running elsewhere. A change that does not take
        effect within O(wait_timeout) fails the task (the change itself was made, RV(changes) says which).
      - Role changes are always waited for (the next one is checked against the swarm as it then is); V(false)
        skips only the wait for drains.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for each change to take effect.
    type: int
    default: 120
seealso:
  - module: swarmops.swarm.swarm_info
  - module: swarmops.swarm.swarm_join
'''

EXAMPLES = r'''
- name: Promote worker1 (docker node promote worker1)
  swarmops.swarm.swarm_node:
    node: worker1
    role: manager

- name: Drain a node for maintenance and label it, leaving its other labels alone
  swarmops.swarm.swarm_node:
    node: worker2
    availability: drain
    labels:
      zone: b
    labels_state: merge

- name: Converge every node in one call (labels, availability, roles; quorum checked before anything changes)
  swarmops.swarm.swarm_node:
    nodes:
      - hostname: manager1
        role: manager
      - hostname: worker1
        labels: {zone: a, disk: ssd}
        labels_state: replace
      - id: 7x3kq0dpyw5b3dxhu6yaiqm2c
        availability: drain
    prune_stale: true
  register: swarm_nodes_result

- name: Remove a node that is gone for good, by ID (its hostname is listed twice)
  swarmops.swarm.swarm_node:
    node: 7x3kq0dpyw5b3dxhu6yaiqm2c
    state: absent
'''

RETURN = r'''
node:
  description: With O(node) - the node after the run, in the shape of swarm_info's nodes (null once removed).
  returned: when O(node) is given
  type: dict
nodes:
  description: With O(nodes) or O(prune_stale) - every node of the swarm after the run, in the shape of swarm_info's nodes.
  returned: when O(nodes) or O(prune_stale) is given
  type: list
  elements: dict
differences:
  description: With O(node), names of the fields that differed; with O(nodes), C(HOSTNAME.FIELD) for each.
  returned: always
  type: list
  elements: str
changes:
  description: Each node changed (or that would be, in check mode), in the order the changes are applied.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The node's ID.
      type: str
    hostname:
      description: The node's hostname.
      type: str
    differences:
      description: The fields changed.
      type: list
      elements: str
    before:
      description: Their values before.
      type: dict
    after:
      description: Their values after.
      type: dict
pruned:
  description: The stale entries removed (or that would be), in the shape of swarm_info's nodes.
  returned: always
  type: list
  elements: dict
unlisted:
  description: With O(nodes) - the nodes of the swarm that O(nodes) does not name (left as they are).
  returned: when O(nodes) is given
  type: list
  elements: dict
'''

import socket
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.swarm.plugins.module_utils._engine import (
    ENGINE_ARGUMENT_SPEC, EngineClient, EngineError)
from ansible_collections.swarmops.swarm.plugins.module_utils.swarm_cluster import (
    is_no_leader_error, redact, summarize_node)
from ansible_collections.swarmops.swarm.plugins.module_utils._swarm_nodes import (
    MANAGEMENT_PORT, NodeInputError, blocked_message, describe, drain_progress, is_manager, node_addr, node_hostname,
    node_state, plan, port_verdict, quorum_after_demotion, resolve_ref, role_reached, simulated_summary, step_summary,
    wanted_spec)


class WaitTimeout(Exception):
    pass


class Runner(object):
    def __init__(self, module, client):
        self.module = module
        self.client = client
        self.params = module.params
        self.done = []      # step summaries of the changes made so far
        self.pruned = []

    def fail(self, msg, **extra):
        result = dict(changed=bool(self.done or self.pruned), changes=self.done,
                      pruned=[summarize_node(n) for n in self.pruned], differences=[])
        result.update(extra)
        self.module.fail_json(msg=redact(msg), **result)

    # ---- reads -------------------------------------------------------------------------------------
    def nodes(self):
        return self.client.get('/nodes') or []

    def read_retrying(self, path, timeout=30):
        """GET PATH, retrying while the managers elect a leader (a demotion of the leader causes one)."""
        deadline = time.time() + timeout
        while True:
            try:
                return self.client.get(path)
            except EngineError as exc:
                if not is_no_leader_error(exc.message) or time.time() > deadline:
                    raise
            time.sleep(1)

    # ---- the run -----------------------------------------------------------------------------------
    def run(self):
        info = self.client.get('/info') or {}
        swarm = info.get('Swarm') or {}
        if not swarm.get('ControlAvailable'):
            self.fail('swarm_node runs on a manager; this node is %s' % (
                'a worker' if swarm.get('LocalNodeState') == 'active' else 'not in a manager state (%s)'
                % (swarm.get('LocalNodeState') or 'inactive')))
        self.self_id = swarm.get('NodeID')
        # The node list is read once; each step then uses what this read says about its node, and a role
        # change reads the list again (the quorum it is checked against must be the swarm's as it is then).
        nodes = self.before_nodes = self.nodes()
        if self.params['nodes'] is not None or (self.params['node'] is None and self.params['prune_stale']):
            self.bulk(nodes)
        elif self.params['state'] == 'absent':
            self.remove(nodes)
        else:
            self.single(nodes)

    def entry_from_params(self):
        return dict((k, self.params[k]) for k in ('role', 'availability', 'labels', 'labels_state'))

    def plan(self, nodes, entries):
        try:
            the_plan = plan(nodes, entries, self_id=self.self_id, force=self.params['force'],
                            prune_stale=self.params['prune_stale'])
        except NodeInputError as exc:
            self.fail(str(exc))
        if not self.params['force']:
            self.check_reachable([s['node'] for s in the_plan['steps'] if s['role_change'] == 'promote'])
        return the_plan

    def check_reachable(self, nodes):
        """Refuse, before anything changes, promotions of nodes whose 2377/tcp the managers cannot reach."""
        blocked = []
        for node in nodes:
            addr = node_addr(node)
            if not addr:
                continue
            error = None
            try:
                sock = socket.create_connection((addr, MANAGEMENT_PORT), timeout=5)
                sock.close()
            except (socket.error, OSError) as exc:
                error = exc
            if port_verdict(error) == 'blocked':
                blocked.append((node, '%s:%d: %s' % (addr, MANAGEMENT_PORT, error)))
        if blocked and self.module.check_mode:
            # A firewall task earlier in the same run (skipped in check mode) may be what opens the port: predict
            # the promotion, and say what a real run would find now.
            self.module.warn('check mode: %s' % blocked_message(blocked).replace('Nothing was changed', 'A run now '
                                                                                 'would refuse'))
        elif blocked:
            self.fail(blocked_message(blocked))

    def single(self, nodes):
        try:
            node = resolve_ref(nodes, self.params['node'])
        except NodeInputError as exc:
            self.fail(str(exc))
        if node is None:
            self.fail('no node %r in this swarm (docker node ls lists hostnames and IDs)' % self.params['node'])
        entry = dict(self.entry_from_params(), id=node['ID'])
        the_plan = self.plan(nodes, [entry])
        self.apply(the_plan)
        step = the_plan['steps'][0] if the_plan['steps'] else None
        after = self.final_nodes(the_plan)
        summary = [n for n in after if n['id'] == node['ID']]
        self.module.exit_json(
            changed=bool(step or self.pruned), differences=step['differences'] if step else [],
            diff={'before': step['before'], 'after': step['after']} if step else {'before': {}, 'after': {}},
            node=summary[0] if summary else None, changes=self.changes(the_plan),
            pruned=[summarize_node(n) for n in the_plan['prune']])

    def bulk(self, nodes):
        entries = self.params['nodes'] or []
        the_plan = self.plan(nodes, entries)
        self.apply(the_plan)
        changes = self.changes(the_plan)
        differences = ['%s.%s' % (c['hostname'], d) for c in changes for d in c['differences']]
        diff = {'before': {}, 'after': {}}
        for change in changes:
            diff['before'][change['hostname']] = change['before']
            diff['after'][change['hostname']] = change['after']
        for node in the_plan['prune']:
            key = '%s (%s)' % (node_hostname(node), node['ID'])
            diff['before'][key], diff['after'][key] = {'state': 'present'}, {'state': 'absent'}
        self.module.exit_json(
            changed=bool(changes or the_plan['prune']), differences=differences, diff=diff, changes=changes,
            nodes=self.final_nodes(the_plan), pruned=[summarize_node(n) for n in the_plan['prune']],
            unlisted=[summarize_node(n) for n in the_plan['unlisted']] if self.params['nodes'] is not None else [])

    @staticmethod
    def changes(the_plan):
        return [step_summary(s) for s in the_plan['steps']]

    def final_nodes(self, the_plan):
        """The node list after the run: read again when this node is still a manager, else predicted."""
        self_demoted = any(s['role_change'] == 'demote' and s['node']['ID'] == self.self_id for s in the_plan['steps'])
        if self.module.check_mode or self_demoted:
            specs = dict((s['node']['ID'], s['spec']) for s in the_plan['steps'])
            pruned = set(n['ID'] for n in the_plan['prune'])
            nodes = [simulated_summary(n, specs.get(n['ID'], n.get('Spec') or {}))
                     for n in self.before_nodes if n['ID'] not in pruned]
        else:
            nodes = [summarize_node(n) for n in self.read_retrying('/nodes')]
        return sorted(nodes, key=lambda n: (n['role'] != 'manager', n['hostname'] or '', n['id']))

    # ---- applying ----------------------------------------------------------------------------------
    def apply(self, the_plan):
        if self.module.check_mode:
            return
        for node in the_plan['prune']:
            self.client.delete('/nodes/%s' % node['ID'], params={'force': 'false'})
            self.pruned.append(node)
        for step in the_plan['steps']:
            self.apply_step(step)

    def apply_step(self, step):
        node_id = step['node']['ID']
        current = step['node']
        if step['role_change']:
            # Earlier steps changed the managers: check this one against the swarm as it is now.
            now = self.read_retrying('/nodes')
            listed = [n for n in now if n.get('ID') == node_id]
            if not listed:
                self.fail('node %s left the node list during the run' % describe(step['node']))
            current = listed[0]
            if step['role_change'] == 'demote' and is_manager(current) and not self.params['force']:
                ok, why = quorum_after_demotion(now, node_id)
                if not ok:
                    self.fail('refusing to demote %s: %s. The swarm changed during this run: the changes listed in '
                              '`changes` were made, nothing else (force: true overrides)' % (node_hostname(current), why))
        spec, differences = self.update(current, step['entry'])
        if not differences:
            return
        self.done.append(step_summary(step))
        try:
            if step['role_change']:
                self.wait_for_role(node_id, spec['Role'])
            if 'availability' in differences and spec.get('Availability') == 'drain' and self.params['wait']:
                self.wait_drained(node_id)
        except WaitTimeout as exc:
            self.fail(str(exc))

    def update(self, node, entry):
        """POST the node's new spec; once more on a fresh read when the node changed since it was read."""
        for attempt in (1, 2):
            spec, differences, _before, _after = wanted_spec(node, entry)
            if not differences:
                return spec, differences
            try:
                self.client.post('/nodes/%s/update' % node['ID'], data=spec,
                                 params={'version': (node.get('Version') or {}).get('Index')})
                return spec, differences
            except EngineError as exc:
                if attempt == 2 or 'out of sequence' not in exc.message:
                    raise
                node = self.read_retrying('/nodes/%s' % node['ID'])

    def wait_for_role(self, node_id, role):
        """Until NODE_ID's membership matches ROLE; WaitTimeout (never a silent return) otherwise."""
        deadline = time.time() + self.params['wait_timeout']
        last = None
        while True:
            try:
                if node_id == self.self_id and role == 'worker':
                    # Demoted itself: this engine stops being a manager and can no longer list nodes.
                    swarm = (self.client.get('/info') or {}).get('Swarm') or {}
                    if not swarm.get('ControlAvailable'):
                        return
                    last = 'this node still reports itself a manager'
                else:
                    node = self.client.get('/nodes/%s' % node_id) or {}
                    if role_reached(node, role):
                        return
                    last = 'its manager status is %s' % ((node.get('ManagerStatus') or {}).get('Reachability')
                                                         or 'not set yet')
            except EngineError as exc:
                # A leader election follows a demotion of the leader: keep asking until the deadline.
                last = 'the engine answered: %s' % exc
            if time.time() > deadline:
                raise WaitTimeout('the swarm accepted the change of %s to %s, but it has not taken effect within %ss '
                                  '(%s): check the node (docker node ls), then re-run'
                                  % (node_id, role, self.params['wait_timeout'], last))
            time.sleep(1)

    def wait_drained(self, node_id):
        deadline = time.time() + self.params['wait_timeout']
        while True:
            tasks = self.read_retrying('/tasks') or []
            services = self.read_retrying('/services?status=true') or []
            done, waiting = drain_progress(node_id, tasks, services)
            if done:
                return
            if time.time() > deadline:
                raise WaitTimeout('node %s is drained, but its tasks have not moved within %ss: %s'
                                  % (node_id, self.params['wait_timeout'], waiting))
            time.sleep(1)

    # ---- removal -----------------------------------------------------------------------------------
    def remove(self, nodes):
        try:
            node = resolve_ref(nodes, self.params['node'])
        except NodeInputError as exc:
            self.fail(str(exc))
        if node is None:
            self.module.exit_json(changed=False, differences=[], node=None, changes=[], pruned=[],
                                  diff={'before': {}, 'after': {}})
        summary = summarize_node(node)
        if is_manager(node):
            self.fail('%s is a manager: demote it first (role: worker), then remove it' % describe(node),
                      node=summary)
        if node_state(node) != 'down' and not self.params['force']:
            self.fail('%s is %s, not down: make it leave first (swarm_init state=absent on it) or stop it, or set '
                      'force: true' % (describe(node), node_state(node)), node=summary)
        if not self.module.check_mode:
            self.client.delete('/nodes/%s' % node['ID'], params={'force': 'true' if self.params['force'] else 'false'})
        change = {'id': node['ID'], 'hostname': node_hostname(node), 'differences': ['state'],
                  'before': {'state': 'present'}, 'after': {'state': 'absent'}}
        self.module.exit_json(changed=True, differences=['state'], node=None, changes=[change], pruned=[],
                              diff={'before': {'state': 'present'}, 'after': {'state': 'absent'}})


def main():
    argument_spec = dict(
        node=dict(type='str'),
        nodes=dict(type='list', elements='dict', options=dict(
            id=dict(type='str'),
            hostname=dict(type='str'),
            role=dict(type='str', choices=['worker', 'manager']),
            availability=dict(type='str', choices=['active', 'pause', 'drain']),
            labels=dict(type='dict'),
            labels_state=dict(type='str', choices=['merge', 'replace'], default='replace'),
        ), required_one_of=[('id', 'hostname')]),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        role=dict(type='str', choices=['worker', 'manager']),
        availability=dict(type='str', choices=['active', 'pause', 'drain']),
        labels=dict(type='dict'),
        labels_state=dict(type='str', choices=['merge', 'replace'], default='replace'),
        prune_stale=dict(type='bool', default=False),
        force=dict(type='bool', default=False),
        wait=dict(type='bool', default=True),
        wait_timeout=dict(type='int', default=120),
    )
    argument_spec.update(ENGINE_ARGUMENT_SPEC)
    module = AnsibleModule(
        argument_spec=argument_spec, supports_check_mode=True,
        mutually_exclusive=[('node', 'nodes'), ('nodes', 'role'), ('nodes', 'availability'), ('nodes', 'labels')],
        required_if=[('state', 'absent', ('node',))],
    )
    if module.params['node'] is None and module.params['nodes'] is None and not module.params['prune_stale']:
        module.fail_json(msg='give node (one node), nodes (a list) or prune_stale: true')
    if module.params['wait_timeout'] < 0:
        module.fail_json(msg='wait_timeout: %r is negative' % module.params['wait_timeout'])
    client = EngineClient.from_module(module)
    runner = Runner(module, client)
    try:
        runner.run()
    except EngineError as exc:
        runner.fail('Docker engine error: %s' % exc)


if __name__ == '__main__':
    main()
