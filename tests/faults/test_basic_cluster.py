"""Faults on the manager + two workers cluster: bad input refused before anything changes, then a worker
that left, a stopped engine, a worker in another swarm and broken apt states, each healed by a re-run of
site.yml, the inventory groups renamed, and the join tokens kept out of every output. One cluster serves every
test: each test leaves it whole again (asserted), and the cheap cases (refused in the first play, no engine
change) come first.
"""

import hashlib
import shutil
import subprocess
import threading
import time

import pytest

from conftest import NETWORK, SUBNET_BASE, TESTBED, scrub, sh, swarm_identity, wait_until

FOREIGN = 'faults-foreign'
FOREIGN_IP = '%s.99' % SUBNET_BASE
MANAGER_ADDR = '%s.11:2377' % SUBNET_BASE


def fingerprint(cluster):
    """Everything a refused run must leave alone: per node the firewall rules, the packages and the
    swarm membership; on the manager the services (with their spec versions) and running tasks."""
    state = {}
    for host in cluster.hosts:
        out = cluster.exec(host, 'ufw status verbose; dpkg-query -W -f "\\${Package} \\${Version} \\${Status}\\n"; '
                                 'docker info --format "{{.Swarm.LocalNodeState}} {{.Swarm.NodeID}}"').stdout
        state[host] = hashlib.sha256(out.encode()).hexdigest()
    state['services'] = cluster.exec('manager1', 'docker service ls -q | xargs -r docker service inspect '
                                                 '--format "{{.Spec.Name}} {{.Version.Index}}"').stdout
    state['tasks'] = sorted(cluster.running_tasks())
    return state


def services_state(cluster):
    """What a swarm_service call could change: the services and their spec versions."""
    return cluster.exec('manager1', 'docker service ls -q | xargs -r docker service inspect '
                                    '--format "{{.Spec.Name}} {{.Version.Index}}"').stdout


# ---- bad input: the inventory (refused by swarm_preflight, the first play) --------------------------

HOSTS_HEAD = '''swarm:
  vars:
    ansible_connection: community.docker.docker
    ansible_python_interpreter: /usr/bin/python3
  children:
'''
HOST = '''          {name}:
            ansible_host: "{{{{ lab_container_prefix }}}}{name}"
'''


def inventory_text(managers, workers):
    text = HOSTS_HEAD
    for group, hosts in (('swarm_managers', managers), ('swarm_workers', workers)):
        text += '    %s:\n' % group + ('      hosts:\n' + ''.join(HOST.format(name=h) for h in hosts) if hosts else '')
    return text


# Each case: id, inventory (managers, workers), extra vars, failing host ('all' = run_once, every host),
# fragments the message must contain (the field and the fix).
BAD_INVENTORY = [
    ('no-managers', ([], ['worker1', 'worker2']), None,
     ['group swarm_managers is empty', 'add at least one host to it']),
    ('host-in-both-groups', (['manager1', 'worker1'], ['worker1', 'worker2']), None,
     ['worker1 are in both', 'swarm_managers and swarm_workers', 'remove each from one of the groups']),
    ('advertise-address-not-on-host', (['manager1'], ['worker1', 'worker2']),
     {'swarm_advertise_addr': '%s.250' % SUBNET_BASE},
     ['swarm_advertise_addr %s.250 is not an address of manager1' % SUBNET_BASE,
      'Use one of those addresses, or an interface name']),
]


