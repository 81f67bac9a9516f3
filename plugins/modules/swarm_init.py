#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

DOCUMENTATION = r'''
module: swarm_init
short_description: Create a Docker Swarm on a manager, keep its settings, or leave it
version_added: 0.1.0
description:
  - The idempotent C(docker swarm init --advertise-addr ADDR) and C(docker swarm update).
  - Not in a swarm - initialises a new swarm with this node as its first manager (changed).
  - Already a manager - does not initialise again; compares the settable settings given here (O(autolock),
    O(cert_expiry), O(dispatcher_heartbeat), O(task_history_limit), O(snapshot_interval), O(labels)) with the
    swarm's and updates only what differs. Settings chosen at init (O(default_addr_pool), O(subnet_size),
    O(data_path_port), O(advertise_addr)) cannot change later; a difference is reported as a warning.
  - A worker, or a node whose swarm state is C(pending), C(error) or C(locked) (without O(unlock_key)) - fails
    with a message saying what the node is and what to do.
  - O(state=absent) makes the node leave its swarm (C(docker swarm leave)).
  - The result holds the join tokens and, with autolock, the unlock key. Module results cannot be masked per
    key, so a task using this module B(must) set C(no_log) set to true when its result can reach output
    (C(register) it and pass the tokens on through C(hostvars)). Failure messages never contain a token or key.
author:
  - swarmops.swarm contributors (@swarmops)
extends_documentation_fragment:
  - swarmops.swarm.engine
attributes:
  check_mode:
    support: full
    description: Predicts init, update, unlock and leave without doing them.
  diff_mode:
    support: full
    description: Shows before/after of exactly the settings that differ.
options:
  state:
    description:
      - V(present) - the node is a manager of a swarm (initialised here when it is in none).
      - V(absent) - the node is in no swarm (it leaves the one it is in).
    type: str
    choices: [present, absent]
    default: present
  force:
    description:
      - With O(state=absent), let a manager leave (C(docker swarm leave --force)). A manager leaving
        without being demoted first lowers the swarm's fault tolerance; the last manager leaving destroys it.
      - A locked node (autolock on, engine restarted) is a manager too, and leaves only with this set.
    type: bool
    default: false
  advertise_addr:
    description:
      - Address (or interface name) other nodes reach this manager on, optionally with C(:PORT).
      - Used at init (and for O(force_new_cluster)); later compared with the node's address and warned about.
    type: str
  listen_addr:
    description: Address and port the manager listens on for swarm management traffic.
    type: str
    default: 0.0.0.0:2377
  data_path_addr:
    description: Address or interface for data (overlay VXLAN) traffic. Used at init only.
    type: str
  data_path_port:
    description: UDP port for data traffic (VXLAN). Fixed at init.
    type: int
  default_addr_pool:
    description: Address pools (CIDRs) that overlay network subnets are allocated from. Fixed at init.
    type: list
    elements: str
  subnet_size:
    description: Prefix length of each overlay network subnet taken from O(default_addr_pool). Fixed at init.
    type: int
  autolock:
    description:
      - Encrypt the managers' raft keys with an unlock key that must be given after a manager's engine
        restarts (C(docker swarm init --autolock)). The key is returned as RV(unlock_key).
    type: bool
  unlock_key:
    description:
      - The swarm's unlock key (C(SWMKEY-1-...)). When the node is locked (autolock on and the engine
        restarted), it is unlocked with this key and the run goes on; a locked node without it fails.
    type: str
  cert_expiry:
    description: Validity of node certificates, as a duration (V(2160h), V(90m), V(1h30m)) or seconds.
    type: raw
  dispatcher_heartbeat:
    description: Interval of node heartbeats to the dispatcher, as a duration (V(5s)) or seconds.
    type: raw
  task_history_limit:
    description: Number of old tasks kept per service slot.
    type: int
  snapshot_interval:
    description: Number of raft log entries between snapshots.
    type: int
  labels:
    description:
      - Labels of the swarm (the Engine API's C(Spec.Labels); the docker CLI has no option for them). When
        given, this is the complete set (labels not listed are removed); V({}) removes all.
    type: dict
  rotate_worker_token:
    description: Replace the worker join token (changed on every run where it is true).
    type: bool
    default: false
  rotate_manager_token:
    description: Replace the manager join token (changed on every run where it is true).
    type: bool
    default: false
  force_new_cluster:
    description:
      - Disaster recovery (C(docker swarm init --force-new-cluster)). Acts only when this node is a manager of
        a swarm that has lost its quorum (no leader) - it then becomes the single manager of the same swarm,
        keeping services and workers. On a healthy swarm it does nothing, so it is safe to leave on in a
        recovery playbook's re-runs.
    type: bool
    default: false
seealso:
  - module: swarmops.swarm.swarm_join
  - module: swarmops.swarm.swarm_info
'''

