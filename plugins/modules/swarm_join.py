#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

DOCUMENTATION = r'''
module: swarm_join
short_description: Join a node to a Docker Swarm as a worker or manager, knowing which swarm it is in
version_added: 0.1.0
description:
  - The idempotent C(docker swarm join --token TOKEN MANAGER:2377).
  - Knows B(which) swarm the node is in - a join token carries the digest of its swarm's root CA, which is
    compared with the root CA of the node's swarm as the Engine API tells it (on a manager, C(GET /swarm));
    a worker's engine does not know it, so it is asked of the worker's managers (the ones its engine lists),
    with the call C(docker swarm join) itself makes to check a token, and accepted only from a manager that
    proves it holds a certificate of that CA. No file of the node is read, so it works the same with a
    remote O(docker_host).
  - When that cannot be told (the managers do not answer), a node whose managers are among O(remote_addrs)
    is taken as being in this swarm; otherwise the module fails without changing anything, also with
    O(force=true) - a node is never made to leave a swarm that may be the right one.
  - Already active in that swarm with the requested O(role) - unchanged. In that swarm with the other role -
    fails; role changes are a promote/demote on a manager (M(swarmops.swarm.swarm_node)), not a re-join.
  - Active in B(another) swarm (its root CA differs from the token's) - fails with a message naming both
    swarms, unless O(force=true), which leaves the other swarm and joins this one.
  - Before joining, checks the token's form and that at least one manager in O(remote_addrs) answers on TCP;
    engine errors (wrong or rotated token, token of another swarm, timeout) become messages that say which.
    After joining, waits (up to O(timeout)) for the node to be active with the requested role; a token of
    the other role is detected there, the node leaves again (a manager demotes itself first, so the
    managers keep their quorum) and the module fails saying so. A failed join leaves the node as it was.
author:
  - swarmops.swarm contributors (@swarmops)
extends_documentation_fragment:
  - swarmops.swarm.engine
attributes:
  check_mode:
    support: full
    description: Checks token, addresses and reachability and predicts the join without joining.
  diff_mode:
    support: full
    description: Shows the node's swarm state and role before and after.
options:
  role:
    description: The role the node must have. The token decides the role Docker gives; they must match.
    type: str
    required: true
    choices: [worker, manager]
  remote_addrs:
    description:
      - Managers to join through, each as C(HOST:PORT) (C([IPV6]:PORT)); the port is required (2377 unless
        the swarm listens elsewhere). Managers that answer are tried first.
    type: list
    elements: str
    required: true
  join_token:
    description: The worker or manager join token (C(SWMTKN-1-...)) of the swarm, matching O(role).
    type: str
    required: true
  advertise_addr:
    description: Address (or interface) other nodes reach this node on.
    type: str
  listen_addr:
    description: Address and port this node listens on for swarm traffic (used by managers).
    type: str
    default: 0.0.0.0:2377
  data_path_addr:
    description: Address or interface for data (overlay VXLAN) traffic.
    type: str
  availability:
    description: Availability of the node when it joins. Applied at join time only.
    type: str
    choices: [active, pause, drain]
  timeout:
    description: Seconds to wait for the join to complete and the node to be active with its role.
    type: int
    default: 60
  force:
    description:
      - When the node is in another swarm (or its swarm state is broken - C(pending), C(error), C(locked)),
        leave it and join this one. If the node is a manager of the other swarm, that swarm loses a manager.
      - Never acts on a node whose swarm cannot be told (see above).
    type: bool
    default: false
seealso:
  - module: swarmops.swarm.swarm_init
  - module: swarmops.swarm.swarm_node
'''

EXAMPLES = r'''
# docker swarm join --token <worker token> 172.31.80.181:2377
- name: Join the workers (tokens come from swarm_init's registered result, never printed)
  swarmops.swarm.swarm_join:
    role: worker
    remote_addrs: ["172.31.80.181:2377"]
    join_token: "{{ hostvars['manager1'].swarm_bootstrap.join_tokens.worker }}"
    advertise_addr: "{{ ansible_default_ipv4.address }}"

- name: Join further managers one at a time
  swarmops.swarm.swarm_join:
    role: manager
    remote_addrs: "{{ groups['swarm_managers'] | map('extract', hostvars, 'swarm_advertise_addr')
                      | map('regex_replace', '$', ':2377') | list }}"
    join_token: "{{ hostvars['manager1'].swarm_bootstrap.join_tokens.manager }}"
  throttle: 1

- name: Move a worker that was joined to another swarm into ours
  swarmops.swarm.swarm_join:
    role: worker
    remote_addrs: ["172.31.80.181:2377"]
    join_token: "{{ swarm_worker_token }}"
    force: true
'''

