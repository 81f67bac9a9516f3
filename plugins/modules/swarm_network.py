#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

DOCUMENTATION = r'''
module: swarm_network
short_description: Create and remove swarm overlay networks without pulling them from under their services
version_added: 0.1.0
description:
  - Runs on a swarm manager and converges one overlay network (O(name)) or many (O(networks)) like
    C(docker network create -d overlay) / C(docker network rm), but idempotent.
  - Only the options you set are compared; an option left out keeps what the network has (a new network gets
    Docker's default). The daemon's own additions (the VXLAN id, the gateway it picks) are ignored.
  - Docker cannot change a network in place, so a difference means removing the network and creating it again.
    A network that services use is never removed or recreated silently; the module fails, naming the services,
    unless O(force=true), which detaches them (a rolling update), recreates the network and attaches them again
    with the same aliases (a second rolling update).
author:
  - swarmops.swarm contributors (@swarmops)
extends_documentation_fragment:
  - swarmops.swarm.engine
attributes:
  check_mode:
    support: full
    description: Predicts C(changed), the diff and the services that would be detached, without any change.
  diff_mode:
    support: full
    description: Before/after of exactly the options that differ.
options:
  name:
    description:
      - The network's name. Required unless O(networks) is given.
    type: str
  networks:
    description:
      - Converge many networks in one call; each item takes this module's per-network options (O(name),
        O(state), O(attachable), ...). All items are validated and planned before the first change.
      - Mutually exclusive with O(name) and the other per-network options.
    type: list
    elements: dict
    suboptions:
      name:
        description: The network's name.
        type: str
        required: true
      state:
        description: V(present) or V(absent).
        type: str
        choices: [present, absent]
        default: present
      attachable:
        description: Standalone containers may attach (C(--attachable)).
        type: bool
      encrypted:
        description: Encrypt the VXLAN traffic between nodes with IPsec (C(--opt encrypted)).
        type: bool
      internal:
        description: No route out of the network (C(--internal)).
        type: bool
      ipam_driver:
        description: The IPAM driver.
        type: str
      ipam_config:
        description: Subnets, each with V(subnet) and optionally V(gateway), V(ip_range), V(aux_addresses).
        type: list
        elements: dict
      labels:
        description: Labels of the network.
        type: dict
      driver_options:
        description: Options of the overlay driver (C(--opt)).
        type: dict
      force:
        description: Detach the services that use the network when it must be removed or recreated.
        type: bool
        default: false
  state:
    description:
      - V(present) creates the network (or recreates it when it differs); V(absent) removes it.
    type: str
    choices: [present, absent]
    default: present
  attachable:
    description:
      - Let standalone containers (C(docker run --network)) attach to the network, not only services.
    type: bool
  encrypted:
    description:
      - Encrypt the network's traffic between nodes with IPsec (ESP, IP protocol 50, which the firewall role
        allows between members). The nodes' kernels need ESP and AES-GCM (C(esp4), C(rfc4106(gcm(aes)))); without
        them Docker logs C(Failed Adding SA) and traffic between nodes is dropped.
    type: bool
  internal:
    description:
      - Give the network no route to the outside.
    type: bool
  ipam_driver:
    description:
      - The IPAM driver (Docker's is V(default)).
    type: str
  ipam_config:
    description:
      - Subnets of the network. Each is a dict with V(subnet) (CIDR with the network address, required),
        V(gateway), V(ip_range) (a CIDR inside the subnet) and V(aux_addresses) (host name to address).
      - Left out, the swarm picks a subnet from its address pool.
    type: list
    elements: dict
  labels:
    description:
      - Labels of the network, compared as a whole when given.
    type: dict
  driver_options:
    description:
      - Options of the overlay driver (C(--opt KEY=VALUE)), compared as a whole when given (the VXLAN id list the
        daemon adds is ignored). V(encrypted) may be given here or as O(encrypted), not both.
    type: dict
  force:
    description:
      - When a network that services use must be removed or recreated, detach the services first (and attach them
        again to the recreated network). Without it the module fails and names the services.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait for detached or re-attached services to converge, and for a network's last tasks to leave
        it before it is removed.
    type: int
    default: 120
notes:
  - Runs on a swarm manager. Creates overlay networks of scope C(swarm) only.
seealso:
  - module: swarmops.swarm.swarm_service
  - module: swarmops.swarm.swarm_stack
'''

