"""The docker role, checked from outside: each node through testinfra (docker exec), and the role's
refusals and pin changes by running ansible-playbook against a node and looking at what it left behind."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import testinfra

SCENARIO = Path(__file__).resolve().parents[1]
REPO = SCENARIO.parents[1]
FINGERPRINT = (REPO / '.cache/testbed/mirror/fingerprint').read_text().strip()
MIRROR = 'http://swarmops-mirror/linux/debian'
NETWORK = 'swarmops-mol-docker'
FRESH = 'mol-docker-fresh'
# What converge pinned (molecule.yml host_vars) and what that resolves to in the mirror.
EXPECTED_VERSION = {
    'mol-docker-bookworm': '5:20.10.24-1~debian.12~bookworm',
    'mol-docker-trixie': '5:26.1.5-1~debian.13~trixie',
}
PACKAGES = ['docker-ce', 'docker-ce-cli', 'containerd.io', 'docker-buildx-plugin', 'docker-compose-plugin']
DOCKERS_REAL_FINGERPRINT = '9DC858229FC7DD38854AE2D88D81803C0EBFCD88'


def node(name):
    return testinfra.get_host('docker://' + name)


def run_role(hostname, extra_vars=None, check=False):
    """apply-role.yml (the role with the mirror settings converge uses) against one node container."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / 'ansible.cfg'),
               ANSIBLE_COLLECTIONS_PATH=str(REPO / '.cache/collections'), ANSIBLE_NOCOLOR='1',
               ANSIBLE_FORCE_COLOR='0')
    cmd = [str(Path(sys.executable).parent / 'ansible-playbook'), '-i', hostname + ',',
           '-e', 'ansible_connection=community.docker.docker', '-e', 'ansible_python_interpreter=/usr/bin/python3',
           '-e', json.dumps(extra_vars or {}), str(SCENARIO / 'apply-role.yml')]
    if check:
        cmd.append('--check')
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, check=False)


def installed_version(host, package):
    return host.check_output("dpkg-query -W -f='${Version}' %s" % package)


# ---- every converged node ------------------------------------------------------------------------

def test_packages_come_from_the_mirror(host):
    for package in PACKAGES:
        policy = host.check_output('apt-cache policy %s' % package)
        lines = policy.splitlines()
        installed = [i for i, line in enumerate(lines) if line.strip().startswith('***')]
        assert installed, policy
        # The line after "*** VERSION PRIORITY" names where the installed version comes from.
        assert MIRROR in lines[installed[0] + 1], policy
    for package in ['docker.io', 'containerd', 'runc', 'docker-cli']:
        assert not host.package(package).is_installed, package


def test_repository_key_and_source(host):
    keys = host.check_output('gpg --show-keys --with-colons /etc/apt/keyrings/docker.asc')
    fingerprints = [line.split(':')[9] for line in keys.splitlines() if line.startswith('fpr:')]
    assert fingerprints[0] == FINGERPRINT
    source = host.file('/etc/apt/sources.list.d/docker.sources')
    assert source.mode == 0o644
    assert 'URIs: %s\n' % MIRROR in source.content_string
    assert 'Signed-By: /etc/apt/keyrings/docker.asc\n' in source.content_string
    assert 'Components: stable\n' in source.content_string
    # Exactly one source entry for the repository: apt must never see two Signed-By values.
    entries = host.check_output("grep -rl 'swarmops-mirror' /etc/apt/sources.list /etc/apt/sources.list.d || true")
    assert entries.split() == ['/etc/apt/sources.list.d/docker.sources']


def test_engine_and_containerd_enabled_and_running(host):
    for service in ['docker', 'containerd']:
        assert host.service(service).is_enabled, service
        assert host.service(service).is_running, service
    assert host.file('/usr/bin/dockerd').exists  # Docker's layout, not Debian's /usr/sbin


def test_runs_the_locally_loaded_image(host):
    # The file is inside the image built by tests/testbed/build-service-image.sh, loaded from the mirror.
    assert host.check_output('docker run --rm swarmops/busybox:local cat /www/index.html') == 'hello from swarmops'


def test_daemon_json_as_configured_and_in_effect(host):
    config = json.loads(host.file('/etc/docker/daemon.json').content_string)
    assert config == {'log-driver': 'json-file', 'log-opts': {'max-size': '10m', 'max-file': '3'}}
    assert host.check_output("docker info --format '{{.LoggingDriver}}'") == 'json-file'
    dropin = host.file('/etc/systemd/system/docker.service.d/swarmops.conf').content_string
    assert 'Environment="DOCKER_ALLOW_IPV6_ON_IPV4_INTERFACE=1"' in dropin


def test_python_docker_talks_to_the_engine(host):
    assert host.check_output("python3 -c 'import docker; print(docker.from_env().ping())'") == 'True'