RETURN = r'''
node_id:
  description: ID of the node in the swarm (null in check mode before a join).
  returned: success
  type: str
role:
  description: The node's role after the run (the requested one).
  returned: success
  type: str
  sample: worker
joined:
  description: Whether the node joined (or, in check mode, would join) in this run.
  returned: success
  type: bool
previous_state:
  description: The node's swarm state before the run (C(inactive), C(active), C(pending), C(error), C(locked)).
  returned: always
  type: str
left_other_swarm:
  description: Whether the node left another swarm first (O(force=true)).
  returned: success
  type: bool
swarm_ca_digest:
  description: Digest of the root CA of the swarm the node is in (the middle part of its join tokens; not secret).
  returned: success
  type: str
membership:
  description:
    - What was found before the run - V(same) (the token's swarm), V(other) (another swarm), V(unknown) (could
      not be told), or V(none) (in no swarm) - and the evidence.
  returned: always
  type: dict
  sample: {relation: same, evidence: "its swarm has the root CA 4diytp2qlmgi, the token's"}
remote_managers:
  description: Managers the node knows after the run, as HOST:PORT.
  returned: success
  type: list
  elements: str
'''

import socket
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.swarm.plugins.module_utils._engine import (
    ENGINE_ARGUMENT_SPEC, EngineClient, EngineError)
from ansible_collections.swarmops.swarm.plugins.module_utils._swarm_ca import SwarmCAError, fetch_root_ca
from ansible_collections.swarmops.swarm.plugins.module_utils.swarm_cluster import (
    SwarmInputError, ca_digest, check_remote_addrs, describe_state, map_join_error, membership,
    parse_join_token, redact, short_digest, split_host_port)


def fail(module, msg, **kwargs):
    module.fail_json(msg=redact(msg), **kwargs)


def node_ca_digest(client, info, timeout):
    """(digest, notes) of the root CA of the swarm this node is in: from its engine when it is a manager,
    else from the managers its engine lists; digest None when neither tells."""
    swarm = info.get('Swarm') or {}
    notes = []
    trust_root = ((swarm.get('Cluster') or {}).get('TLSInfo') or {}).get('TrustRoot')
    if trust_root:  # a manager's /info carries it (read from its own store, also without a leader)
        return ca_digest(trust_root), notes
    if swarm.get('ControlAvailable'):
        try:
            trust_root = ((client.swarm() or {}).get('TLSInfo') or {}).get('TrustRoot')
            if trust_root:
                return ca_digest(trust_root), notes
        except EngineError as exc:
            notes.append('its engine did not tell (%s)' % exc)
    for manager in swarm.get('RemoteManagers') or []:
        try:
            host, port = split_host_port(manager.get('Addr') or '', 'RemoteManagers')
            return ca_digest(fetch_root_ca(host, port, timeout)), notes
        except (SwarmInputError, SwarmCAError) as exc:
            notes.append('manager %s: %s' % (manager.get('Addr'), exc))
    return None, notes


def resolved_addrs(addrs):
    """HOST:PORT of each address with HOST resolved to its IP addresses (as an engine lists its managers)."""
    result = set()
    for addr in addrs:
        try:
            host, port = split_host_port(addr)
        except SwarmInputError:
            continue
        result.add('%s:%d' % (host, port))
        try:
            for info in socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM):
                result.add('%s:%d' % (info[4][0], port))
        except (socket.error, OSError):
            pass
    return result


def probe(host, port, timeout):
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
        sock.close()
        return None
    except (socket.error, socket.timeout, OSError) as exc:
        return str(exc) or exc.__class__.__name__


def node_role(info):
    swarm = info.get('Swarm') or {}
    if swarm.get('LocalNodeState') != 'active':
        return None
    return 'manager' if swarm.get('ControlAvailable') else 'worker'


def wait_active(client, timeout, want_role=None, grace=5):
    """Poll /info until the node is active (with WANT_ROLE, or for GRACE more seconds) or TIMEOUT passes."""
    deadline = time.time() + timeout
    info = client.info()
    while node_role(info) is None and time.time() < deadline:
        time.sleep(0.5)
        info = client.info()
    # the role shows a moment after the node is active (a manager's control plane starts last)
    grace_deadline = min(deadline, time.time() + grace)
    while want_role and node_role(info) not in (None, want_role) and time.time() < grace_deadline:
        time.sleep(0.5)
        info = client.info()
    return info


