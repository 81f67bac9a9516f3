# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Engine calls for the swarm objects: networks, secrets, configs and stacks.

The decisions are made by the pure modules (_swarm_network, _swarm_versioned, _swarm_compose,
swarm_spec); this file reads the engine, hands them what it read, and applies their plans. Reads are
batched: one GET of the networks / secrets / configs and one of the services serve every object of
a call. Every plan of a call is made (and every refusal raised) before the first change. A service
whose references change (a network recreated, a secret rotated) is updated once and all of them are
waited for together, with swarm_service's wait.

Only the client's get/post/delete are used.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
import time

from ansible_collections.swarmops.swarm.plugins.module_utils._engine import EngineError
from ansible_collections.swarmops.swarm.plugins.module_utils import swarm_spec
from ansible_collections.swarmops.swarm.plugins.module_utils.swarm_service import Converger
from ansible_collections.swarmops.swarm.plugins.module_utils import _registry_auth
from ansible_collections.swarmops.swarm.plugins.module_utils import _swarm_compose
from ansible_collections.swarmops.swarm.plugins.module_utils import _swarm_network
from ansible_collections.swarmops.swarm.plugins.module_utils import _swarm_versioned

POLL_INTERVAL = 1.0
_SERVICE_WRITE = re.compile(r'^/services/(create|[^/]+/update)$')
# Stack names become service name prefixes (NAME_service): the service name rule, without dots.
STACK_NAME = re.compile(r'^[a-zA-Z0-9][a-zA-Z0-9_-]*$')


class ObjectsError(Exception):
    """A refused or failed step; RESULTS holds what was done before it (for the module's result)."""

    def __init__(self, message, results=None, changed=False):
        super(ObjectsError, self).__init__(message)
        self.message = message
        self.results = results or []
        self.changed = changed or any(r.get('changed') for r in self.results)

    def __str__(self):
        return self.message


# ---- registry credentials on service writes ---------------------------------------------------------------

class AuthenticatingClient(object):
    """The engine client, adding X-Registry-Auth to the service create/update calls whose image comes from
    the registry of AUTH (what `--with-registry-auth` does); every other call passes through unchanged."""

    def __init__(self, client, auth):
        self.client = client
        self.auth = auth

    def __getattr__(self, name):
        # Everything else the service converger asks of a client (api_version, info, ...) is the engine's own.
        return getattr(self.client, name)

    def get(self, path, params=None, headers=None):
        return self.client.get(path, params=params, headers=headers)

    def delete(self, path, params=None):
        return self.client.delete(path, params=params)

    def post(self, path, data=None, params=None, headers=None):
        if self.auth and _SERVICE_WRITE.match(path) and isinstance(data, dict):
            image = swarm_spec._dig(data, ('TaskTemplate', 'ContainerSpec', 'Image'))
            headers = dict(headers or {}, **_registry_auth.headers_for(image, self.auth))
        return self.client.post(path, data=data, params=params, headers=headers)


# ---- services whose references change --------------------------------------------------------------------

class ServiceUpdates(object):
    """Spec edits of existing services, each POSTed with the version read, then waited for together."""

    def __init__(self, client, check_mode):
        self.client = client
        self.check_mode = check_mode
        self._services = None
        self.plans = []

    def services(self):
        if self._services is None:
            self._services = self.client.get('/services') or []
        return self._services

    def refresh(self):
        self._services = None

    def by_name(self, name):
        for service in self.services():
            if service['Spec']['Name'] == name:
                return service
        raise ObjectsError('service %s disappeared while its references were being changed' % name)

    def update(self, service, spec):
        plan = {'id': service['ID'], 'name': service['Spec']['Name'], 'started': time.time(),
                'previous_update': (service.get('UpdateStatus') or {}).get('StartedAt'), 'params': {},
                'action': 'update'}
        if not self.check_mode:
            # No X-Registry-Auth: the engine then keeps the credentials the service was created with.
            self.client.post('/services/%s/update' % service['ID'], data=spec,
                             params={'version': service['Version']['Index']})
        self.plans.append(plan)
        return plan

    def wait(self, timeout):
        """Wait until every service updated since the last wait converged; returns the failure messages."""
        plans = [p for p in self.plans if not p.get('waited')]
        for plan in plans:
            plan['waited'] = True
        if self.check_mode or not plans:
            return []
        Converger(self.client).wait(plans, timeout)
        messages = []
        for plan in plans:
            if plan.get('failure'):
                errors = (plan.get('tasks') or {}).get('errors') or []
                messages.append(plan['failure'] + ('; task errors: ' + ' | '.join(errors[:3]) if errors else ''))
        return messages


