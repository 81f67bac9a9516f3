#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

DOCUMENTATION = r'''
module: swarm_info
short_description: What docker info, docker node ls, docker service ls and docker service ps show, in one call
version_added: 0.1.0
description:
  - Reports the node's swarm state on any node; on a manager also the swarm's settings, the nodes, the
    services with their running and desired task counts (and, on request, their tasks), and a quorum summary
    of the managers.
  - Nodes and services can be filtered like C(docker node ls -f) and C(docker service ls -f); the quorum
    summary always counts every manager.
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
  tasks:
    description:
      - Also report each service's tasks (C(docker service ps)) - with the node, state, error and image digest -
        in RV(services[].tasks). One more request for all of them.
    type: bool
    default: false
  node_filters:
    description: Report only the nodes that match all of these (managers only).
    type: dict
    suboptions:
      role:
        description: V(manager) or V(worker).
        type: str
        choices: [manager, worker]
      labels:
        description: Node labels, each V(KEY) (any value) or V(KEY=VALUE).
        type: list
        elements: str
      hostnames:
        description: Hostnames, any of which matches.
        type: list
        elements: str
  service_filters:
    description: Report only the services that match all of these (managers only).
    type: dict
    suboptions:
      names:
        description: Service names, any of which matches (exact names, not prefixes).
        type: list
        elements: str
      labels:
        description: Service labels, each V(KEY) (any value) or V(KEY=VALUE).
        type: list
        elements: str
  objects:
    description:
      - Also report the swarm's objects (managers only), like C(docker network ls --filter scope=swarm),
        C(docker secret ls), C(docker config ls) and C(docker stack ls) - names, IDs and times, never a
        secret's or config's value. Three more requests (four with O(services=false), for the stacks).
    type: bool
    default: false
  join_tokens:
    description: Return the join tokens (managers only). Secret - set C(no_log) on the task.
    type: bool
    default: false
  unlock_key:
    description: Return the unlock key when autolock is on (managers only). Secret - set C(no_log) on the task.
    type: bool
    default: false
  addresses:
    description:
      - Also return the IPv4 addresses of the host the module runs on, in RV(host) - read with C(ip) before
        the engine is asked anything, so they are there when no engine answers (the module then fails with them
        in its result). An advertise address can be chosen from them without gathering facts.
    type: bool
    default: false
  firewall:
    description:
      - Also make, in this call, the read of M(swarmops.swarm.firewall_info) with these options (the same names,
        types and defaults - C(backend), C(policy), C(legacy_zone), C(packages)), returned in RV(firewall_read).
      - A playbook's first read of each node can so carry the firewall role's read too (one round trip per host
        instead of two); the role takes it (its C(firewall_host_read)) when it was made with the role's options.
      - Made before the engine is asked anything, so it is also in the result of a failure.
    type: dict
  engine:
    description:
      - Also make, in this call, the read of M(swarmops.swarm.docker_engine_info) with these options (the same
        names, types and defaults), returned in RV(engine_read); the docker role takes it (its
        C(docker_host_read)) when it was made with the role's options and nothing changed on the host since.
      - Made before the engine is asked anything, so it is also in the result of a failure.
    type: dict
  compare_services:
    description:
      - The services as M(swarmops.swarm.swarm_service) takes them in its O(swarmops.swarm.swarm_service#module:services)
        (validated the same way). On a manager, the read also says in RV(services_compared) whether that module,
        given them, would change nothing and wait for nothing - its own plan, made from the services this call
        reads anyway, without a request more (one for the networks when an item names networks).
      - A playbook can so skip the services' module call when nothing changed since this read (site.yml does when
        the run changed nothing on the swarm before its services step).
      - Anything it cannot decide from the read is a no - an item the module would refuse, a tag to resolve at
        the registry (O(swarmops.swarm.swarm_service#module:resolve_image) in an item), a service being updated or
        with fewer tasks running than it wants. Never a failure of the read.
      - The items' C(secret_env) values are masked in everything the module returns, as swarm_service masks them.
        An item that is not a mapping makes the answer a no; it does not fail the read.
    type: list
    elements: raw
seealso:
  - module: swarmops.swarm.swarm_init
  - module: swarmops.swarm.firewall_info
  - module: swarmops.swarm.docker_engine_info
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

- name: The tasks of one service, like docker service ps web
  swarmops.swarm.swarm_info:
    nodes: false
    tasks: true
    service_filters: {names: [web]}
  register: web_status

- name: The workers labelled zone=a, like docker node ls -f role=worker -f node.label=zone=a
  swarmops.swarm.swarm_info:
    services: false
    node_filters: {role: worker, labels: [zone=a]}
  register: zone_a

- name: Fail unless the managers have their quorum
  ansible.builtin.assert:
    that: swarm_status.has_quorum
    fail_msg: "{{ swarm_status.managers_reachable }} of {{ swarm_status.managers_total }} managers reachable"

# docker network ls, docker secret ls, docker config ls, docker stack ls (names and times, no values)
- name: Read the swarm's objects
  swarmops.swarm.swarm_info:
    nodes: false
    services: false
    objects: true
  register: swarm_objects

# docker swarm join-token worker
- name: Read the join tokens on a live manager
  swarmops.swarm.swarm_info:
    join_tokens: true
    nodes: false
    services: false
  register: swarm_secrets
  no_log: true

# The read says whether swarm_service would change anything; call it only when it would
- name: Read the swarm, comparing the services with the declared ones
  swarmops.swarm.swarm_info:
    nodes: false
    compare_services: "{{ my_services }}"
  register: swarm_read

- name: Deploy the services only when they differ (or are not settled)
  swarmops.swarm.swarm_service:
    services: "{{ my_services }}"
  when: not swarm_read.services_compared.unchanged
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
cluster:
  description: The swarm's settings as the manager reports them (C(docker info) on a manager); null elsewhere.
  returned: always
  type: dict
  contains:
    spec:
      description: The swarm's spec (orchestration, raft, dispatcher, CA and encryption settings, labels).
      type: dict
    default_addr_pool:
      description: Address pools of overlay networks.
      type: list
      elements: str
    subnet_size:
      description: Prefix length of each overlay network's subnet.
      type: int
    data_path_port:
      description: The VXLAN port.
      type: int
    root_rotation_in_progress:
      description: Whether a root CA rotation is under way.
      type: bool
    updated:
      description: When the swarm's settings last changed.
      type: str
nodes:
  description: The nodes, like C(docker node ls) (those matching O(node_filters)). Empty on a worker or inactive node.
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
  description: The services, like C(docker service ls) (those matching O(service_filters)). Empty on a worker or
    inactive node.
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
    tasks:
      description:
        - "The service's tasks, like C(docker service ps): by slot (or node), newest first; O(tasks=true) only."
        - "Each has C(id), C(slot), C(node) (hostname), C(node_id), C(desired_state), C(state), C(message),
          C(error), C(exit_code), C(image), C(image_digest) (null unless the image is pinned to a digest),
          C(created) and C(updated)."
      type: list
      elements: dict
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
networks:
  description: The swarm-scoped networks (C(ingress) and the overlays), by name. O(objects=true) on a manager.
  returned: O(objects=true) on a manager
  type: list
  elements: dict
  contains:
    id:
      description: "Network ID."
      type: str
    name:
      description: "Network name."
      type: str
    driver:
      description: "Driver (C(overlay))."
      type: str
    scope:
      description: "C(swarm)."
      type: str
    attachable:
      description: "Whether containers can attach."
      type: bool
    internal:
      description: "Whether it has no route outside."
      type: bool
    ingress:
      description: "Whether it is the routing mesh's network."
      type: bool
    encrypted:
      description: "Whether the data plane is encrypted (IPsec)."
      type: bool
    created:
      description: "When it was created (RFC 3339)."
      type: str
    stack:
      description: "The stack it belongs to (null for none)."
      type: str
secrets:
  description: The secrets (never their values), by name. O(objects=true) on a manager.
  returned: O(objects=true) on a manager
  type: list
  elements: dict
  contains:
    id:
      description: "Secret ID."
      type: str
    name:
      description: "Secret name (a versioned one is C(NAME_v<N>))."
      type: str
    created:
      description: "When it was created (RFC 3339)."
      type: str
    updated:
      description: "When it was last updated (RFC 3339)."
      type: str
    labels:
      description: "Its labels."
      type: dict
configs:
  description: The configs (without their content), by name, with the same keys as RV(secrets). O(objects=true) on a
    manager.
  returned: O(objects=true) on a manager
  type: list
  elements: dict
stacks:
  description: The stacks, from the services' C(com.docker.stack.namespace) label, by name. O(objects=true) on a
    manager.
  returned: O(objects=true) on a manager
  type: list
  elements: dict
  contains:
    name:
      description: "Stack name."
      type: str
    services:
      description: "Names of its services."
      type: list
      elements: str
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
host:
  description:
    - The host's IPv4 addresses by interface, and C(default_ipv4), the source address of its default route (what
      the C(ansible_default_ipv4) fact holds); empty without a default route. Also in the result of a failure.
  returned: when O(addresses=true)
  type: dict
  sample: {interfaces: {eth0: [10.0.0.11]}, default_ipv4: 10.0.0.11}
firewall_read:
  description:
    - What M(swarmops.swarm.firewall_info) returns for O(firewall), and C(options), those options as validated
      (defaults filled in). Also in the result of a failure.
  returned: when O(firewall) is set
  type: dict
engine_read:
  description:
    - What M(swarmops.swarm.docker_engine_info) returns for O(engine), and C(options), those options as validated
      (defaults filled in). Also in the result of a failure.
  returned: when O(engine) is set
  type: dict
unlock_key:
  description: The unlock key (null when autolock is off). Secret.
  returned: O(unlock_key=true) on a manager
  type: str
services_compared:
  description: Whether M(swarmops.swarm.swarm_service), given O(compare_services), would change nothing and wait for
    nothing (see O(compare_services)).
  returned: when O(compare_services) is set
  type: dict
  contains:
    unchanged:
      description: True only when every service is as declared (or absent as declared) and settled.
      type: bool
    reason:
      description: Why, naming the first service that differs (its action and the fields that differ) or is not
        settled; or why no comparison was made (not a manager, an item refused, an engine error).
      type: str
  sample: {unchanged: false, reason: "web: update (replicas)"}
'''

