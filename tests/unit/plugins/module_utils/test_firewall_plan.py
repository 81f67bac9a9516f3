"""The firewall role's decision for one host: refusals before any change, SSH ports, members, what differs."""

import pytest

from ansible_collections.swarmops.swarm.plugins.module_utils import _firewall as fw
from ansible_collections.swarmops.swarm.plugins.module_utils._firewall_plan import build_plan

MEMBERS = {'managers': ['m1'], 'workers': ['w1', 'w2'], 'managers_group': 'swarm_managers',
           'workers_group': 'swarm_workers',
           'addresses': {'m1': {'value': '10.0.0.11', 'origin': 'swarm_node_advertise_addr'},
                         'w1': {'value': '10.0.0.21', 'origin': 'the default IPv4 address (firewall_info)'},
                         'w2': {'value': '10.0.0.22', 'origin': 'swarm_advertise_addr'}}}
SSH = {'name': 'ansible.builtin.ssh', 'ssh': True, 'ports': [{'port': 2222, 'origin': 'ansible_port'}]}
DOCKER = {'name': 'community.docker.docker', 'ssh': False, 'ports': []}
LIVE = {'client': '10.0.0.1', 'client_port': 40000, 'server': '10.0.0.11', 'server_port': 2222}


def params(**overrides):
    out = {'backend': 'auto', 'extra_sources': [], 'allow_esp': True, 'allow_world': False, 'ssh_ports': [],
           'ssh_sources': [], 'published_ports': [], 'firewalld_policy': 'swarmops', 'apt_cache_valid_time': 3600}
    out.update(overrides)
    return out


def fresh_debian(**overrides):
    """firewall_info on a bare Debian host reached over SSH on port 2222."""
    state = {'backend': 'ufw', 'os_family': 'Debian', 'packages': {'ufw': False, 'python3-apt': False},
             'apt_cache_age': None, 'ssh_connection': dict(LIVE), 'sshd_ports': [2222],
             'ufw': {'active': False, 'default_incoming': 'deny', 'ipv6': True, 'tuples': {'v4': [], 'v6': []}},
             'firewalld': {}, 'docker_user': {'files': {}, 'enabled': False, 'chains': {}}}
    state.update(overrides)
    return state


def converged(plan, state):
    """STATE as it is after the plan was applied (ufw)."""
    out = dict(state, packages={'ufw': True, 'python3-apt': True})
    out['ufw'] = {'active': True, 'default_incoming': 'deny', 'ipv6': True,
                  'tuples': dict((key, [fw.ufw_tuple(r, key == 'v6') for r in fw.ufw_rules_for(plan['rules'],
                                                                                               key == 'v6')])
                                 for key in ('v4', 'v6'))}
    return out


def refusal(host='m1', members=None, state=None, connection=None, **overrides):
    with pytest.raises(fw.FirewallInputError) as error:
        build_plan(host, params(**overrides), members or MEMBERS, state or fresh_debian(), connection or SSH)
    message = str(error.value)
    assert message.startswith('The firewall role refuses to run on %s (nothing was changed):' % host)
    return message


def test_fresh_host_installs_enables_and_adds_every_rule_then_a_converged_host_has_nothing_to_do():
    plan = build_plan('m1', params(), MEMBERS, fresh_debian(), SSH)
    assert (plan['backend'], plan['install'], plan['python_apt'], plan['apt_update']) == ('ufw', ['ufw'], False, True)
    assert plan['apply'] and plan['act']
    assert 'ufw: enable, incoming denied by default' in plan['changes']
    assert sum(line.startswith('+ ufw: ') for line in plan['changes']) == 3 * 5 + 2  # members, ssh (v4+v6)
    again = build_plan('m1', params(), MEMBERS, converged(plan, fresh_debian()), SSH)
    assert (again['install'], again['apply'], again['act'], again['changes']) == ([], False, False, [])