def delete_when_free(client, path, what, timeout):
    """DELETE PATH, retrying while the engine says the object is still in use (tasks shutting down), then
    wait until a GET no longer finds it: a manager lists a removed swarm network for a moment after the
    DELETE, and a run that ends in that moment would leave the next one seeing it still there."""
    deadline = time.time() + timeout
    while True:
        try:
            client.delete(path)
            break
        except EngineError as exc:
            if exc.status == 404:
                return
            if time.time() >= deadline:
                raise ObjectsError('%s: still refused after %ss: %s' % (what, timeout, exc))
        time.sleep(POLL_INTERVAL)
    while time.time() < deadline:
        try:
            client.get(path)
        except EngineError as exc:
            if exc.status == 404:
                return
            raise
        time.sleep(POLL_INTERVAL / 4)


# ---- networks -----------------------------------------------------------------------------------------------

def plan_networks(client, wanted, networks=None, updates=None):
    """[(desired, plan)] for the validated networks WANTED; NetworkError for the first refusal."""
    networks = client.get('/networks') if networks is None else networks
    services = updates.services() if updates is not None else client.get('/services') or []
    plans = []
    for desired in wanted:
        matches = [n for n in networks or [] if n.get('Name') == desired['name']]
        swarm = [n for n in matches if n.get('Scope') == 'swarm']
        users = _swarm_network.holders(swarm[0], services) if len(swarm) == 1 else []
        plans.append((desired, _swarm_network.plan(desired, matches, users)))
    return plans


def apply_network(client, updates, desired, plan, check_mode, timeout, extra_labels=None):
    """Carry out one network plan; sets plan['network'] (engine JSON, predicted in check mode)."""
    action, current = plan['action'], plan['current']
    plan['network'] = current
    if not action:
        return
    entries = {}
    if plan['detach']:
        plan['touched'] = not check_mode
        for name in plan['detach']:
            service = updates.by_name(name)
            spec, entries[name] = _swarm_network.detach_spec(service['Spec'], current)
            updates.update(service, spec)
        failures = updates.wait(timeout)
        if failures:
            raise ObjectsError('network %s: detaching the services failed, nothing removed: %s'
                               % (desired['name'], '; '.join(failures)))
    if action in ('remove', 'recreate') and not check_mode:
        plan['touched'] = True
        delete_when_free(client, '/networks/%s' % current['Id'], 'removing network %s' % desired['name'], timeout)
    if action == 'remove':
        plan['network'] = None
        return
    body = _swarm_network.create_body(desired['name'], desired['fields'], extra_labels)
    if check_mode:
        plan['network'] = _swarm_network.predicted_network(desired['name'], desired['fields'])
    else:
        answer = client.post('/networks/create', data=body)
        plan['network'] = client.get('/networks/%s' % answer['Id'])
    if entries:
        updates.refresh()
        for name, removed in entries.items():
            service = updates.by_name(name)
            updates.update(service, _swarm_network.attach_spec(service['Spec'], plan['network'].get('Id'), removed))
        failures = updates.wait(timeout)
        if failures:
            raise ObjectsError('network %s was recreated but attaching the services again failed: %s'
                               % (desired['name'], '; '.join(failures)))


def network_result(desired, plan):
    action = plan['action']
    result = {'name': desired['name'], 'changed': bool(action), 'operation': action or 'none',
              'recreated': action == 'recreate', 'detached': list(plan['detach']) if action else [],
              'network': _swarm_network.summary(plan.get('network', plan['current']))}
    if action == 'recreate':
        result['recreate_reason'] = plan['reason']
    if action:
        result['diff'] = {'before': plan['before'], 'after': plan['after']}
    return result


