"""The firewall role over real SSH (ufw and firewalld): SSH is never lost, members and the controller reach what
they should and a stranger does not, published ports honour their sources, bad input changes nothing.

The tests run in this order on one lab (conftest.py); each leaves the lab converged for the next. Traffic tests
put a listener on the port first (or use sshd / a container that listens), so "nothing arrived" can only mean
that the firewall stopped it.
"""

import hashlib
import subprocess
from functools import partial
from pathlib import Path

import pytest

from conftest import A, B, C, CONTROLLER, IMAGES, IP, MEMBERS, PORT, STRANGER, node, parallel, probe, sh, wait_until

REPO_TESTS = Path(__file__).resolve().parent
SOURCES = (A, B, C, 'controller', STRANGER)
OWNED = 'comment=737761726d6f70733a'  # the hex of 'swarmops:' that begins the comment of each of the role's rules
ALL_SSH_PORTS = sorted(PORT[m] for m in MEMBERS)


def members_but(dst):
    return [m for m in MEMBERS if m != dst]


def others(dst):
    """Every source but DST itself (a node reaches its own address over the loopback, which no firewall filters)."""
    return [s for s in SOURCES if s != dst]


def test_first_run_over_ssh_changes_the_second_changes_nothing(lab):
    """Each member's port reaches Ansible one way only; the role keeps exactly that port open (none is 22)."""
    inventory = lab.inventory('mechanisms', addresses=True)
    # ssh-b: the port only in ANSIBLE_REMOTE_PORT; it would override the others' ports, so it runs on its own.
    by_remote_port = dict(env={'ANSIBLE_REMOTE_PORT': str(PORT[B])}, label='remote-port')
    for round_ in ('first', 'second'):
        runs = parallel(lambda: lab.play(inventory, '--limit', B, '--diff', **by_remote_port),
                        lambda: lab.play(inventory, '--limit', '%s,%s' % (A, C), '--diff', label='config-and-var'))
        runs[0].assert_ok([B])
        runs[1].assert_ok([A, C])
        for run in runs:
            for host in run.recap:
                if round_ == 'first':
                    assert run.changed(host) > 0, run.describe()
                else:
                    assert run.changed(host) == 0, run.describe()
                    # an unchanged host: the argument check, the read, keeping it, the decision, the skipped apply
                    assert run.recap[host]['ok'] + run.recap[host]['skipped'] == 5, run.describe()


def test_a_third_connection_still_works_and_no_port_was_assumed(lab):
    for name in MEMBERS:
        live = lab.third_connection(name).stdout.split()
        assert live == [CONTROLLER, live[1], IP[name], str(PORT[name])]
    for name in (A, C):
        status = lab.ufw_status(name)
        assert 'Status: active' in status and 'deny (incoming)' in status
        assert '%d/tcp' % PORT[name] in status
        assert '22/tcp' not in status and ' 22 ' not in status
    rules = lab.policy(B)
    assert 'rule port port="%d" protocol="tcp" accept' % PORT[B] in rules
    assert not [r for r in rules if 'port="22"' in r]
    assert node(B, 'firewall-cmd --state').stdout.strip() == 'running'
    # the module's earlier name still answers (redirected, with a deprecation warning), over a new connection too
    read = lab.adhoc(A, 'swarmops.swarm.firewall_state')
    assert read.returncode == 0 and '"backend": "ufw"' in read.stdout, read.stdout + read.stderr
    assert 'firewall_state is now swarmops.swarm.firewall_info' in read.stdout + read.stderr


@pytest.mark.parametrize('dst', MEMBERS)
def test_members_controller_and_stranger_reach_what_they_should(lab, dst):
    """SSH from everyone (not restricted); the swarm ports from members only, on ufw and on firewalld."""
    assert probe(dst, PORT[dst], 'tcp', others(dst), listen=False) == sorted(others(dst))
    swarm = [(7946, 'tcp'), (7946, 'udp'), (4789, 'udp')] + ([(2377, 'tcp')] if dst == A else [])
    for port, proto in swarm:
        assert probe(dst, port, proto, others(dst)) == sorted(members_but(dst)), (dst, port, proto)
    assert probe(dst, 8080, 'tcp', others(dst)) == []
    if dst != A:
        assert probe(dst, 2377, 'tcp', [A]) == []  # the management port on managers only


