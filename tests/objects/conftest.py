"""Harness for the swarm objects suite: one multi-node swarm of node containers, the test bed's private
registry attached to it, and playbooks run against it by ansible-playbook over the Docker connection.

Lab: obj-m1 (manager, bookworm: engine 20.10), obj-w1 (worker, bookworm), obj-w2 (worker, trixie: engine 26.1)
on network swarmops-obj (10.213.100.0/24); container swarmops-registry (tests/testbed/registry.sh) attached
to it, its CA installed in every node's engine (certs.d), the service image loaded on every node.

Every playbook run's whole output (stdout and stderr, at the verbosity asked) is kept in `Lab.outputs`;
the suite's last test asserts that no secret value of the suite appears in any of them.
"""

import json
import os
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
TESTBED = REPO_ROOT / 'tests' / 'testbed'
CACHE = REPO_ROOT / '.cache' / 'testbed'
NETWORK = 'swarmops-obj'
SUBNET = '10.213.100.0/24'
SERVICE_IMAGE = 'swarmops/busybox:local'
REGISTRY = 'swarmops-registry:5000'
REGISTRY_IMAGE = REGISTRY + '/swarmops/busybox:local'
NODES = (('obj-m1', '10.213.100.10', 'bookworm'), ('obj-w1', '10.213.100.11', 'bookworm'),
         ('obj-w2', '10.213.100.12', 'trixie'))
# busybox as PID 1 ignores SIGTERM: docker-init forwards it, and a short grace period keeps rolling updates quick.
ANSIBLE_PLAYBOOK = str(REPO_ROOT / '.venv' / 'bin' / 'ansible-playbook') \
    if (REPO_ROOT / '.venv' / 'bin' / 'ansible-playbook').exists() else 'ansible-playbook'
QUICK = {'init': True, 'stop_grace_period': '1s', 'update_config': {'monitor': '1s'}}


def testbed_shell(function, *args):
    script = 'source "%s/lib.sh" && %s "$@"' % (TESTBED, function)
    subprocess.run(['bash', '-c', script, '_'] + list(args), check=True)


class Node(object):
    def __init__(self, name, ip, release):
        self.name, self.ip, self.release = name, ip, release

    def sh(self, command, check=True, timeout=120, stdin=None):
        result = subprocess.run(['docker', 'exec', '-i', self.name, 'sh', '-c', command], input=stdin,
                                capture_output=True, text=True, timeout=timeout, check=False)
        if check and result.returncode != 0:
            raise AssertionError('%s: `%s` failed (%d): %s %s' % (self.name, command, result.returncode,
                                                                  result.stdout, result.stderr))
        return result

    def json(self, command):
        return json.loads(self.sh(command).stdout)

    def task_exec(self, service, command, check=True):
        """COMMAND in the running container of SERVICE on this node."""
        container = self.sh("docker ps -q --filter label=com.docker.swarm.service.name=%s | head -1" % service).stdout
        assert container.strip(), '%s: no running container of %s' % (self.name, service)
        return self.sh('docker exec %s %s' % (container.strip(), command), check=check)


class Run(object):
    """One ansible-playbook run: per play, per task, {host: result}; the whole output; the exit code."""

    def __init__(self, plays, output, rc):
        self.plays, self.output, self.rc = plays, output, rc
        self.tasks = [task for play in plays for task in play]

    def result(self, index=-1, host='obj-m1'):
        return self.tasks[index][host]

    def changed(self, play=None):
        tasks = self.tasks if play is None else self.plays[play]
        return sum(1 for task in tasks for result in task.values() if result.get('changed'))


