"""The controller half of the firewall role's decision: every SSH port Ansible resolved, and members' addresses.

Real connection plugins (ansible.builtin.ssh, ansible.builtin.local) with their options set as a play would,
and the real `ssh -G` of this machine reading a real ssh_config file.
"""

import pytest

from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task
from ansible.plugins.loader import connection_loader
from ansible.template import Templar

from ansible_collections.swarmops.swarm.plugins.action.firewall_plan import ActionModule


def action(connection_name, var_options):
    play_context = PlayContext()
    connection = connection_loader.get(connection_name, play_context, None)
    connection.set_options(var_options=var_options)
    loader = DataLoader()
    return ActionModule(task=Task(), connection=connection, play_context=play_context, loader=loader,
                        templar=Templar(loader=loader), shared_loader_obj=None)


@pytest.fixture
def ssh_config(tmp_path):
    path = tmp_path / 'ssh_config'
    path.write_text('Host 192.0.2.10\n  Port 2201\nHost *\n  User root\n')
    return path


def test_a_port_set_only_in_an_ssh_config_file_is_found_with_ssh_g(ssh_config, monkeypatch):
    monkeypatch.delenv('ANSIBLE_REMOTE_PORT', raising=False)
    plan = action('ssh', {'ansible_host': '192.0.2.10', 'ansible_ssh_common_args': '-F %s' % ssh_config})
    info = plan._connection_ports({})
    assert info == {'name': 'ansible.builtin.ssh', 'ssh': True, 'ports': [{'port': 2201, 'origin': 'ssh -G (ssh_config)'}]}
    # another host of the same file: ssh's own default, as ssh would connect
    other = action('ssh', {'ansible_host': '192.0.2.11', 'ansible_ssh_common_args': '-F %s' % ssh_config})
    assert other._connection_ports({})['ports'] == [{'port': 22, 'origin': 'ssh -G (ssh_config)'}]


def test_ansible_port_and_ansible_ssh_port_are_each_kept(ssh_config, monkeypatch):
    monkeypatch.delenv('ANSIBLE_REMOTE_PORT', raising=False)
    plan = action('ssh', {'ansible_host': '192.0.2.10', 'ansible_ssh_port': 2203,
                          'ansible_ssh_common_args': '-F %s' % ssh_config})
    ports = plan._connection_ports({'ansible_ssh_port': 2203, 'ansible_port': '2204'})['ports']
    assert {'port': 2203, 'origin': 'ansible_ssh_port'} in ports
    assert {'port': 2204, 'origin': 'ansible_port'} in ports
    assert {'port': 2203, 'origin': "the connection's port option"} in ports


def test_remote_port_from_the_environment(ssh_config, monkeypatch):
    monkeypatch.setenv('ANSIBLE_REMOTE_PORT', '2202')
    plan = action('ssh', {'ansible_host': '192.0.2.10', 'ansible_ssh_common_args': '-F %s' % ssh_config})
    ports = plan._connection_ports({})['ports']
    assert {'port': 2202, 'origin': 'remote_port (env: ANSIBLE_REMOTE_PORT)'} in ports
    assert {'port': 2202, 'origin': "the connection's port option"} in ports


def test_a_connection_that_is_not_ssh_has_no_ports():
    plan = action('local', {})
    assert plan._connection_ports({'ansible_port': 2222}) == {'name': 'ansible.builtin.local', 'ssh': False,
                                                              'ports': []}


@pytest.mark.parametrize('hostvars, expected', [
    ({'swarm_node_advertise_addr': '10.0.0.5', 'swarm_advertise_addr': 'eth1'},
     {'value': '10.0.0.5', 'origin': 'swarm_node_advertise_addr'}),
    ({'swarm_advertise_addr': 'eth1', '_firewall_info': {'interfaces': {'eth1': ['10.1.1.1']}, 'default_ipv4': 'x'}},
     {'value': '10.1.1.1', 'origin': 'swarm_advertise_addr (interface eth1)'}),
    ({'swarm_advertise_addr': 'eth9', '_firewall_info': {'interfaces': {'eth1': ['10.1.1.1']}}},
     {'value': 'eth9', 'origin': 'swarm_advertise_addr'}),
    ({'swarm_advertise_addr': '10.2.2.2'}, {'value': '10.2.2.2', 'origin': 'swarm_advertise_addr'}),
    ({'_firewall_info': {'default_ipv4': '10.3.3.3'}, 'ansible_facts': {'default_ipv4': {'address': '10.4.4.4'}}},
     {'value': '10.3.3.3', 'origin': 'the default IPv4 address (firewall_info)'}),
    ({'ansible_facts': {'default_ipv4': {'address': '10.4.4.4'}}},
     {'value': '10.4.4.4', 'origin': 'ansible_default_ipv4'}),
    ({}, {}),
])
def test_member_addresses_most_specific_first(hostvars, expected):
    assert ActionModule._member_address('m', {'m': hostvars}) == expected


def test_the_host_itself_is_found_in_the_read_the_task_decides_from():
    # swarm_reset registers the read under its own name and gathers no facts: the task's own read answers
    own = {'default_ipv4': '10.5.5.5', 'interfaces': {'eth1': ['10.6.6.6']}}
    assert ActionModule._member_address('m', {'m': {}}, own) == {
        'value': '10.5.5.5', 'origin': 'the default IPv4 address (firewall_info)'}
    assert ActionModule._member_address('m', {'m': {'swarm_advertise_addr': 'eth1'}}, own) == {
        'value': '10.6.6.6', 'origin': 'swarm_advertise_addr (interface eth1)'}
    # the firewall role's registered read of the host stays first
    assert ActionModule._member_address('m', {'m': {'_firewall_info': {'default_ipv4': '10.7.7.7'}}}, own)[
        'value'] == '10.7.7.7'