def converge_networks(client, wanted, check_mode, timeout):
    """Every network of WANTED (validated), planned first, then applied in order; [results]."""
    updates = ServiceUpdates(client, check_mode)
    plans = plan_networks(client, wanted, updates=updates)
    results = []
    for desired, plan in plans:
        try:
            apply_network(client, updates, desired, plan, check_mode, timeout)
        except (ObjectsError, EngineError) as exc:
            raise ObjectsError('network %s: %s' % (desired['name'], exc), results, changed=plan.get('touched'))
        results.append(network_result(desired, plan))
    return results


# ---- secrets and configs --------------------------------------------------------------------------------------

def converge_versioned(client, kind, wanted, hash_key, check_mode, wait, timeout):
    """Every secret/config of WANTED (validated): new versions, services rolled onto them, old versions
    pruned once the services converged. Returns [plan] (see _swarm_versioned.plan)."""
    objects = client.get('/%ss' % kind) or []
    updates = ServiceUpdates(client, check_mode)
    users = _swarm_versioned.references(updates.services(), kind)
    plans = []
    for desired in wanted:
        found = _swarm_versioned.versions(objects, desired['name'])
        plan = _swarm_versioned.plan(desired, found, users, kind, hash_key)
        plan['ids'] = dict((v['name'], v['id']) for v in found)
        plan['found'] = found
        plans.append(plan)
    done = []
    try:
        for plan in plans:
            if plan['action'] == 'create':
                plan['current_id'] = None
                if not check_mode:
                    plan['current_id'] = client.post('/%ss/create' % kind, data=plan['create'])['ID']
                plan['create'] = None  # the value is not kept past the call that needed it
            elif plan['action'] == 'labels':
                version = plan['found'][-1]
                plan['current_id'] = version['id']
                labels = dict(plan['labels'])
                labels.update(dict((k, v) for k, v in version['all_labels'].items() if k in _swarm_versioned.OWN_LABELS))
                if not check_mode:
                    client.post('/%ss/%s/update' % (kind, version['id']), data={'Name': version['name'], 'Labels': labels},
                                params={'version': version['version_index']})
            elif plan['current']:
                plan['current_id'] = plan['ids'].get(plan['current'])
            if plan['action']:
                done.append(plan['name'])
        moves = {}
        for plan in plans:
            for service, old_name in plan['rollout']:
                moves.setdefault(service, {})[plan['ids'][old_name]] = (plan['current_id'], plan['current'])
        for service_name in sorted(moves):
            service = updates.by_name(service_name)
            spec, _moved = _swarm_versioned.replace_references(service['Spec'], kind, moves[service_name])
            updates.update(service, spec)
        failures = updates.wait(timeout) if wait else []
        if failures:
            for plan in plans:
                plan['prune'] = []
            raise ObjectsError('moving the services onto the new %s versions failed; the old versions are kept: %s'
                               % (kind, '; '.join(failures)), [_swarm_versioned.public(p) for p in plans],
                               changed=not check_mode)
        for plan in plans:
            for version in plan['prune']:
                if not check_mode:
                    client.delete('/%ss/%s' % (kind, version['id']))
    except EngineError as exc:
        raise ObjectsError('Docker engine error: %s%s' % (exc, ' (already changed: %s)' % ', '.join(done) if done else ''),
                           changed=bool(done or updates.plans) and not check_mode)
    return [_swarm_versioned.public(p) for p in plans]


# ---- stacks ----------------------------------------------------------------------------------------------------

class _StackConverger(Converger):
    """swarm_service's Converger, aware of the networks a stack is about to create (planned in check mode,
    and in the first plan of a real run, under a placeholder ID) and, in check mode, of the objects that
    earlier tasks of the run create (EXPECTED: {'network'|'secret'|'config': names})."""

    def __init__(self, client, check_mode, planned, expected=None):
        Converger.__init__(self, client, check_mode=check_mode)
        self.planned = list(planned)
        self.expected = expected if check_mode and expected else {}
        self.planned.extend(self.expected.get('network') or [])

    def networks(self):
        real = Converger.networks(self)
        names = set(n['Name'] for n in real)
        return real + [{'Name': name, 'Id': name} for name in self.planned if name not in names]

    def object_ids(self, kind, wanted):
        expected = set(self.expected.get(kind) or [])
        objects = self.client.get('/%ss' % kind, params={'filters': json.dumps({'name': list(wanted)})}) or [] \
            if wanted else []
        ids = dict((o['Spec']['Name'], o['ID']) for o in objects)
        missing = [n for n in wanted if n not in ids and n not in expected]
        if missing:
            raise swarm_spec.SpecError('%ss: no %s named %s on this swarm; create it first'
                                       % (kind, kind, ', '.join(missing)))
        return dict((n, ids.get(n, n)) for n in wanted)