def leave(client, force=True):
    client.post('/swarm/leave', params={'force': 'true' if force else 'false'})


def describe_other(info, digest):
    swarm = info.get('Swarm') or {}
    cluster = (swarm.get('Cluster') or {}).get('ID')
    managers = ', '.join(m.get('Addr', '?') for m in swarm.get('RemoteManagers') or []) or 'unknown'
    text = 'swarm with root CA %s' % short_digest(digest)
    if cluster:
        text += ', cluster id %s' % cluster
    where = node_role(info) or swarm.get('LocalNodeState')
    return '%s (this node is a %s there; its managers: %s)' % (text, where, managers)


def main():
    argument_spec = dict(
        role=dict(type='str', required=True, choices=['worker', 'manager']),
        remote_addrs=dict(type='list', elements='str', required=True),
        join_token=dict(type='str', required=True, no_log=True),
        advertise_addr=dict(type='str'),
        listen_addr=dict(type='str', default='0.0.0.0:2377'),
        data_path_addr=dict(type='str'),
        availability=dict(type='str', choices=['active', 'pause', 'drain']),
        timeout=dict(type='int', default=60),
        force=dict(type='bool', default=False),
    )
    argument_spec.update(ENGINE_ARGUMENT_SPEC)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    try:
        token = parse_join_token(params['join_token'])
        addrs = check_remote_addrs(params['remote_addrs'])
    except SwarmInputError as exc:
        fail(module, str(exc))
    client = EngineClient.from_module(module)
    try:
        run(module, client, params, token, addrs)
    except EngineError as exc:
        fail(module, 'Docker engine error: %s' % exc)


