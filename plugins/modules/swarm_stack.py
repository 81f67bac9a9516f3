#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

DOCUMENTATION = r'''
module: swarm_stack
short_description: Deploy compose files as swarm stacks, idempotently, and wait until they run
version_added: 0.1.0
description:
  - Runs on a swarm manager and deploys one stack (O(name)) or many (O(stacks)) from compose files, like
    C(docker stack deploy --prune --with-registry-auth -c FILE NAME), through the Engine API (no Docker CLI needed).
  - The objects are the ones C(docker stack deploy) makes - services C(NAME_service), overlay networks
    C(NAME_network) (C(NAME_default) for services that name none), named volumes C(NAME_volume), all labelled
    C(com.docker.stack.namespace=NAME) - so C(docker stack ls/ps/services/rm) work on them.
  - Each service is compared with its current spec like M(swarmops.swarm.swarm_service) does, and only the services
    that differ are updated; a re-run with the same files changes nothing. A service is declared whole - a key left
    out of the compose file means Docker's default, as with C(docker stack deploy).
  - Services of the stack that the files no longer have are removed (O(prune)). O(state=absent) removes the stack's
    services, then its networks once their tasks are gone, like C(docker stack rm).
  - Secrets and configs must be external (C(external=true)) - declare their values with
    M(swarmops.swarm.swarm_secret) / M(swarmops.swarm.swarm_config), which version them; a service refers to the
    current version of each, by the name it was declared with.
  - No variable interpolation (C(${VAR}) is refused; C($$) is a literal C($)) - template the compose file with Jinja
    on the controller instead. Keys swarm services do not use (C(build), C(depends_on), C(restart), ...) are
    ignored with a warning, as the CLI does; keys this module does not support are refused, naming them.
author:
  - swarmops.swarm contributors (@swarmops)
extends_documentation_fragment:
  - swarmops.swarm.engine
attributes:
  check_mode:
    support: full
    description: Predicts the services and networks created, updated and pruned, with their diffs.
  diff_mode:
    support: full
    description: Per service and network, exactly the options that differ; pruned services as absent.
options:
  name:
    description:
      - The stack's name (letters, digits, C(-) and C(_)). Required unless O(stacks) is given.
    type: str
  stacks:
    description:
      - Deploy many stacks in one call; each item takes this module's per-stack options (O(name), O(state),
        O(compose), O(prune), O(force)). All are validated before the first change.
      - Mutually exclusive with O(name) and the other per-stack options.
    type: list
    elements: dict
    suboptions:
      name:
        description: The stack's name.
        type: str
        required: true
      state:
        description: V(present) or V(absent).
        type: str
        choices: [present, absent]
        default: present
      compose:
        description: Compose mappings, merged in order.
        type: list
        elements: raw
      prune:
        description: Remove the stack's services that the files no longer have.
        type: bool
        default: true
      force:
        description: Recreate a changed stack network even though the stack's services use it.
        type: bool
        default: false
  state:
    description:
      - V(present) deploys the stack; V(absent) removes it.
    type: str
    choices: [present, absent]
    default: present
  compose:
    description:
      - The compose files' contents, as mappings (a list is merged in order, like several C(-c) files - mappings key
        by key, later files winning, lists replaced). A YAML string is parsed on the manager (needs PyYAML there);
        on the controller C("{{ lookup('ansible.builtin.template', 'app.yml.j2') | from_yaml }}") does it.
      - Required with O(state=present).
    type: list
    elements: raw
  prune:
    description:
      - Remove the services of the stack that the compose files no longer have (C(--prune)).
    type: bool
    default: true
  force:
    description:
      - When a network of the stack changed (a network cannot be changed in place) and the stack's services use it,
        detach them, recreate the network and attach them again. Without it the module fails and says why.
    type: bool
    default: false
  registry_auth:
    description:
      - Credentials of a private registry, sent with the services whose image comes from it (what
        C(--with-registry-auth) does), so the workers can pull. Checked with the registry (through the manager's
        engine) before anything changes, so a wrong password fails the run with the registry's answer.
      - Never shown; sent only for images of that registry.
    type: dict
    suboptions:
      server:
        description: The registry, as in image names (V(registry.example.com:5000)).
        type: str
        required: true
      username:
        description: The user.
        type: str
        required: true
      password:
        description: The password or token (from Ansible Vault).
        type: str
        required: true
  expect:
    description:
      - Objects that earlier tasks of the same run create (the C(swarm_objects) role passes what it declares);
        in check mode, where those tasks created nothing, they are taken as existing instead of refused as
        missing. Ignored outside check mode.
    type: dict
    suboptions:
      networks:
        description: Network names.
        type: list
        elements: str
        default: []
      secrets:
        description: Secret names (as declared, not versioned).
        type: list
        elements: str
        default: []
      configs:
        description: Config names.
        type: list
        elements: str
        default: []
  wait:
    description:
      - Return when every changed service has converged; fail with Docker's task errors otherwise (like
        M(swarmops.swarm.swarm_service)'s O(swarmops.swarm.swarm_service#module:wait)).
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for the services, and for a removed stack's tasks to leave its networks.
    type: int
    default: 300
notes:
  - Runs on a swarm manager. Images are not resolved to digests (the services run the tag given).
seealso:
  - module: swarmops.swarm.swarm_service
  - module: swarmops.swarm.swarm_network
  - module: swarmops.swarm.swarm_secret
'''