class Lab(object):
    def __init__(self, workdir, nodes):
        self.workdir = Path(workdir)
        self.nodes = dict((n.name, n) for n in nodes)
        self.manager = self.nodes['obj-m1']
        self.outputs = []
        self.secret_values = set()
        inventory = {'all': {'hosts': dict((n, {}) for n in self.nodes), 'vars': {
            'ansible_connection': 'community.docker.docker', 'ansible_python_interpreter': '/usr/bin/python3'}}}
        (self.workdir / 'inventory.json').write_text(json.dumps(inventory))

    def registry_credentials(self):
        return ((CACHE / 'registry' / 'username').read_text().strip(),
                (CACHE / 'registry' / 'password').read_text().strip())

    def playbook(self, tasks, hosts='obj-m1', check=False, diff=True, verbosity=0, extra_vars=None, roles=None,
                 text_output=False, inventory=None, plays=None):
        """Run TASKS (or ROLES) on HOSTS, or PLAYS (several plays in one ansible-playbook: a play may set
        check_mode and vars). With TEXT_OUTPUT the default callback prints what an operator reads (results
        are then not parsed)."""
        if plays is None:
            play = {'hosts': hosts, 'gather_facts': False}
            if roles is not None:
                play['roles'] = roles
            else:
                play['tasks'] = tasks
            plays = [play]
        fd, path = tempfile.mkstemp(suffix='.yml', dir=str(self.workdir))
        with os.fdopen(fd, 'w') as handle:
            json.dump(plays, handle)
        command = [ANSIBLE_PLAYBOOK, '-i', str(inventory or self.workdir / 'inventory.json'), path]
        command += ['--check'] if check else []
        command += ['--diff'] if diff else []
        command += ['-' + 'v' * verbosity] if verbosity else []
        if extra_vars:
            vars_file = self.workdir / ('vars-%s.json' % os.path.basename(path))
            vars_file.write_text(json.dumps(extra_vars))
            command += ['-e', '@%s' % vars_file]
        env = dict(os.environ, ANSIBLE_CONFIG=str(REPO_ROOT / 'ansible.cfg'),
                   ANSIBLE_COLLECTIONS_PATH=str(REPO_ROOT / '.cache' / 'collections'), ANSIBLE_NOCOLOR='1')
        if text_output:
            env['ANSIBLE_STDOUT_CALLBACK'] = 'default'
        else:
            # ansible.cfg enables profile_tasks, whose text would corrupt the JSON on stdout.
            env.update(ANSIBLE_STDOUT_CALLBACK='ansible.posix.json', ANSIBLE_CALLBACKS_ENABLED='ansible.posix.json')
        result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=str(self.workdir),
                                timeout=900, check=False)
        output = result.stdout + result.stderr
        self.outputs.append((' '.join(command[2:]), output))
        if text_output:
            return Run([], output, result.returncode)
        text = result.stdout
        if verbosity and '\n{\n' in text:
            text = text[text.index('\n{\n') + 1:]
        try:
            report = json.loads(text)
        except ValueError:
            raise AssertionError('ansible-playbook printed no JSON (rc %d): %s' % (result.returncode, output[-3000:]))
        return Run([[task['hosts'] for task in play_report['tasks']] for play_report in report['plays']], output,
                   result.returncode)

    def module(self, module, args, **kwargs):
        """One module task on the manager (errors kept as results); returns its result."""
        run = self.playbook([{'name': module, module: args, 'ignore_errors': True}], **kwargs)
        assert run.tasks, 'no task result (rc %d): %s' % (run.rc, run.output[-3000:])
        return run.result()

    def steps(self, *steps, **kwargs):
        """One playbook with one task per step, each (MODULE, ARGS) or (MODULE, ARGS, 'check'); errors are kept
        as results. Returns the manager's result of each step."""
        tasks = []
        for number, step in enumerate(steps):
            module, args = step[0], step[1]
            tasks.append({'name': 'step %d: %s' % (number, module), module: args, 'ignore_errors': True, 'diff': True,
                          'check_mode': len(step) > 2 and step[2] == 'check'})
        run = self.playbook(tasks, **kwargs)
        assert len(run.tasks) == len(steps), 'steps missing (rc %d): %s' % (run.rc, run.output[-3000:])
        return [task['obj-m1'] for task in run.tasks]

    def assert_never_shown(self, *values):
        """None of VALUES in the output of any playbook run so far (any verbosity, any callback)."""
        for value in values:
            leaks = [command for command, output in self.outputs if value in output]
            assert not leaks, 'a secret value was printed by: %s' % '; '.join(leaks)

    def wait_for(self, predicate, what, seconds=120):
        deadline = time.time() + seconds
        while time.time() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(1)
        raise AssertionError('%s not reached within %ds' % (what, seconds))

    def running_nodes(self, service):
        out = self.manager.sh("docker service ps %s --filter desired-state=running --format '{{.Node}} "
                              "{{.CurrentState}}'" % service).stdout
        return [line.split()[0] for line in out.splitlines() if ' Running' in ' ' + line.split(None, 1)[1]]

    def read_in_task(self, service, command):
        """COMMAND's output in a running task of SERVICE, on whichever node it runs."""
        nodes = self.wait_for(lambda: self.running_nodes(service), 'a running task of %s' % service)
        return self.nodes[nodes[0]].task_exec(service, command).stdout

    def remove_services(self, *names):
        self.manager.sh('docker service rm %s >/dev/null 2>&1 || true' % ' '.join(names))