def _resolve_references(params, objects, kind, stack, expected):
    """Point the service's secret/config references at the current versions (versioned names). In check mode,
    a name in EXPECTED that does not exist yet (an earlier task of the run creates it) is kept as it is."""
    key = 'secrets' if kind == 'secret' else 'configs'
    resolved = []
    for ref in params.get(key) or []:
        name = _swarm_versioned.resolve(objects, ref['name'])
        if name is None and ref['name'] in expected:
            name = ref['name']
        if name is None:
            raise ObjectsError('stack %s, service %s: the %s %s is not on the swarm; declare it in swarm_%ss (or '
                               'docker %s create) first' % (stack, params['name'], kind, ref['name'], kind, kind))
        resolved.append(dict(ref, name=name))
    params[key] = resolved


def plan_stack(client, stack, prepared, check_mode, networks, secrets, configs, updates, expected):
    """Plans of one stack (state present): its networks and its services; raises before any change."""
    objects = prepared['objects']
    names = set(n['Name'] for n in networks) | set(expected.get('network') or [])
    missing = [n for n in objects['external_networks'] if n not in names]
    if missing:
        raise ObjectsError('stack %s: the external network(s) %s do not exist; create them first (swarm_networks)'
                           % (stack, ', '.join(missing)))
    network_plans = plan_networks(client, prepared['networks'], networks=networks, updates=updates)
    for _desired, plan in network_plans:
        if plan['action'] == 'recreate' and not prepared['force']:
            raise ObjectsError('stack %s: network %s: %s' % (stack, _desired['name'], plan['reason']))
    items = []
    for params in objects['services']:
        params = dict(params)
        _resolve_references(params, secrets, 'secret', stack, expected.get('secret') or [])
        _resolve_references(params, configs, 'config', stack, expected.get('config') or [])
        try:
            fields = swarm_spec.validate(params)
        except swarm_spec.SpecError as exc:
            raise ObjectsError('stack %s, service %s: %s' % (stack, params['name'], exc))
        items.append((params, fields))
    return network_plans, items


def plan_services(converger, stack, items):
    converger.load_services([params['name'] for params, _fields in items])
    plans = []
    for params, fields in items:
        try:
            plans.append(converger.plan(params, fields))
        except swarm_spec.SpecError as exc:
            raise ObjectsError('stack %s, service %s: %s' % (stack, params['name'], exc))
    return plans


def _stack_services(client, stack):
    label = '%s=%s' % (_swarm_compose.NAMESPACE_LABEL, stack)
    return client.get('/services', params={'filters': json.dumps({'label': [label]})}) or []


def service_result(plan):
    action = plan.get('action')
    result = {'name': plan['name'], 'changed': bool(action), 'operation': action or 'none'}
    if action:
        result['diff'] = {'before': plan['before'], 'after': plan['after']}
    if action == 'recreate' and plan.get('recreate_reason'):
        result['recreate_reason'] = plan['recreate_reason']
    if plan.get('tasks') is not None:
        result['tasks'] = plan['tasks']
    if plan.get('failure'):
        errors = (plan.get('tasks') or {}).get('errors') or []
        result['failed'] = True
        result['msg'] = plan['failure'] + ('; task errors: ' + ' | '.join(errors[:5]) if errors else '')
    return result


