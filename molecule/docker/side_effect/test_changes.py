"""The docker role's changes and refusals, made through ansible-playbook against the scenario's nodes.

Run by side_effect.yml, after converge and idempotence and before verify (which only looks). Each test leaves
the converged nodes as converge left them: a pin moved is moved back, a keyring replaced is restored.
A third node, mol-docker-fresh, is started bare for check mode and the refusals that must leave a host untouched.
"""

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from email.utils import formatdate
from io import BytesIO
from pathlib import Path

import pytest

SCENARIO = Path(__file__).resolve().parents[1]
REPO = SCENARIO.parents[1]
sys.path.insert(0, str(REPO / '.cache' / 'collections'))
sys.path.insert(0, str(REPO / 'tests' / 'unit' / 'plugins' / 'module_utils'))

# pylint: disable=wrong-import-position
from ansible_collections.swarmops.swarm.plugins.module_utils import _openpgp  # noqa: E402
import test_openpgp as key_table  # noqa: E402  (the unit tests' hostile key files)

MIRROR_DIR = REPO / '.cache/testbed/mirror'
FINGERPRINT = (MIRROR_DIR / 'fingerprint').read_text().strip()
MIRROR_KEY = (MIRROR_DIR / 'www/linux/debian/gpg').read_bytes()
NETWORK = 'swarmops-mol-docker'
FRESH = 'mol-docker-fresh'
BOOKWORM, TRIXIE = 'mol-docker-bookworm', 'mol-docker-trixie'
KEYRING = '/etc/apt/keyrings/docker.gpg'
HOSTILE = '/tmp/swarmops-hostile'  # where key files and repositories for these tests go on a node
PACKAGES = ['docker-ce', 'docker-ce-cli', 'containerd.io', 'docker-buildx-plugin', 'docker-compose-plugin']
DOCKERS_REAL_FINGERPRINT = '9DC858229FC7DD38854AE2D88D81803C0EBFCD88'
TRIXIE_NEW, TRIXIE_OLD = '5:26.1.5-1~debian.13~trixie', '5:26.1.4-1~debian.13~trixie'
SECRET = 'Pr0xyS3cretValue'
# converge's pins (molecule.yml host_vars), which the playbooks run here do not get from the inventory.
PIN = {BOOKWORM: '5:20.10.24', TRIXIE: '26.1'}
PROBE_TASK = 'Read the host in one call (files, keyring, packages, apt cache, units, engine, images, group)'


# ---- running things ------------------------------------------------------------------------------

def run_playbook(playbook, hosts, extra_vars=None, check=False, diff=False, verbose=False, as_json=True):
    """ansible-playbook against node containers (the Docker connection), each with converge's pin; extra vars
    (which win over everything) from a file."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / 'ansible.cfg'), SWARMOPS_TESTBED_CACHE=str(REPO / '.cache/testbed'),
               ANSIBLE_COLLECTIONS_PATH=str(REPO / '.cache/collections'), ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0')
    if as_json:
        env['ANSIBLE_STDOUT_CALLBACK'] = 'ansible.posix.json'
    inventory = {'all': {'vars': {'ansible_connection': 'community.docker.docker',
                                  'ansible_python_interpreter': '/usr/bin/python3'},
                         'hosts': dict((host, {'docker_version': PIN[host]} if host in PIN else {}) for host in hosts)}}
    files = []
    for data, suffix in ((inventory, '.yml'), (extra_vars or {}, '.json')):
        with tempfile.NamedTemporaryFile('w', prefix='swarmops-docker-', suffix=suffix, delete=False) as handle:
            json.dump(data, handle)
        files.append(handle.name)
    cmd = [str(Path(sys.executable).parent / 'ansible-playbook'), '-i', files[0], '-e', '@' + files[1], str(playbook)]
    cmd += (['--check'] if check else []) + (['--diff'] if diff else []) + (['-vvv'] if verbose else [])
    try:
        return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900, check=False)
    finally:
        for name in files:
            os.unlink(name)


def results(proc):
    """The json callback's document (it comes last; -vvv output may precede it)."""
    out = proc.stdout
    start = 0 if out.startswith('{\n') else out.rindex('\n{\n') + 1
    return json.JSONDecoder().raw_decode(out[start:])[0]