def start(node):
    for attempt in (1, 2):  # a loaded machine sometimes misses systemd's start-up window once
        try:
            testbed_shell('start_node', node.name, 'swarmops-node-engine:%s' % node.release, NETWORK, node.ip)
            node.sh('for i in $(seq 60); do curl -sf --unix-socket /var/run/docker.sock http://e/_ping && exit 0; '
                    'sleep 1; done; exit 1', timeout=90)
            break
        except (subprocess.CalledProcessError, AssertionError):
            if attempt == 2:
                raise
    with open(str(CACHE / 'images' / 'busybox.tar'), 'rb') as archive:
        subprocess.run(['docker', 'exec', '-i', node.name, 'docker', 'load'], stdin=archive, check=True,
                       capture_output=True)
    return node


def cleanup(names):
    for name in names:
        subprocess.run(['docker', 'rm', '-f', '-v', name], capture_output=True, check=False)
    subprocess.run(['docker', 'network', 'disconnect', '-f', NETWORK, 'swarmops-registry'], capture_output=True,
                   check=False)


@pytest.fixture(autouse=True)
def clean_swarm(request):
    """After each test, whatever it left on the swarm (a failed test too): services first, then, once their
    containers are gone on every node (a network removed under a leaving task lingers on the worker), the
    overlay networks, secrets and configs. Everything on this lab belongs to this suite."""
    yield
    if 'lab' not in request.fixturenames:
        return
    lab = request.getfixturevalue('lab')
    manager = lab.manager
    manager.sh('docker service rm $(docker service ls -q) >/dev/null 2>&1 || true')
    lab.wait_for(lambda: all(not n.sh('docker ps -q --filter label=com.docker.swarm.service.id').stdout.strip()
                             for n in lab.nodes.values()), 'no service containers left', seconds=180)
    manager.sh("for n in $(docker network ls --filter driver=overlay --format '{{.Name}}'); do "
               "[ \"$n\" = ingress ] || docker network rm \"$n\" >/dev/null; done; "
               "docker secret rm $(docker secret ls -q) >/dev/null 2>&1; "
               "docker config rm $(docker config ls -q) >/dev/null 2>&1; true")


@pytest.fixture(scope='session')
def lab(tmp_path_factory):
    for image in ('swarmops-node-engine:bookworm', 'swarmops-node-engine:trixie'):
        if subprocess.run(['docker', 'image', 'inspect', image], capture_output=True, check=False).returncode:
            pytest.fail('image %s is missing: run `make testbed` first' % image)
    nodes = [Node(*spec) for spec in NODES]
    # SWARMOPS_OBJ_KEEP=1 keeps the lab after the run and reuses it on the next (while writing tests).
    keep = os.environ.get('SWARMOPS_OBJ_KEEP') == '1'
    if keep and all(n.sh("docker node ls -q 2>/dev/null | wc -l", check=False).stdout.strip() == '3'
                    for n in nodes[:1]):
        yield Lab(tmp_path_factory.mktemp('objects'), nodes)
        return
    cleanup([n.name for n in nodes])
    testbed_shell('ensure_network', NETWORK, SUBNET)
    with ThreadPoolExecutor(max_workers=len(nodes) + 1) as pool:
        registry = pool.submit(subprocess.run, ['bash', str(TESTBED / 'registry.sh'), 'connect', NETWORK],
                               check=True, capture_output=True)
        started = list(pool.map(start, nodes))
        registry.result()
    subprocess.run(['bash', str(TESTBED / 'registry.sh'), 'trust'] + [n.name for n in nodes], check=True)
    manager, workers = started[0], started[1:]
    manager.sh('docker swarm init --advertise-addr %s >/dev/null' % manager.ip)
    token = manager.sh('docker swarm join-token -q worker').stdout.strip()
    for worker in workers:
        worker.sh('docker swarm join --token %s %s:2377 >/dev/null' % (token, manager.ip))
    lab = Lab(tmp_path_factory.mktemp('objects'), started)
    lab.wait_for(lambda: manager.sh("docker node ls --format '{{.Status}}'").stdout.split().count('Ready') == 3,
                 'three Ready nodes')
    yield lab
    if not keep:
        cleanup([n.name for n in nodes])