@pytest.mark.parametrize('case, groups, extra_vars, fragments', BAD_INVENTORY, ids=[c[0] for c in BAD_INVENTORY])
def test_bad_inventory_is_refused_before_anything_changes(basic, tmp_path, case, groups, extra_vars, fragments):
    inventory = tmp_path / case
    inventory.mkdir()
    (inventory / 'hosts.yml').write_text(inventory_text(*groups))
    (inventory / 'group_vars').symlink_to(basic.inventory / 'group_vars')
    before = fingerprint(basic)
    run = basic.site(inventory=inventory, extra_vars=extra_vars, label='bad-inventory-' + case)
    assert run.rc == 2, run.describe()
    messages = ' | '.join(run.messages(h) for h in run.fatal)
    for fragment in fragments:
        assert fragment in messages, run.describe()
    # refused in the first play: no task of any later play ran
    assert 'swarmops.swarm.firewall' not in run.stdout and 'swarmops.swarm.docker' not in run.stdout, run.describe()
    assert fingerprint(basic) == before


# ---- bad input: swarm_service (refused by the module before its first engine call) -------------------

CANARY = {'name': 'faults-canary', 'image': 'swarmops/busybox:local', 'command': ['sleep', '3600'], 'replicas': 1}
BUSYBOX = {'image': 'swarmops/busybox:local', 'command': ['sleep', '3600']}

# Each case: id, the bad service, fragments of the message (field and fix).
BAD_SERVICE = [
    ('replicas-negative', dict(BUSYBOX, name='bad', replicas=-1),
     ['replicas must be a whole number (0 or more), got -1']),
    ('replicas-word', dict(BUSYBOX, name='bad', replicas='three'),
     ["replicas must be a whole number (0 or more), got 'three'"]),
    ('replicas-on-global', dict(BUSYBOX, name='bad', mode='global', replicas=3),
     ['replicas: a global service runs one task per eligible node and takes no replicas',
      'remove replicas or use mode replicated']),
    ('unknown-mode', dict(BUSYBOX, name='bad', mode='everywhere'),
     ['mode', 'everywhere', 'replicated', 'global']),
    ('port-70000', dict(BUSYBOX, name='bad', publish=[{'published': 70000, 'target': 80}]),
     ['publish published must be a port number (from 1 to 65535), got 70000']),
    ('protocol-tcpx', dict(BUSYBOX, name='bad', publish=[{'published': 8081, 'target': 80, 'protocol': 'tcpx'}]),
     ["publish: protocol 'tcpx'", 'is not one of tcp, udp, sctp']),
    ('malformed-mount', dict(BUSYBOX, name='bad', mounts=['type=bind,/srv,target=/data']),
     ["mounts: '/srv' in", 'is not KEY=VALUE; use e.g. "type=bind,source=/srv,target=/data,readonly"']),
    ('empty-image', dict(BUSYBOX, name='bad', image=''),
     ["image: '' is not an image reference; give one such as \"nginx:1.27\""]),
    ('bad-constraint', dict(BUSYBOX, name='bad', constraints=['node.role=manager']),
     ["constraints: 'node.role=manager' is not a constraint", 'write "key==value" or "key!=value"']),
]


@pytest.mark.parametrize('case, service, fragments', BAD_SERVICE, ids=[c[0] for c in BAD_SERVICE])
def test_bad_service_is_refused_before_anything_changes(basic, case, service, fragments):
    before = services_state(basic)
    # a valid new service listed first: it must not be created either
    run = basic.playbook('playbooks/deploy_services.yml', extra_vars={'swarm_services': [CANARY, service]},
                         label='bad-service-' + case)
    assert run.rc == 2 and run.failed_hosts() == ['manager1'], run.describe()
    message = run.messages('manager1')
    for fragment in fragments:
        assert fragment in message, run.describe()
    assert services_state(basic) == before and 'faults-canary' not in before


# ---- a foreign swarm: another cluster for the join cases and the worker moved there ---------------------------------