def task_results(doc, name):
    """[(host, result)] of every run of the task called NAME (role prefix ignored)."""
    found = []
    for play in doc['plays']:
        for task in play['tasks']:
            if task['task']['name'].split(' : ')[-1] == name:
                found.extend(task['hosts'].items())
    return found


def executed(doc, name, host):
    return sum(1 for h, result in task_results(doc, name) if h == host and not result.get('skipped'))


def debug_messages(doc, name, host):
    return [result['msg'] for h, result in task_results(doc, name) if h == host and 'msg' in result]


def node_exec(node, command, stdin=None):
    proc = subprocess.run(['docker', 'exec', '-i', node, 'sh', '-c', command], input=stdin, capture_output=True,
                          timeout=300, check=False)
    return proc.returncode, proc.stdout.decode(errors='replace'), proc.stderr.decode(errors='replace')


def node_output(node, command):
    rc, out, err = node_exec(node, command)
    assert rc == 0, (command, out, err)
    return out.strip()


def put_files(node, files, directory=HOSTILE):
    """Copy {relative path: bytes} into DIRECTORY on NODE (a tar stream through docker exec)."""
    buffer = BytesIO()
    with tarfile.open(fileobj=buffer, mode='w') as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, BytesIO(data))
    rc, out, err = node_exec(node, 'mkdir -p %s && tar -x -C %s' % (directory, directory), buffer.getvalue())
    assert rc == 0, (out, err)


def engine_pid(node):
    return node_output(node, 'systemctl show docker -p MainPID --value')


def installed_version(node, package):
    return node_output(node, "dpkg-query -W -f='${Version}' %s" % package)


def keyring_bytes(node):
    return base64.b64decode(node_output(node, 'base64 -w0 %s' % KEYRING))


def canonical_keyring():
    return _openpgp.keyring(_openpgp.verified_key(MIRROR_KEY, FINGERPRINT))


# ---- throwaway gpg homes: the attacker's key, and a copy of the mirror's (never the shared one itself) ---

class GnuPG(object):
    def __init__(self, home):
        self.home = home

    def __call__(self, *args, **kwargs):
        return subprocess.run(['gpg', '--batch', '--quiet', '--homedir', self.home, '--pinentry-mode', 'loopback',
                               '--passphrase', ''] + list(args), capture_output=True, check=True, timeout=120, **kwargs)

    def fingerprints(self, record='fpr'):
        listing = self('--with-colons', '--list-keys').stdout.decode()
        return [line.split(':')[9] for line in listing.splitlines() if line.startswith(record + ':')]

    def close(self):
        subprocess.run(['gpgconf', '--homedir', self.home, '--kill', 'all'], capture_output=True, check=False)
        shutil.rmtree(self.home, ignore_errors=True)


@pytest.fixture(scope='module')
def attacker():
    gpg = GnuPG(tempfile.mkdtemp(prefix='swarmops-attacker-'))
    os.chmod(gpg.home, 0o700)
    gpg('--quick-generate-key', 'attacker <attacker@swarmops.invalid>', 'ed25519', 'sign', 'never')
    primary = gpg.fingerprints()[0]
    gpg('--quick-add-key', primary, 'ed25519', 'sign', 'never')
    gpg.primary, gpg.subkey = primary, gpg.fingerprints()[1]
    gpg.key = gpg('--export', primary).stdout
    yield gpg
    gpg.close()


@pytest.fixture(scope='module')
def mirror_signer():
    home = tempfile.mkdtemp(prefix='swarmops-mirror-')
    shutil.copytree(MIRROR_DIR / 'gnupg', home, dirs_exist_ok=True,
                    ignore=lambda _dir, names: [n for n in names if n.startswith('S.') or n.endswith('.lock')])
    gpg = GnuPG(home)
    yield gpg
    gpg.close()


