# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Converging swarm services against one manager's Engine API (used by the swarm_service module).

Reads are batched for many services: one GET /services (with ServiceStatus) answers "does it exist,
what is its spec, how many tasks run" for every service of the call, one GET /networks resolves
network names, one GET /nodes counts the nodes a global service runs on, and waiting polls one
GET /tasks for all the services that changed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import json
import time

from ansible_collections.swarmops.swarm.plugins.module_utils.engine import EngineError
from ansible_collections.swarmops.swarm.plugins.module_utils import swarm_spec

POLL_INTERVAL = 1.0
GIVE_UP_AFTER_FAILED_TASKS = 3
IN_PROGRESS = ('updating', 'rollback_started')


class ServiceFailure(Exception):
    def __init__(self, message, result):
        super(ServiceFailure, self).__init__(message)
        self.message = message
        self.result = result


def _template_key(template):
    """A task's Spec is the service's TaskTemplate as it was when the task was made (minus Runtime).

    Placement is left out: the orchestrator keeps a running task whose node still satisfies a changed
    placement (and only updates its copy of the spec in the store), so it is not a task of an old spec.
    """
    template = dict(template or {})
    template.pop('Runtime', None)
    template.pop('Placement', None)
    return json.dumps(template, sort_keys=True)


class Converger(object):
    def __init__(self, client, check_mode=False):
        self.client = client
        self.check_mode = check_mode
        self._services = None
        self._networks = None
        self._nodes = None

    # ---- reads, cached for the whole call --------------------------------------------------------
    def load_services(self, names):
        """Current services by name: one GET /services (filtered by name when there are few)."""
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

    # ---- one service ---------------------------------------------------------------------------
    def plan(self, params, fields):
        """What to do for one service: a dict the apply step and the result are built from."""
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
        if current is None and 'image' not in fields:
            raise swarm_spec.SpecError('image: required to create service %s (it does not exist yet)' % name)
        refs = swarm_spec.reference_names(fields)
        ctx = {'resolve_image': bool(params.get('resolve_image')), 'force_update': bool(params.get('force_update'))}
        if 'networks' in fields:
            ctx['network_ids'], ctx['network_names'] = self.network_maps(refs['networks'])
        if params.get('resolve_image') and 'image' in fields:
            ctx['resolved_image'] = self.resolve_image(fields['image'])
            fields = dict(fields, image=ctx['resolved_image'])
            plan['fields'] = fields
        plan['ctx'] = ctx
        if current is None:
            plan['action'] = 'create'
            plan['before'] = {'state': 'absent'}
            plan['after'] = dict((k, v) for k, v in _canonical_all(fields, ctx).items())
        else:
            before, after = swarm_spec.compare(fields, current['Spec'], ctx)
            plan['recreate_reason'] = swarm_spec.needs_recreate(fields, current['Spec'])
            if before or after:
                plan['action'] = 'recreate' if plan['recreate_reason'] else 'update'
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
        return plan

    def resolve_image(self, image):
        """name:tag@sha256:... from the registry, through the engine (GET /distribution)."""
        name, _digest = swarm_spec.split_digest(image)
        try:
            answer = self.client.get('/distribution/%s/json' % name)
        except EngineError as exc:
            raise swarm_spec.SpecError('resolve_image: cannot resolve %s to a digest (%s); the registry must be '
                                       'reachable from the manager, or set resolve_image: false' % (name, exc))
        return '%s@%s' % (name, answer['Descriptor']['digest'])

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
        if plan['action'] == 'recreate':
            self.client.delete('/services/%s' % current['ID'])
            plan['previous_update'] = None
        if plan['action'] in ('create', 'recreate'):
            answer = self.client.post('/services/create', data=plan['spec'])
            plan['id'] = answer['ID']
            plan['warnings'] = answer.get('Warnings') or []
        else:
            answer = self.client.post('/services/%s/update' % current['ID'], data=plan['spec'],
                                      params={'version': current['Version']['Index']})
            plan['warnings'] = (answer or {}).get('Warnings') or []

    # ---- waiting -------------------------------------------------------------------------------
    def needs_wait(self, plan):
        """Changed services always; an unchanged one only when an update is under way or, for a
        non-job service, fewer tasks run than it wants (ServiceStatus of the same GET, no extra call)."""
        if plan['params'].get('state') == 'absent' or self.check_mode:
            return False
        if plan['action']:
            return True
        current = plan['current']
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

    def wait(self, plans, timeout):
        """Poll until every plan's service has converged; sets plan['tasks'], plan['rolled_back'],
        plan['failure'] (a message) on the ones that did not."""
        pending = [p for p in plans if p.get('id')]
        deadline = time.time() + timeout
        for plan in pending:
            plan['failed_seen'] = set()
        while pending:
            ids = [p['id'] for p in pending]
            services = {}
            # One GET per poll for the services (UpdateStatus, current TaskTemplate), one for their tasks.
            for service in self.client.get('/services', params={'filters': json.dumps({'id': ids})}) or []:
                services[service['ID']] = service
            tasks = self.client.get('/tasks', params={'filters': json.dumps({'service': ids})}) or []
            still = []
            for plan in pending:
                service = services.get(plan['id'])
                if service is None:
                    plan['failure'] = 'service %s disappeared while waiting for it' % plan['name']
                    continue
                plan['service'] = service
                done = self._converged(plan, service, [t for t in tasks if t.get('ServiceID') == plan['id']])
                if not done and time.time() >= deadline:
                    plan['failure'] = ('service %s did not converge within %ss: %d of %d tasks running'
                                       % (plan['name'], timeout, plan['tasks']['running'], plan['tasks']['desired']))
                    done = True
                if not done:
                    still.append(plan)
            pending = still
            if pending:
                time.sleep(POLL_INTERVAL)

    def _converged(self, plan, service, tasks):
        spec = service['Spec']
        job = _is_job(spec)
        desired = self.desired_count(spec)
        template = _template_key(spec.get('TaskTemplate'))
        if job:
            iteration = swarm_spec._dig(service, ('JobStatus', 'JobIteration', 'Index'))
            current_tasks = [t for t in tasks if swarm_spec._dig(t, ('JobIteration', 'Index')) == iteration]
        else:
            current_tasks = [t for t in tasks if t.get('DesiredState') in ('running', 'ready')]
        summary = swarm_spec.task_summary(current_tasks, desired, job)
        recent = [t for t in tasks if swarm_spec._dig(t, ('Status', 'State')) in swarm_spec.FAILED_TASK_STATES
                  and _timestamp(t.get('CreatedAt')) >= plan['started'] - 1]
        plan['failed_seen'].update(t['ID'] for t in recent)
        for task in recent:
            message = '%s: %s' % (swarm_spec._dig(task, ('Status', 'State')), swarm_spec._dig(task, ('Status', 'Err'))
                                  or swarm_spec._dig(task, ('Status', 'Message')))
            if message not in summary['errors']:
                summary['errors'].append(message)
        summary['failed'] = len(plan['failed_seen'])
        plan['tasks'] = summary
        update = service.get('UpdateStatus') or {}
        fresh = update and update.get('StartedAt') != plan.get('previous_update')
        state = update.get('State') if fresh else None
        plan['update_state'] = state
        if state == 'rollback_completed':
            plan['rolled_back'] = True
            plan['failure'] = 'the update of service %s failed and Docker rolled it back: %s' % (
                plan['name'], update.get('Message') or '')
            return True
        if state in ('paused', 'rollback_paused'):
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
        running_new = sum(1 for t in current_tasks if swarm_spec._dig(t, ('Status', 'State')) == 'running'
                          and _template_key(t.get('Spec')) == template)
        summary['running'] = running_new
        return running_new >= desired


def _is_job(spec):
    mode = spec.get('Mode') or {}
    return 'ReplicatedJob' in mode or 'GlobalJob' in mode


def _update_started(service):
    return ((service or {}).get('UpdateStatus') or {}).get('StartedAt')


def _timestamp(text):
    """Seconds since the epoch from the engine's RFC 3339 time (nanoseconds dropped)."""
    if not text:
        return 0
    base = text.split('.')[0].rstrip('Z')
    try:
        return calendar.timegm(time.strptime(base, '%Y-%m-%dT%H:%M:%S'))
    except ValueError:
        return 0


def _canonical_all(fields, ctx):
    view = {}
    for option in swarm_spec.FIELD_ORDER:
        if option in fields:
            if option in ('mode', 'replicas'):
                view[option] = fields[option]
            else:
                view[option] = swarm_spec.canonical(option, fields[option], fields[option], ctx)
    return view