def test_ssh_ports_are_every_port_found_and_never_an_assumed_22():
    state = fresh_debian(sshd_ports=[2200, 2222])
    connection = dict(SSH, ports=[{'port': 2201, 'origin': 'ssh -G (ssh_config)'},
                                  {'port': 2202, 'origin': 'remote_port (env: ANSIBLE_REMOTE_PORT)'}])
    plan = build_plan('w1', params(ssh_ports=[2203]), MEMBERS, state, connection)
    assert plan['ssh_ports'] == [2200, 2201, 2202, 2203, 2222]
    assert 22 not in plan['ssh_ports']
    assert plan['ssh_port_origins']['2222'] == ['SSH_CONNECTION on the host (the live connection)',
                                                'sshd listens on it']
    assert [r['port'] for r in plan['rules'] if r['kind'] == 'ssh'] == ['2200', '2201', '2202', '2203', '2222']


def test_ssh_connection_without_a_live_port_is_refused_unless_the_port_is_given():
    state = fresh_debian(ssh_connection={}, ssh_connection_note='not set in this session or its parent processes')
    message = refusal(state=state)
    assert 'SSH_CONNECTION' in message and 'firewall_ssh_ports' in message and 'not set in this session' in message
    plan = build_plan('m1', params(ssh_ports=[2222]), MEMBERS, state, SSH)
    assert plan['ssh_ports'] == [2222]


def test_a_connection_that_is_not_ssh_needs_no_live_port():
    plan = build_plan('m1', params(), MEMBERS, fresh_debian(ssh_connection={}, sshd_ports=[]), DOCKER)
    assert plan['ssh_ports'] == [] and not [r for r in plan['rules'] if r['kind'] == 'ssh']
    plan = build_plan('m1', params(), MEMBERS, fresh_debian(ssh_connection={}, sshd_ports=[22]), DOCKER)
    assert plan['ssh_ports'] == [22] and plan['ssh_port_origins'] == {'22': ['sshd listens on it']}


def test_restricted_ssh_sources_always_include_the_controller():
    plan = build_plan('m1', params(ssh_sources=['192.0.2.0/24']), MEMBERS, fresh_debian(), SSH)
    assert plan['ssh_sources'] == ['192.0.2.0/24', '10.0.0.1']
    ssh = [(r['port'], r['src']) for r in plan['rules'] if r['kind'] == 'ssh']
    assert ssh == [('2222', '192.0.2.0/24'), ('2222', '10.0.0.1')]
    assert build_plan('m1', params(ssh_sources=['any']), MEMBERS, fresh_debian(), SSH)['ssh_sources'] == []
    message = refusal(state=fresh_debian(ssh_connection={}), ssh_sources=['192.0.2.0/24'], ssh_ports=[2222])
    assert 'controller address' in message


def test_every_bad_value_is_named_in_one_refusal():
    members = dict(MEMBERS, addresses=dict(MEMBERS['addresses'], w2={'value': 'eth1', 'origin': 'swarm_advertise_addr'},
                                           w1={}))
    message = refusal(members=members, extra_sources=['0.0.0.0/0', '10.0.0.5/24'], ssh_ports=['22:24', 0],
                      ssh_sources=['nowhere'], firewalld_policy='a b',
                      published_ports=[{'port': 80, 'protocol': 'icmp', 'comment': 'x"y'}])
    for words in ('the address of member w1 is unknown', "swarm_advertise_addr of w2: 'eth1'",
                  'firewall_extra_sources[0]', 'firewall_allow_world', 'firewall_extra_sources[1]',
                  'firewall_ssh_ports[0]', 'firewall_ssh_ports[1]', 'firewall_ssh_sources[0]',
                  'firewall_firewalld_policy', 'firewall_published_ports[0].protocol',
                  'firewall_published_ports[0].comment'):
        assert words in message, words


def test_world_sources_for_the_swarm_ports_only_when_allowed():
    assert 'firewall_allow_world' in refusal(extra_sources=['::/0'])
    plan = build_plan('m1', params(extra_sources=['::/0'], allow_world=True), MEMBERS, fresh_debian(), SSH)
    assert '::/0' in [r['src'] for r in plan['rules'] if r['kind'] == 'swarm']


def test_host_outside_both_groups_and_unsupported_family_are_refused():
    assert 'neither firewall_managers_group (swarm_managers)' in refusal(host='x9')
    message = refusal(state=fresh_debian(os_family='Suse'))
    assert 'firewall_backend: auto' in message and 'Suse' in message
    plan = build_plan('m1', params(backend='firewalld'), MEMBERS, fresh_debian(os_family='Suse'), SSH)
    assert plan['backend'] == 'firewalld' and plan['install'] == ['firewalld', 'python3-firewall']


