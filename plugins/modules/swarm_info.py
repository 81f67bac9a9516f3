#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

DOCUMENTATION = r'''
module: swarm_info
short_description: What docker info, docker node ls and docker service ls show, in one call
version_added: 0.1.0
description:
  - Reports the node's swarm state on any node; on a manager also the nodes, the services with their running
    and desired task counts, and a quorum summary of the managers.
  - Never changes anything (always C(changed=false)); runs in check mode too.
  - The join tokens (C(docker swarm join-token)) and the unlock key only when asked for with O(join_tokens) /
    O(unlock_key); the task must then use C(no_log) set to true.
author:
  - swarmops.swarm contributors (@swarmops)
extends_documentation_fragment:
  - swarmops.swarm.engine
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to show.
options:
  nodes:
    description: Report the swarm's nodes (managers only).
    type: bool
    default: true
  services:
    description: Report the swarm's services and their task counts (managers only).
    type: bool
    default: true
  join_tokens:
    description: Return the join tokens (managers only). Secret - set C(no_log) on the task.
    type: bool
    default: false
  unlock_key:
    description: Return the unlock key when autolock is on (managers only). Secret - set C(no_log) on the task.
    type: bool
    default: false
seealso:
  - module: swarmops.swarm.swarm_init
'''

EXAMPLES = r'''
# docker info, docker node ls, docker service ls
- name: Read the swarm's state
  swarmops.swarm.swarm_info:
  register: swarm_status

- name: Show the nodes like docker node ls
  ansible.builtin.debug:
    msg: "{{ swarm_status.nodes | map(attribute='hostname') | zip(swarm_status.nodes | map(attribute='status'),
             swarm_status.nodes | map(attribute='manager_status')) | list }}"

- name: Fail unless the managers have their quorum
  ansible.builtin.assert:
    that: swarm_status.has_quorum
    fail_msg: "{{ swarm_status.managers_reachable }} of {{ swarm_status.managers_total }} managers reachable"

# docker swarm join-token worker
- name: Read the join tokens on a live manager
  swarmops.swarm.swarm_info:
    join_tokens: true
    nodes: false
    services: false
  register: swarm_secrets
  no_log: true
'''

