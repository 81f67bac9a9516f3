"""The hosts of the collection's plays: groups in, host names out; swarm_limit as the AWX survey documents it."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ansible.errors import AnsibleError, AnsibleFilterError

from ansible_collections.swarmops.swarm.plugins.filter.swarm_play_hosts import FilterModule, load_connection_plugin

play_hosts = FilterModule().filters()['swarm_play_hosts']

GROUPS = {
    'all': ['manager1', 'manager2', 'worker1', 'worker2', 'worker3', 'bastion'],
    'ungrouped': ['bastion'],
    'swarm': ['manager1', 'manager2', 'worker1', 'worker2', 'worker3'],
    'swarm_managers': ['manager1', 'manager2'],
    'swarm_workers': ['worker1', 'worker2', 'worker3'],
    'leaving': ['worker2'],
    'empty': [],
}


@pytest.mark.parametrize('limit, expected', [
    ('all', ['manager1', 'manager2', 'worker1', 'worker2', 'worker3']),
    ('worker3', ['worker3']),
    # the survey's form: several hosts joined with ':' are all of them (a host pattern's ':&' kept the first)
    ('manager1:worker3', ['manager1', 'worker3']),
    ('worker3, manager2', ['manager2', 'worker3']),
    ('swarm_workers', ['worker1', 'worker2', 'worker3']),
    ('worker[12]', ['worker1', 'worker2']),
    ('manager*:worker1', ['manager1', 'manager2', 'worker1']),
    # a host outside the swarm's groups narrows the play to none of them: nothing of the swarm to converge
    ('bastion', []),
    ('worker1:all', ['manager1', 'manager2', 'worker1', 'worker2', 'worker3']),
])
def test_limit_restricts_the_groups_in_inventory_order(limit, expected):
    assert play_hosts(GROUPS, 'swarm_managers', 'swarm_workers', limit=limit) == expected


def test_managers_only_exclusions_and_missing_groups():
    assert play_hosts(GROUPS, 'swarm_managers') == ['manager1', 'manager2']
    assert play_hosts(GROUPS, 'swarm_managers', 'swarm_workers', exclude=['leaving']) == [
        'manager1', 'manager2', 'worker1', 'worker3']
    # a group made later in a run (add_host) may not exist yet: it excludes nothing
    assert play_hosts(GROUPS, 'swarm_managers', 'swarm_workers', exclude=['not_made_yet'])[-1] == 'worker3'
    # a group the inventory lacks has no hosts, as a host pattern's would
    assert play_hosts(GROUPS, 'managers', 'swarm_workers') == ['worker1', 'worker2', 'worker3']
    # a host in both groups is in the play once, where its managers' group puts it
    both = dict(GROUPS, swarm_workers=['manager2', 'worker1'])
    assert play_hosts(both, 'swarm_managers', 'swarm_workers') == ['manager1', 'manager2', 'worker1']


@pytest.mark.parametrize('limit, named', [
    ('wroker3', "'wroker3'"),            # a typo must not make a run that converges nothing
    ('worker3:wroker1', "'wroker1'"),
    ('worker9*', "'worker9*'"),
    ('empty', "'empty'"),
    ('!worker1', "'!worker1'"),
    ('&swarm_workers', "'&swarm_workers'"),
    ('~worker.*', "'~worker.*'"),
    ('', 'swarm_limit takes'),
    (' : ', 'swarm_limit takes'),
    (None, 'swarm_limit takes'),
    (['worker1'], 'swarm_limit takes'),
])
def test_limit_naming_nothing_or_hostile_is_refused_naming_it(limit, named):
    with pytest.raises(AnsibleFilterError) as caught:
        play_hosts(GROUPS, 'swarm_managers', 'swarm_workers', limit=limit)
    assert named in str(caught.value)


@pytest.mark.parametrize('managers, workers, variable', [
    ('swarm_managers:swarm_workers', 'swarm_workers', 'swarm_managers_group'),
    ('swarm_managers', 'swarm_workers,bastion', 'swarm_workers_group'),
    ('swarm_managers', '!swarm_workers', 'swarm_workers_group'),
    ('swarm_managers', 'swarm workers', 'swarm_workers_group'),
    ('', 'swarm_workers', 'swarm_managers_group'),
    (None, 'swarm_workers', 'swarm_managers_group'),
    (['swarm_managers'], 'swarm_workers', 'swarm_managers_group'),
])
def test_group_names_that_are_patterns_are_refused_naming_the_variable(managers, workers, variable):
    with pytest.raises(AnsibleFilterError, match=variable):
        play_hosts(GROUPS, managers, workers)


def test_bad_groups_and_exclusions_are_refused():
    with pytest.raises(AnsibleFilterError, match='groups variable'):
        play_hosts(['manager1'], 'swarm_managers')
    with pytest.raises(AnsibleFilterError, match='exclude must be a list'):
        play_hosts(GROUPS, 'swarm_managers', exclude='leaving')
    with pytest.raises(AnsibleFilterError, match='excluded group'):
        play_hosts(GROUPS, 'swarm_managers', exclude=['a:b'])


FAKE_CONNECTION = '''
from ansible.plugins.connection import ConnectionBase

DOCUMENTATION = """
name: fake
short_description: a connection plugin from a collection, as community.docker.docker is
description: [Only loaded, never used.]
author: swarmops.swarm tests
options:
  remote_addr:
    description: The address.
    vars: [{name: ansible_host}]
