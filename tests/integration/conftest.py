"""Harness for the module integration tests: real engines in node containers, real swarms.

Nodes are started from `swarmops-node-engine:RELEASE` (Debian's engine and python3-docker already
installed, see tests/testbed) on the project's network `swarmops-it`, and the modules are run on
them by ansible-playbook over the docker connection, exactly as a user's playbook would run them.

Secrets: the harness reads join tokens itself (`Node.join_token`) and never puts one in an
assertion message or a log line; `scrub()` removes any that might reach a failure message.
"""

import json
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
TESTBED = REPO_ROOT / 'tests' / 'testbed'
NETWORK = 'swarmops-it'
SUBNET = '10.213.40.0/24'
NAME_PREFIX = 'it-'
SERVICE_IMAGE = 'swarmops/busybox:local'
SERVICE_IMAGE_ARCHIVE = REPO_ROOT / '.cache' / 'testbed' / 'images' / 'busybox.tar'
TOKEN_PATTERN = re.compile(r'SWMTKN-1-[0-9a-z]+-[0-9a-z]+')
# A TCP port in front of the engine's Unix socket, as `socat TCP-LISTEN:PORT,fork UNIX-CONNECT:...` would be.
ENGINE_TCP_FORWARDER = '''
import socket, threading
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(('0.0.0.0', %d))
listener.listen(16)
def pipe(source, sink):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            sink.sendall(data)
    except OSError:
        pass
    for end in (source, sink):
        try:
            end.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
while True:
    client, _address = listener.accept()
    engine = socket.socket(socket.AF_UNIX)
    engine.connect('/var/run/docker.sock')
    for source, sink in ((client, engine), (engine, client)):
        threading.Thread(target=pipe, args=(source, sink), daemon=True).start()
'''


def scrub(text):
    """Text with every swarm join token replaced, safe for assertion messages."""
    return TOKEN_PATTERN.sub('SWMTKN-<redacted>', text or '')


def testbed_shell(function, *args):
    """Run a function of tests/testbed/lib.sh, so node flags are defined in one place."""
    script = 'source "%s/lib.sh" && %s "$@"' % (TESTBED, function)
    subprocess.run(['bash', '-c', script, '_'] + list(args), check=True)


