#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

DOCUMENTATION = r'''
module: swarm_service
short_description: Create, update and remove Docker Swarm services, and wait until they run
version_added: 0.1.0
description:
  - Runs on a swarm manager and converges one service (O(name)) or many (O(services)) to the options given,
    like C(docker service create) / C(docker service update) / C(docker service rm), but idempotent.
  - Change detection compares the options you set with the service's current spec, with the defaults the
    daemon fills in taken into account. An option you do not set is not compared and is left as it is on the
    service; to clear a list or dict, set it to an empty one (for example O(env={})).
  - Lists are compared as sets where Docker treats them as sets (O(constraints), O(env) by name, O(labels),
    O(publish), O(mounts) by target, O(networks), O(secrets), O(configs)) and in order where order matters
    (O(command), O(args), O(placement_preferences)).
  - A change Docker cannot make in place (the O(mode)) removes the service and creates it again; the result
    says so in RV(recreated) and RV(recreate_reason). The new spec is checked against the engine's rules the
    module knows (a job takes no O(update_config), O(endpoint_mode=dnsrr) takes no ingress ports, options the
    engine's API version does not know) before anything is removed; if the create fails anyway, the old
    service is created again from its saved spec (its previous spec too, so a rollback still goes where it
    went) and the module fails with both errors.
  - With O(wait=true) the module returns when the service has converged, and fails with the errors Docker
    reported for its tasks (for example C(No such image), C(no suitable node)) when it does not.
  - A rollout that Docker paused (a failed update with C(failure_action=pause)) is not taken for a converged
    service - a run that finds one restarts the tasks (like C(docker service update --force)) and waits again.
author:
  - swarmops.swarm contributors (@swarmops)
extends_documentation_fragment:
  - swarmops.swarm.engine
attributes:
  check_mode:
    support: full
    description: Predicts C(changed) and the diff without touching the service.
  diff_mode:
    support: full
    description: The diff holds before/after of exactly the options that differ.
options:
  name:
    description:
      - The service's name. Required unless O(services) is given.
    type: str
  services:
    description:
      - Converge many services in one call instead of one O(name); each item is a dict of this module's
        per-service options (O(name), O(state), O(image), O(replicas), ... everything except O(services),
        O(wait), O(wait_timeout), O(wait_stable) and the engine options (O(docker_host), O(api_timeout), ...),
        which apply to the whole call).
      - All items are validated before anything is changed. The services are read with one API call,
        changed one after the other, and waited for together.
      - Mutually exclusive with O(name) and the other per-service options.
    type: list
    elements: dict
  state:
    description:
      - V(present) creates or updates the service, V(absent) removes it.
      - V(rolled_back) returns the service to its previous spec, like C(docker service rollback), and waits
        for that rollout (O(wait)). It takes no options that describe a spec. A service whose last change was a
        rollback (by Docker or on request) is left as it is, so a second run does not roll it forward again.
    type: str
    choices: [present, absent, rolled_back]
    default: present
  image:
    description:
      - The image, such as V(nginx:1.27). Required to create a service.
      - V(busybox) and V(docker.io/library/busybox:latest) are the same image for change detection.
    type: str
  command:
    description:
      - Overrides the image's entrypoint. A string is split like a shell would, a list is taken as is.
    type: raw
  args:
    description:
      - Arguments to the command (the image's CMD when O(command) is not set).
    type: list
    elements: str
  mode:
    description:
      - V(replicated) (a number of tasks), V(global) (one task per eligible node), V(replicated-job) (run
        O(replicas) tasks to completion), V(global-job) (run once to completion on every eligible node).
      - A new service is V(replicated) when this is not set; an existing one keeps its mode.
      - Changing the mode of an existing service recreates it.
    type: str
    choices: [replicated, global, replicated-job, global-job]
  replicas:
    description:
      - Number of tasks of a V(replicated) service, or completions of a V(replicated-job).
      - A whole number, 0 or more. Not allowed for global modes, nor for an existing global service when
        O(mode) is not given. A new replicated service gets 1.
    type: raw
  max_concurrent:
    description:
      - How many tasks of a V(replicated-job) run at the same time. A new job runs O(replicas) at once (as
        C(docker service create) does); an existing one keeps its value when this is not set.
    type: int
  env:
    description:
      - Environment variables, as a dict of names to values or a list of V(NAME=value) strings.
      - Compared as a set keyed by name. Booleans must be quoted. Variables set through O(secret_env) are not
        part of this set (they are left alone unless O(secret_env) is given).
    type: raw
  secret_env:
    description:
      - Environment variables whose values are secret (passwords, tokens), as a dict of names to values.
      - Their values never appear in the module's results, diffs or messages; they are compared by salted
        hashes. The service carries the label C(swarmops.swarm.secret-env) with the salt and the hashes (no
        values) so later runs, and RV(service) of every run, know which variables to mask.
      - Like O(env), the complete set of secret variables when given; a name may not be in both.
      - The values are in the service spec, readable by anyone who may inspect services on a manager; for
        data that must not be, use O(secrets) (files from Docker secrets).
    type: dict
  labels:
    description:
      - Service labels. Labels that tooling adds (V(com.docker.stack.*), V(com.docker.compose.*)) are ignored
        and kept unless you set them.
    type: dict
  container_labels:
    description:
      - Labels of the service's containers. Labels that tooling adds (V(com.docker.stack.namespace), ...) are
        ignored and kept unless you set them.
    type: dict
  publish:
    description:
      - Published ports, each a dict or the shorthand V(PUBLISHED:TARGET[/PROTOCOL]) (V("8080:80/udp")).
      - Dict keys are V(published) (1-65535; left out, the swarm picks one), V(target) (1-65535, required),
        V(protocol) (V(tcp), V(udp), V(sctp); default V(tcp)) and V(mode) (V(ingress) or V(host); default
        V(ingress)).
      - V(host) ports are bound on the node a task runs on; V(ingress) ports go through the routing mesh
        (which needs IPVS in the nodes' kernel).
    type: list
    elements: raw
  networks:
    description:
      - Networks to attach to, by name (resolved to IDs) or as a dict with V(name) and V(aliases). The
        networks must exist (swarm-scoped, usually overlay).
    type: list
    elements: raw
  mounts:
    description:
      - Mounts, each a dict or the C(--mount) string form (V(type=bind,source=/srv,target=/data,readonly)).
      - Dict keys are V(type) (V(bind), V(volume), V(tmpfs), V(npipe); default V(volume)), V(source),
        V(target) (required, absolute), V(readonly), V(propagation) (bind), V(no_copy), V(volume_labels),
        V(volume_driver), V(volume_driver_options) (volume), V(tmpfs_size), V(tmpfs_mode) (tmpfs).
      - V(readonly) and V(no_copy) take booleans or their spellings (V("false") is false). V(tmpfs_mode) is
        octal like C(chmod) (V(1777) or V("1777")); a number YAML read from a leading-zero form (V(0440) is 288)
        is refused, so quote modes.
    type: list
    elements: raw
  constraints:
    description:
      - Placement constraints, each V(key==value) or V(key!=value) (V(node.role==manager),
        V(node.labels.zone!=b)). Compared as a set.
    type: list
    elements: str
  placement_preferences:
    description:
      - Spread preferences, in order, each a dict with the key V(spread) (V(node.labels.zone)) or the
        string V(spread=node.labels.zone).
    type: list
    elements: raw
  max_replicas_per_node:
    description:
      - At most this many tasks of the service on one node; V(0) is no limit. Replicated services only.
    type: raw
  limits:
    description:
      - Resource limits of each task.
    type: dict
    suboptions:
      cpus:
        description: CPUs, such as V(0.5) (stored as NanoCPUs). V(0) is no limit.
        type: raw
      memory:
        description: Memory in bytes or with a unit (V(64M), V(1G); powers of 1024). V(0) is no limit.
        type: raw
      pids:
        description: Maximum number of processes (engine API 1.41+). V(0) is no limit.
        type: int
  reservations:
    description:
      - Resources reserved for each task (the scheduler only places a task where they are free).
    type: dict
    suboptions:
      cpus:
        description: CPUs, such as V(0.5).
        type: raw
      memory:
        description: Memory in bytes or with a unit (V(64M)).
        type: raw
  generic_resources:
    description:
      - Generic resources each task reserves (C(--generic-resource)), as V(KIND=VALUE) strings or a dict;
        a number is a count of a discrete resource (V(gpu=2)), text names one (V(gpu=GPU-UUID)). Nodes
        advertise them with the engine's C(node-generic-resources) setting.
    type: raw
  restart_policy:
    description:
      - When to restart tasks. Keys left out keep the service's current value (Docker's defaults for a
        new service are any, 5s, unlimited, 0).
    type: dict
    suboptions:
      condition:
        description: When to restart.
        type: str
        choices: [none, on-failure, any]
      delay:
        description: Delay between restart attempts (V(5s), V(1m30s), or seconds).
        type: raw
      max_attempts:
        description: Maximum restarts before giving up; V(0) is unlimited.
        type: int
      window:
        description: Window used to evaluate the restart policy.
        type: raw
  update_config:
    description:
      - How a change rolls out. Keys left out keep the service's current value.
    type: dict
    suboptions:
      parallelism:
        description: Tasks updated at once (V(0) is all).
        type: int
      delay:
        description: Delay between batches.
        type: raw
      failure_action:
        description: What to do when the update fails; V(rollback) restores the previous spec.
        type: str
        choices: [continue, pause, rollback]
      monitor:
        description: How long after each task's update a failure still counts.
        type: raw
      max_failure_ratio:
        description: Share of tasks that may fail (0 to 1).
        type: float
      order:
        description: Stop the old task first or start the new one first.
        type: str
        choices: [stop-first, start-first]
  rollback_config:
    description:
      - How a rollback rolls out. Keys left out keep the service's current value.
    type: dict
    suboptions:
      parallelism:
        description: Tasks rolled back at once (V(0) is all).
        type: int
      delay:
        description: Delay between batches.
        type: raw
      failure_action:
        description: What to do when the rollback fails.
        type: str
        choices: [continue, pause]
      monitor:
        description: How long after each task's rollback a failure still counts.
        type: raw
      max_failure_ratio:
        description: Share of tasks that may fail (0 to 1).
        type: float
      order:
        description: Stop the old task first or start the new one first.
        type: str
        choices: [stop-first, start-first]
  healthcheck:
    description:
      - The container's health check. Keys left out keep the service's current value.
    type: dict
    suboptions:
      test:
        description:
          - A string is run by the shell (V(CMD-SHELL)); a list is exec'd (V(CMD) is prepended unless it starts
            with V(CMD), V(CMD-SHELL) or V(NONE)).
        type: raw
      interval:
        description: Time between checks.
        type: raw
      timeout:
        description: Time a check may take.
        type: raw
      retries:
        description: Failures in a row that make the container unhealthy.
        type: int
      start_period:
        description: Start-up time during which failures do not count.
        type: raw
      start_interval:
        description: Time between checks during the start period (Engine API 1.44, Docker 25, or newer).
        type: raw
      disable:
        description: Disable any health check of the image.
        type: bool
  secrets:
    description:
      - Secrets, by name or as a dict with V(name), V(target), V(uid), V(gid), V(mode) (target defaults to
        the name, mode to V(0444)). Names are resolved to IDs; the secrets must exist.
      - V(mode) is octal like C(chmod) (V("0440"), V(440)); quote a leading-zero mode.
    type: list
    elements: raw
  configs:
    description:
      - Configs, by name or as a dict with V(name), V(target), V(uid), V(gid), V(mode), like O(secrets).
    type: list
    elements: raw
  user:
    description: User (name or UID[:GID]) the container runs as.
    type: str
  workdir:
    description: Working directory in the container.
    type: str
  groups:
    description: Additional groups the container's process runs with. Compared as a set.
    type: list
    elements: str
  hostname:
    description: Hostname of the containers (Go templates such as V({{.Task.Name}}) are allowed).
    type: str
  hosts:
    description:
      - Extra lines of the containers' C(/etc/hosts), as a dict of host name to IP address or a list of
        V(NAME:IP) (C(--host)). Compared as a set.
    type: raw
  dns:
    description: DNS servers of the containers (IP addresses, in order).
    type: list
    elements: str
  dns_search:
    description: DNS search domains of the containers, in order.
    type: list
    elements: str
  dns_options:
    description: Options for the containers' resolver (V(ndots:2), V(timeout:1)), in order.
    type: list
    elements: str
  cap_add:
    description:
      - Kernel capabilities added to the containers (V(NET_ADMIN) or V(CAP_NET_ADMIN); V(ALL)). Compared as a
        set. Engine API 1.41 (Docker 20.10) or newer.
    type: list
    elements: str
  cap_drop:
    description: Kernel capabilities dropped from the containers, like O(cap_add).
    type: list
    elements: str
  sysctls:
    description: Namespaced kernel parameters of the containers (V(net.core.somaxconn)), as a dict.
    type: dict
  ulimits:
    description:
      - Resource limits of the containers' processes, as a dict of limit name to V(SOFT) or V(SOFT:HARD) or
        V({soft, hard}) (V(nofile), V(nproc), ...), or a list of V(NAME=SOFT:HARD). Engine API 1.41 or newer.
    type: raw
  read_only:
    description: Mount the containers' root file systems read-only.
    type: bool
  tty:
    description: Allocate a pseudo-TTY for the containers.
    type: bool
  init:
    description: Run an init process in each container that forwards signals and reaps processes.
    type: bool
  stop_signal:
    description: Signal that stops a container (V(SIGTERM), V(TERM), V(SIGRTMIN+3), V(15)); the image's by default.
    type: str
  stop_grace_period:
    description: Time to wait after the stop signal before killing a container (V(10s), or seconds).
    type: raw
  oom_score_adj:
    description:
      - The containers' OOM score adjustment, -1000 to 1000. Engine API 1.46 (Docker 27) or newer; an older
        manager refuses it before anything changes.
    type: int
  log_driver:
    description: Logging driver of the containers (V(json-file), V(local), V(journald), ...).
    type: str
  log_options:
    description:
      - Options of the logging driver, such as V(max-size) and V(max-file) of V(json-file).
      - Needs O(log_driver) or a driver already set on the service; changing the driver without giving
        options drops the old driver's options.
    type: dict
  endpoint_mode:
    description:
      - V(vip) (a virtual IP) or V(dnsrr) (DNS round robin; cannot be used with ingress-mode ports).
    type: str
    choices: [vip, dnsrr]
  resolve_image:
    description:
      - Pin the image to its digest from the registry, as C(docker service create) does by default.
        The registry must be reachable from the manager; each run then asks it once per service, and a
        moved tag (a new push of V(app:1)) updates the service.
      - Off by default because pinning needs a registry and costs a registry round trip per service and
        run; with it off, a service whose tasks run a locally loaded image works, the comparison ignores a
        digest suffix on the service's current image, and a re-pushed tag is not noticed (use a new tag or
        O(force_update)).
    type: bool
    default: false
  force_update:
    description:
      - Restart every task even when nothing changed (C(docker service update --force)); always changed.
    type: bool
    default: false
  registry_auth:
    description:
      - Credentials of a private registry, for every service of the call whose image comes from it, sent
        with the create/update (what C(docker service create --with-registry-auth) does), so the manager
        keeps them with the service and the workers that run its tasks can pull the image, and with
        O(resolve_image)'s digest lookup.
      - Checked with the registry (through the manager's engine) before anything changes when an image of
        the call comes from it, so a wrong password fails the run with a message naming the registry and the
        user, and nothing is changed.
      - Never shown (the password is C(no_log) and scrubbed from engine and registry errors); never sent with
        an image of another registry. An image given as V(app:1) is Docker Hub's, not this registry's.
      - An item that gives no O(image) (an update of other options) sends the credentials when the
        service's image is from the registry, without checking them first.
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
  wait:
    description:
      - Return only when the service has converged. For a change, that is when Docker's rolling update is
        complete and the desired number of tasks of the new spec run (replicated - O(replicas);
        global - one per ready, active node matching the constraints; jobs - completed).
      - For an unchanged service no tasks are listed unless an update is still in progress or, for a non-job
        service, fewer tasks run than it wants (both seen in the one GET of the service).
      - A rollout counts as done when Docker reports its update complete (or never started one), every task
        that should run runs the service's current task template, and, when the change replaces tasks (a new
        template, or new ports or endpoint mode), none of the tasks from before the change is left.
      - Then every running task must stay up for O(wait_stable) seconds; a task that exits in that time fails
        the module with the task's error (a container that crashes a few seconds after start).
      - Fails with the errors Docker reported for the tasks, gives up early when three tasks failed since
        the change, and reports V(rolled_back) when Docker rolled the update back. A paused rollout fails.
    type: bool
    default: true
  wait_stable:
    description:
      - Seconds the converged tasks must keep running before the service counts as converged (not for jobs).
        V(0) returns as soon as they run.
    type: int
    default: 5
  wait_timeout:
    description:
      - Seconds to wait for convergence.
    type: int
    default: 120
notes:
  - Runs on a swarm manager.
  - A secret or config whose content changed has to get a new name (secrets are immutable); the comparison
    is by name.
seealso:
  - module: swarmops.swarm.swarm_init
  - module: swarmops.swarm.swarm_join
'''

