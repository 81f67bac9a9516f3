#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

DOCUMENTATION = r'''
module: swarm_ca
short_description: Rotate the swarm's root CA and wait until every node has a certificate from the new one
version_added: 0.1.0
description:
  - The C(docker swarm ca --rotate) of the Engine API - a swarm update with C(CAConfig.ForceRotate) raised by one,
    so that swarmkit generates a new root CA, issues every node a new certificate from it, and then makes every
    node trust only the new root. Runs on a manager.
  - With O(wait), waits as C(docker swarm ca --rotate) does - until every node's certificate is issued by the
    new root, the swarm reports no rotation in progress, and every node trusts the new root.
  - A node that is C(down) would hold the rotation forever (swarmkit finishes it only when every node in the
    list has a new certificate), so a rotation is refused, before anything changes, while the node list has one;
    bring it back, or remove it (C(playbooks/remove_node.yml), or swarm_node O(swarmops.swarm.swarm_node#module:prune_stale)).
  - Without O(rotate), only reports the root CA and any rotation in progress (never changes anything).
author:
  - swarmops.swarm contributors (@swarmops)
extends_documentation_fragment:
  - swarmops.swarm.engine
attributes:
  check_mode:
    support: full
    description: Says whether it would rotate (and refuses the same way); changes nothing.
  diff_mode:
    support: full
    description: Shows the root CA's digest before, and that a new one comes after.
options:
  rotate:
    description: Rotate the root CA (changed on every run where it is true).
    type: bool
    default: false
  wait:
    description: Wait until the rotation (a new one, or one found in progress) has finished on every node.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the rotation to finish.
    type: int
    default: 600
seealso:
  - module: swarmops.swarm.swarm_cert_info
  - module: swarmops.swarm.swarm_init
'''

EXAMPLES = r'''
- name: Rotate the root CA (docker swarm ca --rotate) and wait for every node
  swarmops.swarm.swarm_ca:
    rotate: true
  run_once: true

- name: Read the root CA and whether a rotation is running
  swarmops.swarm.swarm_ca:
    wait: false
  register: swarm_ca_state
'''

RETURN = r'''
root_ca:
  description: The swarm's root CA after the run.
  returned: success
  type: dict
  contains:
    digest:
      description: sha256 of its PEM text (short), to tell roots apart.
      type: str
    not_after:
      description: Its expiry (UTC, ISO 8601).
      type: str
    expires_in_days:
      description: Days until it expires.
      type: float
rotated:
  description: Whether a rotation was (or in check mode would be) started.
  returned: always
  type: bool
rotation:
  description: The rotation's progress when the module returned.
  returned: success
  type: dict
  contains:
    done:
      description: Every node has a certificate from, and trusts, the current root; no rotation in progress.
      type: bool
    in_progress:
      description: The swarm reports a root rotation in progress.
      type: bool
    nodes_total:
      description: Nodes in the node list.
      type: int
    certs_rotated:
      description: Nodes whose certificate is issued by the current root.
      type: int
    roots_rotated:
      description: Nodes that trust the current root.
      type: int
    waiting_for:
      description: Hostnames of the nodes not there yet.
      type: list
      elements: str
'''

import datetime
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.swarm.plugins.module_utils._engine import (
    ENGINE_ARGUMENT_SPEC, EngineClient, EngineError)
from ansible_collections.swarmops.swarm.plugins.module_utils.swarm_cluster import describe_state, redact
from ansible_collections.swarmops.swarm.plugins.module_utils._swarm_certs import (
    CertificateError, parse_certificate, pem_digest, rotation_blockers, rotation_progress)


def root_summary(swarm):
    pem = (swarm.get('TLSInfo') or {}).get('TrustRoot') or ''
    summary = {'digest': pem_digest(pem), 'not_after': None, 'expires_in_days': None}
    try:
        cert = parse_certificate(pem)
    except CertificateError:
        return summary
    left = cert['not_after'] - datetime.datetime.utcnow()
    summary.update(not_after=cert['not_after'].strftime('%Y-%m-%dT%H:%M:%SZ'),
                   expires_in_days=round(left.days + left.seconds / 86400.0, 1))
    return summary