RETURN = r'''
swarm:
  description: The node's own swarm state (C(docker info) Swarm section).
  returned: always
  type: dict
  contains:
    local_node_state:
      description: C(inactive), C(pending), C(active), C(error) or C(locked).
      type: str
    node_id:
      description: This node's ID (null when inactive).
      type: str
    node_addr:
      description: This node's address in the swarm.
      type: str
    control_available:
      description: Whether this node is a manager with a working control plane.
      type: bool
    role:
      description: C(manager), C(worker), or null when the node is not active in a swarm.
      type: str
    cluster_id:
      description: The swarm's ID (managers only).
      type: str
    created:
      description: When the swarm was created (managers only).
      type: str
    remote_managers:
      description: The managers this node knows, as HOST:PORT.
      type: list
      elements: str
    nodes:
      description: Number of nodes (managers only).
      type: int
    managers:
      description: Number of managers (managers only).
      type: int
    error:
      description: The engine's swarm error, if any.
      type: str
nodes:
  description: The nodes, like C(docker node ls). Empty on a worker or inactive node.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: "Node ID."
      type: str
    hostname:
      description: "Hostname."
      type: str
    role:
      description: "C(manager) or C(worker)."
      type: str
    status:
      description: "C(ready), C(down), C(unknown) or C(disconnected)."
      type: str
    availability:
      description: "C(active), C(pause) or C(drain)."
      type: str
    manager_status:
      description: "C(Leader), C(Reachable), C(Unreachable) or null for workers."
      type: str
    addr:
      description: "The node's address."
      type: str
    engine_version:
      description: "Docker engine version."
      type: str
    labels:
      description: "Node labels."
      type: dict
services:
  description: The services, like C(docker service ls). Empty on a worker or inactive node.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: "Service ID."
      type: str
    name:
      description: "Service name."
      type: str
    mode:
      description: "C(replicated), C(global), C(replicated-job) or C(global-job)."
      type: str
    replicas_running:
      description: "Tasks running."
      type: int
    replicas_desired:
      description: "Tasks desired (null for a global job)."
      type: int
    image:
      description: "Image reference."
      type: str
    ports:
      description: "Published ports (published, target, protocol, mode)."
      type: list
      elements: dict
    update_state:
      description: "State of the last update (C(updating), C(completed), C(rollback_completed), ...)."
      type: str
managers_total:
  description: Managers in the swarm (null when not a manager).
  returned: always
  type: int
managers_reachable:
  description: Managers that are Leader or Reachable (null when not a manager).
  returned: always
  type: int
quorum:
  description: Managers needed for a quorum (a majority of managers_total; null when not a manager).
  returned: always
  type: int
has_quorum:
  description: Whether the reachable managers form a quorum (false on a manager that sees no leader).
  returned: always
  type: bool
fault_tolerance:
  description: How many managers may fail while the quorum holds.
  returned: always
  type: int
join_tokens:
  description: The join tokens. Secret.
  returned: O(join_tokens=true) on a manager
  type: dict
  contains:
    worker:
      description: "Worker token."
      type: str
    manager:
      description: "Manager token."
      type: str
unlock_key:
  description: The unlock key (null when autolock is off). Secret.
  returned: O(unlock_key=true) on a manager
  type: str
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.swarm.plugins.module_utils.engine import (
    ENGINE_ARGUMENT_SPEC, EngineClient, EngineError)
from ansible_collections.swarmops.swarm.plugins.module_utils.swarm_cluster import (
    quorum_summary, redact, summarize_node, summarize_service, summarize_swarm)

# GET /services?status=true (ServiceStatus with running/desired counts) exists since API 1.41.
SERVICE_STATUS_API = (1, 41)


def api_at_least(version, wanted):
    try:
        return tuple(int(p) for p in str(version).split('.')[:2]) >= wanted
    except ValueError:
        return False


def main():
    argument_spec = dict(
        nodes=dict(type='bool', default=True),
        services=dict(type='bool', default=True),
        join_tokens=dict(type='bool', default=False, no_log=False),
        unlock_key=dict(type='bool', default=False, no_log=False),
    )
    argument_spec.update(ENGINE_ARGUMENT_SPEC)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    client = EngineClient.from_module(module)
    try:
        result = collect(module.params, client)
    except EngineError as exc:
        module.fail_json(msg=redact('Docker engine error: %s' % exc))
    module.exit_json(changed=False, **result)


def collect(params, client):
    info = client.info()
    swarm = summarize_swarm(info)
    result = dict(swarm=swarm, nodes=[], services=[], managers_total=None, managers_reachable=None,
                  quorum=None, has_quorum=False, fault_tolerance=None)
    if not swarm['control_available']:
        return result
    try:
        raw_nodes = client.get('/nodes')
    except EngineError as exc:
        # a manager without a leader: report it, do not fail (a playbook looks for a live manager with this)
        swarm['error'] = swarm['error'] or redact(exc.message)
        return result
    result.update(quorum_summary(raw_nodes))
    if params['nodes']:
        result['nodes'] = sorted((summarize_node(n) for n in raw_nodes),
                                 key=lambda n: (n['role'] != 'manager', n['hostname'] or '', n['id']))
    if params['services']:
        if api_at_least(client.api_version, SERVICE_STATUS_API):
            services, tasks = client.get('/services', params={'status': 'true'}), None
        else:
            services, tasks = client.get('/services'), client.get('/tasks')
        result['services'] = sorted((summarize_service(s, tasks) for s in services), key=lambda s: s['name'] or '')
    if params['join_tokens'] or params['unlock_key']:
        raw = client.swarm()
        if params['join_tokens']:
            tokens = raw.get('JoinTokens') or {}
            result['join_tokens'] = {'worker': tokens.get('Worker'), 'manager': tokens.get('Manager')}
        if params['unlock_key']:
            result['unlock_key'] = None
            if ((raw.get('Spec') or {}).get('EncryptionConfig') or {}).get('AutoLockManagers'):
                result['unlock_key'] = (client.get('/swarm/unlockkey') or {}).get('UnlockKey') or None
    return result


if __name__ == '__main__':
    main()