"""


class Connection(ConnectionBase):
    transport = 'testns.testcol.fake'
'''

# What a task's worker does with the plugin, in a process forked after the hosts line was templated: it finds
# the plugin loaded, its documentation parsed, and parses nothing again.
IN_A_FRESH_CONTROLLER = '''
import json, sys
from ansible import constants as C
from ansible.plugins import loader
loader.init_plugin_loader(sys.argv[1:])
parsed = []  # a plugin's settings, registered from its parsed documentation
real_register = C.config.initialize_plugin_configuration_definitions
C.config.initialize_plugin_configuration_definitions = (
    lambda plugin_type, name, defs: parsed.append(name) or real_register(plugin_type, name, defs))
from ansible_collections.swarmops.swarm.plugins.filter.swarm_play_hosts import swarm_play_hosts
groups = {'all': ['node1', 'node2'], 'managers': ['node1'], 'workers': ['node2']}
hostvars = {'node1': {'ansible_connection': 'testns.testcol.fake'}, 'node2': {}}
hosts = swarm_play_hosts(groups, 'managers', 'workers', hostvars=hostvars)
by_the_filter = len(parsed)
worker_plugin = loader.connection_loader.get('testns.testcol.fake', class_only=True)
print(json.dumps({'hosts': hosts, 'by_the_filter': by_the_filter, 'by_the_worker': len(parsed) - by_the_filter,
                  'plugin': worker_plugin.__name__}))
'''


def test_hostvars_load_the_first_hosts_connection_plugin_where_the_workers_fork_from(tmp_path):
    plugin_dir = tmp_path / 'ansible_collections' / 'testns' / 'testcol' / 'plugins' / 'connection'
    plugin_dir.mkdir(parents=True)
    (plugin_dir / 'fake.py').write_text(FAKE_CONNECTION)
    module = sys.modules[play_hosts.__module__]
    swarmops_root = Path(module.__file__).parents[5]  # holds ansible_collections/swarmops/swarm
    ran = subprocess.run([sys.executable, '-c', IN_A_FRESH_CONTROLLER, str(tmp_path), str(swarmops_root)],
                         capture_output=True, text=True, check=False)
    assert ran.returncode == 0, ran.stderr
    seen = json.loads(ran.stdout.strip().splitlines()[-1])
    assert seen['hosts'] == ['node1', 'node2']
    assert seen['by_the_filter'] == 1 and seen['by_the_worker'] == 0, seen
    assert seen['plugin'] == 'Connection'


class _Unresolvable(dict):
    def __getitem__(self, host):
        raise AnsibleError("'lab_prefix' is undefined")


@pytest.mark.parametrize('hostvars', [
    {},                                                        # the first host has no variables yet
    {'manager1': {'ansible_connection': 'no.such.plugin'}},    # a typo: the worker reports it, as before
    {'manager1': {'ansible_connection': ['ssh']}},
    {'manager1': {'ansible_connection': ''}},
    {'manager1': None},
    _Unresolvable(),                                           # a setting that does not template yet
])
def test_a_connection_that_cannot_be_loaded_changes_nothing_and_raises_nothing(hostvars):
    assert play_hosts(GROUPS, 'swarm_managers', 'swarm_workers', hostvars=hostvars) == play_hosts(
        GROUPS, 'swarm_managers', 'swarm_workers')
    assert load_connection_plugin(hostvars, 'manager1') is None


# What a task's worker inherits when it forks after the hosts line was templated: every object the controller
# held then sits in the permanent generation, where a collection in the worker does not walk (and so does not
# copy the shared memory pages of) the whole inherited heap. Objects made afterwards are collected as always.
FREEZE_IN_A_FRESH_CONTROLLER = '''
import gc, json, os
from ansible_collections.swarmops.swarm.plugins.filter.swarm_play_hosts import swarm_play_hosts
held = [[index] for index in range(20000)]  # the playbook, plugins and inventory a controller holds
ring = []
ring.append(ring)  # a live cycle made before the call
before = len(gc.get_objects())
hosts = swarm_play_hosts({'all': ['node1'], 'managers': ['node1']}, 'managers')
after = {'hosts': hosts, 'before': before, 'frozen': gc.get_freeze_count(),
         'ring_tracked': any(obj is ring for obj in gc.get_objects())}
garbage = []
garbage.append(garbage)  # a cycle made after the call, then dropped
del garbage
read, write = os.pipe()
if os.fork() == 0:  # a task's worker
    os.close(read)
    os.write(write, json.dumps({'collected': gc.collect(), 'walked': len(gc.get_objects())}).encode())
    os._exit(0)
os.close(write)
after['worker'] = json.loads(os.read(read, 4096).decode())
os.wait()
print(json.dumps(after))
'''


def test_the_objects_workers_inherit_are_out_of_the_garbage_collectors_reach():
    module = sys.modules[play_hosts.__module__]
    swarmops_root = Path(module.__file__).parents[5]
    ran = subprocess.run([sys.executable, '-c', FREEZE_IN_A_FRESH_CONTROLLER], capture_output=True, text=True,
                         check=False, env={'PYTHONPATH': str(swarmops_root), 'PATH': '/usr/bin:/bin'})
    assert ran.returncode == 0, ran.stderr
    seen = json.loads(ran.stdout.strip().splitlines()[-1])
    assert seen['hosts'] == ['node1']
    assert seen['frozen'] >= seen['before'] > 20000, seen
    assert not seen['ring_tracked'], seen
    # the worker still collects what is made after the call, and walks only that
    assert seen['worker']['collected'] >= 1 and seen['worker']['walked'] < 1000, seen