def main():
    argument_spec = dict(
        rotate=dict(type='bool', default=False),
        wait=dict(type='bool', default=True),
        wait_timeout=dict(type='int', default=600),
    )
    argument_spec.update(ENGINE_ARGUMENT_SPEC)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if module.params['wait_timeout'] < 0:
        module.fail_json(msg='wait_timeout: %r is negative' % module.params['wait_timeout'])
    client = EngineClient.from_module(module)
    result = dict(changed=False, rotated=False)
    try:
        run(module, client, result)
    except EngineError as exc:
        module.fail_json(msg=redact('Docker engine error: %s' % exc), **result)


def run(module, client, result):
    params = module.params
    info = client.get('/info') or {}
    if not (info.get('Swarm') or {}).get('ControlAvailable'):
        module.fail_json(msg='%s: swarm_ca runs on a manager' % describe_state(info), **result)
    swarm = client.get('/swarm') or {}
    nodes = client.get('/nodes') or []
    before = root_summary(swarm)
    if params['rotate']:
        blockers = rotation_blockers(nodes)
        if blockers:
            module.fail_json(msg='refusing to rotate the root CA: %s %s down, and a rotation finishes only when every '
                                 'node in the list has a certificate from the new root. Bring them back, or remove '
                                 'them (playbooks/remove_node.yml; stale entries of hosts that joined again: '
                                 'swarm_node prune_stale). Nothing was changed'
                                 % (', '.join(blockers), 'is' if len(blockers) == 1 else 'are'),
                             root_ca=before, rotation=rotation_progress(swarm, nodes), **result)
        result.update(changed=True, rotated=True,
                      diff={'before': {'root_ca': before['digest']}, 'after': {'root_ca': '(a new root CA)'}})
        if module.check_mode:
            module.exit_json(root_ca=before, rotation=rotation_progress(swarm, nodes), **result)
        spec = swarm.get('Spec') or {}
        ca_config = spec.setdefault('CAConfig', {})
        # ForceRotate is a counter: any new value starts a rotation with a root CA that swarmkit generates.
        ca_config['ForceRotate'] = int(ca_config.get('ForceRotate') or 0) + 1
        client.post('/swarm/update', data=spec, params={'version': (swarm.get('Version') or {}).get('Index')})
    if params['wait'] and not module.check_mode:
        progress = wait_for_rotation(module, client, result, started=result['rotated'], old_root=before['digest'])
    else:
        progress = rotation_progress(client.get('/swarm') or {}, client.get('/nodes') or [])
    module.exit_json(root_ca=root_summary(client.get('/swarm') or {}), rotation=progress, **result)


def wait_for_rotation(module, client, result, started, old_root):
    deadline = time.time() + module.params['wait_timeout']
    while True:
        swarm = client.get('/swarm') or {}
        progress = rotation_progress(swarm, client.get('/nodes') or [])
        # Right after the update the swarm may still report the old root as converged: a rotation we started is
        # done only once the root changed.
        if progress['done'] and not (started and root_summary(swarm)['digest'] == old_root):
            return progress
        if time.time() > deadline:
            module.fail_json(msg='the root CA rotation has not finished within %ss: %d of %d nodes have a certificate '
                                 'from the new root, %d trust it; waiting for %s. It goes on in the background: run '
                                 'again to wait for it' % (module.params['wait_timeout'], progress['certs_rotated'],
                                                           progress['nodes_total'], progress['roots_rotated'],
                                                           ', '.join(progress['waiting_for']) or 'the swarm'),
                             rotation=progress, root_ca=root_summary(swarm), **result)
        time.sleep(1)


if __name__ == '__main__':
    main()