class Node(object):
    """One node container: a host with its own dockerd."""

    def __init__(self, name, ip, release):
        self.name = name  # inventory name and container name
        self.ip = ip
        self.release = release

    def __repr__(self):
        return 'Node(%s, %s)' % (self.name, self.ip)

    def sh(self, command, check=True, timeout=120):
        """Run a shell command on the node; returns CompletedProcess with text output."""
        result = subprocess.run(['docker', 'exec', self.name, 'sh', '-c', command],
                                capture_output=True, text=True, timeout=timeout, check=False)
        if check and result.returncode != 0:
            raise AssertionError('%s: `%s` failed (%d): %s %s' % (
                self.name, scrub(command), result.returncode, scrub(result.stdout), scrub(result.stderr)))
        return result

    def docker_json(self, *args):
        """`docker ARGS --format '{{json .}}'` on the node, parsed."""
        out = self.sh("docker %s --format '{{json .}}'" % ' '.join(args)).stdout
        return json.loads(out)

    def info(self):
        return json.loads(self.sh("docker info --format '{{json .}}'").stdout)

    def swarm_state(self):
        return self.info()['Swarm']['LocalNodeState']

    def is_manager(self):
        return bool(self.info()['Swarm'].get('ControlAvailable'))

    def join_token(self, role):
        """The join token for ROLE, read on this manager. Never print it."""
        return self.sh('docker swarm join-token -q %s' % role).stdout.strip()

    def init_swarm(self):
        self.sh('docker swarm init --advertise-addr %s' % self.ip)

    def join_swarm(self, manager, role='worker'):
        """Join via the CLI (for fixtures); the token stays inside this process."""
        token = manager.join_token(role)
        self.sh('docker swarm join --token %s %s:2377' % (token, manager.ip))

    def leave_swarm(self):
        self.sh('docker swarm leave --force', check=False)

    def load_service_image(self):
        # Streamed on stdin: on Debian 13 /tmp is a tmpfs mounted by systemd, which hides a file
        # that `docker cp` put in the image layer underneath it.
        with open(str(SERVICE_IMAGE_ARCHIVE), 'rb') as archive:
            subprocess.run(['docker', 'exec', '-i', self.name, 'docker', 'load'],
                           stdin=archive, check=True, capture_output=True)

    # Engine API helpers (swarm_init/join/info tests): curl on the node's socket, so they also work on
    # trixie nodes, whose docker.io ships no CLI (docker-cli is a separate package there).
    def engine(self, method, path, body=None, check=True):
        """Engine API call on the node -> parsed JSON (AssertionError on a non-2xx answer when CHECK)."""
        __tracebackhide__ = True  # its arguments may hold a join token: keep them out of failure reports
        command = ['docker', 'exec', '-i', self.name, 'curl', '-s', '-w', '\\n%{http_code}', '--unix-socket',
                   '/var/run/docker.sock', '-X', method, '-H', 'Content-Type: application/json']
        if body is not None:
            command += ['--data-binary', '@-']
        command.append('http://engine' + path)
        result = subprocess.run(command, input=None if body is None else json.dumps(body),
                                capture_output=True, text=True, timeout=120, check=False)
        text, _newline, status = result.stdout.rpartition('\n')
        if check and not status.startswith('2'):
            raise AssertionError('%s: %s %s -> %s %s' % (self.name, method, path, status, scrub(text)))
        try:
            return json.loads(text) if text.strip() else None
        except ValueError:
            return text

    def api_info(self):
        return self.engine('GET', '/info')

    def api_swarm(self):
        """/info's Swarm section."""
        return self.api_info()['Swarm']

    def api_join_token(self, role):
        """The join token for ROLE, read on this manager through the API. Never print it."""
        return self.engine('GET', '/swarm')['JoinTokens'][role.capitalize()]

    def api_unlock_key(self):
        """The unlock key, read on this (unlocked) manager. Never print it."""
        return self.engine('GET', '/swarm/unlockkey')['UnlockKey']

    def api_init_swarm(self, **extra):
        body = {'ListenAddr': '0.0.0.0:2377', 'AdvertiseAddr': self.ip}
        body.update(extra)
        self.engine('POST', '/swarm/init', body)

    def api_join_swarm(self, manager, role='worker'):
        """Join through the API; the token stays inside this process."""
        self.engine('POST', '/swarm/join', {'ListenAddr': '0.0.0.0:2377', 'AdvertiseAddr': self.ip,
                                            'RemoteAddrs': ['%s:2377' % manager.ip],
                                            'JoinToken': manager.api_join_token(role)})

    def api_leave_swarm(self):
        self.engine('POST', '/swarm/leave?force=true', check=False)

    def api_wait(self, predicate, seconds=60, what='condition'):
        """Poll /info's Swarm section until PREDICATE(swarm) is true."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            swarm = self.api_swarm()
            if predicate(swarm):
                return swarm
            time.sleep(0.5)
        raise AssertionError('%s: %s not reached within %ds' % (self.name, what, seconds))

    def restart_engine(self):
        self.sh('systemctl restart docker')
        deadline = time.time() + 60
        while self.engine('GET', '/_ping', check=False) != 'OK':
            if time.time() > deadline:
                raise AssertionError('%s: dockerd did not answer after a restart' % self.name)
            time.sleep(0.5)

    def expose_engine_tcp(self, port=2375):
        """Forward TCP PORT to the engine's socket (a remote docker_host for modules run elsewhere)."""
        script = ENGINE_TCP_FORWARDER % port
        subprocess.run(['docker', 'exec', '-i', self.name, 'sh', '-c', 'cat > /usr/local/bin/engine-tcp.py'],
                       input=script, text=True, check=True, capture_output=True)
        self.sh('systemctl is-active --quiet engine-tcp || systemd-run --unit engine-tcp python3 '
                '/usr/local/bin/engine-tcp.py')
        deadline = time.time() + 30
        while self.sh('curl -sf http://127.0.0.1:%d/_ping' % port, check=False).returncode != 0:
            if time.time() > deadline:
                raise AssertionError('%s: the engine does not answer on TCP port %d' % (self.name, port))
            time.sleep(0.5)
        return 'tcp://%s:%d' % (self.ip, port)

    def wait_for_engine(self, seconds=60):
        deadline = time.time() + seconds
        while time.time() < deadline:
            # the API's _ping, not `docker info`: trixie nodes have no docker CLI
            if self.sh('curl -sf --unix-socket /var/run/docker.sock http://engine/_ping >/dev/null 2>&1',
                       check=False).returncode == 0:
                return
            time.sleep(0.5)
        raise AssertionError('%s: dockerd did not answer within %ds' % (self.name, seconds))