def hostile_files(attacker_key):
    good = _openpgp.dearmor(MIRROR_KEY)
    return {
        # The attacker's key in lines with a colon: the parser this collection used before skipped those lines
        # and saw only the mirror's key; gpg (and apt) read both.
        'colons.asc': key_table.smuggle_with_colons(good, attacker_key),
        'appended.asc': MIRROR_KEY + attacker_key,
        # Accepted (one primary key, the expected one): the attacker's signing subkey, never bound by the mirror key.
        'grafted.asc': key_table.armored(key_table.graft_subkey(good, attacker_key)),
    }


def signed_repository(gpg, signer):
    """A one-suite apt repository (no packages) whose InRelease SIGNER signed."""
    packages = b''
    release = '\n'.join([
        'Origin: swarmops-test', 'Label: swarmops-test', 'Suite: hostile', 'Codename: hostile',
        'Date: %s' % formatdate(time.time(), usegmt=True), 'Architectures: amd64', 'Components: main',
        'SHA256:', ' %s %d main/binary-amd64/Packages' % (hashlib.sha256(packages).hexdigest(), len(packages)), ''])
    with tempfile.NamedTemporaryFile('wb') as handle:
        handle.write(release.encode())
        handle.flush()
        inrelease = gpg('--local-user', signer + '!', '--clearsign', '--output', '-', handle.name).stdout
    return {'dists/hostile/InRelease': inrelease, 'dists/hostile/main/binary-amd64/Packages': packages}


def apt_update(node, name):
    """apt-get update of repository NAME (under HOSTILE/repos) alone, Signed-By the role's keyring, into lists of
    its own: the node's sources and apt lists are not touched."""
    lists = '%s/lists-%s' % (HOSTILE, name)
    return node_exec(node, (
        'rm -rf {lists} && mkdir -p {lists}/partial && chown -R _apt {lists} && '
        'echo "deb [signed-by={keyring}] file:{hostile}/repos/{name} hostile main" > {hostile}/{name}.list && '
        'apt-get update -o Dir::Etc::SourceList={hostile}/{name}.list -o Dir::Etc::SourceParts=/nonexistent '
        '-o Dir::State::Lists={lists} -o APT::Update::Error-Mode=any 2>&1'
    ).format(lists=lists, keyring=KEYRING, hostile=HOSTILE, name=name))


# ---- refusals: one play per case, in one ansible-playbook run --------------------------------------

def run_cases(host, cases):
    """Each case {name: vars} applies the role in a play of its own and records the refusal's message.
    Returns ({name: message or None}, the run)."""
    # The case's variables on the include: task variables win over the play's vars_files (vars/mirror.yml).
    plays = []
    for name, case_vars in cases.items():
        plays.append({'name': 'case ' + name, 'hosts': host, 'gather_facts': False,
                      'vars_files': [str(SCENARIO / 'vars/mirror.yml')],
                      'tasks': [{'name': 'Apply the role', 'block': [
                          {'name': 'Include it', 'ansible.builtin.include_role': {'name': 'swarmops.swarm.docker'},
                           'vars': case_vars}],
                          'rescue': [{'name': 'Refused', 'ansible.builtin.debug': {
                              'msg': '{{ ansible_failed_result.msg }}'}}]}]})
    with tempfile.NamedTemporaryFile('w', prefix='swarmops-cases-', suffix='.yml', delete=False) as handle:
        json.dump(plays, handle)
    try:
        proc = run_playbook(handle.name, [host])
    finally:
        os.unlink(handle.name)
    doc = results(proc)
    messages = {}
    for play in doc['plays']:
        name = play['play']['name']
        if name.startswith('case '):
            refused = [result['msg'] for task in play['tasks'] if task['task']['name'] == 'Refused'
                       for result in task['hosts'].values() if 'msg' in result]
            messages[name[5:]] = refused[0] if refused else None
    return messages, proc


@pytest.fixture(scope='module', autouse=True)
def mirror():
    """The shared mirror container may have been recreated (and detached from this network) since prepare.
    The resolved test-bed path keeps mirror.sh from recreating it again when another worktree started it."""
    env = dict(os.environ, TESTBED_CACHE=os.path.realpath(str(REPO / '.cache/testbed')))
    subprocess.run(['bash', str(REPO / 'tests/testbed/mirror.sh'), 'connect', NETWORK], env=env, check=True,
                   capture_output=True, timeout=120)


