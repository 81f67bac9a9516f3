"""An unchanged re-run skips groups of steps in one (an include whose condition is false): the skip must never
hide a change. For every group, the include's condition, read from the file that holds it and evaluated by Ansible's
own templating, must be true wherever any task inside would run, over the class of plans and hosts below; and false
on an unchanged cluster, or the group saves nothing. The tasks' own conditions are read from their files too, so a
condition added inside without widening the include fails here."""

import functools
import itertools
import re
from pathlib import Path

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

try:  # ansible-core 2.19 templates only strings marked as trusted; older releases template every string
    from ansible.template import trust_as_template
except ImportError:
    def trust_as_template(text):
        return text

from ansible_collections.swarmops.swarm.plugins.plugin_utils.swarm_plan import changed_in_run

REPO_ROOT = Path(__file__).resolve().parents[3]
# The collection's filter swarm_changed, in the report's conditions, stands for its own logic (changed_in_run,
# unit-tested with the filters): a plain Templar has no collection loader, and installing one here would change
# what every later test imports.
SWARM_CHANGED = re.compile(r"hostvars \| swarmops\.swarm\.swarm_changed\((\w+), (\w+)\)")


def load(path):
    return yaml.safe_load((REPO_ROOT / path).read_text())


def trusted(values):
    return {name: trust_as_template(value) if isinstance(value, str) else value for name, value in values.items()}


def role_vars(role):
    """A role's defaults and vars, as the role's tasks see them (vars over defaults)."""
    return dict(_role_vars(role))


@functools.lru_cache(maxsize=None)
def _role_vars(role):
    values = {}
    for kind in ('defaults', 'vars'):
        path = REPO_ROOT / 'roles' / role / kind / 'main.yml'
        if path.exists():
            values.update(yaml.safe_load(path.read_text()) or {})
    return values


def holds(condition, variables):
    """A task's `when` (a string, or a list of strings that must all hold), as Ansible evaluates it."""
    templar = Templar(loader=DataLoader(), variables=trusted(variables))
    for expression in condition if isinstance(condition, list) else [condition]:
        value = templar.template(trust_as_template('{{ %s }}' % expression))
        if isinstance(value, str):  # older ansible-core renders to text unless native types are on
            value = value.strip().lower() in ('true', 'yes', '1')
        if not value:
            return False
    return True


def non_empty(loop, variables):
    """Whether a task's `loop` template yields any item."""
    return holds('(%s) | length > 0' % loop.strip()[2:-2], variables)


def task(tasks, name):
    found = [t for t in tasks if t.get('name') == name]
    assert len(found) == 1, 'no single task %r: the file changed shape' % name
    return found[0]


# ---- the swarm's changes: init or settings, unlock, joins (site.yml: playbooks/tasks/form_swarm.yml) ------------

SITE_PLAYS = load('playbooks/site.yml')
SWARM_PLAY = [play for play in SITE_PLAYS if play['name'].startswith('Form the swarm')][0]
FORM = task(SWARM_PLAY['tasks'], 'Form the swarm, unlock the managers and join the nodes, where the plan says so')
BOOTSTRAP_MAIN = task(load('roles/swarm_bootstrap/tasks/main.yml'),
                      'Initialise the swarm, or confirm and update its settings, and unlock managers, where the plan '
                      'says so')
CHANGE = load('roles/swarm_bootstrap/tasks/change.yml')
MEMBER = load('roles/swarm_member/tasks/main.yml')
HOSTS = ['m1', 'm2', 'w1']


def form_inner(variables):
    """Whether any task that form_swarm.yml includes would run on this host."""
    init, unlock = CHANGE[0], CHANGE[1]
    join_managers = task(MEMBER, 'Join the managers one at a time, each after a quorum check')
    join_workers = task(MEMBER, 'Join the workers')
    return (holds(init['when'], variables) or holds(unlock['when'], variables)
            or non_empty(join_managers['loop'], variables) or holds(join_workers['when'], variables))


PLAN_FIELDS = {
    'action': ['use', 'init'],
    'managers': [[], ['m2'], ['m9']],  # m9: outside this run (--limit)
    'workers': [[], ['w1'], ['w9']],
    'unlock': [[], ['m1'], ['m2']],
}
SETTINGS = [{}, {'swarm_bootstrap_autolock': True}, {'swarm_bootstrap_rotate_worker_token': True},
            {'swarm_bootstrap_labels': {'env': 'lab'}}]