def fingerprint(lab):
    """What a refused run must leave exactly as it was."""
    out = {}
    for name in (A, C):
        out[name] = node(name, 'cat /etc/ufw/user.rules /etc/ufw/user6.rules /etc/ufw/ufw.conf; iptables -S').stdout
    out[B] = node(B, 'firewall-cmd --permanent --info-policy=swarmops; firewall-cmd --info-policy=swarmops; '
                     'ls /etc/firewalld/zones /etc/firewalld/policies').stdout
    return dict((name, hashlib.sha256(text.encode()).hexdigest()) for name, text in out.items())


def test_bad_input_is_refused_before_anything_changes(lab):
    """One run with a bad value in every variable that reaches a rule: one refusal names each, on every host."""
    before = fingerprint(lab)
    run = lab.converge('bad-input', firewall_extra_sources=['0.0.0.0/0', '10.213.35.7/24', 'nowhere'],
                       firewall_published_ports=[{'port': '70000'}, {'port': 8080, 'comment': 'x" accept'}],
                       firewall_ssh_sources=['10.0.0.1 -j ACCEPT'], firewall_firewalld_policy='swarm ops')
    assert run.rc != 0
    for host in MEMBERS:
        assert run.recap[host]['failed'] == 1 and run.recap[host]['changed'] == 0, run.describe()
    for word in ('nothing was changed', 'firewall_extra_sources[0]', 'firewall_allow_world',
                 'firewall_extra_sources[1]', 'not in network form', '10.213.35.0/24', 'firewall_extra_sources[2]',
                 'firewall_published_ports[0].port', 'firewall_published_ports[1].comment',
                 'firewall_ssh_sources[0]', 'firewall_firewalld_policy'):
        assert word in run.stdout, (word, run.describe())
    assert fingerprint(lab) == before


def test_check_mode_on_a_fresh_host_predicts_without_changing(lab):
    inventory = lab.inventory('fresh', members=(A, STRANGER), addresses=True,
                              port_vars={STRANGER: {'ansible_port': PORT[STRANGER]}})
    run = lab.play(inventory, '--check', '--diff', '--limit', STRANGER, label='check-fresh')
    run.assert_ok([STRANGER])
    assert run.changed(STRANGER) >= 2, run.describe()  # the install, the rules
    assert 'would install ufw' in run.stdout
    assert '+ufw: allow %d/tcp from any' % PORT[STRANGER] in run.stdout
    assert '+ufw: allow 7946/tcp from %s' % IP[A] in run.stdout
    assert node(STRANGER, 'command -v ufw', check=False).returncode != 0
    run = lab.play(lab.inventory('converged-check', port_vars={B: {'ansible_port': PORT[B]},
                                                               C: {'ansible_ssh_port': PORT[C]}}),
                   '--check', '--diff', label='check-converged')
    run.assert_ok(MEMBERS)
    assert sum(run.changed(h) for h in MEMBERS) == 0, run.describe()


def test_restricted_ssh_sources_keep_the_controller_in_and_everyone_else_out(lab):
    """(The next test's first run lifts the restriction again, and checks that it did.)"""
    # by the variable's earlier name, which still works (with a deprecation warning)
    run = lab.converge('restricted', swarm_firewall_ssh_sources=['192.0.2.0/24'])
    run.assert_ok(MEMBERS)
    assert 'swarm_firewall_ssh_sources is deprecated: use firewall_ssh_sources' in run.stdout + run.stderr
    for dst in (A, B):
        assert probe(dst, PORT[dst], 'tcp', others(dst), listen=False) == ['controller'], dst
        assert probe(dst, 7946, 'tcp', others(dst)) == sorted(members_but(dst)), dst
    for name in MEMBERS:
        lab.third_connection(name)
    assert 'rule priority="-1" port port="%d" protocol="tcp" reject' % PORT[B] in lab.policy(B)