@pytest.fixture(scope='module')
def foreign(basic):
    """Another swarm on the same network: one node with Debian's engine preinstalled (no site.yml)."""
    for _attempt in range(3):  # systemd sometimes stalls at boot under load: start it afresh
        started = sh('bash', '-c', 'source "%s/lib.sh" && start_node "$1" swarmops-node-engine:bookworm "$2" "$3"'
                     % TESTBED, '_', FOREIGN, NETWORK, FOREIGN_IP, timeout=300, check=False)
        if started.returncode == 0:
            break
    assert started.returncode == 0, started.stderr
    wait_until(lambda: sh('docker', 'exec', FOREIGN, 'docker', 'info', check=False).returncode == 0, 120,
               what='the foreign engine')
    sh('docker', 'exec', FOREIGN, 'docker', 'swarm', 'init', '--advertise-addr', FOREIGN_IP)
    state, identity = swarm_identity(FOREIGN)
    assert state == 'active' and identity
    yield identity
    sh('docker', 'rm', '-f', '-v', FOREIGN, check=False)


def leave(cluster, host):
    """Make HOST leave the swarm (as `docker swarm leave` by hand), unless it already has."""
    if cluster.local_state(host)[0] != 'inactive':
        cluster.exec(host, 'docker swarm leave --force')


# ---- bad input: swarm_join (refused by the module; the node is left as it was) ----------------------

# Each case: id, token source ('' = empty, ours, foreign), remote_addrs, fragments of the message.
BAD_JOIN = [
    ('empty-token', '', [MANAGER_ADDR],
     ['join_token is empty', 'pass the worker or manager token that swarm_init returned']),
    ('token-of-another-cluster', 'foreign', [MANAGER_ADDR],
     ['the join token belongs to another swarm than the managers at %s' % MANAGER_ADDR,
      'use a token read on one of those managers', 'the node was not changed']),
    ('remote-addrs-without-port', 'ours', ['%s.11' % SUBNET_BASE],
     ["remote_addrs: '%s.11' has no port; write it as HOST:PORT, for example %s.11:2377" % (SUBNET_BASE, SUBNET_BASE)]),
]


@pytest.mark.parametrize('case, token_from, remote_addrs, fragments', BAD_JOIN, ids=[c[0] for c in BAD_JOIN])
def test_bad_join_is_refused_and_the_node_left_as_it_was(basic, foreign, case, token_from, remote_addrs, fragments):
    leave(basic, 'worker1')  # a node that is out of the swarm, as a user would try to join it
    before = services_state(basic)
    run = basic.playbook('tests/faults/playbooks/join.yml', label='bad-join-' + case, extra_vars={
        'join_host': 'worker1', 'join_token_from': token_from, 'join_remote_addrs': remote_addrs})
    assert run.rc == 2 and run.failed_hosts() == ['worker1'], run.describe()
    message = run.messages('worker1')
    for fragment in fragments:
        assert fragment in message, run.describe()
    assert basic.local_state('worker1')[0] == 'inactive'
    assert services_state(basic) == before


# ---- a worker left the swarm -> the re-run joins it again; at -vvv, no token anywhere ---------

def test_worker_that_left_is_joined_again_and_no_token_leaks_at_vvv(basic):
    leave(basic, 'worker1')
    snapshot = basic.snapshot()
    run = basic.site('-vvv', label='case2-rejoin-vvv')
    run.assert_ok(hosts=basic.hosts)
    assert 'changed: [worker1]' in run.stdout  # the join happened in this run: a token was really passed
    services = basic.assert_whole()
    assert services['web'] == (2, 2)
    # services spread again: one web task on each worker
    nodes = sorted(node for service, node in basic.running_tasks().values() if service == 'web')
    assert nodes == [basic.container('worker1'), basic.container('worker2')]
    basic.assert_kept(snapshot, except_nodes=['worker1'])
    for text, where in ((run.stdout, 'stdout'), (run.stderr, 'stderr'), (run.log, 'log')):
        assert 'SWMTKN-' not in text, 'a join token in the %s of the -vvv run' % where
    assert run.log.count('swarmops.swarm.swarm_member : Join the swarm') >= 1  # the log really holds the run


# ---- the inventory groups renamed: every play and role follows swarm_managers_group / swarm_workers_group ----