EXAMPLES = r'''
- name: The walkthrough's service (docker service create --replicas 1 --name helloworld alpine ping docker.com)
  swarmops.swarm.swarm_service:
    name: helloworld
    image: alpine
    args: [ping, docker.com]
    replicas: 1

- name: A web service with a host-mode port, spread over the workers
  swarmops.swarm.swarm_service:
    name: web
    image: nginx:1.27
    replicas: 4
    publish:
      - {published: 8080, target: 80, mode: host}
    constraints: [node.role==worker]
    placement_preferences:
      - spread: node.labels.zone
    max_replicas_per_node: 2
    limits: {cpus: 0.5, memory: 128M}
    env: {APP_ENV: production}
    update_config: {parallelism: 1, failure_action: rollback, order: start-first}

- name: A service whose image comes from a private registry (docker service create --with-registry-auth)
  swarmops.swarm.swarm_service:
    name: api
    image: registry.example.com:5000/team/api:3.2
    replicas: 2
    resolve_image: true
    registry_auth:
      server: registry.example.com:5000
      username: deploy
      password: "{{ vault_registry_password }}"

- name: A monitoring agent on every node
  swarmops.swarm.swarm_service:
    name: node-agent
    image: prom/node-exporter:v1.8.2
    mode: global
    publish: ["9100:9100"]

- name: Many services in one call (one read for all, waited for together)
  swarmops.swarm.swarm_service:
    services: "{{ swarm_services }}"

- name: An application whose database password never shows in any output
  swarmops.swarm.swarm_service:
    name: app
    image: registry.example.com/app:2.1@sha256:4b1c…  # a digest given here is the pin, compared as such
    env: {APP_ENV: production}
    secret_env: {DB_PASSWORD: "{{ vault_db_password }}"}
    cap_drop: [ALL]
    read_only: true
    ulimits: {nofile: "4096:8192"}
    log_driver: json-file
    log_options: {max-size: 10m, max-file: "3"}
    healthcheck: {test: "wget -q -O- localhost:8080/health", interval: 10s, start_period: 30s}

- name: Undo the last update (docker service rollback)
  swarmops.swarm.swarm_service:
    name: app
    state: rolled_back

- name: A job that runs 10 completions, 2 at a time
  swarmops.swarm.swarm_service:
    name: migrate
    image: registry.example.com/app:2.1
    args: [migrate]
    mode: replicated-job
    replicas: 10
    max_concurrent: 2

- name: Remove a service
  swarmops.swarm.swarm_service:
    name: helloworld
    state: absent
'''