EXAMPLES = r'''
# docker swarm init --advertise-addr 172.31.80.181
- name: Create the swarm on the first manager
  swarmops.swarm.swarm_init:
    advertise_addr: 172.31.80.181
  register: swarm_bootstrap
  no_log: true  # the result holds the join tokens

# docker swarm join --token <worker token> 172.31.80.181:2377, token passed through hostvars, never printed
- name: Join the workers
  swarmops.swarm.swarm_join:
    role: worker
    remote_addrs: ["{{ hostvars[groups['swarm_managers'][0]].swarm_bootstrap.manager_addr }}"]
    join_token: "{{ hostvars[groups['swarm_managers'][0]].swarm_bootstrap.join_tokens.worker }}"
  when: inventory_hostname in groups['swarm_workers']

- name: Swarm settings, updated in place on an existing swarm
  swarmops.swarm.swarm_init:
    advertise_addr: "{{ ansible_default_ipv4.address }}"
    cert_expiry: 2160h
    task_history_limit: 3
    labels:
      environment: production
  no_log: true

- name: Manager restarted with autolock on - unlock it with the vaulted key
  swarmops.swarm.swarm_init:
    autolock: true
    unlock_key: "{{ vault_swarm_unlock_key }}"
  no_log: true

- name: Leave the swarm
  swarmops.swarm.swarm_init:
    state: absent
    force: true
'''

RETURN = r'''
cluster_id:
  description: ID of the swarm (C(docker info) Cluster ID). Null in check mode before an init.
  returned: state is present
  type: str
  sample: 9cw36ttcgk72b9xh27xpz1fmk
node_id:
  description: ID of this node in the swarm.
  returned: state is present
  type: str
manager_addr:
  description: This manager's HOST:PORT for other nodes to join through (C(remote_addrs) of swarm_join).
  returned: state is present
  type: str
  sample: 172.31.80.181:2377
join_tokens:
  description: The current join tokens. Secret - use C(no_log) on the task.
  returned: state is present and not in check mode before an init
  type: dict
  contains:
    worker:
      description: Token for workers.
      type: str
    manager:
      description: Token for managers.
      type: str
unlock_key:
  description:
    - The unlock key, when autolock is on. Secret - use C(no_log) on the task.
    - Returned as it is also when it equals the O(unlock_key) given (Ansible would otherwise mask it as the
      value of a C(no_log) option, and a registered result could not pass the key on).
  returned: autolock is on
  type: str
unlocked:
  description: Whether this run unlocked a locked node with O(unlock_key).
  returned: always
  type: bool
swarm_spec:
  description: The swarm's spec after the run, as the Engine API reports it (C(GET /swarm) Spec).
  returned: state is present
  type: dict
differences:
  description: Names of the settings that differed (and were or would be updated).
  returned: always
  type: list
  elements: str
'''

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.swarm.plugins.module_utils._engine import (
    ENGINE_ARGUMENT_SPEC, EngineClient, EngineError)
from ansible_collections.swarmops.swarm.plugins.module_utils.swarm_cluster import (
    SwarmInputError, describe_state, desired_spec_values, init_only_differences,
    init_spec, is_no_leader_error, manager_addr, redact, spec_diff, updated_spec)


def fail(module, msg, **kwargs):
    module.fail_json(msg=redact(msg), **kwargs)


def wait_for_manager(client, timeout=60):
    deadline = time.time() + timeout
    info = client.info()
    while time.time() < deadline:
        swarm = info.get('Swarm') or {}
        if swarm.get('LocalNodeState') == 'active' and swarm.get('ControlAvailable'):
            try:
                client.swarm()
                return client.info()
            except EngineError:
                pass
        time.sleep(0.5)
        info = client.info()
    return info


def exit_with(module, **result):
    """exit_json, with the unlock key returned as it is even when it is the O(unlock_key) the task gave.

    Ansible masks the values of no_log options wherever they appear in a result; the key would come back as
    ******** and a registered result could not pass it on. The task itself is no_log (documented), and the
    option stays masked where Ansible shows the module's arguments (invocation).
    """
    given = module.params.get('unlock_key')
    if given and result.get('unlock_key') == given:
        module.no_log_values.discard(given)
        args = dict(module.params, unlock_key='VALUE_SPECIFIED_IN_NO_LOG_PARAMETER')
        result['invocation'] = {'module_args': args}
    module.exit_json(**result)