EXAMPLES = r'''
- name: An encrypted overlay network for the back end (docker network create -d overlay --opt encrypted backend)
  swarmops.swarm.swarm_network:
    name: backend
    encrypted: true
    attachable: true
    ipam_config:
      - subnet: 10.20.0.0/24
        gateway: 10.20.0.1
    labels:
      team: payments

- name: Every network of the inventory in one call
  swarmops.swarm.swarm_network:
    networks: "{{ swarm_networks }}"

- name: Change the subnet of a network in use (its services are detached, it is recreated, they are attached again)
  swarmops.swarm.swarm_network:
    name: backend
    ipam_config:
      - subnet: 10.30.0.0/24
    force: true

- name: Remove a network
  swarmops.swarm.swarm_network:
    name: old-frontend
    state: absent
'''

RETURN = r'''
network:
  description: The network after the run (predicted in check mode), in this module's option names.
  returned: when O(name) is given and the network exists after the run
  type: dict
  sample: {id: 9k2x..., name: backend, driver: overlay, scope: swarm, attachable: true, encrypted: true,
           internal: false, ipam_driver: default, ipam_config: [{subnet: 10.20.0.0/24, gateway: 10.20.0.1}],
           labels: {team: payments}, driver_options: {}}
operation:
  description: What was done (or would be, in check mode).
  returned: when O(name) is given
  type: str
  sample: recreate
recreated:
  description: Whether the network was removed and created again.
  returned: when O(name) is given
  type: bool
recreate_reason:
  description: Why the network had to be recreated.
  returned: when RV(recreated) is true
  type: str
detached:
  description: The services detached (and, on a recreate, attached again) because of O(force).
  returned: when O(name) is given
  type: list
  elements: str
diff:
  description: Before/after of exactly the options that differ.
  returned: when changed
  type: dict
  sample: {before: {encrypted: false}, after: {encrypted: true}}
networks:
  description: With O(networks), one result per item (name, changed, operation, network, recreated, recreate_reason,
    detached, diff).
  returned: when O(networks) is given
  type: list
  elements: dict
'''

import copy

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.swarmops.swarm.plugins.module_utils._engine import (
    ENGINE_ARGUMENT_SPEC, EngineClient, EngineError)
from ansible_collections.swarmops.swarm.plugins.module_utils import _swarm_network
from ansible_collections.swarmops.swarm.plugins.module_utils import _swarm_objects

NETWORK_SPEC = _swarm_objects.NETWORK_ITEM_SPEC


def argument_spec():
    spec = copy.deepcopy(NETWORK_SPEC)
    item = copy.deepcopy(NETWORK_SPEC)
    item['name']['required'] = True
    spec.update(networks=dict(type='list', elements='dict', options=item), wait_timeout=dict(type='int', default=120))
    spec.update(ENGINE_ARGUMENT_SPEC)
    return spec


def main():
    module = AnsibleModule(argument_spec=argument_spec(), mutually_exclusive=[('name', 'networks')],
                           required_one_of=[('name', 'networks')], supports_check_mode=True)
    items = _swarm_objects.items_from_params(module, NETWORK_SPEC, 'networks', 'network')
    wanted = []
    for item in items:
        try:
            wanted.append(_swarm_network.validate(item))
        except _swarm_network.NetworkError as exc:
            prefix = '' if module.params['networks'] is None else 'network %s: ' % item.get('name')
            module.fail_json(msg=prefix + to_native(exc))
    client = EngineClient.from_module(module)
    try:
        results = _swarm_objects.converge_networks(client, wanted, module.check_mode, module.params['wait_timeout'])
    except _swarm_network.NetworkError as exc:
        module.fail_json(msg=to_native(exc), changed=False)
    except _swarm_objects.ObjectsError as exc:
        module.fail_json(msg=to_native(exc), changed=exc.changed, networks=exc.results)
    except EngineError as exc:
        module.fail_json(msg='Docker engine error: %s' % to_native(exc))
    if module.params['networks'] is None:
        module.exit_json(**results[0])
    module.exit_json(changed=any(r['changed'] for r in results), networks=results,
                     diff=_swarm_objects.bulk_diff(results))


if __name__ == '__main__':
    main()