RETURN = r'''
service:
  description: The service after the run (the predicted spec in check mode); for O(services), see RV(services).
  returned: when O(name) is given and the service exists after the run
  type: dict
  contains:
    id:
      description: Service ID (V(null) for a service only predicted in check mode).
      type: str
    name:
      description: Service name.
      type: str
    spec:
      description:
        - The service's spec as Engine API JSON. The values of O(secret_env) variables read V(********) and
          the C(swarmops.swarm.secret-env) label lists only their names.
      type: dict
  sample: {id: ab12cd34, name: web, spec: {Name: web, Mode: {Replicated: {Replicas: 2}}}}
tasks:
  description:
    - Task counts; V(desired) and V(running) come from the engine's ServiceStatus for an unchanged service,
      from the task list when the module waited; V(failed) counts tasks that failed since the change, and
      V(errors) holds the errors Docker reported for them.
  returned: when O(name) is given and the service exists
  type: dict
  sample: {desired: 2, running: 2, completed: 0, failed: 0, errors: []}
recreated:
  description: Whether the service was removed and created again (or would be, in check mode).
  returned: when O(name) is given
  type: bool
recreate_reason:
  description: Why the service had to be recreated.
  returned: when RV(recreated) is true
  type: str
  sample: mode changes from replicated to global, which Docker cannot update in place
rolled_back:
  description:
    - Whether the service was rolled back to its previous spec - by Docker after a failed update (the module
      then fails), or on request (O(state=rolled_back)).
  returned: when O(name) is given
  type: bool
restored:
  description:
    - After a recreate whose create failed - whether the old service was created again from its saved spec.
  returned: when a recreate failed
  type: bool
saved_spec:
  description: The removed service's spec, when a recreate failed and restoring it failed too (secrets masked).
  returned: when a recreate failed and the restore failed
  type: dict
diff:
  description: Before/after of exactly the options that differ, in the options' terms (canonical values).
  returned: when changed, with O(name)
  type: dict
  sample: {before: {replicas: 1}, after: {replicas: 2}}
services:
  description: With O(services), one result per item (name, changed, action, service, tasks, recreated,
    recreate_reason, rolled_back, restored, diff, failed, msg).
  returned: when O(services) is given
  type: list
  elements: dict
elapsed:
  description: Seconds the module spent (reading, changing and waiting).
  returned: always
  type: float
warnings_from_engine:
  description: Warnings the engine returned on create/update (for example about an image it cannot resolve).
  returned: when there were any
  type: list
  elements: str
'''