@pytest.mark.parametrize('action, managers, workers, unlock', list(itertools.product(*PLAN_FIELDS.values())))
def test_the_swarm_changes_are_included_wherever_one_of_them_would_run(action, managers, workers, unlock):
    plan = {'action': action, 'manager': 'm1', 'joins': {'managers': managers, 'workers': workers},
            'unlock': unlock, 'states': {}}
    for settings, host in itertools.product(SETTINGS, HOSTS):
        variables = dict(role_vars('swarm_bootstrap'), **role_vars('swarm_member'))
        variables.update(settings, swarm_bootstrap_plan=plan, inventory_hostname=host, ansible_play_hosts=HOSTS,
                         groups={'swarm_managers': ['m1', 'm2'], 'swarm_workers': ['w1']})
        included = holds(FORM['when'], variables)
        assert holds(BOOTSTRAP_MAIN['when'], variables) is included  # the role's own main.yml: the same skip
        if form_inner(variables):
            assert included, (plan, settings, host)
        unchanged = (action, managers, workers, unlock) == ('use', [], [], []) or (
            action == 'use' and not unlock and set(managers + workers) <= {'m9', 'w9'})
        if unchanged and not settings:
            assert not included, 'an unchanged cluster must skip the swarm changes in one step'


# ---- the nodes' changes: swarm_nodes' apply.yml --------------------------------------------------------------

NODES_INCLUDE = load('roles/swarm_nodes/tasks/main.yml')[-1]
NODES_APPLY = load('roles/swarm_nodes/tasks/apply.yml')


@pytest.mark.parametrize('act, outside, firewall_managers', list(itertools.product(
    [False, True], [[], [{'hostname': 'old', 'id': 'x', 'status': 'down', 'role': 'worker', 'addr': '10.0.0.9'}]],
    [['m1'], ['m1', 'w1']])))
def test_the_nodes_changes_are_included_wherever_one_of_them_would_run(act, outside, firewall_managers):
    assert NODES_INCLUDE['ansible.builtin.include_tasks'] == 'apply.yml'
    for host in HOSTS:
        variables = dict(role_vars('swarm_nodes'), inventory_hostname=host, swarm_bootstrap_plan={'manager': 'm1'},
                         swarm_nodes_plan={'act': act, 'outside': outside, 'changes': [], 'entries': []},
                         groups={'swarm_managers': ['m1', 'm2'], 'swarm_workers': ['w1'],
                                 'swarm_firewall_managers': firewall_managers},
                         hostvars={}, swarm_nodes_result={'skipped': True})
        inner = False
        for entry in NODES_APPLY:
            entry_vars = dict(variables, **(entry.get('vars') or {}))
            if '_swarm_nodes_outside' in (entry.get('vars') or {}):
                # The report's list: the plan's when the node step did not run (act false; when it ran, the
                # include runs anyway). Given as that value: older ansible-core loads every filter a template
                # names, and a plain Templar has no collection loader.
                assert 'swarm_nodes_plan.outside' in entry['vars']['_swarm_nodes_outside']
                entry_vars['_swarm_nodes_outside'] = outside
            inner = inner or holds(entry['when'], entry_vars)
        included = holds(NODES_INCLUDE['when'], variables)
        if inner:
            assert included, (act, outside, firewall_managers, host)
        if not act and not outside and firewall_managers == ['m1']:
            assert not included


# ---- the report's reads: swarm_status' read.yml, included by its entry point `site` -------------------------

STATUS_INCLUDE = load('roles/swarm_status/tasks/site.yml')[0]
STATUS_READS = load('roles/swarm_status/tasks/read.yml')
CHANGE_RESULTS = ['swarm_bootstrap_result', 'swarm_member_join', 'swarm_nodes_result', 'swarm_services_result',
                  'swarm_rolling_result']
MANAGER_READ = {'swarm': {'control_available': True}}


def without_filter(condition):
    """CONDITION with the swarm_changed filter's call replaced by its value (_swarm_changed); it must be there."""
    if isinstance(condition, list):
        return [without_filter(part) for part in condition]
    replaced, count = SWARM_CHANGED.subn('_swarm_changed', condition)
    assert count or 'swarm_changed' not in condition, condition
    return replaced


@pytest.mark.parametrize('planned, tokens, objects, changed', list(itertools.product(
    [True, False], [False, True], [False, True], [None] + CHANGE_RESULTS)))
def test_the_report_reads_are_included_wherever_one_of_them_would_run(planned, tokens, objects, changed):
    assert STATUS_INCLUDE['ansible.builtin.include_tasks'] == 'read.yml'
    hostvars = {host: {'inventory_hostname': host, 'swarm_node_info': MANAGER_READ} for host in HOSTS}
    if changed:
        hostvars['w1'][changed] = {'changed': True}
    variables = dict(role_vars('swarm_status'), inventory_hostname='m1', ansible_play_hosts=HOSTS,
                     ansible_play_hosts_all=HOSTS, hostvars=hostvars, show_join_tokens=tokens)
    if objects:
        variables['swarm_networks'] = [{'name': 'backend'}]
    if planned:
        variables['swarm_bootstrap_plan'] = {'manager': 'm1'}
    variables['_swarm_changed'] = changed_in_run(hostvars, HOSTS, yaml.safe_load(
        (REPO_ROOT / 'roles' / 'swarm_status' / 'vars' / 'main.yml').read_text())['_swarm_status_change_results'])
    inner = any(holds(without_filter(entry['when']), variables) for entry in STATUS_READS)
    included = holds(without_filter(STATUS_INCLUDE['when']), variables)
    if inner:
        assert included, (planned, tokens, objects, changed)
    if planned and not (tokens or objects or changed):
        assert not included