def test_apt_cache_is_refreshed_only_when_stale_and_something_is_missing():
    assert build_plan('m1', params(), MEMBERS, fresh_debian(apt_cache_age=120.0), SSH)['apt_update'] is False
    assert build_plan('m1', params(), MEMBERS, fresh_debian(apt_cache_age=7200.0), SSH)['apt_update'] is True
    installed = fresh_debian(packages={'ufw': True, 'python3-apt': True})
    assert build_plan('m1', params(), MEMBERS, installed, SSH)['apt_update'] is False


def test_foreign_rule_opening_ssh_to_anyone_is_warned_about():
    state = fresh_debian()
    state['ufw']['tuples']['v4'] = ['### tuple ### allow tcp 2222 0.0.0.0/0 any 0.0.0.0/0 in']
    plan = build_plan('m1', params(ssh_sources=['192.0.2.0/24']), MEMBERS, state, SSH)
    assert any('cannot restrict SSH' in warning for warning in plan['warnings'])


def firewalld_state(**firewalld):
    base = {'installed': True, 'running': True, 'enabled': True, 'default_zone': 'public', 'policy': None,
            'legacy_zone': {'name': 'swarmops', 'exists': False, 'builtin': False, 'default': False, 'sources': []}}
    base.update(firewalld)
    return fresh_debian(os_family='RedHat', backend='firewalld', ufw={}, firewalld=base,
                        packages={'firewalld': True, 'python3-firewall': True})


def test_firewalld_creates_its_policy_and_deletes_the_zone_of_the_earlier_design():
    legacy = {'name': 'swarmops', 'exists': True, 'builtin': False, 'default': False,
              'sources': ['10.0.0.11', '10.0.0.21']}
    plan = build_plan('m1', params(), MEMBERS, firewalld_state(legacy_zone=legacy), SSH)
    assert plan['legacy_zone'] == 'swarmops' and plan['start'] is False
    assert 'firewalld: create policy swarmops (ANY -> HOST, priority -100)' in plan['changes']
    assert 'firewalld: delete zone swarmops (the earlier design of the role; its members: 10.0.0.11, 10.0.0.21)' \
        in plan['changes']
    done = firewalld_state(policy=dict(fw.policy_settings(plan['rules']), short='swarmops', description='d'))
    again = build_plan('m1', params(), MEMBERS, done, SSH)
    assert (again['apply'], again['changes'], again['legacy_zone']) == (False, [], '')


def test_firewalld_builtin_zone_of_the_earlier_design_only_loses_its_sources():
    legacy = {'name': 'trusted', 'exists': True, 'builtin': True, 'default': False, 'sources': ['10.0.0.11']}
    plan = build_plan('m1', params(), MEMBERS, firewalld_state(legacy_zone=legacy), SSH)
    assert 'firewalld: unbind 10.0.0.11 from zone trusted (the earlier design of the role)' in plan['changes']
    empty = dict(legacy, sources=[])
    assert build_plan('m1', params(), MEMBERS, firewalld_state(legacy_zone=empty), SSH)['legacy_zone'] == ''


def test_firewalld_not_running_is_started():
    plan = build_plan('m1', params(), MEMBERS, firewalld_state(running=False, enabled=False), SSH)
    assert plan['start'] and plan['act']


def test_published_port_with_sources_is_also_enforced_in_docker_user():
    published = [{'port': 8080, 'sources': ['192.0.2.0/24']}]
    plan = build_plan('m1', params(published_ports=published), MEMBERS, fresh_debian(), SSH)
    assert plan['published'] == [{'port': '8080', 'protocol': 'tcp', 'sources': ['192.0.2.0/24'], 'comment': ''}]
    assert 'DOCKER-USER: enable swarmops-docker-user.service' in plan['changes']
    assert [r for r in plan['rules'] if r['kind'] == 'published'] == [
        {'kind': 'published', 'proto': 'tcp', 'port': '8080', 'src': '192.0.2.0/24',
         'comment': 'swarmops: published port 8080/tcp'}]