def web(name):
    """A container publishing host port 8080 (Docker's DNAT: neither ufw nor firewalld sees it)."""
    node(name, 'docker load -i /tmp/busybox.tar >/dev/null && docker rm -f web >/dev/null 2>&1; '
               'docker run -d --restart always --name web -p 8080:8080 swarmops/busybox:local '
               'httpd -f -p 8080 -h /www >/dev/null')


def fetch(source, dst):
    """True when SOURCE gets the page published on DST:8080."""
    if source == 'controller':
        import urllib.request
        try:
            return b'hello from swarmops' in urllib.request.urlopen('http://%s:8080/' % IP[dst], timeout=3).read()
        except OSError:
            return False
    return 'hello from swarmops' in node(source, 'curl -s -m 3 http://%s:8080/ || true' % IP[dst]).stdout


def web_reach(dst):
    return sorted(s for s, ok in zip([C, 'controller', STRANGER],
                                     parallel(*[lambda s=s: fetch(s, dst) for s in (C, 'controller', STRANGER)]))
                  if ok)


def test_published_port_sources_are_enforced_for_container_ports_and_survive_restarts(lab):
    # firewalld started after this node's engine, and emptied its iptables chains: restart the engine (site.yml
    # installs the firewall first, so a real host's engine starts with firewalld already running).
    node(B, 'systemctl restart docker')
    for name in (A, B):
        sh('docker', 'cp', str(IMAGES / 'busybox.tar'), '%s:/tmp/busybox.tar' % name)
        web(name)
    assert wait_until(lambda: web_reach(A) == web_reach(B) == sorted([C, 'controller', STRANGER]), 300,
                      'the web page from everywhere')
    published = [{'port': 8080, 'sources': [IP[C]], 'comment': 'web'}]
    run = lab.converge('published', firewall_published_ports=published)
    run.assert_ok(MEMBERS)
    for dst in (A, B):
        assert web_reach(dst) == [C], dst
        # SSH is open to everyone again (no firewall_ssh_sources in this run)
        assert probe(dst, PORT[dst], 'tcp', [C, STRANGER], listen=False) == [C, STRANGER]
    again = lab.converge('published-again', firewall_published_ports=published)
    assert sum(again.changed(h) for h in MEMBERS) == 0, again.describe()
    # the engine restarts: its unit puts the chain back
    node(A, 'systemctl restart docker')
    assert wait_until(partial(fetch, C, A), 300, 'ssh-c reaching ssh-a:8080 after the engine restart')
    assert web_reach(A) == [C]
    # the host restarts: ufw, the engine, then the role's unit
    sh_restart(B)
    assert wait_until(partial(fetch, C, B), 300, 'ssh-c reaching ssh-b:8080 after the reboot')
    assert web_reach(B) == [C]
    lab.third_connection(B)
    # no sources any more: the role's chain and unit go, the port is Docker's alone again
    lab.converge('unpublished').assert_ok(MEMBERS)
    assert web_reach(A) == sorted([C, 'controller', STRANGER])
    assert node(A, 'iptables -S DOCKER-USER').stdout.count('SWARMOPS') == 0
    leftovers = node(A, 'ls /etc/swarmops/firewall 2>/dev/null; systemctl is-enabled swarmops-docker-user', check=False)
    assert leftovers.stdout.strip() in ('disabled', '')


def sh_restart(name):
    sh('docker', 'restart', name)

    def booted():
        return node(name, 'systemctl is-system-running', check=False).stdout.strip() in ('running', 'degraded')
    wait_until(booted, 300, '%s booted' % name)