EXAMPLES = r'''
- name: A stack from a templated compose file (docker stack deploy --prune --with-registry-auth -c app.yml app)
  swarmops.swarm.swarm_stack:
    name: app
    compose:
      - "{{ lookup('ansible.builtin.template', 'app.yml.j2') | from_yaml }}"
    registry_auth:
      server: registry.example.com
      username: deploy
      password: "{{ vault_registry_password }}"

- name: An inline compose file
  swarmops.swarm.swarm_stack:
    name: web
    compose:
      - services:
          front:
            image: nginx:1.27
            ports: ["8080:80"]
            deploy:
              replicas: 2
          cache:
            image: redis:7

- name: Every stack of the inventory in one call
  swarmops.swarm.swarm_stack:
    stacks: "{{ swarm_stacks }}"

- name: Remove a stack (docker stack rm web)
  swarmops.swarm.swarm_stack:
    name: web
    state: absent
'''

RETURN = r'''
stack:
  description: The stack's result, when O(name) is given.
  returned: when O(name) is given
  type: dict
  contains:
    name:
      description: The stack's name.
      type: str
    services:
      description: One result per service of the compose files (name, changed, operation, diff, tasks, failed, msg).
      type: list
      elements: dict
    networks:
      description: One result per network the stack creates (like M(swarmops.swarm.swarm_network)'s).
      type: list
      elements: dict
    pruned:
      description: The services removed because the files no longer have them.
      type: list
      elements: str
    removed:
      description: With O(state=absent), the services, networks, secrets and configs removed.
      type: dict
    warnings_from_compose:
      description: Keys of the compose files that were ignored.
      type: list
      elements: str
stacks:
  description: With O(stacks), one result per stack (as RV(stack)).
  returned: when O(stacks) is given
  type: list
  elements: dict
diff:
  description: Per service and network of the stacks, before/after of exactly what differs.
  returned: when changed
  type: dict
'''

import copy

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.swarmops.swarm.plugins.module_utils._engine import (
    ENGINE_ARGUMENT_SPEC, EngineClient, EngineError)
from ansible_collections.swarmops.swarm.plugins.module_utils import _registry_auth
from ansible_collections.swarmops.swarm.plugins.module_utils import _swarm_objects

try:
    import yaml
except ImportError:  # pragma: no cover - only YAML strings need it
    yaml = None

STACK_SPEC = _swarm_objects.STACK_ITEM_SPEC