# ---- the fresh node --------------------------------------------------------------------------------

@pytest.fixture(scope='module')
def fresh_node():
    """A third node straight from the bare image, started like every node (tests/testbed/lib.sh)."""
    subprocess.run(['bash', '-c', 'source "$1/tests/testbed/lib.sh"; start_node "$2" swarmops-node:bookworm "$3"',
                    '-', str(REPO), FRESH, NETWORK], check=True, timeout=300)
    yield FRESH
    subprocess.run(['docker', 'rm', '-f', '-v', FRESH], check=False, capture_output=True)


def assert_untouched(node):
    rc, out, _err = node_exec(node, 'ls /etc/apt/sources.list.d/ /etc/apt/keyrings/ /etc/docker 2>/dev/null; '
                                    'ls /etc/systemd/system/docker.service.d 2>/dev/null; true')
    assert rc == 0 and 'docker' not in out, out
    rc, out, _err = node_exec(node, "dpkg-query -W -f='${Package} ${Status}\\n' %s python3-apt python3-docker 2>/dev/null"
                              % ' '.join(PACKAGES))
    assert 'install ok installed' not in out, out


def test_every_accepted_hostile_key_file_leaves_gpg_exactly_the_expected_key(fresh_node):
    # Real gpg on both releases (2.2 on bookworm, 2.4 on trixie) reads each keyring the role would write.
    files = {}
    for index, case in enumerate(key_table.ACCEPTED):
        key = _openpgp.verified_key(case.data, case.fingerprint)
        files['%02d.gpg' % index] = _openpgp.keyring(key)
        files['%02d.asc' % index] = _openpgp.keyring(key, armored=True)
    for node in (fresh_node, TRIXIE):
        put_files(node, files, HOSTILE + '/table')
        listing = node_output(node, 'cd %s/table && mkdir -m 700 home && for f in *.gpg *.asc; do echo "file $f"; '
                                    'gpg --homedir home --batch --show-keys --with-colons "$f" 2>/dev/null '
                                    '|| echo "failed $f"; done; rm -rf %s' % (HOSTILE, HOSTILE))
        found = {}
        for line in listing.splitlines():
            if line.startswith('file '):
                current = found.setdefault(line[5:], [])
            elif line.startswith(('pub:', 'fpr:', 'failed ')):
                current.append(line)
        assert sorted(found) == sorted(files), listing
        for name, lines in found.items():
            case = key_table.ACCEPTED[int(name[:2])]
            assert [line for line in lines if line.startswith('pub:')] and \
                sum(1 for line in lines if line.startswith('pub:')) == 1, (node, case.name, lines)
            assert lines[1].split(':')[9] == case.fingerprint, (node, case.name, lines)