# ---- objects and services (site.yml: playbooks/tasks/objects_and_services.yml) -------------------------------

OBJECTS_AND_SERVICES = task(SWARM_PLAY['tasks'],
                            "Converge the swarm's objects and deploy the services, where any are declared and not "
                            "already so")
OBJECTS_INCLUDE = load('roles/swarm_objects/tasks/main.yml')[0]
SERVICES_TASK = load('roles/swarm_services/tasks/main.yml')[0]
KINDS = ['swarm_networks', 'swarm_secrets', 'swarm_configs', 'swarm_stacks']


@pytest.mark.parametrize('declared, services, unchanged', list(itertools.product(
    [None] + KINDS, [[], [{'name': 'web'}]], [False, True])))
def test_objects_and_services_are_included_wherever_either_would_run(declared, services, unchanged):
    variables = dict(role_vars('swarm_objects'), **role_vars('swarm_services'))
    variables.update(swarm_services=services, swarm_services_unchanged_at_read=unchanged)
    if declared:
        variables[declared] = [{'name': 'one'}]
    inner = holds(OBJECTS_INCLUDE['when'], variables) or holds(SERVICES_TASK['when'], variables)
    # the include is evaluated where the roles are not loaded yet: only the inventory's values are there
    inventory_only = {name: value for name, value in variables.items()
                      if name in KINDS + ['swarm_services', 'swarm_services_unchanged_at_read'] and value}
    inventory_only['swarm_services_unchanged_at_read'] = unchanged
    included = holds(OBJECTS_AND_SERVICES['when'], inventory_only)
    assert included is inner, (declared, services, unchanged)


# ---- the engine's host changes: the docker role's configure.yml, included by apply.yml ----------------------

DOCKER_APPLY = load('roles/docker/tasks/apply.yml')
CONFIGURE_INCLUDE = task(DOCKER_APPLY, 'Change the host (key, apt source, packages, configuration, the engine), '
                                       'where the plan says so')
CONFIGURE = load('roles/docker/tasks/configure.yml')
IMAGES_INCLUDE = task(DOCKER_APPLY, 'Load image archives the engine does not have yet')


def steps(entries, conditions=()):
    """Every task of a task file with everything that must hold for it to run: its blocks' and its own `when`,
    and a non-empty `loop`; a block's rescue is left out (it runs only after a task above it ran and failed)."""
    for entry in entries:
        when = entry.get('when', [])
        here = list(conditions) + (when if isinstance(when, list) else [when])
        if 'block' in entry:
            yield from steps(entry['block'], here)
        elif entry.get('ansible.builtin.meta') == 'flush_handlers':
            continue  # runs the handlers that tasks above it notified: they are inside too
        else:
            yield entry, here


def would_run(entries, variables):
    for entry, conditions in steps(entries):
        if all(holds(condition, variables) for condition in conditions) and (
                'loop' not in entry or non_empty(entry['loop'], variables)):
            return entry['name']
    return None


def unchanged_plan():
    """A plan where the host is as wanted, but for an image to load (a node made from an image with the engine)."""
    return {
        'changed': True, 'reasons': ['load images: busybox'], 'engine_pending': False, 'apt_usable': True,
        'keyring': {'write': False, 'path': '/etc/apt/keyrings/docker.asc', 'url': 'u', 'fingerprint': 'f'},
        'source': {'write': False, 'path': '/etc/apt/sources.list.d/docker.sources', 'content': ''},
        'leftovers': [], 'directories': [], 'conflicts': [], 'selections': [], 'units': [], 'users': [],
        'dropin': {'action': '', 'path': '/etc/systemd/system/docker.service.d/swarmops.conf', 'names': []},
        'daemon_json': {'write': False, 'path': '/etc/docker/daemon.json', 'content': ''},
        'ca': {'write': [], 'directories': []}, 'config_restart': False, 'engine_answers': True,
        'pin': {'version': '', 'package': 'docker-ce', 'resolve_after_refresh': False, 'versions': []},
        'install': {'needed': False, 'names': [], 'fresh': False, 'apt_can_resolve': True, 'refresh_first': False,
                    'cache_valid_time': 3600},
        'images': [{'name': 'busybox', 'tag': 'busybox:latest', 'file': 'busybox.tar', 'url': 'http://m/b.tar'}],
    }