def argument_spec():
    spec = copy.deepcopy(STACK_SPEC)
    item = copy.deepcopy(STACK_SPEC)
    item['name']['required'] = True
    spec.update(stacks=dict(type='list', elements='dict', options=item),
                registry_auth=dict(type='dict', options=copy.deepcopy(_registry_auth.AUTH_OPTIONS), no_log=False),
                expect=dict(type='dict', options=dict(
                    networks=dict(type='list', elements='str', default=[]),
                    secrets=dict(type='list', elements='str', default=[], no_log=False),
                    configs=dict(type='list', elements='str', default=[]))),
                wait=dict(type='bool', default=True), wait_timeout=dict(type='int', default=300))
    spec.update(ENGINE_ARGUMENT_SPEC)
    return spec


def parse_documents(module, stack, compose):
    """Compose strings -> mappings (PyYAML on this node); mappings as they are."""
    documents = []
    for index, document in enumerate(compose or []):
        if isinstance(document, str):
            if yaml is None:
                module.fail_json(msg='stack %s: compose[%d] is a string and PyYAML is not installed on %s; give the '
                                     'mapping (| from_yaml on the controller)' % (stack, index, 'this manager'))
            try:
                document = yaml.safe_load(document)
            except yaml.YAMLError as exc:
                module.fail_json(msg='stack %s: compose[%d] is not YAML: %s' % (stack, index, exc))
        documents.append(document)
    return documents


def main():
    module = AnsibleModule(argument_spec=argument_spec(), mutually_exclusive=[('name', 'stacks')],
                           required_one_of=[('name', 'stacks')], supports_check_mode=True)
    items = _swarm_objects.items_from_params(module, STACK_SPEC, 'stacks', 'stack')
    prepared = []
    for item in items:
        if not _swarm_objects.STACK_NAME.match(item['name']):
            module.fail_json(msg='stack %r: name must be letters, digits, "-" and "_", starting with a letter or '
                                 'digit' % item['name'])
        item = dict(item, compose=parse_documents(module, item['name'], item.get('compose')))
        try:
            prepared.append(_swarm_objects.prepare_stack(item))
        except _swarm_objects.ObjectsError as exc:
            module.fail_json(msg=to_native(exc))
    auth = None
    try:
        auth = _registry_auth.validate(module.params['registry_auth'])
    except _registry_auth.RegistryAuthError as exc:
        module.fail_json(msg=to_native(exc))
    expect = module.params['expect'] or {}
    expected = {'network': expect.get('networks') or [], 'secret': expect.get('secrets') or [],
                'config': expect.get('configs') or []}
    engine = EngineClient.from_module(module)
    results = []
    try:
        if auth and any(p['state'] == 'present' for p in prepared):
            _registry_auth.check(engine, auth, EngineError)
        client = _swarm_objects.AuthenticatingClient(engine, auth)
        for stack in prepared:
            if stack['state'] == 'absent':
                result = _swarm_objects.remove_stack(client, stack['name'], module.check_mode,
                                                     module.params['wait_timeout'])
            else:
                result = _swarm_objects.converge_stack(client, stack['name'], stack, module.check_mode,
                                                       module.params['wait'], module.params['wait_timeout'],
                                                       expected)
            results.append(result)
            if result.get('failed'):
                break
    except _registry_auth.RegistryAuthError as exc:
        module.fail_json(msg=to_native(exc), changed=False)
    except (_swarm_objects.ObjectsError, EngineError) as exc:
        message = _registry_auth.scrub(exc, auth)
        done = [r['name'] for r in results if r['changed']]
        module.fail_json(msg=message + (' (already changed: stack %s)' % ', '.join(done) if done else ''),
                         changed=bool(done), stacks=results)
    summary = {'changed': any(r['changed'] for r in results), 'diff': _swarm_objects.bulk_diff(results)}
    for result in results:
        for warning in result.get('warnings_from_compose') or []:
            module.warn(warning)
    if module.params['stacks'] is None:
        summary['stack'] = results[0]
    else:
        summary['stacks'] = results
    failed = [r for r in results if r.get('failed')]
    if failed:
        module.fail_json(msg='; '.join(r['msg'] for r in failed), **summary)
    module.exit_json(**summary)


if __name__ == '__main__':
    main()