class Ansible(object):
    """Runs one-task playbooks on nodes and returns each host's result dict."""

    def __init__(self, workdir):
        self.workdir = Path(workdir)
        self.nodes = {}

    def add(self, node):
        self.nodes[node.name] = node
        self._write_inventory()

    def remove(self, node):
        self.nodes.pop(node.name, None)
        self._write_inventory()

    def _write_inventory(self):
        hosts = {name: {'ansible_host': name} for name in self.nodes}
        inventory = {'all': {'hosts': hosts, 'vars': {
            'ansible_connection': 'community.docker.docker',
            'ansible_python_interpreter': '/usr/bin/python3',
        }}}
        (self.workdir / 'inventory.json').write_text(json.dumps(inventory))

    def playbook(self, hosts, tasks, check=False, diff=False, extra_vars=None, verbosity=0):
        """Run TASKS (list of task dicts) on HOSTS; return (per-task list of {host: result}, raw)."""
        play = [{'hosts': hosts, 'gather_facts': False, 'tasks': tasks}]
        fd, path = tempfile.mkstemp(suffix='.yml', dir=str(self.workdir))
        with os.fdopen(fd, 'w') as handle:
            json.dump(play, handle)
        command = ['ansible-playbook', '-i', str(self.workdir / 'inventory.json'), path]
        if check:
            command.append('--check')
        if diff:
            command.append('--diff')
        if verbosity:
            command.append('-' + 'v' * verbosity)
        if extra_vars:
            command += ['-e', json.dumps(extra_vars)]
        env = dict(os.environ)
        env.update({
            'ANSIBLE_CONFIG': str(REPO_ROOT / 'ansible.cfg'),
            'ANSIBLE_COLLECTIONS_PATH': str(REPO_ROOT / '.cache' / 'collections'),
            'ANSIBLE_STDOUT_CALLBACK': 'ansible.posix.json',
            # ansible.cfg enables profile_tasks, whose text would corrupt the JSON on stdout.
            'ANSIBLE_CALLBACKS_ENABLED': 'ansible.posix.json',
            'ANSIBLE_NOCOLOR': '1',
        })
        result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=str(self.workdir), check=False)
        try:
            report = json.loads(result.stdout)
        except ValueError:
            report = None
        if report is None and '\n{\n' in result.stdout:
            # with -v..., verbose lines precede the callback's JSON document (which starts on a line of its own)
            try:
                report = json.loads(result.stdout[result.stdout.index('\n{\n') + 1:])
            except ValueError:
                report = None
        if report is None:
            raise AssertionError('ansible-playbook did not print JSON (rc %d): %s %s' % (
                result.returncode, scrub(result.stdout[-3000:]), scrub(result.stderr[-3000:])))
        per_task = [task['hosts'] for play_report in report['plays'] for task in play_report['tasks']]
        return per_task, result

    def module(self, hosts, module, args, check=False, diff=False, no_log=False):
        """Run MODULE with ARGS on HOSTS; return {host: result} (result['failed'] on failure)."""
        task = {'name': 'call %s' % module, module: args, 'ignore_errors': True}
        if no_log:
            task['no_log'] = True
        per_task, run = self.playbook(hosts, [task], check=check, diff=diff)
        if not per_task:
            raise AssertionError('no task result (rc %d): %s' % (run.returncode, scrub(run.stderr[-3000:])))
        return per_task[0]

    SECRET_RESULT_KEYS = ('join_tokens', 'unlock_key', 'invocation')

    def steps(self, hosts, steps, extra_vars=None, verbosity=0):
        """Run STEPS in one playbook, secrets never printed; return one {host: public result} per step.

        Each step is a dict: module, args, and optionally check / diff (task-level check_mode / diff).
        The module task runs with no_log and is registered; a debug task then shows the result without
        join_tokens / unlock_key, plus `secrets`: shape checks and sha1 hashes of them (to compare
        tokens across steps), and the tokens' CA digest (not secret). Asserts that no join token or unlock
        key appears anywhere in ansible-playbook's output. Args may use "{{ var }}" from EXTRA_VARS.
        """
        tasks = []
        for number, step in enumerate(steps):
            reg = 'step_%d' % number
            tasks.append({'name': 'step %d: %s' % (number, step['module']), step['module']: step.get('args', {}),
                          'check_mode': bool(step.get('check')), 'diff': bool(step.get('diff', True)),
                          'no_log': True, 'ignore_errors': True, 'register': reg})
            tokens = '(%s.join_tokens | default({}, true))' % reg
            secrets = ("{'worker_token_ok': (%(t)s.worker | default('', true)) is match('^SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}$'),"
                       " 'manager_token_ok': (%(t)s.manager | default('', true)) is match('^SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}$'),"
                       " 'worker_token_sha1': (%(t)s.worker | default('', true)) | hash('sha1'),"
                       " 'manager_token_sha1': (%(t)s.manager | default('', true)) | hash('sha1'),"
                       " 'token_ca_digest': (%(t)s.worker | default('---', true)).split('-')[2],"
                       " 'unlock_key_ok': (%(r)s.unlock_key | default('', true)) is match('^SWMKEY-1-'),"
                       " 'unlock_key_sha1': (%(r)s.unlock_key | default('', true)) | hash('sha1')}"
                       % {'t': tokens, 'r': reg})
            public = ("{{ %s | dict2items | rejectattr('key', 'in', %r) | items2dict | combine({'secrets': %s}) }}"
                      % (reg, list(self.SECRET_RESULT_KEYS), secrets))
            tasks.append({'name': 'show %d' % number, 'ansible.builtin.debug': {'var': 'public_%d' % number},
                          'vars': {'public_%d' % number: public}})
        per_task, run = self.playbook(hosts, tasks, extra_vars=extra_vars, verbosity=verbosity)
        output = run.stdout + run.stderr
        assert 'SWMTKN-' not in output and 'SWMKEY-' not in output, 'a swarm secret reached ansible output'
        results = []
        for number in range(len(steps)):
            shown = per_task[2 * number + 1]
            results.append(dict((host, value.get('public_%d' % number, value)) for host, value in shown.items()))
        return results, run

    def one(self, host, module, args, **kwargs):
        """Run MODULE on one host and return its result."""
        return self.module(host, module, args, **kwargs)[host]