# Each a change the plan can list, as the fields it sets (dotted paths).
ENGINE_CHANGES = {
    'key': {'keyring.write': True},
    'source': {'source.write': True},
    'leftovers': {'leftovers': ['/etc/apt/sources.list.d/docker.list']},
    'directories': {'directories': ['/etc/docker']},
    'refresh': {'install.refresh_first': True},
    'pin after refresh': {'install.refresh_first': True, 'pin.resolve_after_refresh': True},
    'install': {'install.needed': True, 'install.names': ['docker-ce']},
    'fresh install': {'install.needed': True, 'install.fresh': True, 'install.names': ['docker-ce']},
    'install apt cannot resolve': {'install.needed': True, 'install.apt_can_resolve': False},
    'conflicts': {'conflicts': ['docker.io']},
    'conflicts, no apt': {'conflicts': ['docker.io'], 'apt_usable': False},
    'drop-in': {'dropin.action': 'write'},
    'drop-in removed': {'dropin.action': 'remove'},
    'hold': {'selections': ['docker-ce']},
    'daemon.json': {'daemon_json.write': True},
    'config restart': {'config_restart': True},
    'registry CA': {'ca.write': [{'path': '/etc/docker/certs.d/r/ca.crt'}]},
    'registry CA directory': {'ca.directories': ['/etc/docker/certs.d/r']},
    'units': {'units': ['docker']},
    'users': {'users': ['alice']},
    'engine silent': {'engine_answers': False},
    'check mode, no packages': {'engine_pending': True, 'install.needed': True},
}


def with_changes(plan, changes):
    for dotted, value in changes.items():
        target = plan
        *parents, leaf = dotted.split('.')
        for parent in parents:
            target = target[parent]
        target[leaf] = value
    return plan


@pytest.mark.parametrize('first, second', [(a, b) for a, b in itertools.combinations_with_replacement(
    [None] + sorted(ENGINE_CHANGES), 2) if a or not b])
def test_the_engine_host_changes_are_included_wherever_one_of_them_would_run(first, second):
    configure = CONFIGURE
    assert CONFIGURE_INCLUDE['ansible.builtin.include_tasks'] == 'configure.yml'
    plan = unchanged_plan()
    for name in filter(None, {first, second}):
        with_changes(plan, ENGINE_CHANGES[name])
    for check_mode, version in itertools.product([False, True], ['', '5:27.3.1-1~debian.12~bookworm']):
        variables = dict(role_vars('docker'), docker_engine_plan=plan, ansible_check_mode=check_mode,
                         docker_version=version, _docker_probe_after={'skipped': True},
                         _docker_read={'engine': {'answers': plan['engine_answers'], 'images': []}})
        # the results of the package tasks inside: changed where the plan has them run, as apt would report
        packages = plan['install']['needed'] and not plan['engine_pending']
        for result, ran in (('_docker_install', packages), ('_docker_install_fresh', packages),
                            ('_docker_conflicts', bool(plan['conflicts']))):
            variables[result] = {'changed': True} if ran else {'skipped': True, 'changed': False}
        inner = would_run(configure, variables)
        included = holds(CONFIGURE_INCLUDE['when'], variables)
        if inner:
            assert included, (first, second, check_mode, version, inner)
        if first is None:
            assert not included, 'a node that only lacks an image must skip the host changes in one step'
            assert holds(IMAGES_INCLUDE['when'], variables), 'and still load the image'


# ---- the firewall's installation and start: the firewall role's install.yml, included by apply.yml ----------

FIREWALL_SETUP = task(load('roles/firewall/tasks/apply.yml'), 'Install and start the firewall, where the plan says so')


@pytest.mark.parametrize('install, start, backend, with_engine, check_mode', list(itertools.product(
    [[], ['ufw']], [False, True], ['ufw', 'firewalld'], [False, True], [False, True])))
def test_the_firewall_setup_is_included_wherever_one_of_its_steps_would_run(
        install, start, backend, with_engine, check_mode):
    assert FIREWALL_SETUP['ansible.builtin.include_tasks'] == 'install.yml'
    setup = load('roles/firewall/tasks/install.yml')
    for os_family, python_apt in itertools.product(['Debian', 'RedHat'], [False, True]):
        plan = {'act': True, 'apply': True, 'install': install, 'start': start, 'backend': backend,
                'os_family': os_family, 'python_apt': python_apt, 'apt_update': True}
        variables = dict(role_vars('firewall'), _firewall_plan=plan, firewall_install_with_engine=with_engine,
                         ansible_check_mode=check_mode)
        inner = would_run(setup, variables)
        included = holds(FIREWALL_SETUP['when'], variables)
        if inner:
            assert included, (plan, with_engine, check_mode, inner)
        if not install and not start:
            assert not included, 'a firewall in place and running must skip its setup in one step'