def test_removed_member_loses_its_rules_and_foreign_rules_are_kept_byte_for_byte(lab):
    node(A, 'ufw allow 9999/tcp >/dev/null && ufw deny from 192.0.2.99 >/dev/null')
    foreign = [b for b in node(A, 'cat /etc/ufw/user.rules').stdout.split('\n\n') if OWNED not in b]
    inventory = lab.inventory('smaller', members=(A, B), port_vars={B: {'ansible_port': PORT[B]}})
    try:
        run = lab.play(inventory, '--diff', label='smaller')
        run.assert_ok([A, B])
        assert '-ufw: allow 7946/tcp from %s' % IP[C] in run.stdout
        assert IP[C] not in lab.ufw_status(A) and not [r for r in lab.policy(B) if IP[C] in r]
        assert probe(A, 7946, 'tcp', [B, C]) == [B]
        assert probe(B, 7946, 'tcp', [A, C]) == [A]
        after = node(A, 'cat /etc/ufw/user.rules').stdout
        assert [b for b in after.split('\n\n') if OWNED not in b] == foreign
        # ufw itself writes back exactly what the role wrote (its own next write of the file changes no byte)
        node(A, 'cp /etc/ufw/user.rules /tmp/role.rules && ufw allow 9998/tcp >/dev/null && '
                'ufw delete allow 9998/tcp >/dev/null && cmp /tmp/role.rules /etc/ufw/user.rules')
    finally:
        lab.converge('full').assert_ok(MEMBERS)
    assert probe(A, 7946, 'tcp', [C]) == [C]
    status = lab.ufw_status(A)
    assert '9999/tcp' in status and '192.0.2.99' in status


def test_firewalld_hosts_of_the_earlier_zone_design_are_migrated(lab):
    """The earlier design bound the members to a zone of their own, so SSH in the default zone no longer applied
    to them. Put ssh-b back into that state (as the earlier role left it), see the harm, and let the role fix it."""
    members = ' '.join(IP[m] for m in MEMBERS)
    node(B, 'firewall-cmd --permanent --delete-policy=swarmops && firewall-cmd --permanent --new-zone=swarmops && '
            'for m in %s; do firewall-cmd --permanent --zone=swarmops --add-source=$m; done && '
            'firewall-cmd --permanent --zone=swarmops --add-port=7946/tcp --add-port=7946/udp --add-port=4789/udp && '
            'firewall-cmd --permanent --add-port=%d/tcp && firewall-cmd --reload' % (members, PORT[B]))
    assert probe(B, PORT[B], 'tcp', [A, 'controller'], listen=False) == ['controller']  # a member lost SSH
    run = lab.converge('migrate')
    run.assert_ok(MEMBERS)
    assert 'swarmops' not in node(B, 'firewall-cmd --permanent --get-zones').stdout.split()
    assert node(B, 'firewall-cmd --get-active-zones').stdout.count('sources') == 0
    assert probe(B, PORT[B], 'tcp', [A, 'controller', STRANGER], listen=False) == sorted([A, 'controller', STRANGER])
    assert probe(B, 7946, 'tcp', [A, C, STRANGER]) == [A, C]
    assert lab.converge('migrated-again').changed(B) == 0


def test_swarm_forms_across_the_firewalled_nodes(lab):
    node(A, 'docker swarm init --advertise-addr %s >/dev/null' % IP[A])
    for name in (B, C):
        # The token stays inside this one shell command: never printed, never in a Python variable.
        join = subprocess.run('token="$(docker exec %s docker swarm join-token -q worker)" && docker exec %s docker '
                              'swarm join --advertise-addr %s --token "$token" %s:2377 >/dev/null'
                              % (A, name, IP[name], IP[A]), shell=True, capture_output=True, text=True, check=False)
        assert join.returncode == 0, join.stderr
    wanted = sorted('%s Ready' % name for name in MEMBERS)
    wait_until(lambda: sorted(node(A, "docker node ls --format '{{.Hostname}} {{.Status}}'").stdout.split('\n')[:-1])
               == wanted, 90, 'all three nodes Ready')