def run(module, client, params, token, addrs):
    want = params['role']
    info = client.info()
    previous_state = (info.get('Swarm') or {}).get('LocalNodeState') or 'inactive'
    result = dict(previous_state=previous_state, joined=False, left_other_swarm=False)
    ours = token['ca_digest']
    mine, notes = None, []
    relation, evidence = 'none', 'it is in no swarm'
    if previous_state != 'inactive':
        mine, notes = node_ca_digest(client, info, timeout=min(5, params['timeout']))
        node_managers = [m.get('Addr') for m in (info.get('Swarm') or {}).get('RemoteManagers') or []]
        relation, evidence = membership(ours, mine, node_managers, resolved_addrs(params['remote_addrs']))
    result['membership'] = {'relation': relation, 'evidence': evidence}

    if previous_state == 'pending' and relation == 'same':
        # ours, reconnecting (after a restart or a slow join): give it the time to become active
        info = wait_active(client, params['timeout'])
        if node_role(info) is None:
            fail(module, '%s: it belongs to this swarm (%s) but did not reach the managers within %ds; '
                         'check the network to %s (port 2377/tcp)'
                 % (describe_state(info), evidence, params['timeout'], ', '.join(params['remote_addrs'])),
                 **result)
    state = (info.get('Swarm') or {}).get('LocalNodeState') or 'inactive'

    if state == 'active' and relation == 'same':
        have = node_role(info)
        if have != want:
            fail(module, 'this node is already a %s of this swarm (root CA %s, node %s), not a %s: a role is changed '
                         'on a manager by promoting/demoting the node (swarmops.swarm.swarm_node role=%s, or '
                         '`docker node %s %s`), not by joining again'
                 % (have, short_digest(ours), info['Swarm'].get('NodeID'), want, want,
                    'promote' if want == 'manager' else 'demote', info['Swarm'].get('NodeID')), **result)
        module.exit_json(changed=False, node_id=info['Swarm'].get('NodeID'), role=have, swarm_ca_digest=ours,
                         remote_managers=[m.get('Addr') for m in info['Swarm'].get('RemoteManagers') or []],
                         **result)

    if state == 'active' and relation == 'unknown':
        # Possibly the right swarm: leaving it (even with force) could take a member out of its own swarm.
        fail(module, '%s, but which swarm cannot be told: %s (%s). The node was not changed (force does not '
                     'apply to a swarm that may be this one). Make its managers reachable from here on their swarm '
                     'port, or name them in remote_addrs as its engine lists them (%s)'
             % (describe_state(info), evidence, '; '.join(notes) or 'no manager listed',
                ', '.join(m.get('Addr', '?') for m in info['Swarm'].get('RemoteManagers') or []) or 'none'),
             **result)

    must_leave = state != 'inactive'
    if must_leave and not params['force']:
        if state == 'active':
            fail(module, 'this node is in another swarm: %s; the join token is for the swarm with root CA %s '
                         '(managers %s). Set force: true to make it leave that swarm and join this one'
                 % (describe_other(info, mine), short_digest(ours), ', '.join(params['remote_addrs'])), **result)
        repair = ('unlock it first (swarm_init with unlock_key)' if state == 'locked'
                  else 'repair it first (swarm_init state=absent force=true makes it leave)')
        fail(module, '%s (root CA %s); the join token is for the swarm with root CA %s. Set force: true to make it '
                     'leave and join, or %s' % (describe_state(info), short_digest(mine), short_digest(ours), repair),
             **result)

    # Reachability: at least one manager must answer on TCP; those that answer go first.
    answering, errors = [], []
    for addr, (host, port) in zip(params['remote_addrs'], addrs):
        error = probe(host, port, timeout=min(3, params['timeout']))
        if error is None:
            answering.append(addr)
        else:
            errors.append('manager %s unreachable (%s)' % (addr, error))
    if not answering:
        fail(module, '; '.join(errors) + ': no manager answers, the node was not changed. Check the addresses, '
                                         'that the managers run, and that port 2377/tcp is open to this node',
             **result)
    remote_addrs = answering + [a for a in params['remote_addrs'] if a not in answering]

    diff = {'before': {'local_node_state': state, 'role': node_role(info)},
            'after': {'local_node_state': 'active', 'role': want}}
    for error in errors:
        module.warn(error + '; joining through the managers that answer')
    if module.check_mode:
        module.exit_json(changed=True, node_id=None, role=want, swarm_ca_digest=ours, remote_managers=remote_addrs,
                         diff=diff, **dict(result, joined=True, left_other_swarm=must_leave))

    if must_leave:
        try:
            leave(client, force=True)
        except EngineError as exc:
            fail(module, 'leaving the other swarm failed: %s' % exc, **result)
        result['left_other_swarm'] = True

    body = {'ListenAddr': params['listen_addr'], 'RemoteAddrs': remote_addrs, 'JoinToken': params['join_token']}
    if params['advertise_addr']:
        body['AdvertiseAddr'] = params['advertise_addr']
    if params['data_path_addr']:
        body['DataPathAddr'] = params['data_path_addr']
    if params['availability']:
        body['Availability'] = params['availability']
    try:
        client.post('/swarm/join', data=body)
    except EngineError as exc:
        restore(client)
        fail(module, map_join_error(exc.message, remote_addrs) + '; the node was left out of any swarm'
             if result['left_other_swarm'] else map_join_error(exc.message, remote_addrs) + '; the node was not changed',
             **result)

    info = wait_active(client, params['timeout'], want_role=want)
    have = node_role(info)
    if have is None:
        restore(client)
        fail(module, 'the join through %s did not complete within %ds (node state %s); the node left again. Check that '
                     'ports 2377/tcp, 7946/tcp+udp and 4789/udp are open between this node and the managers'
             % (', '.join(remote_addrs), params['timeout'], info['Swarm'].get('LocalNodeState')), **result)
    if have != want:
        node_id = info['Swarm'].get('NodeID')
        undo_wrong_role(client, info, params['timeout'])
        fail(module, 'the join token is a %s token, but role is %s: the node joined as a %s and has left again '
                     '(node %s stays listed as Down on the managers: remove it with `docker node rm %s`). Pass the '
                     '%s token (join_tokens.%s of swarm_init)' % (have, want, have, node_id, node_id, want, want),
             **result)
    result['joined'] = True
    module.exit_json(changed=True, node_id=info['Swarm'].get('NodeID'), role=have, swarm_ca_digest=ours,
                     remote_managers=[m.get('Addr') for m in info['Swarm'].get('RemoteManagers') or []],
                     diff=diff, **result)


def restore(client):
    """After a failed join: make sure the node is out of any swarm, as it was."""
    try:
        if (client.info().get('Swarm') or {}).get('LocalNodeState') != 'inactive':
            leave(client, force=True)
    except EngineError:
        pass


def undo_wrong_role(client, info, timeout):
    """Leave after joining with the other role's token; a manager demotes itself first to keep the quorum."""
    swarm = info.get('Swarm') or {}
    if swarm.get('ControlAvailable'):
        node_id = swarm.get('NodeID')
        try:
            node = client.get('/nodes/%s' % node_id)
            spec = dict(node.get('Spec') or {}, Role='worker')
            client.post('/nodes/%s/update' % node_id, data=spec,
                        params={'version': (node.get('Version') or {}).get('Index')})
            wait_active(client, timeout, want_role='worker', grace=timeout)
        except EngineError:
            pass
    restore(client)


if __name__ == '__main__':
    main()
