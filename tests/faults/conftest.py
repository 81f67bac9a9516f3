"""Harness of the fault suite: real clusters brought up by site.yml, broken, healed by a re-run.

Two clusters, each built once per test module by site.yml on bare node containers (tests/testbed/lab.sh)
on the suite's own network `swarmops-mol-faults` (10.213.70.0/24), container names `faults-*`:
  - basic: manager1 + worker1 + worker2   (containers faults-b-*,  10.213.70.11/21/22)
  - ha:    manager1..3 + worker1 + worker2 (containers faults-ha-*, 10.213.70.31-33/41/42)
Their inventories are tests/faults/inventories/{basic,ha}/hosts.yml, laid out at run time under
.cache/faults-inventories/ beside a copy of inventories/lab/group_vars, so the clusters are the lab's
(mirror, service image, helloworld + web services).

Every ansible-playbook run keeps its stdout, stderr and ANSIBLE_LOG_PATH log under
.cache/faults-artifacts/ (emptied at the start of a session); test_secrets scans all of it for join
tokens and unlock keys. The harness itself never prints a token: it reads none, except where a test
must prove a secret is shown on request, and then only compares it.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the suites' shared readers
from playbook_output import task_outcomes  # noqa: E402  pylint: disable=wrong-import-position

REPO_ROOT = Path(__file__).resolve().parents[2]
FAULTS_DIR = Path(__file__).resolve().parent
TESTBED = REPO_ROOT / 'tests' / 'testbed'
ARTIFACTS = REPO_ROOT / '.cache' / 'faults-artifacts'
NETWORK = 'swarmops-mol-faults'
SUBNET = '10.213.70.0/24'
SUBNET_BASE = '10.213.70'
SECRET_PATTERNS = (re.compile(r'SWMTKN-[0-9]+-[0-9a-zA-Z]{20,}'), re.compile(r'SWMKEY-[0-9]+-[0-9A-Za-z+/=_-]{10,}'))
RECAP_LINE = re.compile(r'^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)'
                        r'\s+skipped=(\d+)\s+rescued=(\d+)\s+ignored=(\d+)', re.M)
# The result after "=>" is one line of JSON, or several when Ansible pretty-prints it (-vvv, or a task such as
# an assert without quiet that asks for verbose output): it is decoded from there, whatever its layout.
FATAL_START = re.compile(r'^fatal: \[([^\]]+)\]: (FAILED|UNREACHABLE)! => ', re.M)
RESULT_DECODER = json.JSONDecoder()


def scrub(text):
    """TEXT with join tokens and unlock keys replaced: the only form in which output reaches a message."""
    text = text or ''
    for pattern in SECRET_PATTERNS:
        text = pattern.sub('<secret>', text)
    return text


def base_env():
    env = dict(os.environ)
    env.update({
        'ANSIBLE_CONFIG': str(REPO_ROOT / 'ansible.cfg'),
        'ANSIBLE_COLLECTIONS_PATH': str(REPO_ROOT / '.cache' / 'collections'),
        # the inventories live below tests/faults, so group_vars cannot find the test bed relative to them
        'SWARMOPS_TESTBED_CACHE': str(REPO_ROOT / '.cache' / 'testbed'),
        'ANSIBLE_FORCE_COLOR': '0',
        'ANSIBLE_NOCOLOR': '1',
        'PY_COLORS': '0',
        # The cases model hosts that go down. Over SSH a down host is "unreachable"; the Docker
        # connection says the same of a stopped container only without pipelining (with it, the
        # module run fails instead), so these runs keep the semantics of real hosts.
        'ANSIBLE_PIPELINING': '0',
    })
    venv_bin = REPO_ROOT / '.venv' / 'bin'
    if venv_bin.is_dir():
        env['PATH'] = '%s:%s' % (venv_bin, env.get('PATH', ''))
    return env


def sh(*argv, check=True, timeout=300, env=None):
    result = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, env=env, check=False)
    if check and result.returncode != 0:
        raise AssertionError('`%s` failed (%d): %s %s' % (
            scrub(' '.join(argv)), result.returncode, scrub(result.stdout)[-2000:], scrub(result.stderr)[-2000:]))
    return result


def wait_until(predicate, timeout, interval=2.0, what='condition'):
    """Poll PREDICATE (returns a truthy value or raises AssertionError) until it holds; re-raise at the end."""
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


def base36(number):
    digits = '0123456789abcdefghijklmnopqrstuvwxyz'
    out = ''
    while number:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
    return out or '0'


def swarm_identity(container):
    """(LocalNodeState, short root CA digest as swarm_join's messages show it) of CONTAINER's engine;
    ('no-engine', None) when it does not answer."""
    state = sh('docker', 'exec', container, 'docker', 'info', '--format', '{{.Swarm.LocalNodeState}}', check=False)
    if state.returncode != 0:
        return 'no-engine', None
    ca = subprocess.run(['docker', 'exec', container, 'cat', '/var/lib/docker/swarm/certificates/swarm-root-ca.crt'],
                        capture_output=True, check=False)
    digest = None
    if state.stdout.strip() != 'inactive' and ca.returncode == 0:
        digest = base36(int(hashlib.sha256(ca.stdout).hexdigest(), 16)).zfill(50).lstrip('0')[:12]
    return state.stdout.strip(), digest


class Run(object):
    """One ansible-playbook run: rc, output, and the PLAY RECAP / fatal lines parsed."""

    def __init__(self, label, argv, proc, log_path, seconds):
        self.label = label
        self.argv = argv
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.log_path = log_path
        self.seconds = seconds
        self.recap = {m.group(1): dict(zip(('ok', 'changed', 'unreachable', 'failed', 'skipped', 'rescued',
                                            'ignored'), map(int, m.groups()[1:])))
                      for m in RECAP_LINE.finditer(self.stdout)}
        self.fatal = {}
        for match in FATAL_START.finditer(self.stdout):
            try:
                result = RESULT_DECODER.raw_decode(self.stdout, match.end())[0]
            except ValueError:
                result = {'msg': self.stdout[match.end():].split('\n', 1)[0]}
            self.fatal.setdefault(match.group(1), []).append(result)

    @property
    def log(self):
        return self.log_path.read_text() if self.log_path.exists() else ''

    def messages(self, host):
        """Every failure message of HOST in this run (modules' msg, plus the results of loops)."""
        out = []
        for result in self.fatal.get(host, []):
            out.append(str(result.get('msg', '')))
            for item in result.get('results', []) or []:
                out.append(str(item.get('msg', '')))
        return ' | '.join(out)

    def failed_hosts(self):
        return sorted(h for h, c in self.recap.items() if c['failed'] or c['unreachable'])

    def outcomes(self, task):
        """{host: [outcome, ...]} of the tasks whose name ends with TASK (tests/playbook_output.py)."""
        return task_outcomes(self.stdout, task)

    def describe(self):
        tail = scrub(self.stdout)[-6000:]
        return '%s: rc=%s after %.0fs\n%s\n%s' % (self.label, self.rc, self.seconds, tail, scrub(self.stderr)[-2000:])

    def assert_ok(self, hosts=None, changed=None):
        """rc 0, no host failed or unreachable, every host of HOSTS in the recap (and CHANGED if given)."""
        assert self.rc == 0 and not self.failed_hosts(), self.describe()
        for host in hosts or []:
            assert host in self.recap, '%s did not run on %s\n%s' % (self.label, host, self.describe())
        if changed is not None:
            total = sum(c['changed'] for c in self.recap.values())
            assert total == changed, 'expected changed=%s, got %s\n%s' % (changed, total, self.describe())


def layout_inventory(name, sources=FAULTS_DIR / 'inventories'):
    """An inventory directory for cluster NAME: its hosts.yml (from SOURCES/NAME) and the lab's group_vars
    (copied, not linked: the collection's sanity tests refuse symlinks to directories)."""
    inventory = REPO_ROOT / '.cache' / 'faults-inventories' / name
    shutil.rmtree(str(inventory), ignore_errors=True)
    inventory.mkdir(parents=True)
    shutil.copy(str(sources / name / 'hosts.yml'), str(inventory / 'hosts.yml'))
    shutil.copytree(str(REPO_ROOT / 'inventories' / 'lab' / 'group_vars'), str(inventory / 'group_vars'))
    return inventory


class Cluster(object):
    """One fault-suite cluster: its node containers, inventory, and views of the swarm from a manager. Another
    suite reuses it with its own network, artefact directory and inventories (a subclass setting these)."""

    network, subnet, artifacts, inventories = NETWORK, SUBNET, ARTIFACTS, FAULTS_DIR / 'inventories'

    def __init__(self, name, prefix, managers, workers):
        self.name = name
        self.prefix = prefix
        self.managers = managers  # {inventory host: last octet}
        self.workers = workers
        self.hosts = dict(managers, **workers)
        self.inventory = layout_inventory(name, self.inventories)
        self.runs = 0

    # ---- containers ------------------------------------------------------------------------------
    def container(self, host):
        return self.prefix + host

    def ip(self, host):
        return '%s.%d' % (self.subnet.rsplit('.', 1)[0], self.hosts[host])

    def lab(self, action, hosts=None):
        env = base_env()
        env.update({'LAB_PREFIX': self.prefix, 'LAB_NETWORK': self.network, 'LAB_SUBNET': self.subnet,
                    'LAB_NODES': ' '.join('%s:%d' % (h, self.hosts[h]) for h in (hosts or self.hosts))})
        return sh('bash', str(TESTBED / 'lab.sh'), action, env=env, check=False, timeout=600)

    def up(self):
        # Under load systemd in a fresh container sometimes stalls at boot: a node that did not come
        # up is replaced (lab.sh keeps the running ones) -- up to four attempts.
        for _attempt in range(4):
            result = self.lab('up')
            if result.returncode == 0:
                return
            for host in self.hosts:
                state = sh('docker', 'exec', self.container(host), 'systemctl', 'is-system-running', check=False)
                if state.stdout.strip() not in ('running', 'degraded'):
                    sh('docker', 'rm', '-f', '-v', self.container(host), check=False)
        raise AssertionError('lab.sh up failed for %s: %s' % (self.name, result.stderr[-2000:]))

    def down(self):
        for host in self.hosts:
            sh('docker', 'rm', '-f', '-v', self.container(host), check=False)

    def exec(self, host, command, check=True, timeout=300):
        """Run a shell command in HOST's container."""
        return sh('docker', 'exec', self.container(host), 'bash', '-c', command, check=check, timeout=timeout)

    def stop(self, host):
        sh('docker', 'stop', '-t', '20', self.container(host))

    def start(self, host):
        sh('docker', 'start', self.container(host))
        sh('bash', '-c', 'source "%s/lib.sh" && wait_for_systemd "$1"' % TESTBED, '_', self.container(host),
           timeout=180)

    # ---- playbooks -------------------------------------------------------------------------------
    def playbook(self, playbook, *args, extra_vars=None, inventory=None, env=None, label=None, popen=False):
        """Run PLAYBOOK (relative to the repository) on this cluster; every run's output is kept."""
        # Others' test runs rebuild the mirror container now and then, which detaches it from the
        # test networks: attach it (again) before every run.
        sh('bash', str(TESTBED / 'mirror.sh'), 'connect', self.network, check=False)
        self.runs += 1
        label = '%s-%02d-%s' % (self.name, self.runs, label or Path(playbook).stem)
        self.artifacts.mkdir(parents=True, exist_ok=True)
        log_path = self.artifacts / (label + '.log')
        if log_path.exists():
            log_path.unlink()
        argv = ['ansible-playbook', '-i', str(inventory or self.inventory), '-e', 'lab_container_prefix=' + self.prefix]
        if extra_vars is not None:
            argv += ['-e', json.dumps(extra_vars)]
        argv += list(args) + [str(REPO_ROOT / playbook)]
        run_env = base_env()
        run_env['ANSIBLE_LOG_PATH'] = str(log_path)
        run_env.update(env or {})
        if popen:
            return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=run_env,
                                    cwd=str(REPO_ROOT)), label, log_path, argv
        started = time.time()
        proc = subprocess.run(argv, capture_output=True, text=True, env=run_env, cwd=str(REPO_ROOT), timeout=1500,
                              check=False)
        return self.keep(label, argv, proc, log_path, time.time() - started)

    def keep(self, label, argv, proc, log_path, seconds):
        (self.artifacts / (label + '.stdout')).write_text(proc.stdout)
        (self.artifacts / (label + '.stderr')).write_text(proc.stderr)
        with open(self.artifacts / 'timings.txt', 'a') as handle:
            handle.write('%6.1fs rc=%s %s\n' % (seconds, proc.returncode, label))
        return Run(label, argv, proc, log_path, seconds)

    def site(self, *args, **kwargs):
        return self.playbook('site.yml', *args, **kwargs)

    # ---- the swarm, as docker on a manager sees it ------------------------------------------------
    def docker_json(self, host, *args):
        result = self.exec(host, 'docker %s --format "{{json .}}"' % ' '.join(args))
        return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]

    def live_manager(self, exclude=()):
        for host in self.managers:
            if host in exclude:
                continue
            state = sh('docker', 'exec', self.container(host), 'docker', 'info', '--format',
                       '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}', check=False)
            if state.returncode == 0 and state.stdout.split() == ['active', 'true']:
                return host
        raise AssertionError('no live manager in %s' % self.name)

    def nodes(self, via=None):
        return self.docker_json(via or self.live_manager(), 'node', 'ls')

    def services(self, via=None):
        """{name: (running, desired)}. Running counts the tasks that should run and do, not the
        REPLICAS column: docker service ls also counts a task still "Running" on a node that left (Down)."""
        via = via or self.live_manager()
        running = {}
        for service, _node in self.running_tasks(via).values():
            running[service] = running.get(service, 0) + 1
        out = {}
        for service in self.docker_json(via, 'service', 'ls'):
            desired = service['Replicas'].split(' ')[0].split('/')[1]
            out[service['Name']] = (running.get(service['Name'], 0), int(desired))
        return out

    def running_tasks(self, via=None):
        """{task id: (service, node hostname)} of every task running now."""
        via = via or self.live_manager()
        names = [s['Name'] for s in self.docker_json(via, 'service', 'ls')]
        tasks = {}
        for name in names:
            for task in self.docker_json(via, 'service', 'ps', '--no-trunc', '--filter', 'desired-state=running',
                                         name):
                if task['CurrentState'].startswith('Running'):
                    tasks[task['ID']] = (name, task['Node'])
        return tasks

    def local_state(self, host):
        """(LocalNodeState, the swarm's identity) of HOST's engine. The identity is the root CA's digest
        (the part of a join token that names the swarm): workers do not know the cluster ID."""
        return swarm_identity(self.container(host))

    def cluster_id(self):
        return self.local_state(self.live_manager())[1]

    def assert_whole(self, via=None, timeout=120):
        """Every host is a Ready, active node of the one swarm with its inventory role, every manager
        Leader/Reachable, every service fully running. Polls up to TIMEOUT (tasks start asynchronously)."""
        cluster = self.cluster_id()

        def check():
            nodes = self.nodes(via)
            for host in self.hosts:
                state, cluster_id = self.local_state(host)
                assert (state, cluster_id) == ('active', cluster), '%s: %s in %s, not active in %s' % (
                    host, state, cluster_id, cluster)
                ready = [n for n in nodes if n['Hostname'] == self.container(host) and n['Status'] == 'Ready']
                assert len(ready) == 1, '%s: Ready entries %s in %s' % (host, ready, nodes)
                status = ready[0]['ManagerStatus']
                if host in self.managers:
                    assert status in ('Leader', 'Reachable'), '%s is not a reachable manager: %s' % (host, ready[0])
                else:
                    assert status == '', '%s should be a worker: %s' % (host, ready[0])
            services = self.services(via)
            assert services and all(r == d for r, d in services.values()), 'services not converged: %s' % services
            return services

        return wait_until(check, timeout, what='%s whole' % self.name)

    def service_versions(self, via=None):
        """{service name: spec version}: a run that updated a service (and so restarted its tasks) raised it."""
        via = via or self.live_manager()
        out = self.exec(via, 'docker service ls -q | xargs -r docker service inspect '
                             '--format "{{.Spec.Name}} {{.Version.Index}}"').stdout
        return dict(line.split() for line in out.splitlines() if line.strip())

    def snapshot(self):
        """What runs now, to prove later that nothing running on an untouched node was lost."""
        return {'tasks': self.running_tasks(), 'cluster': self.cluster_id(), 'services': self.service_versions()}

    def assert_untouched(self, snapshot, via=None):
        """No service was updated since SNAPSHOT (same spec versions) and the swarm is the same one. For runs
        while a manager is down: the swarm itself may replace a task of a worker whose dispatcher was that
        manager, when the worker takes longer than its heartbeat to reach another one (seconds on a loaded
        machine); what a run must never do is restart a task by updating its service."""
        assert self.service_versions(via) == snapshot['services'], 'a service was updated'
        assert self.cluster_id() == snapshot['cluster'], 'the swarm was replaced by a new cluster'

    def assert_kept(self, snapshot, except_nodes=()):
        """Every task that ran on a node outside EXCEPT_NODES still runs (same task ID, same node)."""
        now = self.running_tasks()
        untouched = [self.container(h) for h in self.hosts if h not in except_nodes]
        for task_id, (service, node) in snapshot['tasks'].items():
            if node in untouched:
                assert now.get(task_id) == (service, node), (
                    'task %s of %s on %s was lost (running now: %s)' % (task_id, service, node, now))
        assert self.cluster_id() == snapshot['cluster'], 'the swarm was replaced by a new cluster'