@pytest.fixture(scope='session')
def testbed():
    """The network and images the tests need (built by `make testbed`)."""
    for release in ('bookworm', 'trixie'):
        image = 'swarmops-node-engine:%s' % release
        if subprocess.run(['docker', 'image', 'inspect', image], capture_output=True, check=False).returncode != 0:
            pytest.fail('image %s is missing: run `make testbed` first' % image)
    if not SERVICE_IMAGE_ARCHIVE.exists():
        pytest.fail('%s is missing: run `make testbed` first' % SERVICE_IMAGE_ARCHIVE)
    testbed_shell('ensure_network', NETWORK, SUBNET)
    return NETWORK


@pytest.fixture(scope='session')
def ansible(tmp_path_factory):
    return Ansible(tmp_path_factory.mktemp('ansible'))


class NodeFactory(object):
    """Starts node containers with fixed addresses; removes them all at the end of the session."""

    def __init__(self, ansible):
        self.ansible = ansible
        self.started = []

    def start(self, short_name, host_number, release='bookworm', load_image=True):
        node = Node(NAME_PREFIX + short_name, '10.213.40.%d' % host_number, release)
        testbed_shell('start_node', node.name, 'swarmops-node-engine:%s' % release, NETWORK, node.ip)
        node.wait_for_engine()
        if load_image:
            node.load_service_image()
        self.started.append(node)
        self.ansible.add(node)
        return node

    def start_many(self, specs):
        """Start several nodes at once; SPECS are (short_name, host_number, release, load_image) tuples."""
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(max_workers=len(specs)) as pool:
            started = list(pool.map(lambda spec: self.start(*spec), specs))
        self.ansible._write_inventory()  # the threads wrote it concurrently: write it once more, whole
        return started

    def stop(self, node):
        subprocess.run(['docker', 'rm', '-f', '-v', node.name], capture_output=True, check=False)
        self.ansible.remove(node)
        if node in self.started:
            self.started.remove(node)

    def cleanup(self):
        for node in list(self.started):
            self.stop(node)


@pytest.fixture(scope='session')
def nodes(testbed, ansible):
    factory = NodeFactory(ansible)
    yield factory
    factory.cleanup()