RENAMED = HOSTS_HEAD.replace('swarm:', 'cluster:') + """    leaders:
      hosts:
""" + HOST.format(name='manager1') + """    followers:
      hosts:
""" + HOST.format(name='worker1') + HOST.format(name='worker2')
GROUP_NAMES = {'swarm_managers_group': 'leaders', 'swarm_workers_group': 'followers',
               # the firewall role's own variables for its member groups
               'swarm_firewall_manager_group': 'leaders', 'swarm_firewall_worker_group': 'followers'}


def test_renamed_groups_are_followed_by_every_play_and_role(basic, tmp_path):
    # No group of the inventory has a default name (not even the parent `swarm`): anything that still read
    # swarm_managers or swarm_workers would find no host, and the worker would not join, or join as a manager.
    inventory = tmp_path / 'renamed'
    inventory.mkdir()
    (inventory / 'hosts.yml').write_text(RENAMED)
    shutil.copytree(str(basic.inventory / 'group_vars' / 'swarm'), str(inventory / 'group_vars' / 'cluster'))
    leave(basic, 'worker2')
    snapshot = basic.snapshot()
    run = basic.site(inventory=inventory, extra_vars=GROUP_NAMES, label='renamed-groups')
    run.assert_ok(hosts=basic.hosts)
    assert 'changed: [worker2]' in run.stdout, run.describe()  # joined, through the plan made from the renamed groups
    basic.assert_whole()  # worker2 a Ready worker, manager1 the manager, the services running
    basic.assert_kept(snapshot, except_nodes=['worker2'])
    run = basic.playbook('playbooks/status.yml', inventory=inventory, extra_vars=GROUP_NAMES, label='renamed-status')
    run.assert_ok(hosts=['manager1'])
    assert 'Swarm %s: ' % basic.exec('manager1', 'docker info --format "{{.Swarm.Cluster.ID}}"').stdout.strip() \
        in run.stdout, run.describe()
    run = basic.playbook('playbooks/deploy_services.yml', inventory=inventory, extra_vars=GROUP_NAMES,
                         label='renamed-deploy')
    run.assert_ok(hosts=['manager1'], changed=0)


def task_block(stdout, task_name):
    """The output of the task named TASK_NAME (its host lines), up to the next task."""
    start = stdout.index(task_name)
    end = stdout.find('\nTASK [', start)
    return stdout[start:] if end < 0 else stdout[start:end]


def test_swarm_limit_converges_every_host_it_names_and_refuses_a_typo(basic):
    # A name that matches nothing (a typo) is refused when the first changing play starts: nothing changed.
    before = fingerprint(basic)
    run = basic.site(extra_vars={'swarm_limit': 'worker2:wroker1'}, label='limit-typo')
    assert run.rc != 0, run.describe()
    assert "swarm_limit names 'wroker1', which is no host or group of the inventory" in run.stdout + run.stderr, \
        run.describe()
    assert 'swarmops.swarm.firewall' not in run.stdout, run.describe()
    assert fingerprint(basic) == before
    # The AWX survey's form, hosts joined with ':': every one of them is converged (a host pattern
    # 'managers:workers:&manager1:worker2' would have left worker2 out), and no other host is touched.
    leave(basic, 'worker2')
    run = basic.site(extra_vars={'swarm_limit': 'manager1:worker2'}, label='limit-two-hosts')
    run.assert_ok(hosts=basic.hosts)
    firewall_read = task_block(run.stdout, "TASK [swarmops.swarm.firewall : Read the host's firewall")
    assert '[manager1]' in firewall_read and '[worker2]' in firewall_read, run.describe()
    assert '[worker1]' not in firewall_read, run.describe()
    assert 'changed: [worker2]' in run.stdout, run.describe()  # joined again
    basic.assert_whole()