def converge_stack(client, stack, prepared, check_mode, wait, timeout, expected=None):
    """One stack, state present: networks, services, wait, prune. Returns the stack's result dict.

    EXPECTED ({'network'|'secret'|'config': names}) are objects earlier tasks of the run create: in check
    mode they are taken as existing (they are not there yet, since check mode created nothing)."""
    expected = expected if check_mode and expected else {}
    networks = client.get('/networks') or []
    wants_secrets = bool(prepared['objects']['secrets'])
    wants_configs = bool(prepared['objects']['configs'])
    secrets = client.get('/secrets') if wants_secrets else []
    configs = client.get('/configs') if wants_configs else []
    updates = ServiceUpdates(client, check_mode)
    network_plans, items = plan_stack(client, stack, prepared, check_mode, networks, secrets, configs, updates,
                                      expected)
    to_create = [d['name'] for d, p in network_plans if p['action'] in ('create', 'recreate')]
    converger = _StackConverger(client, check_mode, to_create, expected)
    service_plans = plan_services(converger, stack, items)
    wanted = set(params['name'] for params, _fields in items)
    pruned = sorted(s['Spec']['Name'] for s in _stack_services(client, stack)
                    if s['Spec']['Name'] not in wanted) if prepared['prune'] else []
    # Everything is planned: from here on, changes.
    for desired, plan in network_plans:
        apply_network(client, updates, desired, plan, check_mode, timeout)
    if to_create and not check_mode:
        # The services' specs were planned against placeholders: plan again with the networks' real IDs.
        converger = _StackConverger(client, check_mode, [])
        service_plans = plan_services(converger, stack, items)
    for plan in service_plans:
        converger.apply(plan)
    if wait:
        converger.wait([p for p in service_plans if converger.needs_wait(p)], timeout)
    by_name = dict((s['Spec']['Name'], s) for s in _stack_services(client, stack)) if pruned and not check_mode else {}
    for name in pruned:
        if not check_mode and name in by_name:
            client.delete('/services/%s' % by_name[name]['ID'])
    services = [service_result(p) for p in service_plans]
    nets = [network_result(d, p) for d, p in network_plans]
    result = {'name': stack, 'state': 'present', 'services': services, 'networks': nets, 'pruned': pruned,
              'warnings_from_compose': prepared['objects']['warnings'],
              'changed': any(s['changed'] for s in services) or any(n['changed'] for n in nets) or bool(pruned)}
    before, after = {}, {}
    for item in services + nets:
        if item.get('diff'):
            before[item['name']] = item['diff']['before']
            after[item['name']] = item['diff']['after']
    for name in pruned:
        before[name] = {'state': 'present'}
        after[name] = {'state': 'absent'}
    if result['changed']:
        result['diff'] = {'before': before, 'after': after}
    failed = [s for s in services if s.get('failed')]
    if failed:
        result['failed'] = True
        result['msg'] = 'stack %s: %s' % (stack, '; '.join(s['msg'] for s in failed))
    return result


def remove_stack(client, stack, check_mode, timeout):
    """State absent: the stack's services, then its networks (once their tasks are gone), secrets, configs,
    like `docker stack rm`."""
    label = '%s=%s' % (_swarm_compose.NAMESPACE_LABEL, stack)
    filters = {'filters': json.dumps({'label': [label]})}
    services = _stack_services(client, stack)
    networks = [n for n in client.get('/networks', params=filters) or [] if n.get('Scope') == 'swarm']
    secrets = client.get('/secrets', params=filters) or []
    configs = client.get('/configs', params=filters) or []
    removed = {'services': sorted(s['Spec']['Name'] for s in services),
               'networks': sorted(n['Name'] for n in networks),
               'secrets': sorted(s['Spec']['Name'] for s in secrets),
               'configs': sorted(c['Spec']['Name'] for c in configs)}
    changed = any(removed.values())
    if not check_mode:
        for service in services:
            client.delete('/services/%s' % service['ID'])
        for network in networks:
            delete_when_free(client, '/networks/%s' % network['Id'], 'stack %s: removing network %s'
                             % (stack, network['Name']), timeout)
        for kind, objects in (('secret', secrets), ('config', configs)):
            for obj in objects:
                client.delete('/%ss/%s' % (kind, obj['ID']))
    result = {'name': stack, 'state': 'absent', 'changed': changed, 'removed': removed, 'services': [],
              'networks': [], 'pruned': []}
    if changed:
        result['diff'] = {'before': dict((k, v) for k, v in removed.items() if v),
                          'after': dict((k, []) for k, v in removed.items() if v)}
    return result