def swarm_results(client, info, swarm):
    result = {
        'cluster_id': swarm.get('ID'),
        'node_id': (info.get('Swarm') or {}).get('NodeID'),
        'manager_addr': manager_addr(info),
        'join_tokens': {'worker': (swarm.get('JoinTokens') or {}).get('Worker'),
                        'manager': (swarm.get('JoinTokens') or {}).get('Manager')},
        'swarm_spec': swarm.get('Spec'),
    }
    if ((swarm.get('Spec') or {}).get('EncryptionConfig') or {}).get('AutoLockManagers'):
        try:
            result['unlock_key'] = (client.get('/swarm/unlockkey') or {}).get('UnlockKey')
        except EngineError:
            result['unlock_key'] = None
    return result


def init_body(params, advertise_addr=None, force_new_cluster=False):
    body = {
        'ListenAddr': params['listen_addr'],
        'AdvertiseAddr': params['advertise_addr'] or advertise_addr or '',
        'ForceNewCluster': force_new_cluster,
        'Spec': init_spec(params),
    }
    if params['data_path_addr']:
        body['DataPathAddr'] = params['data_path_addr']
    if params['data_path_port'] is not None:
        body['DataPathPort'] = params['data_path_port']
    if params['default_addr_pool']:
        body['DefaultAddrPool'] = params['default_addr_pool']
    if params['subnet_size'] is not None:
        body['SubnetSize'] = params['subnet_size']
    return body


def leave(module, client, info):
    swarm = info.get('Swarm') or {}
    state = swarm.get('LocalNodeState') or 'inactive'
    if state == 'inactive':
        module.exit_json(changed=False, unlocked=False, differences=[])
    if (swarm.get('ControlAvailable') or state == 'locked') and not module.params['force']:
        # A locked node is a manager whose raft data is still encrypted: ControlAvailable reads false.
        fail(module, '%s; a manager leaves only with force: true (better: unlock it if it is locked, then demote '
                     'it with swarm_node role=worker on another manager, so the swarm keeps its quorum)'
             % describe_state(info))
    diff = {'before': {'local_node_state': state}, 'after': {'local_node_state': 'inactive'}}
    if not module.check_mode:
        try:
            client.post('/swarm/leave', params={'force': 'true' if module.params['force'] or state != 'active'
                                                else 'false'})
        except EngineError as exc:
            fail(module, 'leaving the swarm failed: %s' % exc)
    module.exit_json(changed=True, unlocked=False, differences=['local_node_state'], diff=diff)


def unlock(module, client, info):
    if not module.params['unlock_key']:
        fail(module, '%s: give the swarm unlock key as unlock_key (from a vaulted variable; `docker swarm '
                     'unlock-key -q` on an unlocked manager prints it) to unlock it, or run `docker swarm unlock` '
                     'on the node' % describe_state(info))
    if module.check_mode:
        module.exit_json(changed=True, unlocked=True, differences=['local_node_state'],
                         msg='the node is locked and would be unlocked with unlock_key',
                         diff={'before': {'local_node_state': 'locked'}, 'after': {'local_node_state': 'active'}})
    try:
        client.post('/swarm/unlock', data={'UnlockKey': module.params['unlock_key']})
    except EngineError as exc:
        fail(module, 'unlocking the swarm failed (%s): check that unlock_key is the current key of this swarm '
                     '(it changes when the key is rotated)' % exc)
    return wait_for_manager(client, timeout=max(30, module.params['api_timeout']))


def main():
    argument_spec = dict(
        state=dict(type='str', default='present', choices=['present', 'absent']),
        force=dict(type='bool', default=False),
        advertise_addr=dict(type='str'),
        listen_addr=dict(type='str', default='0.0.0.0:2377'),
        data_path_addr=dict(type='str'),
        data_path_port=dict(type='int'),
        default_addr_pool=dict(type='list', elements='str'),
        subnet_size=dict(type='int'),
        autolock=dict(type='bool'),
        unlock_key=dict(type='str', no_log=True),
        cert_expiry=dict(type='raw'),
        dispatcher_heartbeat=dict(type='raw'),
        task_history_limit=dict(type='int'),
        snapshot_interval=dict(type='int'),
        labels=dict(type='dict'),
        rotate_worker_token=dict(type='bool', default=False, no_log=False),
        rotate_manager_token=dict(type='bool', default=False, no_log=False),
        force_new_cluster=dict(type='bool', default=False),
    )
    argument_spec.update(ENGINE_ARGUMENT_SPEC)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    try:
        desired_spec_values(params)  # refuse bad durations and numbers before anything happens
    except SwarmInputError as exc:
        fail(module, str(exc))

    client = EngineClient.from_module(module)
    try:
        run(module, client, params)
    except EngineError as exc:
        fail(module, 'Docker engine error: %s' % exc)