def test_node_without_ip_command_is_read_from_the_kernel_and_nothing_changes(basic):
    # A minimal image without iproute2: the advertise address and the address the others' firewalls admit
    # are asked of the kernel. They must be the same as `ip` gives, or a re-run would change rules.
    run = basic.site(label='before-hiding-ip')
    run.assert_ok(hosts=basic.hosts)
    hidden = basic.exec('worker1', 'for p in /usr/sbin/ip /usr/bin/ip /sbin/ip /bin/ip; do [ -e "$p" ] && '
                                   '[ ! -L "$p" ] && mv "$p" "$p.hidden" && echo "$p"; done; true').stdout.split()
    try:
        assert hidden and basic.exec('worker1', 'command -v ip', check=False).returncode != 0
        run = basic.site(label='no-ip-command')
        run.assert_ok(hosts=basic.hosts, changed=0)
    finally:
        for path in hidden:
            basic.exec('worker1', 'mv %s.hidden %s' % (path, path))


# ---- the first read serves the firewall and engine roles, never when stale or not theirs --------

FIREWALL_READ = "Read the host's firewall, packages, addresses and SSH session in one call"
ENGINE_READ = 'Read the host in one call (files, keyring, packages, apt cache, units, engine, images, group)'


def test_first_read_serves_the_roles_only_while_nothing_changed_and_only_when_made_for_them(basic):
    """site.yml's first play makes the firewall and engine roles' reads in its swarm read. Where the run's
    firewall change only rewrites rules (what every node gets when a node joins), the engine role keeps that read;
    where the firewall installs packages (apt), the first read is stale and the engine role reads the host again.
    With private_role_vars set, the first play cannot see the roles' options, so it makes no read for them and
    each role reads for itself. Every time the cluster ends whole, no engine restarts, a re-run changes nothing."""
    engine_pids = dict((h, basic.exec(h, 'systemctl show -p MainPID --value docker').stdout) for h in basic.hosts)
    # worker1: rules only (ufw reset: disabled, no rules); worker2: ufw itself gone (the role installs it again)
    basic.exec('worker1', 'ufw --force reset >/dev/null')
    basic.exec('worker2', 'DEBIAN_FRONTEND=noninteractive apt-get purge -y -q ufw >/dev/null')
    run = basic.site(label='firewall-reset-and-purged')
    run.assert_ok(hosts=basic.hosts)
    assert run.recap['worker1']['changed'] > 0 and run.recap['worker2']['changed'] > 0, run.describe()
    assert run.outcomes(FIREWALL_READ) == dict((h, ['skipping']) for h in basic.hosts), run.describe()
    assert run.outcomes(ENGINE_READ) == {'manager1': ['skipping'], 'worker1': ['skipping'], 'worker2': ['ok']}, \
        run.describe()
    for host in ('worker1', 'worker2'):
        assert 'Status: active' in basic.exec(host, 'ufw status').stdout
    assert engine_pids == dict((h, basic.exec(h, 'systemctl show -p MainPID --value docker').stdout)
                               for h in basic.hosts)  # no engine restarted
    basic.site(label='after-the-firewall-repairs').assert_ok(hosts=basic.hosts, changed=0)

    hidden = basic.site(label='private-role-vars', env={'ANSIBLE_PRIVATE_ROLE_VARS': 'true'})
    hidden.assert_ok(hosts=basic.hosts, changed=0)
    for task in (FIREWALL_READ, ENGINE_READ):
        assert hidden.outcomes(task) == dict((h, ['ok']) for h in basic.hosts), hidden.describe()
    basic.assert_whole()


