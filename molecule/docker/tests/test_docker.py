"""The docker role's result, checked from outside through testinfra (docker exec). Read-only: the changes
(pins, refusals, hostile keys, the plan step) are made and checked by side_effect/test_changes.py, which runs
before this and leaves each node as converge left it."""

import base64
import json
import sys
from pathlib import Path

SCENARIO = Path(__file__).resolve().parents[1]
REPO = SCENARIO.parents[1]
sys.path.insert(0, str(REPO / '.cache' / 'collections'))

from ansible_collections.swarmops.swarm.plugins.module_utils import _openpgp  # noqa: E402 pylint: disable=wrong-import-position

MIRROR_DIR = REPO / '.cache/testbed/mirror'
FINGERPRINT = (MIRROR_DIR / 'fingerprint').read_text().strip()
MIRROR = 'http://swarmops-mirror/linux/debian'
KEYRING = '/etc/apt/keyrings/docker.gpg'
DROPIN = '/etc/systemd/system/docker.service.d/swarmops.conf'
# What converge pinned (molecule.yml host_vars) and what that resolves to in the mirror.
EXPECTED_VERSION = {
    'mol-docker-bookworm': '5:20.10.24-1~debian.12~bookworm',
    'mol-docker-trixie': '5:26.1.5-1~debian.13~trixie',
}
PACKAGES = ['docker-ce', 'docker-ce-cli', 'containerd.io', 'docker-buildx-plugin', 'docker-compose-plugin']


def installed_version(host, package):
    return host.check_output("dpkg-query -W -f='${Version}' %s" % package)


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


def test_the_keyring_is_exactly_the_verified_key(host):
    keyring = host.file(KEYRING)
    assert (keyring.mode, keyring.user, keyring.group) == (0o644, 'root', 'root')
    # gpg (a throwaway home, removed again) lists exactly the mirror's key and nothing else.
    listing = host.check_output('h=$(mktemp -d) && gpg --homedir "$h" --batch --show-keys --with-colons %s 2>/dev/null; '
                                'rc=$?; rm -rf "$h"; exit $rc' % KEYRING)
    assert [line.split(':')[9] for line in listing.splitlines() if line.startswith('fpr:')][:1] == [FINGERPRINT]
    assert sum(1 for line in listing.splitlines() if line.startswith('pub:')) == 1
    # Byte for byte the keyring re-serialised from the verified packets of the published key file.
    published = (MIRROR_DIR / 'www/linux/debian/gpg').read_bytes()
    wanted = _openpgp.keyring(_openpgp.verified_key(published, FINGERPRINT))
    assert host.check_output('base64 -w0 %s' % KEYRING) == base64.b64encode(wanted).decode()
    # The armored keyring earlier versions wrote is gone.
    assert not host.file('/etc/apt/keyrings/docker.asc').exists


def test_one_source_entry_signed_by_the_keyring(host):
    source = host.file('/etc/apt/sources.list.d/docker.sources')
    assert source.mode == 0o644
    assert source.content_string.splitlines()[1:] == [
        'Types: deb', 'URIs: %s' % MIRROR, 'Suites: %s' % host.system_info.codename, 'Components: stable',
        'Architectures: amd64', 'Signed-By: %s' % KEYRING]
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


def test_daemon_json_and_service_environment_as_configured_and_in_effect(host):
    config = json.loads(host.file('/etc/docker/daemon.json').content_string)
    assert config == {'log-driver': 'json-file', 'log-opts': {'max-size': '10m', 'max-file': '3'}}
    assert host.check_output("docker info --format '{{.LoggingDriver}}'") == 'json-file'
    dropin = host.file(DROPIN)
    assert (dropin.mode, dropin.user) == (0o600, 'root')  # the values may be credentials
    assert 'Environment="DOCKER_ALLOW_IPV6_ON_IPV4_INTERFACE=1"' in dropin.content_string
    assert 'DOCKER_ALLOW_IPV6_ON_IPV4_INTERFACE=1' in host.check_output('systemctl show docker -p Environment')


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


def test_a_node_is_not_left_in_a_swarm(host):
    assert host.check_output("docker info --format '{{.Swarm.LocalNodeState}}'") == 'inactive'