def prepare_stack(item):
    """Validate one stack item of the module ({name, state, compose, prune, force}) without the engine."""
    prepared = {'name': item['name'], 'state': item.get('state') or 'present', 'prune': item.get('prune', True)
                is not False, 'force': bool(item.get('force'))}
    if prepared['state'] == 'absent':
        return prepared
    compose = item.get('compose')
    if compose is None:
        raise ObjectsError('stack %s: compose is required with state present' % item['name'])
    documents = compose if isinstance(compose, list) else [compose]
    try:
        merged = _swarm_compose.merge(documents)
        objects = _swarm_compose.stack_objects(item['name'], merged)
        prepared['networks'] = [_swarm_network.validate(n) for n in objects['networks']]
    except (_swarm_compose.ComposeError, _swarm_network.NetworkError) as exc:
        raise ObjectsError('stack %s: %s' % (item['name'], exc))
    for params in objects['services']:
        try:
            swarm_spec.validate(params)
        except swarm_spec.SpecError as exc:
            raise ObjectsError('stack %s, service %s: %s' % (item['name'], params['name'], exc))
    prepared['objects'] = objects
    return prepared


def items_from_params(module, item_spec, list_option, label):
    """The per-object parameter dicts of a call: [the module's own options] or the items of LIST_OPTION
    (already validated by AnsibleModule through its suboptions). Fails when per-object options are given
    next to the list, or a name is listed twice."""
    params = module.params
    if params.get(list_option) is None:
        if not params.get('name'):
            module.fail_json(msg='name: required (or give %s, a list of %ss)' % (list_option, label))
        return [dict((k, params.get(k)) for k in item_spec)]
    defaults = dict((k, v.get('default')) for k, v in item_spec.items())
    extra = sorted(k for k in item_spec if params.get(k) != defaults[k])
    if extra:
        module.fail_json(msg='%s: give per-%s options (%s) inside each item of %s, not next to it'
                             % (list_option, label, ', '.join(extra), list_option))
    names = set()
    for index, item in enumerate(params[list_option]):
        if item['name'] in names:
            module.fail_json(msg='%s[%d]: %s %s is listed twice' % (list_option, index, label, item['name']))
        names.add(item['name'])
    return list(params[list_option])


def bulk_diff(results):
    """One --diff for many objects: before/after keyed by name, only the changed ones."""
    return {'before': dict((r['name'], r['diff']['before']) for r in results if r.get('diff')),
            'after': dict((r['name'], r['diff']['after']) for r in results if r.get('diff'))}


# ---- per-object options (the modules' argument specs, and the role's check before any change) ------------------

NETWORK_ITEM_SPEC = dict(
    name=dict(type='str'),
    state=dict(type='str', choices=['present', 'absent'], default='present'),
    attachable=dict(type='bool'),
    encrypted=dict(type='bool'),
    internal=dict(type='bool'),
    ipam_driver=dict(type='str'),
    ipam_config=dict(type='list', elements='dict'),
    labels=dict(type='dict'),
    driver_options=dict(type='dict'),
    force=dict(type='bool', default=False),
)

STACK_ITEM_SPEC = dict(
    name=dict(type='str'),
    state=dict(type='str', choices=['present', 'absent'], default='present'),
    compose=dict(type='list', elements='raw'),
    prune=dict(type='bool', default=True),
    force=dict(type='bool', default=False),
)


