"""Harness of the lifecycle suite: ONE lab, built once by site.yml on bare node containers, carried through
every day-2 operation in order (each test starts from the state the previous one left).

Containers lc-manager1 (10.213.120.11), lc-worker1..3 (.21-.23) on the suite's own network `swarmops-lc`
(10.213.120.0/24), started by tests/testbed/lab.sh from the bare node image, with the lab's group_vars
(the test bed's mirror, the service image, the helloworld and web services). The inventory is written by
the tests under .cache/lifecycle/ (the directory is named `lifecycle`: the swarm's name for reset.yml's
confirmation and the unlock key file).

Every ansible-playbook run keeps its output under .cache/lifecycle/artifacts/; each run is scanned for join
tokens and unlock keys, and the suite fails at once if one appears. LIFECYCLE_KEEP=1 keeps the lab at the end.
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
TESTBED = REPO_ROOT / 'tests' / 'testbed'
WORK = REPO_ROOT / '.cache' / 'lifecycle'
INVENTORY = WORK / 'lifecycle'
ARTIFACTS = WORK / 'artifacts'
VAULT_PASSWORD_FILE = WORK / 'vault-password'
KEY_FILE = WORK / 'keys' / 'unlock-key.vault.yml'
NETWORK = 'swarmops-lc'
SUBNET = '10.213.120.0/24'
PREFIX = 'lc-'
HOSTS = {'manager1': 11, 'worker1': 21, 'worker2': 22, 'worker3': 23}
SECRET_PATTERNS = (re.compile(r'SWMTKN-[0-9]+-[0-9a-zA-Z]{20,}'), re.compile(r'SWMKEY-[0-9]+-[0-9A-Za-z+/=_-]{10,}'))
RECAP_LINE = re.compile(r'^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', re.M)
KEEP = os.environ.get('LIFECYCLE_KEEP') == '1'


def scrub(text):
    for pattern in SECRET_PATTERNS:
        text = pattern.sub('<secret>', text or '')
    return text


def sh(*argv, check=True, timeout=600, env=None, stdin=None):
    result = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, env=env, check=False,
                            input=stdin)
    if check and result.returncode != 0:
        raise AssertionError('`%s` failed (%d): %s %s' % (scrub(' '.join(argv)), result.returncode,
                                                          scrub(result.stdout)[-2000:], scrub(result.stderr)[-2000:]))
    return result


def wait_until(predicate, timeout, what, interval=2.0):
    deadline = time.time() + timeout
    while True:
        try:
            value = predicate()
            if value:
                return value
            error = AssertionError('%s not reached within %ss' % (what, timeout))
        except AssertionError as exc:
            error = exc
        if time.time() > deadline:
            raise error
        time.sleep(interval)


def env():
    out = dict(os.environ)
    out.update({
        'ANSIBLE_CONFIG': str(REPO_ROOT / 'ansible.cfg'),
        'ANSIBLE_COLLECTIONS_PATH': str(REPO_ROOT / '.cache' / 'collections'),
        'SWARMOPS_TESTBED_CACHE': str(REPO_ROOT / '.cache' / 'testbed'),
        'ANSIBLE_FORCE_COLOR': '0', 'ANSIBLE_NOCOLOR': '1', 'PY_COLORS': '0',
        'ANSIBLE_VAULT_PASSWORD_FILE': str(VAULT_PASSWORD_FILE),
    })
    venv_bin = REPO_ROOT / '.venv' / 'bin'
    if venv_bin.is_dir():
        out['PATH'] = '%s:%s' % (venv_bin, out.get('PATH', ''))
    return out


class Run(object):
    def __init__(self, label, proc, seconds):
        self.label = label
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.seconds = seconds
        self.recap = dict((m.group(1), dict(zip(('ok', 'changed', 'unreachable', 'failed'), map(int, m.groups()[1:]))))
                          for m in RECAP_LINE.finditer(self.stdout))

    @property
    def changed(self):
        return sum(c['changed'] for c in self.recap.values())

    def describe(self):
        return '%s: rc=%s after %.0fs\n%s\n%s' % (self.label, self.rc, self.seconds, scrub(self.stdout)[-7000:],
                                                  scrub(self.stderr)[-2000:])

    def ok(self, changed=None):
        assert self.rc == 0 and self.recap and not any(c['failed'] or c['unreachable'] for c in self.recap.values()), \
            self.describe()
        if changed is not None:
            assert self.changed == changed, 'expected changed=%s, got %s\n%s' % (changed, self.changed, self.describe())
        return self

    def changed_some(self):
        self.ok()
        assert self.changed > 0, 'expected changes\n' + self.describe()
        return self

    def refused(self, *fragments):
        assert self.rc != 0, 'expected a refusal\n' + self.describe()
        for fragment in fragments:
            assert fragment in self.stdout, 'missing %r\n%s' % (fragment, self.describe())
        return self


class Lab(object):
    """The lab: containers, the inventory the tests edit, playbook runs, and views from inside the nodes."""

    def __init__(self):
        self.runs = 0
        self.managers = ['manager1']
        self.workers = ['worker1', 'worker2', 'worker3']
        self.host_vars = {}
        self.group_vars = {}

    # ---- containers ------------------------------------------------------------------------------
    @staticmethod
    def container(host):
        return PREFIX + host

    @staticmethod
    def ip(host):
        return '10.213.120.%d' % HOSTS[host]

    def lab_env(self):
        out = env()
        out.update({'LAB_PREFIX': PREFIX, 'LAB_NETWORK': NETWORK, 'LAB_SUBNET': SUBNET,
                    'LAB_NODES': ' '.join('%s:%d' % item for item in sorted(HOSTS.items()))})
        return out

    def up(self):
        for _attempt in range(3):
            result = sh('bash', str(TESTBED / 'lab.sh'), 'up', env=self.lab_env(), check=False)
            if result.returncode == 0:
                return
            for host in HOSTS:
                state = sh('docker', 'exec', self.container(host), 'systemctl', 'is-system-running', check=False)
                if state.stdout.strip() not in ('running', 'degraded'):
                    sh('docker', 'rm', '-f', '-v', self.container(host), check=False)
        raise AssertionError('lab.sh up failed: %s' % result.stderr[-2000:])

    def down(self):
        for host in HOSTS:
            sh('docker', 'rm', '-f', '-v', self.container(host), check=False)

    def exec(self, host, command, check=True, timeout=300):
        return sh('docker', 'exec', self.container(host), 'bash', '-c', command, check=check, timeout=timeout)

    # ---- the inventory ---------------------------------------------------------------------------
    def write_inventory(self):
        def hosts(names):
            return dict((h, dict({'ansible_host': self.container(h)}, **self.host_vars.get(h, {}))) for h in names)
        inventory = {'swarm': {
            'children': {'swarm_managers': {'hosts': hosts(self.managers)},
                         'swarm_workers': {'hosts': hosts(self.workers)}},
            'vars': dict({'ansible_connection': 'community.docker.docker',
                          'ansible_python_interpreter': '/usr/bin/python3',
                          'swarm_unlock_key_file': str(KEY_FILE),
                          # The Docker connection has no SSH port of its own: name sshd's, so the firewall role
                          # writes an SSH rule (which reset.yml must keep), and a published port restricted to
                          # the lab (its DOCKER-USER chain, which reset.yml must remove).
                          'firewall_ssh_ports': [22],
                          'firewall_published_ports': [{'port': 8080, 'sources': [SUBNET],
                                                        'comment': 'web'}]}, **self.group_vars)}}
        (INVENTORY / 'hosts.yml').write_text(json.dumps(inventory, indent=2))

    def set_host_vars(self, host, **values):
        current = self.host_vars.setdefault(host, {})
        for key, value in values.items():
            if value is None:
                current.pop(key, None)
            else:
                current[key] = value
        self.write_inventory()

    def set_groups(self, managers, workers):
        self.managers, self.workers = list(managers), list(workers)
        self.write_inventory()

    # ---- playbooks -------------------------------------------------------------------------------
    def playbook(self, playbook, *args, extra_vars=None, label=None, check=False):
        sh('bash', str(TESTBED / 'mirror.sh'), 'connect', NETWORK, check=False)
        self.runs += 1
        label = '%02d-%s%s' % (self.runs, label or Path(playbook).stem, '-check' if check else '')
        argv = ['ansible-playbook', '-i', str(INVENTORY)]
        if extra_vars:
            argv += ['-e', json.dumps(extra_vars)]
        if check:
            argv += ['--check', '--diff']
        argv += list(args)
        path = REPO_ROOT / playbook if not Path(playbook).is_absolute() else Path(playbook)
        argv.append(str(path))
        started = time.time()
        proc = subprocess.run(argv, capture_output=True, text=True, env=env(), cwd=str(REPO_ROOT), timeout=1800,
                              check=False)
        run = Run(label, proc, time.time() - started)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / (label + '.out')).write_text(proc.stdout + '\n--- stderr\n' + proc.stderr)
        with open(str(ARTIFACTS / 'timings.txt'), 'a') as handle:
            handle.write('%6.1fs rc=%s changed=%s %s\n' % (run.seconds, run.rc, run.changed, label))
        for pattern in SECRET_PATTERNS:
            assert not pattern.search(proc.stdout + proc.stderr), '%s: a swarm secret reached the output' % label
        return run

    def site(self, *args, **kwargs):
        return self.playbook('site.yml', *args, **kwargs)

    def module(self, host, module, args, check=False):
        """One module call on HOST (ad hoc, its JSON result from ansible-core's tree callback). No secrets: only
        for modules that return none."""
        tree = WORK / 'tree'
        shutil.rmtree(str(tree), ignore_errors=True)
        argv = ['ansible', '-i', str(INVENTORY), host, '-m', module, '-a', json.dumps(args), '--tree', str(tree)]
        if check:
            argv.append('--check')
        proc = subprocess.run(argv, capture_output=True, text=True, env=env(), cwd=str(REPO_ROOT), timeout=600,
                              check=False)
        for pattern in SECRET_PATTERNS:
            assert not pattern.search(proc.stdout + proc.stderr), 'a swarm secret reached the output'
        try:
            result = json.loads((tree / host).read_text())
        except (OSError, ValueError):
            raise AssertionError('no JSON from %s on %s: %s %s' % (module, host, scrub(proc.stdout)[-3000:],
                                                                   scrub(proc.stderr)[-2000:]))
        # the tree callback keeps the module's own result, without the failed flag: the exit status says it
        if proc.returncode != 0:
            result['failed'] = True
        return result

    # ---- the swarm, as the engines see it ---------------------------------------------------------
    def api(self, host, path, check=True):
        result = self.exec(host, 'curl -sg -w "\\n%%{http_code}" --unix-socket /var/run/docker.sock %s'
                           % shlex.quote('http://engine' + path), check=check)
        text, _newline, status = result.stdout.rpartition('\n')
        if check:
            assert status.startswith('2'), '%s: GET %s -> %s %s' % (host, path, status, scrub(text)[:500])
        try:
            return json.loads(text) if text.strip() else None
        except ValueError:
            return text

    def swarm_state(self, host):
        info = self.api(host, '/info', check=False)
        return ((info or {}).get('Swarm') or {}) if isinstance(info, dict) else {}

    def live_manager(self):
        for host in self.managers + self.workers:
            swarm = self.swarm_state(host)
            if swarm.get('LocalNodeState') == 'active' and swarm.get('ControlAvailable'):
                return host
        raise AssertionError('no live manager')

    def nodes(self):
        return self.api(self.live_manager(), '/nodes')

    def node(self, host):
        """The node entries whose hostname is HOST's container name."""
        return [n for n in self.nodes() if n['Description']['Hostname'] == self.container(host)]

    def running_tasks(self, service):
        """{node hostname: count} of SERVICE's tasks that run and should."""
        via = self.live_manager()
        names = dict((n['ID'], n['Description']['Hostname']) for n in self.api(via, '/nodes'))
        out = {}
        for task in self.api(via, '/tasks?filters=%s' % json.dumps({'service': [service]}).replace(' ', '')):
            if task['DesiredState'] == 'running' and task['Status']['State'] == 'running':
                host = names.get(task['NodeID'], task['NodeID'])
                out[host] = out.get(host, 0) + 1
        return out

    def ufw(self, host):
        return self.exec(host, 'ufw status').stdout

    def can_reach(self, source, target, port, timeout=3):
        """A real TCP connection from SOURCE's container to TARGET:PORT."""
        return self.exec(source, 'timeout %d bash -c "</dev/tcp/%s/%d" 2>/dev/null' % (timeout, self.ip(target), port),
                         check=False).returncode == 0


@pytest.fixture(scope='session')
def lab():
    if ARTIFACTS.exists():
        shutil.rmtree(str(ARTIFACTS))
    ARTIFACTS.mkdir(parents=True)
    shutil.rmtree(str(INVENTORY), ignore_errors=True)
    INVENTORY.mkdir(parents=True)
    shutil.copytree(str(REPO_ROOT / 'inventories' / 'lab' / 'group_vars'), str(INVENTORY / 'group_vars'))
    shutil.rmtree(str(KEY_FILE.parent), ignore_errors=True)
    VAULT_PASSWORD_FILE.write_text('lifecycle-suite-vault-password\n')
    VAULT_PASSWORD_FILE.chmod(0o600)
    sh('bash', '-c', 'source "%s/lib.sh" && ensure_network "$1" "$2"' % TESTBED, '_', NETWORK, SUBNET)
    the_lab = Lab()
    if not KEEP:
        the_lab.down()
    the_lab.up()
    the_lab.write_inventory()
    yield the_lab
    if not KEEP:
        the_lab.down()
        sh('docker', 'network', 'disconnect', '-f', NETWORK, 'swarmops-mirror', check=False)
        sh('docker', 'network', 'rm', NETWORK, check=False)
