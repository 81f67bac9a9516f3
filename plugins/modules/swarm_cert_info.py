#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

DOCUMENTATION = r'''
module: swarm_cert_info
short_description: This node's swarm TLS certificate - its expiry, role and swarm
version_added: 0.1.0
description:
  - Reads the certificate the node uses in the swarm (C(swarm/certificates/swarm-node.crt) under the engine's
    data root) and reports when it expires, like C(openssl x509 -enddate) on that file would. Swarm renews node
    certificates on its own before they expire; a node that was offline through its certificate's expiry cannot
    rejoin, so an expiry that comes close is worth a look. Runs on any node of a swarm, manager or worker.
  - The Engine API does not report node certificates, so the file is read on the node itself (root needed, and a
    local engine - O(docker_host) must be the node's own).
  - Never changes anything.
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
    description: Nothing changes.
options:
  warn_days:
    description: A certificate expiring within this many days is flagged (RV(certificate.expires_soon)).
    type: int
    default: 30
seealso:
  - module: swarmops.swarm.swarm_ca
'''

EXAMPLES = r'''
- name: Read every node's certificate expiry
  swarmops.swarm.swarm_cert_info:
  register: swarm_cert

- name: Flag certificates that expire within 30 days
  ansible.builtin.debug:
    msg: "{{ inventory_hostname }}: certificate expires {{ swarm_cert.certificate.not_after }}"
  when: swarm_cert.certificate.expires_soon
'''

RETURN = r'''
hostname:
  description: The engine's hostname (as the node list shows it).
  returned: always
  type: str
certificate:
  description: The node's certificate; null when the node is in no swarm.
  returned: always
  type: dict
  contains:
    node_id:
      description: The node ID it was issued to.
      type: str
    role:
      description: V(manager) or V(worker), as the certificate says.
      type: str
    cluster_id:
      description: The swarm it was issued in.
      type: str
    issuer:
      description: Its issuer's common name.
      type: str
    not_before:
      description: Start of validity (UTC, ISO 8601).
      type: str
    not_after:
      description: End of validity (UTC, ISO 8601).
      type: str
    expires_in_days:
      description: Days until it expires (negative once expired).
      type: float
    expires_soon:
      description: Whether it expires within O(warn_days).
      type: bool
    expired:
      description: Whether it has expired.
      type: bool
'''

import datetime
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.swarm.plugins.module_utils._engine import (
    ENGINE_ARGUMENT_SPEC, EngineClient, EngineError)
from ansible_collections.swarmops.swarm.plugins.module_utils.swarm_cluster import redact
from ansible_collections.swarmops.swarm.plugins.module_utils._swarm_certs import CertificateError, certificate_report

NODE_CERT = os.path.join('swarm', 'certificates', 'swarm-node.crt')


def main():
    argument_spec = dict(warn_days=dict(type='int', default=30))
    argument_spec.update(ENGINE_ARGUMENT_SPEC)
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    client = EngineClient.from_module(module)
    try:
        info = client.get('/info') or {}
    except EngineError as exc:
        module.fail_json(msg=redact('Docker engine error: %s' % exc))
    result = dict(changed=False, hostname=info.get('Name'), certificate=None)
    state = (info.get('Swarm') or {}).get('LocalNodeState') or 'inactive'
    if state == 'inactive':
        module.exit_json(msg='this node is in no swarm', **result)
    path = os.path.join(info.get('DockerRootDir') or '/var/lib/docker', NODE_CERT)
    try:
        with open(path, 'rb') as handle:
            pem = handle.read()
    except (IOError, OSError) as exc:
        module.fail_json(msg='cannot read the node certificate %s (%s): the module reads it on the node itself, as '
                             'root, from the local engine\'s data root' % (path, exc), **result)
    try:
        result['certificate'] = certificate_report(pem, datetime.datetime.utcnow(), module.params['warn_days'])
    except CertificateError as exc:
        module.fail_json(msg='%s: %s' % (path, exc), **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