import json

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.swarmops.swarm.plugins.module_utils._engine import (
    ENGINE_ARGUMENT_SPEC, EngineClient, EngineError)
from ansible_collections.swarmops.swarm.plugins.module_utils._engine_read import ENGINE_READ_SPEC, read_engine
from ansible_collections.swarmops.swarm.plugins.module_utils._firewall_read import FIREWALL_READ_SPEC, read_firewall
from ansible_collections.swarmops.swarm.plugins.module_utils._host_addresses import ipv4_addresses
from ansible_collections.swarmops.swarm.plugins.module_utils.swarm_cluster import (
    SwarmInputError, filter_nodes, filter_services, parse_label_selectors, quorum_summary, redact,
    summarize_cluster, summarize_node, summarize_objects, summarize_service, summarize_swarm, tasks_by_service)

# GET /services?status=true (ServiceStatus with running/desired counts) exists since API 1.41.
SERVICE_STATUS_API = (1, 41)


def api_at_least(version, wanted):
    try:
        return tuple(int(p) for p in str(version).split('.')[:2]) >= wanted
    except ValueError:
        return False


def validated(module, name, spec):
    """The options of the read NAME, checked like its own module checks them; a bad one fails the module
    before anything is read, naming it (firewall.backend, engine.files, ...)."""
    result = ArgumentSpecValidator(spec[0]).validate(module.params[name])
    if result.error_messages:
        module.fail_json(msg='%s: %s' % (name, '; '.join(result.error_messages)))
    return result.validated_parameters


