# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Converging swarm services against one manager's Engine API (used by the swarm_service module).

Reads are batched for many services: one GET /services (with ServiceStatus) answers "does it exist,
what is its spec, how many tasks run" for every service of the call, one GET /networks resolves
network names, one GET /nodes counts the nodes a global service runs on, and waiting polls one
GET /tasks for all the services that changed.

Every write of a service spec goes through `Converger.write` (create or update, one place), so
request headers such as registry credentials can be added there for all of them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import binascii
import calendar
import copy
import json
import os
import time

try:
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
except ImportError:  # ansible-core < 2.11
    ArgumentSpecValidator = None

from ansible_collections.swarmops.swarm.plugins.module_utils._engine import EngineError
from ansible_collections.swarmops.swarm.plugins.module_utils import _registry_auth
from ansible_collections.swarmops.swarm.plugins.module_utils import swarm_spec

POLL_INTERVAL = 1.0
GIVE_UP_AFTER_FAILED_TASKS = 3
IN_PROGRESS = ('updating', 'rollback_started')
PAUSED = ('paused', 'rollback_paused')
ROLLBACK_STATES = ('rollback_started', 'rollback_paused', 'rollback_completed')
# A deleted service's published ports are released asynchronously: a restore may have to wait for them.
RESTORE_ATTEMPTS = 5

# The options of one service (swarm_service's own, and each item of its O(services)); swarm_info's
# O(compare_services) validates its items with the same spec, so both compare the same values.
UPDATE_OPTIONS = dict(
    parallelism=dict(type='int'),
    delay=dict(type='raw'),
    failure_action=dict(type='str', choices=['continue', 'pause', 'rollback']),
    monitor=dict(type='raw'),
    max_failure_ratio=dict(type='float'),
    order=dict(type='str', choices=['stop-first', 'start-first']),
)
ROLLBACK_OPTIONS = dict(UPDATE_OPTIONS, failure_action=dict(type='str', choices=['continue', 'pause']))

SERVICE_ARGUMENT_SPEC = dict(
    name=dict(type='str'),
    state=dict(type='str', choices=['present', 'absent', 'rolled_back'], default='present'),
    image=dict(type='str'),
    command=dict(type='raw'),
    args=dict(type='list', elements='str'),
    mode=dict(type='str', choices=list(swarm_spec.MODES)),
    replicas=dict(type='raw'),
    max_concurrent=dict(type='int'),
    env=dict(type='raw'),
    secret_env=dict(type='dict', no_log=True),
    labels=dict(type='dict'),
    container_labels=dict(type='dict'),
    publish=dict(type='list', elements='raw'),
    networks=dict(type='list', elements='raw'),
    mounts=dict(type='list', elements='raw'),
    constraints=dict(type='list', elements='str'),
    placement_preferences=dict(type='list', elements='raw'),
    max_replicas_per_node=dict(type='raw'),
    limits=dict(type='dict', options=dict(cpus=dict(type='raw'), memory=dict(type='raw'), pids=dict(type='int'))),
    reservations=dict(type='dict', options=dict(cpus=dict(type='raw'), memory=dict(type='raw'))),
    generic_resources=dict(type='raw'),
    restart_policy=dict(type='dict', options=dict(
        condition=dict(type='str', choices=['none', 'on-failure', 'any']),
        delay=dict(type='raw'), max_attempts=dict(type='int'), window=dict(type='raw'))),
    update_config=dict(type='dict', options=UPDATE_OPTIONS),
    rollback_config=dict(type='dict', options=ROLLBACK_OPTIONS),
    healthcheck=dict(type='dict', options=dict(
        test=dict(type='raw'), interval=dict(type='raw'), timeout=dict(type='raw'), retries=dict(type='int'),
        start_period=dict(type='raw'), start_interval=dict(type='raw'), disable=dict(type='bool'))),
    secrets=dict(type='list', elements='raw', no_log=False),  # names of secrets, not their values
    configs=dict(type='list', elements='raw'),
    user=dict(type='str'),
    groups=dict(type='list', elements='str'),
    workdir=dict(type='str'),
    hostname=dict(type='str'),
    hosts=dict(type='raw'),
    dns=dict(type='list', elements='str'),
    dns_search=dict(type='list', elements='str'),
    dns_options=dict(type='list', elements='str'),
    cap_add=dict(type='list', elements='str'),
    cap_drop=dict(type='list', elements='str'),
    sysctls=dict(type='dict'),
    ulimits=dict(type='raw'),
    read_only=dict(type='bool'),
    tty=dict(type='bool'),
    init=dict(type='bool'),
    stop_signal=dict(type='str'),
    stop_grace_period=dict(type='raw'),
    oom_score_adj=dict(type='int'),
    log_driver=dict(type='str'),
    log_options=dict(type='dict'),
    endpoint_mode=dict(type='str', choices=['vip', 'dnsrr']),
    resolve_image=dict(type='bool', default=False),
    force_update=dict(type='bool', default=False),
)


