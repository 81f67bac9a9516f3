"""Harness of the firewall role's SSH lane: node containers running sshd, reached over real SSH.

Network `swarmops-ssh` (10.213.35.0/24, containers `ssh-*`). The controller is this machine: the nodes see it
as the network's gateway, 10.213.35.1. Every node's sshd listens on one port only, never 22, and each member's
port reaches Ansible by one mechanism only:

  ssh-a  10.213.35.11  bookworm  manager  ufw        port 2201, only in the ssh_config file (`-F`)
  ssh-b  10.213.35.12  bookworm  worker   firewalld  port 2202, only through ANSIBLE_REMOTE_PORT (remote_port)
  ssh-c  10.213.35.13  trixie    worker   ufw        port 2203, only through ansible_ssh_port
  ssh-stranger  10.213.35.20  not a member

Keys: a test client key and one host key for all nodes, made by tests/testbed/build-ssh-image.sh; host keys are
checked (the lane's known_hosts, written from the host key). Each ansible-playbook run gets a control path
directory of its own, so it opens new SSH connections instead of reusing an earlier run's.

The harness reads and probes the nodes through `docker exec` (the outer engine), never through the firewall it
is testing; only the role's runs and the "third connection" go through SSH.
"""

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the suites' shared readers
from playbook_output import task_outcomes  # noqa: E402  pylint: disable=wrong-import-position

REPO = Path(__file__).resolve().parents[2]
TESTBED = REPO / 'tests' / 'testbed'
KEYS = REPO / '.cache' / 'testbed' / 'ssh'
IMAGES = REPO / '.cache' / 'testbed' / 'images'
PLAYBOOK = Path(__file__).resolve().parent / 'firewall.yml'
NETWORK, SUBNET, CONTROLLER = 'swarmops-ssh', '10.213.35.0/24', '10.213.35.1'

A, B, C, STRANGER = 'ssh-a', 'ssh-b', 'ssh-c', 'ssh-stranger'
IP = {A: '10.213.35.11', B: '10.213.35.12', C: '10.213.35.13', STRANGER: '10.213.35.20'}
PORT = {A: 2201, B: 2202, C: 2203, STRANGER: 2220}
IMAGE = {A: 'bookworm', B: 'bookworm', C: 'trixie', STRANGER: 'bookworm'}
MEMBERS = (A, B, C)
RECAP = re.compile(r'^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)', re.M)

LISTENER = textwrap.dedent('''
    import os, socket, sys, time
    proto, port, out, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    if proto == "tcp":
        s.listen(16)
    s.settimeout(0.2)
    open(out + ".ready", "w").write(str(os.getpid()))
    peers, deadline = set(), time.time() + seconds
    while time.time() < deadline:
        try:
            if proto == "tcp":
                conn, peer = s.accept()
                conn.close()
            else:
                _, peer = s.recvfrom(64)
            peers.add(peer[0])
            open(out, "w").write(" ".join(sorted(peers)))
        except socket.timeout:
            pass
''')

SENDER = textwrap.dedent('''
    import socket, sys, time
    proto, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if proto == "tcp":
        s = socket.socket()
        s.settimeout(2)
        try:
            s.connect((host, port))
            print("reached")
        except OSError as err:
            print("blocked", err)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for _ in range(3):
            s.sendto(b"probe", (host, port))
            time.sleep(0.1)
        print("sent")
''')


def sh(*argv, check=True, timeout=600, **kwargs):
    result = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, check=False, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError('`%s` failed (%d): %s %s'
                             % (' '.join(argv), result.returncode, result.stdout[-3000:], result.stderr[-3000:]))
    return result


def node(name, command, check=True, timeout=300):
    """COMMAND (a shell string) on node NAME through the outer engine."""
    return sh('docker', 'exec', name, 'sh', '-c', command, check=check, timeout=timeout)


def wait_until(predicate, timeout, what, interval=1.0):
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError('%s not reached within %ss' % (what, timeout))
        time.sleep(interval)