def test_a_foreign_key_put_where_apt_trusts_docker_is_replaced_when_deciding_from_the_first_read(basic):
    """After convergence, someone puts another key - a real, valid one: Debian's archive keyring - where apt
    trusts Docker's repository: into the keyring site.yml manages and into the legacy place that trusts a key for
    every repository. On that unchanged host the engine role decides from the first play's read (swarm_info's
    engine read), so that read must see the swap: Docker's key back, the legacy file gone, no engine restarted,
    nothing else changed, and a re-run changes nothing."""
    keyring, legacy, foreign = ('/etc/apt/keyrings/docker.gpg', '/etc/apt/trusted.gpg.d/docker.gpg',
                                '/usr/share/keyrings/debian-archive-keyring.gpg')
    digest = 'sha256sum %s | cut -d" " -f1' % keyring
    docker_key = basic.exec('worker1', digest).stdout
    engine_pids = dict((h, basic.exec(h, 'systemctl show -p MainPID --value docker').stdout) for h in basic.hosts)
    basic.exec('worker1', 'cp %s %s && cp %s %s' % (foreign, keyring, foreign, legacy))
    assert basic.exec('worker1', digest).stdout != docker_key
    run = basic.site(label='foreign-key')
    run.assert_ok(hosts=basic.hosts)
    assert run.recap['worker1']['changed'] > 0, run.describe()
    assert run.recap['manager1']['changed'] == 0 and run.recap['worker2']['changed'] == 0, run.describe()
    assert run.outcomes(ENGINE_READ)['worker1'][0] == 'skipping', run.describe()  # decided from the first read
    assert basic.exec('worker1', digest).stdout == docker_key
    assert basic.exec('worker1', 'test -e %s' % legacy, check=False).returncode == 1
    assert engine_pids == dict((h, basic.exec(h, 'systemctl show -p MainPID --value docker').stdout)
                               for h in basic.hosts)
    basic.site(label='after-the-foreign-key').assert_ok(hosts=basic.hosts, changed=0)
    basic.assert_whole()


# ---- docker stopped and disabled on a worker -> started, enabled, Ready ----------------------

def test_stopped_and_disabled_engine_on_a_worker_is_started_again(basic):
    snapshot = basic.snapshot()

    def node_ids():
        return [n['ID'] for n in basic.nodes() if n['Hostname'] == basic.container('worker1')]

    before = node_ids()
    basic.exec('worker1', 'systemctl disable --now docker.socket docker.service')
    assert basic.exec('worker1', 'systemctl is-active docker', check=False).stdout.strip() != 'active'
    run = basic.site(label='case1-engine-stopped')
    run.assert_ok(hosts=basic.hosts)
    assert basic.exec('worker1', 'systemctl is-enabled docker; systemctl is-active docker').stdout.split() == [
        'enabled', 'active']
    # the swarm of the node whose engine did not answer the first read is read again once the engine step started
    # it (and no other node's): the plan sees a member, not a node to join, so it stays the same node
    reads = run.outcomes("Read the node's swarm state (and on a manager its nodes and services) and the host's "
                         "addresses")
    assert {host: len(outcomes) for host, outcomes in reads.items()} == {
        'manager1': 1, 'worker1': 2, 'worker2': 1}, (reads, run.describe())
    assert not run.outcomes('swarm_member : Join the swarm'), run.describe()
    assert node_ids() == before, 'worker1 was joined again as another node: %s -> %s' % (before, node_ids())
    basic.assert_whole()
    basic.assert_kept(snapshot, except_nodes=['worker1'])
    basic.site(label='case1-engine-stopped-again').assert_ok(hosts=basic.hosts, changed=0)


# ---- a worker joined to another swarm -> refused naming both; the force switch moves it ------