def _ensure_network():
    sh('bash', '-c', 'source "%s/lib.sh" && ensure_network "$1" "$2"' % TESTBED, '_', NETWORK, SUBNET)


@pytest.fixture(scope='session', autouse=True)
def faults_session():
    """The suite's network (the clusters' containers come and go per module); artefacts emptied."""
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    _ensure_network()
    yield
    if KEEP:
        return
    env = base_env()
    env.update({'LAB_PREFIX': 'faults-', 'LAB_NETWORK': NETWORK, 'LAB_SUBNET': SUBNET, 'LAB_NODES': ''})
    sh('bash', str(TESTBED / 'lab.sh'), 'down', env=env, check=False)


# FAULTS_KEEP=1 (for working on the suite): keep the clusters at the end, and start from the running
# containers instead of fresh ones (site.yml still runs first and must converge them).
KEEP = os.environ.get('FAULTS_KEEP') == '1'


def bring_up(cluster):
    if not KEEP:
        cluster.down()  # leftovers of an earlier session, by name
    cluster.up()
    run = cluster.site(label='up')
    run.assert_ok(hosts=cluster.hosts)
    cluster.assert_whole()
    return cluster


BASIC = dict(name='basic', prefix='faults-b-', managers={'manager1': 11}, workers={'worker1': 21, 'worker2': 22})
HA = dict(name='ha', prefix='faults-ha-', managers={'manager1': 31, 'manager2': 32, 'manager3': 33},
          workers={'worker1': 41, 'worker2': 42})


@pytest.fixture(scope='module')
def basic():
    cluster = Cluster(**BASIC)
    yield bring_up(cluster)
    if not KEEP:
        cluster.down()


@pytest.fixture(scope='module')
def ha():
    cluster = Cluster(**HA)
    yield bring_up(cluster)
    if not KEEP:
        cluster.down()