def run(module, client, params):
    info = client.info()
    swarm_state = info.get('Swarm') or {}
    state = swarm_state.get('LocalNodeState') or 'inactive'

    if params['state'] == 'absent':
        leave(module, client, info)

    unlocked = False
    if state == 'locked':
        info = unlock(module, client, info)
        unlocked = True
        swarm_state = info.get('Swarm') or {}
        state = swarm_state.get('LocalNodeState') or 'inactive'

    if state == 'pending':
        fail(module, '%s. Wait for it to connect, check the network to the managers (port 2377/tcp), or make it '
                     'leave (swarm_init state=absent force=true) and init or join again' % describe_state(info))
    if state == 'error':
        fail(module, '%s. Make it leave (swarm_init state=absent force=true) and init or join again'
             % describe_state(info))
    if state == 'active' and not swarm_state.get('ControlAvailable'):
        fail(module, '%s, not a manager: swarm_init runs on managers. Promote it on a manager (swarm_node '
                     'role=manager) or run swarm_init on a manager of that swarm' % describe_state(info))

    if state == 'inactive':
        diff = {'before': {'local_node_state': 'inactive'}, 'after': {'local_node_state': 'active', 'role': 'manager'}}
        if module.check_mode:
            module.exit_json(changed=True, unlocked=False, differences=['local_node_state'], diff=diff,
                             cluster_id=None, node_id=None, manager_addr=None)
        try:
            client.post('/swarm/init', data=init_body(params))
        except EngineError as exc:
            fail(module, 'docker swarm init failed: %s' % exc)
        info = wait_for_manager(client, timeout=max(30, params['api_timeout']))
        result = swarm_results(client, info, client.swarm())
        module.exit_json(changed=True, unlocked=False, differences=['local_node_state'], diff=diff, **result)

    # An active manager (possibly just unlocked).
    try:
        swarm = client.swarm()
    except EngineError as exc:
        if not is_no_leader_error(exc.message):
            raise
        if not params['force_new_cluster']:
            fail(module, 'this node is a manager of a swarm that has no leader (%s): too few managers are '
                         'reachable for a quorum. Bring the other managers back, or recover the swarm from this '
                         'manager with force_new_cluster: true' % exc)
        diff = {'before': {'quorum': False}, 'after': {'quorum': True, 'force_new_cluster': True}}
        if module.check_mode:
            module.exit_json(changed=True, unlocked=unlocked, differences=['force_new_cluster'], diff=diff)
        try:
            client.post('/swarm/init', data=init_body(params, advertise_addr=swarm_state.get('NodeAddr'),
                                                      force_new_cluster=True))
        except EngineError as exc2:
            fail(module, 'docker swarm init --force-new-cluster failed: %s' % exc2)
        info = wait_for_manager(client, timeout=max(30, params['api_timeout']))
        result = swarm_results(client, info, client.swarm())
        exit_with(module, changed=True, unlocked=unlocked, differences=['force_new_cluster'], diff=diff, **result)

    differences, diff = spec_diff(swarm.get('Spec') or {}, params)
    for option in ('rotate_worker_token', 'rotate_manager_token'):
        if params[option]:
            differences[option] = (False, True)
            diff['before'][option] = False
            diff['after'][option] = True
    if unlocked:
        diff['before']['local_node_state'] = 'locked'
        diff['after']['local_node_state'] = 'active'

    for option, (current, wanted) in sorted(init_only_differences(swarm, info, params).items()):
        module.warn('%s is %s in this swarm, not %s: it is chosen at init and cannot change without a new '
                    'swarm; the setting was left alone' % (option, current, wanted))

    if differences and not module.check_mode:
        query = {'version': (swarm.get('Version') or {}).get('Index'),
                 'rotateWorkerToken': 'true' if params['rotate_worker_token'] else 'false',
                 'rotateManagerToken': 'true' if params['rotate_manager_token'] else 'false',
                 'rotateManagerUnlockKey': 'false'}
        try:
            client.post('/swarm/update', data=updated_spec(swarm.get('Spec') or {}, params), params=query)
        except EngineError as exc:
            fail(module, 'docker swarm update failed: %s' % exc)
        swarm = client.swarm()
        info = client.info()
    result = swarm_results(client, info, swarm)
    if module.check_mode and 'autolock' in differences and differences['autolock'][1]:
        result.setdefault('unlock_key', None)
    exit_with(module, changed=bool(differences) or unlocked, unlocked=unlocked,
              differences=sorted(set(differences) | ({'local_node_state'} if unlocked else set())),
              diff=diff, **result)


if __name__ == '__main__':
    main()