def validate_all(networks, secrets, configs, stacks, hash_key, parse_yaml=None):
    """Every object of the four lists checked as the modules will check them, without an engine.

    Returns error messages naming the list, the item and the field (never a value); the role asserts
    there are none before it changes anything, so a bad secret does not stop the run after the networks
    were changed. PARSE_YAML turns a compose string into a mapping (the controller's YAML parser).
    """
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
    errors = []
    checks = (('swarm_networks', networks, NETWORK_ITEM_SPEC, 'network'),
              ('swarm_secrets', secrets, versioned_item_spec('secret'), 'secret'),
              ('swarm_configs', configs, versioned_item_spec('config'), 'config'),
              ('swarm_stacks', stacks, STACK_ITEM_SPEC, 'stack'))
    for list_name, items, spec, kind in checks:
        if not isinstance(items, list):
            errors.append('%s must be a list' % list_name)
            continue
        item_spec = dict(spec)
        item_spec['name'] = dict(type='str', required=True)
        names = set()
        for index, item in enumerate(items):
            label = '%s[%d]' % (list_name, index)
            if not isinstance(item, dict):
                errors.append('%s must be a dict' % label)
                continue
            result = ArgumentSpecValidator(item_spec).validate(item)
            if result.error_messages:
                message = '; '.join(result.error_messages)
                if kind == 'secret' and isinstance(item.get('data'), str) and item['data']:
                    message = message.replace(item['data'], '********')
                errors.append('%s (%s): %s' % (label, item.get('name'), message))
                continue
            params = result.validated_parameters
            if params['name'] in names:
                errors.append('%s: %s %s is listed twice' % (label, kind, params['name']))
            names.add(params['name'])
            try:
                if kind == 'network':
                    _swarm_network.validate(params)
                elif kind in ('secret', 'config'):
                    _swarm_versioned.validate(params, kind, hash_key)
                else:
                    if not STACK_NAME.match(params['name']):
                        raise ObjectsError('name must be letters, digits, "-" and "_"')
                    documents = [parse_yaml(d) if isinstance(d, str) and parse_yaml else d
                                 for d in params.get('compose') or []]
                    prepare_stack(dict(params, compose=documents if params.get('compose') is not None else None))
            except (_swarm_network.NetworkError, _swarm_versioned.VersionedError, ObjectsError) as exc:
                errors.append('%s (%s): %s' % (label, params['name'], exc))
    return errors


# ---- the secret and config modules (the same code for both kinds) ------------------------------------------------

def versioned_item_spec(kind):
    """Per-object options of swarm_secret / swarm_config."""
    return dict(
        name=dict(type='str'),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        # A secret's value is masked everywhere by Ansible; a config's is not secret (the API returns it).
        data=dict(type='str', no_log=(kind == 'secret')),
        data_is_b64=dict(type='bool', default=False),
        labels=dict(type='dict'),
        keep_versions=dict(type='int', default=1),
        rollout=dict(type='bool', default=True),
    )


def versioned_argument_spec(kind, engine_spec):
    spec = versioned_item_spec(kind)
    item = versioned_item_spec(kind)
    item['name']['required'] = True
    # The list itself is not secret (names are shown); each item's data is, through its no_log suboption.
    spec['%ss' % kind] = dict(type='list', elements='dict', options=item, no_log=False)
    spec['wait'] = dict(type='bool', default=True)
    spec['wait_timeout'] = dict(type='int', default=120)
    if kind == 'secret':
        spec['hash_key'] = dict(type='str', no_log=True)
    spec.update(engine_spec)
    return spec


def run_versioned(module, kind, client_factory):
    """main() of swarm_secret and swarm_config."""
    list_option = '%ss' % kind
    items = items_from_params(module, versioned_item_spec(kind), list_option, kind)
    hash_key = module.params.get('hash_key')
    wanted = []
    for item in items:
        try:
            wanted.append(_swarm_versioned.validate(item, kind, hash_key))
        except _swarm_versioned.VersionedError as exc:
            module.fail_json(msg=str(exc))
    client = client_factory(module)
    try:
        results = converge_versioned(client, kind, wanted, hash_key, module.check_mode, module.params['wait'],
                                     module.params['wait_timeout'])
    except _swarm_versioned.VersionedError as exc:
        module.fail_json(msg=str(exc), changed=False)
    except ObjectsError as exc:
        module.fail_json(msg=str(exc), changed=exc.changed, **{list_option: exc.results})
    except EngineError as exc:
        module.fail_json(msg='Docker engine error: %s' % exc)
    if module.params[list_option] is None:
        module.exit_json(**results[0])
    module.exit_json(changed=any(r['changed'] for r in results), diff=bulk_diff(results), **{list_option: results})