def test_deciding_from_swarm_infos_first_read_keeps_ssh_and_changes_nothing_more(lab):
    """site.yml's firewall decides from the first play's read (swarm_info's firewall option), made over the same
    SSH connection, instead of a read of its own. With ufw reset on two members (disabled, no rules: the role must
    enable it again, the moment that would lock SSH out), that read must keep each member's one SSH port exactly
    as the role's own read does; a second run changes nothing, and the role's own read is skipped both times."""
    first_read = REPO_TESTS / 'firewall_first_read.yml'
    for name in (A, C):
        node(name, 'ufw --force reset >/dev/null')
        assert 'Status: inactive' in lab.ufw_status(name)
    inventory = lab.inventory('first-read', port_vars={B: {'ansible_port': PORT[B]}, C: {'ansible_ssh_port': PORT[C]}})
    own_read = "Read the host's firewall, packages, addresses and SSH session in one call"
    runs = [lab.play(inventory, '--diff', playbook=first_read, label='first-read-%d' % n).assert_ok(MEMBERS)
            for n in (1, 2)]
    for run in runs:
        assert run.outcomes(own_read) == dict((m, ['skipping']) for m in MEMBERS), run.describe()
    assert runs[0].changed(A) > 0 and runs[0].changed(C) > 0 and runs[0].changed(B) == 0, runs[0].describe()
    assert [runs[1].changed(m) for m in MEMBERS] == [0, 0, 0], runs[1].describe()
    for name in (A, C):
        status = lab.ufw_status(name)
        assert 'Status: active' in status and 'deny (incoming)' in status and '%d/tcp' % PORT[name] in status
        assert '22/tcp' not in status
    for name in MEMBERS:
        live = lab.third_connection(name).stdout.split()
        assert live[2:] == [IP[name], str(PORT[name])]
    assert probe(A, 7946, 'tcp', [B, C, STRANGER], listen=False) == [B, C]  # the swarm's gossip listens there


def test_a_fresh_node_firewalled_after_its_engine_install_keeps_ssh(lab):
    """site.yml on a host with no engine package yet: ufw comes in the engine's apt transaction and the rules are
    applied after it (firewall_install_with_engine). Over real SSH, on a node whose port is not 22 and whose ufw is
    gone as on a fresh host: the role's own install and apply are held back, the rules then go on with SSH first,
    a new connection still works, 22 stays closed, the firewalld member and the ufw member that has ufw already
    take their usual path, and a second run changes nothing."""
    node(A, 'ufw --force reset >/dev/null && ufw --force disable >/dev/null && '
            'DEBIAN_FRONTEND=noninteractive apt-get purge -y -q ufw >/dev/null')
    assert node(A, 'command -v ufw || echo absent').stdout.strip() == 'absent'
    inventory = lab.inventory('with-engine', port_vars={B: {'ansible_port': PORT[B]}, C: {'ansible_ssh_port': PORT[C]}})
    playbook = REPO_TESTS / 'firewall_with_engine.yml'
    first = lab.play(inventory, '--diff', playbook=playbook, label='with-engine-1').assert_ok(MEMBERS)
    held_back = first.outcomes('Apply what differs')
    assert held_back[A] == ['skipping'], first.describe()  # the role's own apply, on the host that defers
    assert first.outcomes("The engine's apt transaction, with the firewall's packages in it") == {
        A: ['changed'], B: ['skipping'], C: ['skipping']}, first.describe()
    # the role's own install, on the host that defers: the group that holds it is skipped there in one step (after
    # the engine's transaction, where the rules are applied), so none of its install tasks is reached
    own_install = 'Install the firewall with python3-apt in one apt transaction (a fresh Debian host)'
    assert first.outcomes('Install and start the firewall, where the plan says so')[A] == ['skipping'], first.describe()
    assert A not in first.outcomes(own_install), first.describe()
    assert first.changed(A) > 0 and first.changed(B) == 0 and first.changed(C) == 0, first.describe()
    status = lab.ufw_status(A)
    assert 'Status: active' in status and 'deny (incoming)' in status and '%d/tcp' % PORT[A] in status
    assert '22/tcp' not in status
    live = lab.third_connection(A).stdout.split()
    assert live[2:] == [IP[A], str(PORT[A])]
    assert probe(A, 7946, 'tcp', [B, C, STRANGER], listen=False) == [B, C]  # the swarm's gossip listens there
    second = lab.play(inventory, '--diff', playbook=playbook, label='with-engine-2').assert_ok(MEMBERS)
    assert [second.changed(m) for m in MEMBERS] == [0, 0, 0], second.describe()