# The reads another role makes, which this call can make too: option name -> (argument spec, reader).
READS = {'firewall': (FIREWALL_READ_SPEC, read_firewall), 'engine': (ENGINE_READ_SPEC, read_engine)}


def main():
    argument_spec = dict(
        nodes=dict(type='bool', default=True),
        services=dict(type='bool', default=True),
        tasks=dict(type='bool', default=False),
        node_filters=dict(type='dict', options=dict(
            role=dict(type='str', choices=['manager', 'worker']),
            labels=dict(type='list', elements='str'),
            hostnames=dict(type='list', elements='str'))),
        service_filters=dict(type='dict', options=dict(
            names=dict(type='list', elements='str'),
            labels=dict(type='list', elements='str'))),
        objects=dict(type='bool', default=False),
        join_tokens=dict(type='bool', default=False, no_log=False),
        unlock_key=dict(type='bool', default=False, no_log=False),
        addresses=dict(type='bool', default=False),
        firewall=dict(type='dict'),
        engine=dict(type='dict'),
        # raw: an item that is no mapping is a 'no' of the comparison, not a failure that would print the others
        compare_services=dict(type='list', elements='raw'),
    )
    argument_spec.update(ENGINE_ARGUMENT_SPEC)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    try:  # bad selectors are refused before the engine is asked anything
        parse_label_selectors((module.params['node_filters'] or {}).get('labels'), 'node_filters.labels')
        parse_label_selectors((module.params['service_filters'] or {}).get('labels'), 'service_filters.labels')
    except SwarmInputError as exc:
        module.fail_json(msg=str(exc))
    if module.params['compare_services'] is not None:
        # Imported here, like in compared(): only a read that compares needs the services' code on the node.
        from ansible_collections.swarmops.swarm.plugins.module_utils.swarm_service import mask_secret_env
        mask_secret_env(module, module.params['compare_services'])
    reads = dict((name, validated(module, name, spec)) for name, spec in READS.items()
                 if module.params[name] is not None)
    # first: a bare host or a stopped engine still has addresses (and a firewall and packages), and a preflight
    # chooses the advertise address from them in the same call
    extra = dict(host=ipv4_addresses(module)) if module.params['addresses'] else {}
    for name, options in reads.items():
        extra[name + '_read'] = dict(READS[name][1](module, options), options=options)
    client = EngineClient.from_module(module, failure=extra)
    try:
        result = collect(module.params, client)
    except EngineError as exc:
        module.fail_json(msg=redact('Docker engine error: %s' % exc), **extra)
    module.exit_json(changed=False, **dict(result, **extra))