def test_check_mode_on_a_fresh_host_passes_and_changes_nothing(fresh_node):
    proc = run_playbook(SCENARIO / 'apply-role.yml', [fresh_node], check=True, as_json=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert 'would install docker-ce' in proc.stdout and 'failed=0' in proc.stdout
    assert_untouched(fresh_node)


def test_bad_input_is_refused_naming_the_variable_before_anything_changes(fresh_node, attacker):
    put_files(fresh_node, hostile_files(attacker.key))
    messages, proc = run_cases(fresh_node, {
        'codename with a newline': {'docker_apt_release': 'bookworm\nTrusted: yes'},
        'repository URL with an option': {'docker_apt_repository_url': 'http://swarmops-mirror/linux/debian [trusted=yes]'},
        'service environment with a newline': {'docker_service_environment': {
            'HTTP_PROXY': 'http://proxy.invalid:3128\nExecStartPre=/bin/touch /tmp/%s' % SECRET}},
        'daemon option key with a newline': {'docker_daemon_options': {'debug\n': True}},
        'wrong fingerprint': {'docker_apt_gpg_fingerprint': DOCKERS_REAL_FINGERPRINT},
        'attacker key in lines with colons': {'docker_apt_gpg_key_url': 'file://%s/colons.asc' % HOSTILE},
        'binary attacker key after the armor': {'docker_apt_gpg_key_url': 'file://%s/appended.asc' % HOSTILE},
        # a key URL that the mirror does not serve: a 4xx is final, the run stops with the URL and the status
        'key URL that is not there': {'docker_apt_gpg_key_url': 'http://swarmops-mirror/linux/debian/no-such-key.gpg'},
    })
    expected = {
        'codename with a newline': 'docker_apt_release holds a newline',
        'repository URL with an option': 'docker_apt_repository_url holds whitespace',
        'service environment with a newline': "docker_service_environment['HTTP_PROXY'] holds a newline",
        'daemon option key with a newline': "docker_daemon_options key 'debug\\n' holds a newline",
        'wrong fingerprint': 'holds the primary key %s, not exactly the expected %s' % (
            FINGERPRINT, DOCKERS_REAL_FINGERPRINT),
        'attacker key in lines with colons': 'line 3 of the armor is not base64',
        'binary attacker key after the armor': 'the armored key holds bytes that are not ASCII',
        'key URL that is not there': 'Cannot download the key from http://swarmops-mirror/linux/debian/no-such-key.gpg'
                                     ': HTTP Error 404',
    }
    for name, fragment in expected.items():
        assert messages[name] and fragment in messages[name], (name, messages[name], proc.stdout[-2000:])
    for name in ('wrong fingerprint', 'attacker key in lines with colons', 'binary attacker key after the armor',
                 'key URL that is not there'):
        assert 'nothing on this host was changed' in messages[name]
        assert 'docker_apt_gpg_fingerprint' in messages[name]
    assert SECRET not in proc.stdout + proc.stderr  # a refused value is named, never printed
    assert_untouched(fresh_node)


def assert_apt_trusts_only_the_mirror(node):
    """apt-get update: the repository signed by the mirror's key is trusted (so the check can fail), those signed by
    the attacker's key and by the attacker's subkey are not."""
    rc, out, _err = apt_update(node, 'mirror')
    assert rc == 0, out
    for name in ('attacker', 'attacker-subkey'):
        rc, out, _err = apt_update(node, name)
        assert rc != 0 and 'is not signed' in out, (name, out)


def test_refusals_and_hostile_keys_on_a_converged_node_and_apt_rejects_the_attackers_repositories(
        attacker, mirror_signer):
    put_files(BOOKWORM, hostile_files(attacker.key))
    for name, signer in (('mirror', FINGERPRINT), ('attacker', attacker.primary), ('attacker-subkey', attacker.subkey)):
        put_files(BOOKWORM, signed_repository(mirror_signer if name == 'mirror' else attacker, signer),
                  '%s/repos/%s' % (HOSTILE, name))
    before = keyring_bytes(BOOKWORM)
    assert before == canonical_keyring()
    daemon_json = node_output(BOOKWORM, 'cat /etc/docker/daemon.json')

    # Refused, each before it changes anything: the key file the earlier parser accepted (downloaded again on a
    # converged node), live-restore on a swarm member, a pin the repository does not offer.
    node_output(BOOKWORM, 'docker swarm init --advertise-addr 10.213.20.11')
    try:
        messages, proc = run_cases(BOOKWORM, {
            'attacker key in lines with colons': {'docker_apt_key_refresh': True,
                                                  'docker_apt_gpg_key_url': 'file://%s/colons.asc' % HOSTILE},
            'live-restore on a swarm member': {'docker_daemon_options': {'live-restore': True}},
            'a pin the repository does not offer': {'docker_version': '99.0'},
        })
    finally:
        node_output(BOOKWORM, 'docker swarm leave --force')
    message = messages['attacker key in lines with colons']
    assert message and 'line 3 of the armor is not base64' in message, proc.stdout[-3000:]
    message = messages['live-restore on a swarm member']
    assert message and 'Docker does not support live-restore in swarm mode' in message, proc.stdout[-3000:]
    assert 'swarm state active' in message
    message = messages['a pin the repository does not offer']
    assert message and 'docker_version 99.0 matches none of the versions of docker-ce' in message, proc.stdout[-3000:]
    assert '5:20.10.23-1~debian.12~bookworm' in message  # the versions on offer, after a refresh
    assert node_output(BOOKWORM, 'cat /etc/docker/daemon.json') == daemon_json
    assert installed_version(BOOKWORM, 'docker-ce') == '5:20.10.24-1~debian.12~bookworm'
    assert keyring_bytes(BOOKWORM) == before
    assert_apt_trusts_only_the_mirror(BOOKWORM)

    # Accepted: one primary key, the mirror's, with the attacker's subkey attached. Stored as parsed; apt still
    # trusts nothing the attacker signed (gpgv ignores a subkey the primary key never bound).
    grafted = run_playbook(SCENARIO / 'apply-role.yml', [BOOKWORM], {
        'docker_apt_key_refresh': True, 'docker_apt_gpg_key_url': 'file://%s/grafted.asc' % HOSTILE})
    try:
        assert grafted.returncode == 0, grafted.stdout[-3000:]
        stored = keyring_bytes(BOOKWORM)
        assert stored != before and _openpgp.primary_fingerprints(stored) == [FINGERPRINT]
        assert _openpgp.read_keys(stored)[0].subkeys == [attacker.subkey]
        assert_apt_trusts_only_the_mirror(BOOKWORM)
    finally:
        # What earlier versions of the role (and Docker's old instructions) left: an armored keyring and a .list
        # source with another Signed-By. Back to the mirror's key, with those removed; the plan read afterwards
        # lists nothing but the forced key download.
        put_files(BOOKWORM, {'keyrings/docker.asc': MIRROR_KEY, 'sources.list.d/docker.list': (
            'deb [signed-by=/etc/apt/keyrings/docker.asc] http://swarmops-mirror/linux/debian bookworm stable\n'
        ).encode()}, '/etc/apt')
        restored = run_playbook(SCENARIO / 'plan-and-apply.yml', [BOOKWORM], {'docker_apt_key_refresh': True})
        node_exec(BOOKWORM, 'rm -rf %s' % HOSTILE)
    assert restored.returncode == 0, restored.stdout[-3000:]
    assert keyring_bytes(BOOKWORM) == before
    plans, = debug_messages(results(restored), 'Show the plans', BOOKWORM)
    assert 'remove legacy apt sources and keyrings: /etc/apt/sources.list.d/docker.list, /etc/apt/keyrings/docker.asc' \
        in plans['before']['reasons']
    assert node_output(BOOKWORM, 'ls /etc/apt/keyrings/').split() == ['docker.gpg']
    assert 'docker.list' not in node_output(BOOKWORM, 'ls /etc/apt/sources.list.d/').split()
    assert plans['after']['reasons'] == ['apt keyring %s: download and verify the key again (docker_apt_key_refresh)'
                                         % KEYRING]


def test_plan_then_apply_restarts_exactly_when_the_plan_says_and_keeps_proxy_credentials_out_of_the_output():
    environment = {'DOCKER_ALLOW_IPV6_ON_IPV4_INTERFACE': '1',
                   'HTTPS_PROXY': 'http://swarmops:%s@proxy.invalid:3128' % SECRET}
    pid = engine_pid(TRIXIE)

    # --check: the plan announces the downgrade and its restart; nothing changes.
    check = run_playbook(SCENARIO / 'plan-and-apply.yml', [TRIXIE], {'docker_version': '26.1.4'}, check=True)
    assert check.returncode == 0, check.stdout[-3000:]
    doc = results(check)
    before, = debug_messages(doc, 'Show the plans', TRIXIE)
    plan = before['before']
    assert plan['restart'] and plan['changed']
    assert 'docker-ce %s -> %s' % (TRIXIE_NEW, TRIXIE_OLD) in plan['reasons']
    assert (plan['target_version'], plan['swarm_state']) == (TRIXIE_OLD, 'inactive')
    assert plan['engine_version'].startswith('26.1.5')
    assert executed(doc, PROBE_TASK, TRIXIE) == 2  # the plan step and the re-plan; the apply step read nothing
    assert engine_pid(TRIXIE) == pid and installed_version(TRIXIE, 'docker-ce') == TRIXIE_NEW

    # Applied: the same plan, the engine restarted, and a proxy password in the service environment never shown.
    down = run_playbook(SCENARIO / 'plan-and-apply.yml', [TRIXIE], {
        'docker_version': '26.1.4', 'docker_service_environment': environment}, diff=True, verbose=True)
    assert down.returncode == 0, down.stdout[-3000:]
    assert SECRET not in down.stdout + down.stderr
    doc = results(down)
    plans, = debug_messages(doc, 'Show the plans', TRIXIE)
    assert plans['before']['restart'] and 'docker-ce %s -> %s' % (TRIXIE_NEW, TRIXIE_OLD) in plans['before']['reasons']
    assert any('HTTPS_PROXY' in reason for reason in plans['before']['reasons'])
    assert executed(doc, PROBE_TASK, TRIXIE) == 2
    assert (plans['after']['changed'], plans['after']['restart'], plans['after']['reasons']) == (False, False, [])
    assert engine_pid(TRIXIE) != pid
    for package in ('docker-ce', 'docker-ce-cli'):
        assert installed_version(TRIXIE, package) == TRIXIE_OLD
    assert node_output(TRIXIE, 'apt-mark showhold').split() == ['docker-ce', 'docker-ce-cli']
    assert node_output(TRIXIE, 'stat -c %a /etc/systemd/system/docker.service.d/swarmops.conf') == '600'
    assert SECRET in node_output(TRIXIE, 'systemctl show docker -p Environment --value')

    # Back to converge's pin and environment: a restart again, then nothing left to change.
    pid = engine_pid(TRIXIE)
    up = run_playbook(SCENARIO / 'plan-and-apply.yml', [TRIXIE])
    assert up.returncode == 0, up.stdout[-3000:]
    plans, = debug_messages(results(up), 'Show the plans', TRIXIE)
    assert plans['before']['restart'] and not plans['after']['changed']
    assert engine_pid(TRIXIE) != pid
    assert installed_version(TRIXIE, 'docker-ce') == TRIXIE_NEW
    assert node_output(TRIXIE, 'apt-mark showhold').split() == ['docker-ce', 'docker-ce-cli']
    assert SECRET not in node_output(TRIXIE, 'cat /etc/systemd/system/docker.service.d/swarmops.conf')
    # The engine is back and still has the image loaded before the downgrade.
    assert 'swarmops/busybox' in node_output(TRIXIE, "docker images --format '{{.Repository}}'")


def test_site_apply_never_applies_a_plan_made_with_other_settings():
    """site.yml's engine step (`site_apply`) reuses the plan of its first play without a second read. A plan made
    with other settings (a downgrade the apply step's settings do not ask for) must be read and decided again,
    not applied: the engine keeps its version and is not restarted, and nothing changes."""
    pid = engine_pid(TRIXIE)
    run = run_playbook(SCENARIO / 'plan-then-site-apply.yml', [TRIXIE], {'planned_version': '26.1.4'})
    assert run.returncode == 0, run.stdout[-3000:]
    doc = results(run)
    plans, = debug_messages(doc, 'Show the plans', TRIXIE)
    assert plans['before']['restart'] and 'docker-ce %s -> %s' % (TRIXIE_NEW, TRIXIE_OLD) in plans['before']['reasons']
    # The plan step's read, then one read by each site_apply: the first because the settings differ, the second
    # because the plan it would reuse was applied.
    assert executed(doc, PROBE_TASK, TRIXIE) == 3
    for name in ('applied', 'again'):
        assert (plans[name]['changed'], plans[name]['restart'], plans[name]['reasons']) == (False, False, []), name
        assert plans[name]['target_version'] == TRIXIE_NEW
    assert doc['stats'][TRIXIE]['changed'] == 0
    assert engine_pid(TRIXIE) == pid
    for package in ('docker-ce', 'docker-ce-cli'):
        assert installed_version(TRIXIE, package) == TRIXIE_NEW