def secret_env_values(item):
    """The strings an item's C(secret_env) could reveal, in any shape a user may have given it: a mapping's
    values, a list's C(KEY=VALUE) entries (and their values), a plain string. Masked by the modules before the
    item is validated, so a malformed one is never printed either."""
    secret_env = item.get('secret_env') if isinstance(item, dict) else None
    if isinstance(secret_env, dict):
        candidates = list(secret_env.values())
    elif isinstance(secret_env, (list, tuple)):
        candidates = list(secret_env) + [str(entry).split('=', 1)[1] for entry in secret_env if '=' in str(entry)]
    elif secret_env is None:
        candidates = []
    else:
        candidates = [secret_env]
    return set(str(value) for value in candidates if value is not None and str(value))


def mask_secret_env(module, services):
    """Add the C(secret_env) values of every item of SERVICES (raw, before validation) to the values MODULE masks
    in all it returns: items of a plain list, which no_log cannot name. swarm_service and swarm_info both call it
    first, so a malformed item is masked too."""
    for item in services or []:
        module.no_log_values.update(secret_env_values(item))


def validated_items(services):
    """Each item of a O(services) list validated like swarm_service's own options (types converted, defaults
    filled), or SpecError naming the item and the field. Names must be unique."""
    if ArgumentSpecValidator is None:
        raise swarm_spec.SpecError('services needs ansible-core 2.11 or newer on the controller')
    item_spec = copy.deepcopy(SERVICE_ARGUMENT_SPEC)
    item_spec['name']['required'] = True
    items, names = [], set()
    for index, item in enumerate(services):
        label = 'services[%d]' % index
        if not isinstance(item, dict):
            raise swarm_spec.SpecError('%s: a service is a mapping of options, not %s' % (label, type(item).__name__))
        result = ArgumentSpecValidator(item_spec).validate(item)
        if result.error_messages:
            raise swarm_spec.SpecError('%s (%s): %s' % (label, item.get('name'), '; '.join(result.error_messages)))
        validated = result.validated_parameters
        if validated['name'] in names:
            raise swarm_spec.SpecError('%s: service %s is listed twice' % (label, validated['name']))
        names.add(validated['name'])
        items.append(validated)
    return items


class RecreateFailed(EngineError):
    """The create after a delete failed; the message holds both errors and what became of the old service."""


def template_key(template):
    """A task's Spec is the service's TaskTemplate as it was when the task was made (minus Runtime).

    Placement is left out: the orchestrator keeps a running task whose node still satisfies a changed
    placement (and only updates its copy of the spec in the store), so it is not a task of an old spec.
    """
    template = dict(template or {})
    template.pop('Runtime', None)
    template.pop('Placement', None)
    return json.dumps(template, sort_keys=True)


def rollout_expected(old_spec, new_spec):
    """Whether Docker replaces the running tasks when OLD_SPEC becomes NEW_SPEC: the task template changed
    (placement aside), or the endpoint (ports, endpoint mode), which every task carries a copy of."""
    if template_key(old_spec.get('TaskTemplate')) != template_key(new_spec.get('TaskTemplate')):
        return True
    endpoint = (json.dumps(old_spec.get('EndpointSpec') or {}, sort_keys=True),
                json.dumps(new_spec.get('EndpointSpec') or {}, sort_keys=True))
    return endpoint[0] != endpoint[1]