def compared(client, services, all_services):
    """RV(services_compared): swarm_service's plan for the O(compare_services) against ALL_SERVICES."""
    # Imported here: only a read that compares compiles the services' planning code on the node.
    from ansible_collections.swarmops.swarm.plugins.module_utils import swarm_spec
    from ansible_collections.swarmops.swarm.plugins.module_utils.swarm_service import (
        compare_services, validated_items)
    try:
        items = validated_items(services)
    except swarm_spec.SpecError as exc:
        return dict(unchanged=False, reason='refused: %s' % exc)
    unchanged, reason = compare_services(client, items, all_services)
    return dict(unchanged=unchanged, reason=reason)


def collect(params, client):
    info = client.info()
    swarm = summarize_swarm(info)
    result = dict(swarm=swarm, cluster=summarize_cluster(info), nodes=[], services=[], managers_total=None,
                  managers_reachable=None, quorum=None, has_quorum=False, fault_tolerance=None)
    if params['compare_services'] is not None:
        result['services_compared'] = dict(unchanged=False, reason='not a manager with a leader')
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
        filters = params['node_filters'] or {}
        kept = filter_nodes(raw_nodes, filters.get('role'), filters.get('labels'), filters.get('hostnames'))
        result['nodes'] = sorted((summarize_node(n) for n in kept),
                                 key=lambda n: (n['role'] != 'manager', n['hostname'] or '', n['id']))
    all_services = None
    with_status = api_at_least(client.api_version, SERVICE_STATUS_API)
    if params['services'] or params['tasks'] or params['compare_services'] is not None:
        filters = params['service_filters'] or {}
        all_services = client.get('/services', params={'status': 'true'} if with_status else None) or []
        services = filter_services(all_services, filters.get('names'), filters.get('labels'))
        tasks = None
        if services and (params['tasks'] or not with_status):
            ids = [s['ID'] for s in services]
            tasks = client.get('/tasks', params={'filters': json.dumps({'service': ids})}) or []
        summaries = []
        if tasks is not None and params['tasks']:
            names = dict((n.get('ID'), (n.get('Description') or {}).get('Hostname')) for n in raw_nodes)
            per_service = tasks_by_service(tasks, names)
        for service in services:
            summary = summarize_service(service, tasks)
            if params['tasks']:
                summary['tasks'] = per_service.get(service['ID'], []) if tasks is not None else []
            summaries.append(summary)
        if params['services'] or params['tasks']:
            result['services'] = sorted(summaries, key=lambda s: s['name'] or '')
    if params['compare_services'] is not None:
        result['services_compared'] = compared(client, params['compare_services'], all_services)
    if params['objects']:
        if all_services is None:
            all_services = client.get('/services') or []
        result.update(summarize_objects(
            client.get('/networks', params={'filters': json.dumps({'scope': ['swarm']})}) or [],
            client.get('/secrets') or [], client.get('/configs') or [], all_services))
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