def test_worker_in_another_swarm_is_refused_then_moved_with_the_force_switch(basic, foreign):
    snapshot = basic.snapshot()
    # worker2 leaves ours and joins the foreign swarm as a worker; the token goes from one container
    # to the other through a pipe, never through this process
    subprocess.run('docker exec %s docker swarm join-token -q worker | docker exec -i %s bash -c '
                   '"read -r token; docker swarm leave --force >/dev/null; '
                   'docker swarm join --token \\"\\$token\\" %s:2377"'
                   % (FOREIGN, basic.container('worker2'), FOREIGN_IP), shell=True, check=True, capture_output=True)
    assert basic.local_state('worker2') == ('active', foreign)

    run = basic.site(label='case3-other-swarm')
    assert run.rc == 2 and run.failed_hosts() == ['worker2'], run.describe()
    message = run.messages('worker2')
    theirs = ('this node is in another swarm: swarm with root CA %s' % foreign, FOREIGN_IP)
    ours = ('the join token is for the swarm with root CA %s' % basic.cluster_id(), MANAGER_ADDR)
    for fragment in theirs + ours + ('swarm_member_force_rejoin',):  # both swarms, and the fix
        assert fragment in message, run.describe()
    for host in ('manager1', 'worker1'):
        assert run.recap[host]['failed'] == 0 and run.recap[host]['unreachable'] == 0, run.describe()
    assert basic.local_state('worker2') == ('active', foreign)  # refused: still in the other swarm
    basic.assert_kept(snapshot, except_nodes=['worker2'])

    run = basic.site(extra_vars={'swarm_member_force_rejoin': True}, label='case3-force-rejoin')
    run.assert_ok(hosts=basic.hosts)
    basic.assert_whole()
    basic.assert_kept(snapshot, except_nodes=['worker2'])


HOLD_DPKG_LOCK = """
import fcntl, os, time
with open('/var/lib/dpkg/lock-frontend', 'w') as lock:
    fcntl.lockf(lock, fcntl.LOCK_EX)
    open('/tmp/lock-taken', 'w').close()
    deadline = time.time() + 900
    while not os.path.exists('/tmp/release-lock') and time.time() < deadline:
        time.sleep(0.2)
    open('/tmp/lock-released', 'w').write('%d' % time.time())
"""


# ---- partial apt state -> the engine role recovers or fails clearly -------------------------

def test_dpkg_lock_held_briefly_is_waited_for(basic):
    # the role must install something: remove a plugin the running engine does not need
    basic.exec('worker2', 'dpkg -r docker-compose-plugin >/dev/null')
    snapshot = basic.snapshot()
    # hold apt's frontend lock from before the run until 15 s after the role's install task started (apt's
    # lock_timeout is 60 s), however long the run takes to get there. apt and dpkg take POSIX (fcntl) locks:
    # `flock` (BSD locks) on the same file would not stop them.
    basic.exec('worker2', 'rm -f /tmp/lock-taken /tmp/lock-released /tmp/release-lock')
    sh('docker', 'exec', '-d', basic.container('worker2'), 'python3', '-c', HOLD_DPKG_LOCK)
    wait_until(lambda: basic.exec('worker2', 'test -e /tmp/lock-taken', check=False).returncode == 0, 30,
               interval=0.5, what='the dpkg lock taken')

    def release_later():
        time.sleep(15)
        basic.exec('worker2', 'touch /tmp/release-lock')

    started = time.time()
    proc, label, log_path, argv = basic.playbook('site.yml', label='case8-dpkg-lock', popen=True)
    lines, releaser = [], None
    try:
        for line in proc.stdout:
            lines.append(line)
            if releaser is None and line.startswith('TASK [swarmops.swarm.docker : Install the engine packages'):
                releaser = threading.Thread(target=release_later)
                releaser.start()
        proc.wait(timeout=900)
        proc.stdout = ''.join(lines)
        proc.stderr = proc.stderr.read()
        run = basic.keep(label, argv, proc, log_path, time.time() - started)
    finally:
        if releaser is not None:
            releaser.join()
        basic.exec('worker2', 'touch /tmp/release-lock')  # the holder ends whatever happened
    assert releaser is not None, run.describe()
    run.assert_ok(hosts=basic.hosts)
    released = int(basic.exec('worker2', 'cat /tmp/lock-released').stdout)
    assert started < released, 'the lock was released before the run started'
    assert basic.exec('worker2', 'dpkg-query -W -f "\\${Status}" docker-compose-plugin').stdout == \
        'install ok installed'
    installed = basic.exec('worker2', 'date -d "$(grep " install docker-compose-plugin" /var/log/dpkg.log | tail -1 '
                                      '| cut -d" " -f1,2)" +%s').stdout
    assert int(installed) >= released, 'dpkg installed while the lock was held?'
    # and the role really met the lock: its install task started while the lock was held
    task = [line for line in run.log.splitlines()
            if 'TASK [swarmops.swarm.docker : Install the engine packages' in line]
    assert task, run.describe()
    assert time.mktime(time.strptime(task[0][:19], '%Y-%m-%d %H:%M:%S')) < released, run.describe()
    basic.assert_whole()
    basic.assert_kept(snapshot)