def test_pinned_version_is_installed_and_held(host):
    expected = EXPECTED_VERSION[host.backend.get_hostname()]
    for package in ['docker-ce', 'docker-ce-cli']:
        assert installed_version(host, package) == expected, package
    assert host.check_output('apt-mark showhold').split() == ['docker-ce', 'docker-ce-cli']


def test_cli_plugins_answer(host):
    assert '2.26.1' in host.check_output('docker compose version')
    assert '0.13.1' in host.check_output('docker buildx version')


def test_docker_users_are_in_the_docker_group(host):
    assert 'docker' in host.user('swarmops-operator').groups


# ---- refusals and pin changes (each runs once, against chosen nodes) -------------------------------

@pytest.fixture(scope='module')
def fresh_node():
    """A third node straight from the bare image, started like every node (tests/testbed/lib.sh)."""
    subprocess.run(['bash', '-c', 'source "$1/tests/testbed/lib.sh"; start_node "$2" swarmops-node:bookworm "$3"',
                    '-', str(REPO), FRESH, NETWORK], check=True, timeout=180)
    yield node(FRESH)
    subprocess.run(['docker', 'rm', '-f', '-v', FRESH], check=False, capture_output=True)


def assert_untouched(fresh):
    assert not fresh.file('/etc/apt/sources.list.d/docker.sources').exists
    assert not fresh.file('/etc/apt/keyrings/docker.asc').exists
    for package in PACKAGES + ['python3-apt', 'python3-docker']:
        assert not fresh.package(package).is_installed, package


def test_check_mode_on_a_fresh_host_passes_and_changes_nothing(fresh_node):
    result = run_role(FRESH, check=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert 'changed=' in result.stdout and 'failed=0' in result.stdout
    assert_untouched(fresh_node)


def test_wrong_fingerprint_fails_clearly_and_installs_nothing(fresh_node):
    # Docker's real key is the right one for download.docker.com, but not for this mirror.
    result = run_role(FRESH, {'docker_apt_gpg_fingerprint': DOCKERS_REAL_FINGERPRINT})
    assert result.returncode != 0
    assert 'not exactly the expected %s' % DOCKERS_REAL_FINGERPRINT in result.stdout, result.stdout[-3000:]
    assert FINGERPRINT in result.stdout  # the message names the key it found
    assert 'nothing on this host was changed' in result.stdout
    assert_untouched(fresh_node)


def test_changing_the_pin_downgrades_and_upgrades():
    trixie = node('mol-docker-trixie')
    lower = '5:26.1.4-1~debian.13~trixie'
    down = run_role('mol-docker-trixie', {'docker_version': '26.1.4'})
    assert down.returncode == 0, down.stdout[-3000:]
    assert installed_version(trixie, 'docker-ce') == lower
    assert installed_version(trixie, 'docker-ce-cli') == lower
    assert trixie.check_output('apt-mark showhold').split() == ['docker-ce', 'docker-ce-cli']
    assert trixie.check_output("docker version --format '{{.Server.Version}}'")
    up = run_role('mol-docker-trixie', {'docker_version': '26.1'})
    assert up.returncode == 0, up.stdout[-3000:]
    assert installed_version(trixie, 'docker-ce') == EXPECTED_VERSION['mol-docker-trixie']
    assert trixie.check_output('apt-mark showhold').split() == ['docker-ce', 'docker-ce-cli']
    # The engine is back and still has the image loaded before the downgrade.
    assert 'swarmops/busybox' in trixie.check_output("docker images --format '{{.Repository}}'")


def test_unknown_pin_fails_with_the_versions_on_offer():
    result = run_role('mol-docker-bookworm', {'docker_version': '99.0'})
    assert result.returncode != 0
    assert 'docker_version 99.0 matches none of the versions' in result.stdout
    assert '5:20.10.23-1~debian.12~bookworm' in result.stdout
    assert installed_version(node('mol-docker-bookworm'), 'docker-ce') == EXPECTED_VERSION['mol-docker-bookworm']


def test_live_restore_refused_on_a_swarm_member():
    bookworm = node('mol-docker-bookworm')
    before = bookworm.file('/etc/docker/daemon.json').content_string
    bookworm.check_output('docker swarm init --advertise-addr 10.213.20.11')
    try:
        result = run_role('mol-docker-bookworm', {'docker_daemon_options': {'live-restore': True}})
    finally:
        bookworm.check_output('docker swarm leave --force')
    assert result.returncode != 0
    assert 'Docker does not support live-restore in swarm mode' in result.stdout, result.stdout[-3000:]
    assert 'swarm state active' in result.stdout
    assert bookworm.file('/etc/docker/daemon.json').content_string == before