class Converger(object):
    def __init__(self, client, check_mode=False, auth=None):
        self.client = client
        self.check_mode = check_mode
        # Validated registry credentials ({server, username, password}) or None: sent, as the CLI's
        # --with-registry-auth does, only with the calls about an image of that registry.
        self.auth = auth
        self._services = None
        self._networks = None
        self._nodes = None

    # ---- reads, cached for the whole call --------------------------------------------------------
    def load_services(self, names, services=None):
        """Current services by name: one GET /services (filtered by name when there are few), or SERVICES when
        the caller already read them (GET /services?status=true, as swarm_info does)."""
        if services is not None:
            self._services = dict((s['Spec']['Name'], s) for s in services if s['Spec']['Name'] in names)
            return
        params = {'status': 'true'}
        if len(names) <= 20:
            params['filters'] = json.dumps({'name': list(names)})
        try:
            services = self.client.get('/services', params=params) or []
        except EngineError as exc:
            if exc.status == 400:  # engines before API 1.41 do not know status=true
                del params['status']
                services = self.client.get('/services', params=params) or []
            else:
                raise
        # The name filter matches prefixes; keep exact names only.
        self._services = dict((s['Spec']['Name'], s) for s in services if s['Spec']['Name'] in names)

    def current(self, name):
        return self._services.get(name)

    def networks(self):
        if self._networks is None:
            self._networks = self.client.get('/networks') or []
        return self._networks

    def nodes(self):
        if self._nodes is None:
            self._nodes = self.client.get('/nodes') or []
        return self._nodes

    def network_maps(self, wanted):
        """(name -> id, id -> name) over the networks; names the user gave that are missing raise."""
        ids, names = {}, {}
        for network in self.networks():
            ids[network['Name']] = network['Id']
            ids[network['Id']] = network['Id']
            names[network['Id']] = network['Name']
        missing = [n for n in wanted if n not in ids]
        if missing:
            raise swarm_spec.SpecError('networks: no network named %s on this swarm; create it first (an overlay '
                                       'network with attachable as needed)' % ', '.join(missing))
        return ids, names

    def object_ids(self, kind, wanted):
        """Secret/config name -> ID with one GET; missing names raise."""
        if not wanted:
            return {}
        objects = self.client.get('/%ss' % kind, params={'filters': json.dumps({'name': list(wanted)})}) or []
        ids = dict((o['Spec']['Name'], o['ID']) for o in objects)
        missing = [n for n in wanted if n not in ids]
        if missing:
            raise swarm_spec.SpecError('%ss: no %s named %s on this swarm; create it first (docker %s create)'
                                       % (kind, kind, ', '.join(missing), kind))
        return ids

    def api_version(self):
        return tuple(int(p) for p in str(self.client.api_version).split('.')[:2])

    # ---- one service ---------------------------------------------------------------------------
    def plan(self, params, fields):
        """What to do for one service: a dict the apply step and the result are built from.

        Everything that can be refused is refused here, before the first change of the call: options
        that do not fit the service as it is, options the engine's API version does not know, and the
        engine's own rules on the whole spec that would be sent.
        """
        name = params['name']
        current = self.current(name)
        plan = {'name': name, 'params': params, 'fields': fields, 'current': current, 'action': None,
                'before': {}, 'after': {}, 'recreate_reason': None, 'spec': None}
        if params.get('state') == 'absent':
            if current:
                plan['action'] = 'remove'
                plan['before'] = {'state': 'present'}
                plan['after'] = {'state': 'absent'}
            return plan
        if params.get('state') == 'rolled_back':
            return self._plan_rollback(plan)
        if current is None and 'image' not in fields:
            raise swarm_spec.SpecError('image: required to create service %s (it does not exist yet)' % name)
        swarm_spec.check_against_current(fields, current['Spec'] if current else None, name)
        swarm_spec.check_api_version(fields, self.api_version())
        refs = swarm_spec.reference_names(fields)
        ctx = {'resolve_image': bool(params.get('resolve_image')), 'force_update': bool(params.get('force_update'))}
        if 'networks' in fields:
            ctx['network_ids'], ctx['network_names'] = self.network_maps(refs['networks'])
        if params.get('resolve_image') and 'image' in fields and not swarm_spec.split_digest(fields['image'])[1]:
            # a digest given with the image is the pin: only a tag is resolved
            ctx['resolved_image'] = self.resolve_image(fields['image'])
            fields = dict(fields, image=ctx['resolved_image'])
            plan['fields'] = fields
        label = swarm_spec.secret_env_label(current['Spec'] if current else None)
        ctx['secret_salt'] = label['salt'] if label else binascii.hexlify(os.urandom(16)).decode('ascii')
        plan['ctx'] = ctx
        if current is None:
            plan['action'] = 'create'
            plan['before'] = {'state': 'absent'}
            plan['after'] = swarm_spec.desired_view(fields, ctx)
        else:
            before, after = swarm_spec.compare(fields, current['Spec'], ctx)
            plan['recreate_reason'] = swarm_spec.needs_recreate(fields, current['Spec'])
            update_state = (current.get('UpdateStatus') or {}).get('State')
            if before or after:
                plan['action'] = 'recreate' if plan['recreate_reason'] else 'update'
            elif update_state in PAUSED:
                # The spec is already stored but the rollout stopped half-way; sending the same spec again
                # does not restart it, so the tasks are restarted like `docker service update --force`.
                plan['action'] = 'update'
                ctx['force_update'] = True
                before, after = {'update_state': update_state}, {'update_state': 'completed'}
            elif params.get('force_update'):
                plan['action'] = 'update'
                before, after = {'force_update': False}, {'force_update': True}
            plan['before'], plan['after'] = before, after
        if plan['action'] in ('create', 'update', 'recreate'):
            # Read in check mode too, so a missing secret/config is refused there as well.
            ctx['secret_ids'] = self.object_ids('secret', refs['secrets'])
            ctx['config_ids'] = self.object_ids('config', refs['configs'])
            base = None if plan['action'] == 'create' else current['Spec']
            plan['spec'] = swarm_spec.merged_spec(fields, base, name, ctx)
            if plan['action'] == 'recreate':
                template = plan['spec'].get('TaskTemplate') or {}
                template.pop('ForceUpdate', None)
            errors = swarm_spec.engine_rule_errors(plan['spec'])
            if errors:
                raise swarm_spec.SpecError('; '.join(errors))
        return plan

    def _plan_rollback(self, plan):
        current = plan['current']
        if current is None:
            raise swarm_spec.SpecError('state: rolled_back needs service %s to exist' % plan['name'])
        state = (current.get('UpdateStatus') or {}).get('State')
        if state in ROLLBACK_STATES:
            return plan  # already rolled back (or rolling back): a second rollback would undo the first
        previous = current.get('PreviousSpec')
        if not previous:
            raise swarm_spec.SpecError('state: rolled_back: service %s has no previous spec to return to (it was '
                                       'never updated)' % plan['name'])
        plan['action'] = 'rollback'
        plan['before'], plan['after'] = swarm_spec.spec_differences(current['Spec'], previous)
        plan['spec'] = previous
        return plan

    def resolve_image(self, image):
        """name:tag@sha256:... from the registry, through the engine (GET /distribution)."""
        name, _digest = swarm_spec.split_digest(image)
        headers = _registry_auth.headers_for(name, self.auth)
        try:
            answer = self.client.get('/distribution/%s/json' % name, headers=headers or None)
        except EngineError as exc:
            raise swarm_spec.SpecError('resolve_image: cannot resolve %s to a digest (%s); the registry must be '
                                       'reachable from the manager%s, or set resolve_image: false'
                                       % (name, _registry_auth.scrub(exc, self.auth),
                                          '' if headers else ' (and public, or named by registry_auth)'))
        return '%s@%s' % (name, answer['Descriptor']['digest'])

    # ---- changing --------------------------------------------------------------------------------
    def write(self, spec, service_id=None, version=None, rollback=False):
        """The one place a service spec is sent: create (no SERVICE_ID) or update. Returns the answer."""
        headers = self.write_headers(spec)
        if service_id is None:
            return self.client.post('/services/create', data=spec, headers=headers) or {}
        params = {'version': version}
        if rollback:
            params['rollback'] = 'previous'
        return self.client.post('/services/%s/update' % service_id, data=spec, params=params, headers=headers) or {}

    def write_headers(self, spec):
        """The registry credentials for SPEC's image (None when it is not from the registry of self.auth): the
        manager stores them with the service and hands them to the workers that pull the image."""
        image = ((spec or {}).get('TaskTemplate') or {}).get('ContainerSpec', {}).get('Image')
        return _registry_auth.headers_for(image, self.auth) or None

    def remember_tasks(self, plans):
        """Before changing: the tasks each updated service runs now (one GET for all), so the wait can tell
        them from the ones Docker starts for the change."""
        ids = [p['current']['ID'] for p in plans if p.get('action') in ('update', 'rollback')]
        if not ids or self.check_mode:
            return
        tasks = self.client.get('/tasks', params={'filters': json.dumps({'service': ids})}) or []
        for plan in plans:
            if plan.get('action') in ('update', 'rollback'):
                plan['old_tasks'] = set(t['ID'] for t in tasks if t.get('ServiceID') == plan['current']['ID'])

    def apply(self, plan):
        """Send the plan to the engine (not in check mode); sets plan['id'] and plan['started']."""
        current = plan['current']
        plan['id'] = current['ID'] if current else None
        plan['previous_update'] = _update_started(current)
        plan['started'] = time.time()
        if self.check_mode or not plan['action']:
            return
        if plan['action'] == 'remove':
            self.client.delete('/services/%s' % current['ID'])
            return
        if plan['action'] == 'rollback':
            plan['expect_rollback'] = True
            answer = self.write(current['Spec'], current['ID'], current['Version']['Index'], rollback=True)
        elif plan['action'] == 'recreate':
            answer = self.recreate(plan)
        elif plan['action'] == 'create':
            answer = self.write(plan['spec'])
            plan['id'] = answer['ID']
        else:
            answer = self.write(plan['spec'], current['ID'], current['Version']['Index'])
        plan['warnings'] = answer.get('Warnings') or []

    def recreate(self, plan):
        """Delete, then create; when the create fails, the old service is created again from its saved spec
        (and its previous spec, so a rollback still goes where it went) and RecreateFailed names both."""
        current = plan['current']
        self.client.delete('/services/%s' % current['ID'])
        plan['previous_update'] = None
        try:
            answer = self.write(plan['spec'])
        except EngineError as create_error:
            first = 'creating service %s with the new spec failed after the old one was removed: %s' % (
                plan['name'], create_error)
            try:
                restored = self.restore(current)
            except EngineError as restore_error:
                plan['restored'] = False
                raise RecreateFailed('%s; restoring the old service failed too: %s. Its saved spec is in the result '
                                     '(saved_spec)' % (first, restore_error))
            plan['restored'] = True
            plan['id'] = restored
            raise RecreateFailed('%s; the old service was restored from its saved spec (new ID %s, same spec and '
                                 'previous spec)' % (first, restored))
        plan['id'] = answer['ID']
        return answer

    def restore(self, saved):
        """Create the service SAVED (a GET /services answer) again: its previous spec first, then its spec as an
        update, so the history Docker keeps (spec and previous spec) is what it was. Returns the new ID."""
        first = saved.get('PreviousSpec') or saved['Spec']
        for attempt in range(RESTORE_ATTEMPTS):
            try:
                answer = self.write(first)
                break
            except EngineError as exc:
                if 'already in use' not in str(exc) or attempt == RESTORE_ATTEMPTS - 1:
                    raise
                time.sleep(1)
        if saved.get('PreviousSpec'):
            created = self.client.get('/services/%s' % answer['ID'])
            self.write(saved['Spec'], answer['ID'], created['Version']['Index'])
        return answer['ID']

    # ---- waiting -------------------------------------------------------------------------------
    def needs_wait(self, plan):
        """Changed services always; an unchanged one only when an update is under way or, for a
        non-job service, fewer tasks run than it wants (ServiceStatus of the same GET, no extra call)."""
        if plan['params'].get('state') == 'absent' or self.check_mode:
            return False
        if plan['action']:
            return True
        current = plan['current']
        if current is None:
            return False
        if (current.get('UpdateStatus') or {}).get('State') in IN_PROGRESS:
            return True
        status = current.get('ServiceStatus')
        if status and _is_job(current['Spec']) is False:
            return status.get('RunningTasks', 0) < status.get('DesiredTasks', 0)
        return False

    def desired_count(self, spec):
        mode = spec.get('Mode') or {}
        if 'Replicated' in mode:
            return (mode['Replicated'] or {}).get('Replicas', 1)
        if 'ReplicatedJob' in mode:
            return (mode['ReplicatedJob'] or {}).get('TotalCompletions', 1)
        constraints = swarm_spec._dig(spec, ('TaskTemplate', 'Placement', 'Constraints'))
        return len(swarm_spec.eligible_nodes(self.nodes(), constraints))

    def wait(self, plans, timeout, stable=0):
        """Poll until every plan's service has converged and stayed so for STABLE seconds; sets
        plan['tasks'], plan['rolled_back'], plan['failure'] (a message) on the ones that did not."""
        pending = [p for p in plans if p.get('id') and not p.get('failure')]
        deadline = time.time() + timeout
        for plan in pending:
            plan.update(failed_seen=set(), stable_since=None, watched=set())
        while pending:
            ids = [p['id'] for p in pending]
            services = {}
            # One GET per poll for the services (UpdateStatus, current TaskTemplate), one for their tasks.
            for service in self.client.get('/services', params={'filters': json.dumps({'id': ids})}) or []:
                services[service['ID']] = service
            tasks = self.client.get('/tasks', params={'filters': json.dumps({'service': ids})}) or []
            now = time.time()
            still = []
            for plan in pending:
                service = services.get(plan['id'])
                if service is None:
                    plan['failure'] = 'service %s disappeared while waiting for it' % plan['name']
                    continue
                plan['service'] = service
                own = [t for t in tasks if t.get('ServiceID') == plan['id']]
                if self._settled(plan, service, own, now, stable):
                    continue
                if now >= deadline:
                    plan['failure'] = ('service %s did not converge within %ss: %d of %d tasks running'
                                       % (plan['name'], timeout, plan['tasks']['running'], plan['tasks']['desired']))
                    continue
                still.append(plan)
            pending = still
            if pending:
                time.sleep(POLL_INTERVAL)

    def _settled(self, plan, service, tasks, now, stable):
        """Whether waiting for PLAN is over (converged and stable, or failed: plan['failure'])."""
        converged = self._converged(plan, service, tasks)
        if plan.get('failure'):
            return True
        if plan['stable_since'] is not None:
            exited = [t for t in tasks if t['ID'] in plan['watched'] and _task_state(t) != 'running']
            crashed = [t for t in exited if _task_state(t) in swarm_spec.FAILED_TASK_STATES + ('complete',)]
            if crashed:
                plan['failure'] = ('a task of service %s exited %.0fs after it had converged, within the %ss it has '
                                   'to stay up (wait_stable): %s' % (plan['name'], now - plan['stable_since'], stable,
                                                                     _task_error(crashed[0])))
                return True
            if exited or not converged:
                plan['stable_since'] = None  # the orchestrator moved a task: start the window again
        if not converged:
            return False
        if _is_job(service['Spec']) or stable <= 0 or not plan['converged_tasks']:
            return True  # a job's tasks are meant to exit; with no task running, none can crash
        if plan['stable_since'] is None:
            plan['stable_since'] = now
            plan['watched'] = set(plan['converged_tasks'])
        return now - plan['stable_since'] >= stable

    def _converged(self, plan, service, tasks):
        spec = service['Spec']
        job = _is_job(spec)
        desired = self.desired_count(spec)
        template = template_key(spec.get('TaskTemplate'))
        if job:
            iteration = swarm_spec._dig(service, ('JobStatus', 'JobIteration', 'Index'))
            current_tasks = [t for t in tasks if swarm_spec._dig(t, ('JobIteration', 'Index')) == iteration]
        else:
            current_tasks = [t for t in tasks if t.get('DesiredState') in ('running', 'ready')]
        summary = swarm_spec.task_summary(current_tasks, desired, job)
        recent = [t for t in tasks if _task_state(t) in swarm_spec.FAILED_TASK_STATES
                  and _timestamp(t.get('CreatedAt')) >= plan['started'] - 1]
        plan['failed_seen'].update(t['ID'] for t in recent)
        for task in recent:
            message = '%s: %s' % (_task_state(task), swarm_spec._dig(task, ('Status', 'Err'))
                                  or swarm_spec._dig(task, ('Status', 'Message')))
            if message not in summary['errors']:
                summary['errors'].append(message)
        summary['failed'] = len(plan['failed_seen'])
        plan['tasks'] = summary
        plan['converged_tasks'] = []
        update = service.get('UpdateStatus') or {}
        fresh = bool(update) and update.get('StartedAt') != plan.get('previous_update')
        state = update.get('State') if fresh else None
        plan['update_state'] = state
        if state == 'rollback_completed':
            plan['rolled_back'] = True
            if not plan.get('expect_rollback'):
                plan['failure'] = 'the update of service %s failed and Docker rolled it back: %s' % (
                    plan['name'], update.get('Message') or '')
                return True
        if state in PAUSED:
            plan['failure'] = 'the update of service %s is %s: %s' % (
                plan['name'], state.replace('_', ' '), update.get('Message') or '')
            return True
        if state in IN_PROGRESS:
            return False
        if job and summary['completed'] >= desired:
            return True
        if len(plan['failed_seen']) >= GIVE_UP_AFTER_FAILED_TASKS:
            plan['failure'] = 'tasks of service %s keep failing (%d failed since the change)' % (
                plan['name'], len(plan['failed_seen']))
            return True
        if job:
            return False
        if 'replace' not in plan and plan.get('old_tasks'):
            plan['replace'] = rollout_expected(plan['current']['Spec'], spec)
        # Until Docker reports the rollout complete, a task that ran before the change is not one of it,
        # even when its template reads the same (an endpoint change replaces every task too).
        stale = plan.get('old_tasks') if plan.get('replace') and state not in ('completed', 'rollback_completed') else ()
        wanted = [t for t in tasks if t.get('DesiredState') == 'running']
        good = [t for t in wanted if _task_state(t) == 'running' and template_key(t.get('Spec')) == template
                and t['ID'] not in stale]
        summary['running'] = len(good)
        plan['converged_tasks'] = [t['ID'] for t in good]
        return len(good) >= desired and len(good) == len(wanted)