def test_interrupted_install_is_repaired_or_refused_clearly(basic):
    # an install interrupted between unpack and configure, with dpkg's journal left behind: apt then
    # refuses every operation ("dpkg was interrupted")
    basic.exec('worker2', 'cd /tmp && apt-get update -qq && apt-get download -q docker-compose-plugin >/dev/null && '
                          'dpkg -r docker-compose-plugin >/dev/null && dpkg --unpack /tmp/docker-compose-plugin_*.deb '
                          '>/dev/null && dpkg-query -s docker-compose-plugin | sed -n "1,/^$/p" > '
                          '/var/lib/dpkg/updates/0000 && rm -f /tmp/docker-compose-plugin_*.deb')
    assert 'dpkg was interrupted' in basic.exec('worker2', 'apt-get install -y -q docker-compose-plugin 2>&1',
                                                check=False).stdout
    snapshot = basic.snapshot()
    run = basic.site(label='case8-interrupted-install')
    if run.rc != 0:
        # refused clearly: only that host, with the fix in the message; the others complete
        assert run.failed_hosts() == ['worker2'], run.describe()
        assert 'dpkg --configure -a' in run.messages('worker2'), run.describe()
        for host in ('manager1', 'worker1'):
            assert run.recap[host]['failed'] == 0, run.describe()
        basic.assert_kept(snapshot)
        # the operator applies the fix the message names; the re-run converges
        basic.exec('worker2', 'dpkg --configure -a >/dev/null')
        run = basic.site(label='case8-after-configure')
    run.assert_ok(hosts=basic.hosts)
    assert basic.exec('worker2', 'dpkg-query -W -f "\\${Status}" docker-compose-plugin').stdout == \
        'install ok installed'
    basic.assert_whole()
    basic.assert_kept(snapshot)


# ---- secrets: status.yml with and without the join tokens --------------------------------------------

def test_status_shows_join_tokens_only_on_request(basic):
    run = basic.playbook('playbooks/status.yml', '-vvv', label='status-no-tokens')
    run.assert_ok()
    assert 'Swarm ' in run.stdout and 'helloworld' in run.stdout
    for text in (run.stdout, run.stderr, run.log):
        assert 'SWMTKN-' not in text and 'To add a worker' not in text

    worker_token = basic.exec('manager1', 'docker swarm join-token -q worker').stdout.strip()
    manager_token = basic.exec('manager1', 'docker swarm join-token -q manager').stdout.strip()
    run = basic.playbook('playbooks/status.yml', '-vvv', extra_vars={'show_join_tokens': True},
                         label='status-tokens-shown-on-request')
    run.assert_ok()
    # there, in the report's two join commands...
    assert 'docker swarm join --token %s %s' % (worker_token, MANAGER_ADDR) in run.stdout
    assert 'docker swarm join --token %s %s' % (manager_token, MANAGER_ADDR) in run.stdout
    # ...and only there: every line holding a token is one of them (stdout, and the log that copies it)
    for text in (run.stdout, run.log):
        lines = [line for line in text.splitlines() if 'SWMTKN-' in line]
        assert lines and all('To add a worker:  docker swarm join --token' in line
                             or 'To add a manager: docker swarm join --token' in line for line in lines), \
            scrub('\n'.join(lines))
    assert 'SWMTKN-' not in run.stderr
