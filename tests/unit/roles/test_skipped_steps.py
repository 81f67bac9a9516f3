"""An unchanged re-run skips groups of steps in one (an include whose condition is false): the skip must never
hide a change. For every group, the include's condition, read from the file that holds it and evaluated by Ansible's
own templating, must be true wherever any task inside would run, over the class of plans and hosts below; and false
on an unchanged cluster, or the group saves nothing. The tasks' own conditions are read from their files too, so a
condition added inside without widening the include fails here."""

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