import copy
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.swarmops.swarm.plugins.module_utils._engine import (
    ENGINE_ARGUMENT_SPEC, EngineClient, EngineError)
from ansible_collections.swarmops.swarm.plugins.module_utils import _registry_auth
from ansible_collections.swarmops.swarm.plugins.module_utils import swarm_spec
from ansible_collections.swarmops.swarm.plugins.module_utils.swarm_service import (
    SERVICE_ARGUMENT_SPEC, Converger, RecreateFailed, mask_secret_env, validated_items)


def argument_spec():
    spec = copy.deepcopy(SERVICE_ARGUMENT_SPEC)
    spec.update(
        services=dict(type='list', elements='dict'),
        wait=dict(type='bool', default=True),
        wait_timeout=dict(type='int', default=120),
        wait_stable=dict(type='int', default=5),
        registry_auth=dict(type='dict', options=copy.deepcopy(_registry_auth.AUTH_OPTIONS), no_log=False),
    )
    spec.update(ENGINE_ARGUMENT_SPEC)
    return spec


def service_items(module):
    """The per-service parameter dicts of this call: [module params] or the validated O(services)."""
    params = module.params
    if params['services'] is None:
        if not params['name']:
            module.fail_json(msg='name: required (or give services, a list of services)')
        return [dict((k, params[k]) for k in SERVICE_ARGUMENT_SPEC)]
    defaults = dict((k, v.get('default')) for k, v in SERVICE_ARGUMENT_SPEC.items())
    extra = [k for k in SERVICE_ARGUMENT_SPEC if params.get(k) != defaults[k]]
    if extra:
        module.fail_json(msg='services: give per-service options (%s) inside each item of services, not next to '
                             'it' % ', '.join(sorted(extra)))
    try:
        return validated_items(params['services'])
    except swarm_spec.SpecError as exc:
        module.fail_json(msg=to_native(exc))