def parallel(*calls):
    """Run the zero-argument CALLS in threads; return their results in order (re-raise the first error)."""
    results, errors = [None] * len(calls), []

    def runner(index, call):
        try:
            results[index] = call()
        except BaseException as exc:  # handed to the test's thread below
            errors.append(exc)

    threads = [threading.Thread(target=runner, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


# ---- probes ---------------------------------------------------------------------------------------------

def send_from(source, dst, port, proto):
    """'reached' / 'blocked ...' / 'sent' from SOURCE: a node, or 'controller' (this process)."""
    if source != 'controller':
        return node(source, "python3 -c '%s' %s %s %d" % (SENDER, proto, IP[dst], port)).stdout.strip()
    if proto == 'tcp':
        try:
            socket.create_connection((IP[dst], port), timeout=2).close()
            return 'reached'
        except OSError as err:
            return 'blocked %s' % err
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        for _attempt in range(3):
            udp.sendto(b'probe', (IP[dst], port))
            time.sleep(0.1)
    return 'sent'


def source_ip(source):
    return CONTROLLER if source == 'controller' else IP[source]


def probe(dst, port, proto, sources, listen=True):
    """The sources among SOURCES whose packets reached DST:PORT/PROTO. With LISTEN, a listener is put on the port
    first (so "nothing arrived" can only mean the firewall stopped it); without, something already listens (sshd,
    a published container port) and a TCP connection is the proof."""
    out = '/tmp/probe-%s-%d' % (proto, port)
    if listen:
        node(dst, "rm -f {o} {o}.ready; setsid -f python3 -c '{l}' {p} {n} {o} 12 >/dev/null 2>&1; "
                  "for i in $(seq 100); do [ -e {o}.ready ] && exit 0; sleep 0.1; done; exit 1"
             .format(o=out, l=LISTENER, p=proto, n=port))
    try:
        answers = dict(zip(sources, parallel(*[lambda s=s: send_from(s, dst, port, proto) for s in sources])))
        if proto == 'tcp':
            return sorted(s for s, answer in answers.items() if answer == 'reached')
        # UDP: what the listener saw (datagrams arrive at once; the file is written on each)
        time.sleep(0.5)
        seen = node(dst, 'cat %s 2>/dev/null || true' % out).stdout.split()
        return sorted(s for s in sources if source_ip(s) in seen)
    finally:
        if listen:
            node(dst, 'kill $(cat {o}.ready) 2>/dev/null; rm -f {o} {o}.ready; true'.format(o=out))


# ---- the lab --------------------------------------------------------------------------------------------

class Run(object):
    def __init__(self, label, proc):
        self.label, self.rc, self.stdout, self.stderr = label, proc.returncode, proc.stdout, proc.stderr
        self.recap = dict((m.group(1), {'ok': int(m.group(2)), 'changed': int(m.group(3)),
                                        'unreachable': int(m.group(4)), 'failed': int(m.group(5)),
                                        'skipped': int(m.group(6))}) for m in RECAP.finditer(self.stdout))

    def describe(self):
        return '%s: rc=%s\n%s\n%s' % (self.label, self.rc, self.stdout[-6000:], self.stderr[-3000:])

    def assert_ok(self, hosts):
        assert self.rc == 0, self.describe()
        assert sorted(self.recap) == sorted(hosts), self.describe()
        assert not any(c['failed'] or c['unreachable'] for c in self.recap.values()), self.describe()
        return self

    def changed(self, host):
        return self.recap[host]['changed']

    def outcomes(self, task):
        """{host: [outcome, ...]} of the tasks whose name ends with TASK (tests/playbook_output.py)."""
        return task_outcomes(self.stdout, task)


class Lab(object):
    def __init__(self, workdir):
        self.workdir = workdir
        self.ssh_config = workdir / 'ssh_config'
        self.known_hosts = workdir / 'known_hosts'
        self.runs = 0

    # ---- containers
    def up(self):
        sh('bash', '-c', 'source "%s/lib.sh" && ensure_network %s %s' % (TESTBED, NETWORK, SUBNET))
        names = list(IP)
        parallel(*[lambda n=n: self.start(n) for n in names])
        self.write_ssh_files()

    def start(self, name):
        sh('bash', '-c', 'source "%s/lib.sh" && start_node %s swarmops-node-ssh:%s %s %s'
           % (TESTBED, name, IMAGE[name], NETWORK, IP[name]))
        # sshd on this node's port only (never 22): a role that assumed 22 would cut the lane off.
        node(name, 'echo "Port %d" >/etc/ssh/sshd_config.d/port.conf && systemctl restart ssh' % PORT[name])

    def down(self):
        for name in IP:
            sh('docker', 'rm', '-f', '-v', name, check=False)

    def write_ssh_files(self):
        key = (KEYS / 'ssh_host_ed25519_key.pub').read_text().split()[:2]
        # Host key checking stays on: the nodes' one host key, for their addresses and any port.
        self.known_hosts.write_text('10.213.35.* %s\n[10.213.35.*]:* %s\n' % (' '.join(key), ' '.join(key)))
        self.ssh_config.write_text(textwrap.dedent('''\
            # ssh-a's port is set here and nowhere else
            Host {a}
              Port {pa}
            Host 10.213.35.*
              User root
              IdentityFile {key}
              IdentitiesOnly yes
              UserKnownHostsFile {known}
              StrictHostKeyChecking yes
              ConnectTimeout 10
            ''').format(a=IP[A], pa=PORT[A], key=KEYS / 'id_ed25519', known=self.known_hosts))

    # ---- SSH from the controller
    def ssh(self, name, command='true', port=None, check=True):
        """A new SSH connection (no multiplexing) the way an operator would open it, port given as for NAME."""
        argv = ['ssh', '-F', str(self.ssh_config), '-o', 'ControlPath=none', '-o', 'BatchMode=yes']
        if port:
            argv += ['-p', str(port)]
        return sh(*(argv + [IP[name], command]), check=check, timeout=60)

    def third_connection(self, name):
        """NAME's mechanism only: ssh-a by the ssh_config file, ssh-b and ssh-c by port."""
        return self.ssh(name, 'echo "$SSH_CONNECTION"', port=None if name == A else PORT[name])

    # ---- inventories and runs
    def inventory(self, label, members=MEMBERS, managers=(A,), port_vars=None, addresses=False, **group_vars):
        """A YAML inventory (JSON is YAML). PORT_VARS: extra host vars by host (e.g. ssh-b's ansible_port).
        ADDRESSES: each member's swarm_advertise_addr (needed when --limit leaves members out of the play;
        otherwise the role reads each member's default address itself)."""
        port_vars = port_vars if port_vars is not None else {C: {'ansible_ssh_port': PORT[C]}}

        def hosts(names):
            return dict((n, dict({'ansible_host': IP[n]}, **dict(port_vars.get(n, {}), **(
                {'swarm_advertise_addr': IP[n]} if addresses else {})))) for n in names)

        host_vars = {B: {'firewall_backend': 'firewalld'}}
        inventory = {'swarm': {
            'children': {'swarm_managers': {'hosts': hosts([m for m in members if m in managers])},
                         'swarm_workers': {'hosts': hosts([m for m in members if m not in managers])}},
            'vars': dict({'ansible_connection': 'ansible.builtin.ssh',
                          'ansible_ssh_common_args': '-F %s' % self.ssh_config,
                          'ansible_python_interpreter': '/usr/bin/python3'}, **group_vars)}}
        for group in inventory['swarm']['children'].values():
            for name, values in group['hosts'].items():
                values.update(host_vars.get(name, {}))
        path = self.workdir / ('inventory-%s.yml' % label)
        path.write_text(json.dumps(inventory, indent=1))
        return path

    def play(self, inventory, *args, env=None, label='run', playbook=PLAYBOOK):
        self.runs += 1
        control = tempfile.mkdtemp(prefix='cp-', dir=str(self.workdir))
        environment = dict(os.environ, ANSIBLE_CONFIG=str(REPO / 'ansible.cfg'),
                           ANSIBLE_COLLECTIONS_PATH=str(REPO / '.cache' / 'collections'),
                           ANSIBLE_FORCE_COLOR='0', ANSIBLE_NOCOLOR='1', ANSIBLE_SSH_CONTROL_PATH_DIR=control,
                           ANSIBLE_RETRY_FILES_ENABLED='0')
        environment.pop('ANSIBLE_REMOTE_PORT', None)
        environment.update(env or {})
        proc = sh(str(REPO / '.venv' / 'bin' / 'ansible-playbook'), '-i', str(inventory), str(playbook), *args,
                  check=False, env=environment, timeout=900)
        run = Run('%s #%d' % (label, self.runs), proc)
        (self.workdir / ('run-%02d-%s.log' % (self.runs, label))).write_text(run.describe())
        return run

    def adhoc(self, name, module):
        """`ansible NAME -m MODULE` over ssh_config's port for ssh-a (a new connection)."""
        inventory = self.inventory('adhoc', members=(name,), managers=(name,))
        environment = dict(os.environ, ANSIBLE_CONFIG=str(REPO / 'ansible.cfg'),
                           ANSIBLE_COLLECTIONS_PATH=str(REPO / '.cache' / 'collections'), ANSIBLE_NOCOLOR='1',
                           ANSIBLE_SSH_CONTROL_PATH_DIR=tempfile.mkdtemp(prefix='cp-', dir=str(self.workdir)))
        environment.pop('ANSIBLE_REMOTE_PORT', None)
        return sh(str(REPO / '.venv' / 'bin' / 'ansible'), '-i', str(inventory), name, '-m', module, check=False,
                  env=environment, timeout=300)

    def converge(self, label='converge', **group_vars):
        """The role on all three members in one play (ssh-b's port as a host var here)."""
        inventory = self.inventory(label, port_vars={B: {'ansible_port': PORT[B]},
                                                     C: {'ansible_ssh_port': PORT[C]}}, **group_vars)
        return self.play(inventory, '--diff', label=label)

    # ---- reading the nodes
    def ufw_status(self, name):
        return node(name, 'ufw status verbose').stdout

    def policy(self, name):
        return node(name, 'firewall-cmd --permanent --policy=swarmops --list-rich-rules').stdout.splitlines()


@pytest.fixture(scope='session')
def lab():
    for key in ('id_ed25519', 'ssh_host_ed25519_key.pub'):
        assert (KEYS / key).exists(), 'run tests/testbed/build-ssh-image.sh first (make firewall-ssh does)'
    workdir = REPO / '.cache' / 'firewall-ssh'
    # For working on the suite: SWARMOPS_KEEP_LAB=1 leaves the lab up, SWARMOPS_REUSE_LAB=1 runs on it again.
    reuse = os.environ.get('SWARMOPS_REUSE_LAB') and (workdir / 'ssh_config').exists()
    if not reuse:
        sh('rm', '-rf', str(workdir))
        workdir.mkdir(parents=True)
    lab = Lab(workdir)
    if not reuse:
        lab.down()
        lab.up()
    try:
        yield lab
    finally:
        if not os.environ.get('SWARMOPS_KEEP_LAB'):
            lab.down()