def compare_services(client, items, services):
    """Whether swarm_service, given ITEMS (its O(services), as validated_items returns them), would leave every
    service as it is and wait for none: (True, why) or (False, why). SERVICES is the manager's answer to
    GET /services?status=true, already read; the comparison is swarm_service's own plan, so the two cannot
    disagree, and it sends nothing. Whatever it cannot decide without asking further - a tag to resolve at the
    registry, a refused option, an engine error - is a False: swarm_service then runs and decides itself."""
    converger = Converger(client)
    try:
        converger.load_services([item['name'] for item in items], services=services)
        for item in items:
            name = item['name']
            if item.get('resolve_image') and item.get('image') and not swarm_spec.split_digest(item['image'])[1]:
                return False, '%s: resolve_image asks the registry for the tag\'s digest' % name
            plan = converger.plan(item, swarm_spec.validate(item))
            if plan['action'] in ('create', 'remove'):
                return False, '%s: %s' % (name, 'create (no such service)' if plan['action'] == 'create' else 'remove')
            if plan['action']:
                return False, '%s: %s (%s)' % (name, plan['action'], ', '.join(sorted(plan['after'])) or '-')
            if converger.needs_wait(plan):
                status = plan['current'].get('ServiceStatus') or {}
                return False, '%s: not settled (update %s, %s of %s tasks running)' % (
                    name, (plan['current'].get('UpdateStatus') or {}).get('State') or 'none',
                    status.get('RunningTasks'), status.get('DesiredTasks'))
    except swarm_spec.SpecError as exc:
        return False, 'refused: %s' % exc
    except EngineError as exc:
        return False, 'could not compare: %s' % exc
    return True, 'every service as declared, with its tasks running'


def _is_job(spec):
    mode = spec.get('Mode') or {}
    return 'ReplicatedJob' in mode or 'GlobalJob' in mode


def _update_started(service):
    return ((service or {}).get('UpdateStatus') or {}).get('StartedAt')


def _task_state(task):
    return swarm_spec._dig(task, ('Status', 'State'))


def _task_error(task):
    status = task.get('Status') or {}
    exit_code = swarm_spec._dig(status, ('ContainerStatus', 'ExitCode'))
    text = status.get('Err') or status.get('Message') or 'exited'
    if exit_code is not None and 'exit' not in text:
        text += ' (exit code %s)' % exit_code
    return 'task %s (slot %s, node %s): %s: %s' % (
        task.get('ID', '?')[:12], task.get('Slot', '-'), task.get('NodeID', '?')[:12], status.get('State'), text)


def _timestamp(text):
    """Seconds since the epoch from the engine's RFC 3339 time (nanoseconds dropped)."""
    if not text:
        return 0
    base = text.split('.')[0].rstrip('Z')
    try:
        return calendar.timegm(time.strptime(base, '%Y-%m-%dT%H:%M:%S'))
    except ValueError:
        return 0