def service_result(plan):
    action = plan.get('action')
    result = {'name': plan['name'], 'changed': bool(action), 'action': action or 'none',
              'recreated': action == 'recreate', 'rolled_back': bool(plan.get('rolled_back'))}
    if plan.get('recreate_reason') and action == 'recreate':
        result['recreate_reason'] = plan['recreate_reason']
    if action:
        result['diff'] = {'before': plan['before'], 'after': plan['after']}
    if 'restored' in plan:
        result['restored'] = plan['restored']
        if not plan['restored']:
            result['saved_spec'] = swarm_spec.public_spec(plan['current']['Spec'])
    if action != 'remove' and (plan['current'] or action) and plan.get('restored') is not False:
        service = plan.get('service')
        if service is not None:
            spec = service['Spec']
        elif action and 'restored' not in plan:
            spec = plan['spec']  # predicted (check mode, or not waited for)
        else:
            spec = plan['current']['Spec']
        result['service'] = {'id': plan.get('id'), 'name': plan['name'], 'spec': swarm_spec.public_spec(spec)}
        if plan.get('tasks') is not None:
            result['tasks'] = plan['tasks']
        elif plan['current'] and not action:
            status = plan['current'].get('ServiceStatus') or {}
            result['tasks'] = {'desired': status.get('DesiredTasks'), 'running': status.get('RunningTasks'),
                               'completed': status.get('CompletedTasks', 0), 'failed': 0, 'errors': []}
    if plan.get('warnings'):
        result['warnings_from_engine'] = plan['warnings']
    if plan.get('failure'):
        result['failed'] = True
        message = plan['failure']
        errors = (plan.get('tasks') or {}).get('errors') or []
        if errors:
            message += '; task errors: ' + ' | '.join(errors[:5])
        result['msg'] = message
    return result


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        mutually_exclusive=[('name', 'services')],
        required_one_of=[('name', 'services')],
        supports_check_mode=True,
    )
    # before the items are validated: a malformed one cannot print a value in the failure's arguments
    # (AnsibleModule itself only knows the single service's secret_env)
    mask_secret_env(module, module.params['services'])
    items = service_items(module)
    # Every item is validated before the first engine call.
    fields = []
    for item in items:
        try:
            fields.append(swarm_spec.validate(item))
        except swarm_spec.SpecError as exc:
            prefix = '' if module.params['services'] is None else 'service %s: ' % item.get('name')
            module.fail_json(msg=prefix + to_native(exc))
    try:
        auth = _registry_auth.validate(module.params['registry_auth'])
    except _registry_auth.RegistryAuthError as exc:
        module.fail_json(msg=to_native(exc))
    client = EngineClient.from_module(module)
    converger = Converger(client, check_mode=module.check_mode, auth=auth)
    started = time.time()
    plans = []
    try:
        if _registry_auth.used_by([f.get('image') for f in fields], auth):
            # Before the first read: a wrong password fails here, with the registry's answer, not later as
            # a digest that cannot be resolved or tasks that cannot pull.
            try:
                _registry_auth.check(client, auth, EngineError)
            except _registry_auth.RegistryAuthError as exc:
                module.fail_json(msg=to_native(exc), changed=False)
        converger.load_services([item['name'] for item in items])
        for item, item_fields in zip(items, fields):
            try:
                plans.append(converger.plan(item, item_fields))
            except swarm_spec.SpecError as exc:
                module.fail_json(msg=('service %s: ' % item['name']) + to_native(exc))
        converger.remember_tasks(plans)
        for plan in plans:
            try:
                converger.apply(plan)
            except RecreateFailed as exc:
                plan['failure'] = to_native(exc)
        if module.params['wait']:
            converger.wait([p for p in plans if converger.needs_wait(p)], module.params['wait_timeout'],
                           module.params['wait_stable'])
    except EngineError as exc:
        done = [p['name'] for p in plans if p.get('id') and p.get('action')]
        module.fail_json(msg='Docker engine error: %s%s' % (
            _registry_auth.scrub(exc, auth), ' (already changed: %s)' % ', '.join(done) if done else ''))
    results = [service_result(plan) for plan in plans]
    elapsed = round(time.time() - started, 2)
    failed = [r for r in results if r.get('failed')]
    if module.params['services'] is None:
        result = results[0]
        result['elapsed'] = elapsed
        if failed:
            module.fail_json(**result)
        module.exit_json(**result)
    summary = {'changed': any(r['changed'] for r in results), 'services': results, 'elapsed': elapsed,
               'diff': {'before': dict((r['name'], r['diff']['before']) for r in results if r.get('diff')),
                        'after': dict((r['name'], r['diff']['after']) for r in results if r.get('diff'))}}
    if failed:
        module.fail_json(msg='; '.join(r['msg'] for r in failed), **summary)
    module.exit_json(**summary)


if __name__ == '__main__':
    main()
