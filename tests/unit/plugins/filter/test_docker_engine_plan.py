# -*- coding: utf-8 -*-
# The docker role's decisions (filter docker_engine_plan, plugin_utils/docker_engine): from one read of the host
# and the role's variables, what applying the role changes, and whether that restarts dockerd or containerd.
from __future__ import absolute_import, division, print_function

import copy
import hashlib
import json

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.swarmops.swarm.plugins.filter.docker_engine_plan import docker_engine_plan
from ansible_collections.swarmops.swarm.plugins.filter.docker_service_dropin import docker_service_dropin
from ansible_collections.swarmops.swarm.plugins.plugin_utils import docker_engine as engine

FINGERPRINT = 'B1B065295FE23BA0F9BD71EB286BE6350BED9F57'
MIRROR = 'http://swarmops-mirror/linux/debian'
V_NEW = '5:26.1.5-1~debian.13~trixie'
V_OLD = '5:26.1.4-1~debian.13~trixie'
MADISON = [V_NEW, V_OLD]
PATHS = {'source': '/etc/apt/sources.list.d/docker.sources',
         'dropin': '/etc/systemd/system/docker.service.d/swarmops.conf', 'daemon_json': '/etc/docker/daemon.json'}
KEYRING = '/etc/apt/keyrings/docker.gpg'


def settings(**changes):
    values = {
        'docker_apt_repository_url': MIRROR, 'docker_apt_gpg_key_url': MIRROR + '/gpg',
        'docker_apt_gpg_fingerprint': ' '.join(FINGERPRINT[i:i + 4] for i in range(0, 40, 4)),
        'docker_apt_keyring': KEYRING, 'docker_apt_key_refresh': False, 'docker_apt_channel': 'stable',
        'docker_apt_release': '', 'docker_apt_arch': '', 'docker_apt_cache_valid_time': 3600,
        'docker_apt_install_recommends': False,
        'docker_apt_conflicting_packages': ['docker.io', 'containerd', 'runc'],
        'docker_packages': ['docker-ce', 'docker-ce-cli', 'containerd.io'],
        'docker_version': '26.1', 'docker_version_packages': ['docker-ce', 'docker-ce-cli'],
        'docker_daemon_options': {'log-driver': 'json-file', 'log-opts': {'max-size': '10m'}},
        'docker_service_environment': {'HTTPS_PROXY': 'http://user:s3cr%t@proxy:3128'},
        'docker_swarm_member': False, 'docker_users': ['operator'], 'docker_install_python_sdk': True,
        'docker_image_archives': [{'name': 'swarmops/busybox:local', 'url': 'http://swarmops-mirror/images/busybox.tar'}],
        'docker_registry_ca_certs': [], 'docker_engine_wait_timeout': 60, 'check_mode': False, 'paths': PATHS,
    }
    values.update(changes)
    return values


def sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


def file(text, mode='0644'):
    return {'exists': True, 'type': 'file', 'sha256': sha(text), 'mode': mode, 'owner': 'root', 'group': 'root'}


ABSENT = {'exists': False, 'type': 'absent', 'sha256': '', 'mode': '', 'owner': '', 'group': ''}
DIRECTORY = {'exists': True, 'type': 'directory', 'sha256': '', 'mode': '0755', 'owner': 'root', 'group': 'root'}


def package(version='', selection='install'):
    if not version:
        return {'installed': False, 'version': '', 'selection': '', 'status': 'not-installed'}
    return {'installed': True, 'version': version, 'selection': selection, 'status': 'installed'}


def converged(s=None):
    """A trixie host on which the role has run with settings S: nothing to change."""
    s = s or settings()
    source = engine.source_content(MIRROR, 'trixie', 'stable', 'amd64', KEYRING)
    return {
        'host': {'distribution': 'Debian', 'distribution_release': 'trixie', 'os_family': 'Debian',
                 'architecture': 'x86_64', 'dpkg_architecture': 'amd64'},
        'files': {
            '/etc/apt/keyrings': DIRECTORY, '/etc/docker': DIRECTORY, '/etc/systemd/system/docker.service.d': DIRECTORY,
            PATHS['source']: file(source),
            PATHS['dropin']: file(engine.service_dropin(s['docker_service_environment']), '0600'),
            PATHS['daemon_json']: file(engine.daemon_json(s['docker_daemon_options'])),
            KEYRING: dict(file('keyring'), sha256='0' * 64),
        },
        'keyring': {'fingerprints': [FINGERPRINT], 'canonical': True, 'error': ''},
        'packages': {'docker-ce': package(V_NEW, 'hold'), 'docker-ce-cli': package(V_NEW, 'hold'),
                     'containerd.io': package('1.7.24-1'), 'python3-docker': package('7.1.0-1'),
                     'docker.io': package(), 'containerd': package(), 'runc': package()},
        'python_apt': True, 'apt_cache_age': 60.0, 'madison': [V_NEW, V_OLD], 'leftovers': [],
        'services': {'docker': {'enabled': 'enabled', 'active': 'active', 'load': 'loaded'},
                     'containerd': {'enabled': 'enabled', 'active': 'active', 'load': 'loaded'}},
        'engine': {'answers': True, 'version': '26.1.5+dfsg1', 'swarm_state': 'inactive',
                   'images': ['swarmops/busybox:local'], 'error': ''},
        'group': {'exists': True, 'members': ['operator']},
    }


def fresh():
    """A bare bookworm host: no Docker packages, no python3-apt, no engine, none of the role's files."""
    probe = converged()
    probe['host'].update(distribution_release='bookworm')
    probe['files'] = dict((path, ABSENT) for path in probe['files'])
    probe['files']['/etc/apt/keyrings'] = DIRECTORY
    probe.update(keyring={'fingerprints': [], 'canonical': False, 'error': 'not found'},
                 packages=dict((name, package()) for name in probe['packages']), python_apt=False, madison=[],
                 services={'docker': {'enabled': '', 'active': 'inactive', 'load': 'not-found'},
                           'containerd': {'enabled': '', 'active': 'inactive', 'load': 'not-found'}},
                 engine={'answers': False, 'version': '', 'swarm_state': '', 'images': [], 'error': 'no socket'},
                 group={'exists': False, 'members': []})
    return probe


# ---- the read-and-decide contract ------------------------------------------------------------------

def test_an_unchanged_host_has_nothing_to_do():
    plan = docker_engine_plan(converged(), settings())
    assert (plan['changed'], plan['restart'], plan['reasons']) == (False, False, [])
    assert (plan['swarm_state'], plan['engine_version'], plan['target_version']) == ('inactive', '26.1.5+dfsg1', V_NEW)
    assert not (plan['keyring']['write'] or plan['source']['write'] or plan['daemon_json']['write']
                or plan['dropin']['action'] or plan['install']['needed'] or plan['install']['refresh_first'])
    assert plan['leftovers'] == plan['directories'] == plan['conflicts'] == plan['selections'] == []
    assert plan['units'] == plan['users'] == plan['missing_images'] == []


def test_a_fresh_host_gets_everything_and_nothing_restarts():
    plan = docker_engine_plan(fresh(), settings(docker_version=''))
    assert plan['changed'] and not plan['restart']
    assert plan['keyring'] == {'write': True, 'path': KEYRING, 'url': MIRROR + '/gpg', 'fingerprint': FINGERPRINT}
    assert plan['source']['write'] and 'Suites: bookworm\n' in plan['source']['content']
    assert plan['install']['needed'] and plan['install']['fresh']  # one apt transaction with python3-apt
    assert plan['install']['names'] == ['docker-ce', 'docker-ce-cli', 'containerd.io', 'python3-docker']
    assert plan['units'] == ['containerd', 'docker'] and plan['users'] == ['operator']
    assert plan['missing_images'] == ['swarmops/busybox:local']
    assert plan['directories'] == ['/etc/docker', '/etc/systemd/system/docker.service.d']
    assert plan['target_version'] == '' and plan['engine_version'] == '' and plan['swarm_state'] == ''


def test_one_apt_get_transaction_only_where_the_engine_is_absent_and_its_source_new():
    """After the firewall role put python3-apt on a fresh host, the engine still goes in with one apt-get update and
    install. Not where any engine package, or a conflicting one, is installed (the apt module's pins, downgrades
    and removals apply there), nor where the source is unchanged (the cache's age decides its refresh), nor for a
    pin, nor in check mode."""
    def plan_for(check_mode=False, **changes):
        probe = fresh()
        probe.update(python_apt=True, **changes)
        return docker_engine_plan(probe, settings(docker_version='', check_mode=check_mode))['install']
    assert plan_for()['fresh'] and plan_for()['needed']
    installed = fresh()['packages']
    assert not plan_for(packages=dict(installed, **{'containerd.io': package('1.7.24-1')}))['fresh']
    assert not plan_for(packages=dict(installed, **{'docker.io': package('20.10.24')}))['fresh']
    assert plan_for(packages=dict(installed, **{'python3-docker': package('7.1.0-1')}))['fresh']
    assert not plan_for(check_mode=True)['fresh']
    probe = converged()
    probe['packages'] = dict(installed)
    unchanged_source = docker_engine_plan(probe, settings(docker_version=''))['install']
    assert unchanged_source['needed'] and not unchanged_source['fresh']
    pinned = fresh()
    pinned['python_apt'] = True
    assert not docker_engine_plan(pinned, settings())['install']['fresh']


def test_additional_packages_ride_along_with_an_engine_install_and_never_cause_one():
    """site.yml's firewall packages go into the engine's one apt transaction: listed with the engine's packages
    (fresh path or apt module, pinned or not) when those are installed, and nothing to do where they are not."""
    extra = settings(docker_version='', docker_apt_additional_packages=['ufw'])
    plan = docker_engine_plan(fresh(), extra)
    assert plan['install']['fresh'] and plan['install']['names'][-1] == 'ufw'
    assert 'install with them: ufw' in plan['reasons']
    pinned = docker_engine_plan(fresh(), settings(docker_apt_additional_packages=['ufw']), madison=MADISON)
    assert pinned['install']['names'][-1] == 'ufw' and pinned['install']['names'][0] == 'docker-ce=' + V_NEW
    unchanged = docker_engine_plan(converged(), settings(docker_apt_additional_packages=['ufw']))
    assert not unchanged['changed'] and not unchanged['install']['needed'] and unchanged['reasons'] == []


@pytest.mark.parametrize('packages, message', [
    (['ufw', '-o=APT::Get::Trivial-Only'], r"docker_apt_additional_packages\[1\] is not a Debian package name"),
    (['ufw\nTrusted: yes'], r"docker_apt_additional_packages\[0\] holds a newline"),
    ('ufw', 'docker_apt_additional_packages must be a list'),
    (['ufw', 'docker-ce'], 'docker_apt_additional_packages names packages the role manages itself: docker-ce'),
    (['docker.io'], 'docker_apt_additional_packages names packages the role manages itself: docker.io'),
])
def test_bad_additional_packages_are_refused_naming_the_variable(packages, message):
    with pytest.raises(AnsibleFilterError, match=message):
        docker_engine_plan(fresh(), settings(docker_apt_additional_packages=packages))


def test_a_pinned_fresh_host_resolves_the_pin_after_the_first_refresh():
    plan = docker_engine_plan(fresh(), settings())
    assert plan['pin']['resolve_after_refresh'] and plan['install']['refresh_first'] and not plan['install']['fresh']
    assert plan['install']['cache_valid_time'] == 3600  # the apt module's python3-apt bootstrap refreshes already
    assert 'docker_version 26.1: resolved after the apt cache is refreshed' in plan['reasons']
    after = docker_engine_plan(fresh(), settings(), madison=MADISON)
    assert after['target_version'] == V_NEW and not after['pin']['resolve_after_refresh']
    assert after['install']['names'][:2] == ['docker-ce=' + V_NEW, 'docker-ce-cli=' + V_NEW]


def test_check_mode_on_a_fresh_host_predicts_without_asking_apt():
    plan = docker_engine_plan(fresh(), settings(check_mode=True))
    assert plan['engine_pending'] and not plan['apt_usable'] and not plan['install']['refresh_first']
    assert not plan['install']['fresh'] and plan['changed']


@pytest.mark.parametrize('pin, installed, restart, reason', [
    ('26.1.4', V_NEW, True, 'docker-ce %s -> %s' % (V_NEW, V_OLD)),
    ('26.1', V_OLD, True, 'docker-ce %s -> %s' % (V_OLD, V_NEW)),
    ('5:26.1.5', V_NEW, False, None),
])
def test_a_pin_change_of_a_running_engine_restarts_it(pin, installed, restart, reason):
    probe = converged()
    for name in ('docker-ce', 'docker-ce-cli'):
        probe['packages'][name] = package(installed, 'hold')
    plan = docker_engine_plan(probe, settings(docker_version=pin))
    assert plan['restart'] is restart
    if reason:
        assert reason in plan['reasons'] and plan['install']['needed']
        assert plan['target_version'] != installed


def test_the_same_change_on_a_stopped_engine_is_no_restart():
    probe = converged()
    probe['services']['docker']['active'] = probe['services']['containerd']['active'] = 'inactive'
    probe['engine'].update(answers=False)
    plan = docker_engine_plan(probe, settings(docker_version='26.1.4'))
    assert plan['install']['needed'] and not plan['restart']


def test_only_the_cli_moving_restarts_nothing():
    probe = converged()
    probe['packages']['docker-ce-cli'] = package(V_OLD, 'hold')
    plan = docker_engine_plan(probe, settings())
    assert plan['reasons'] == ['docker-ce-cli %s -> %s' % (V_OLD, V_NEW)] and not plan['restart']


def test_daemon_json_content_restarts_but_its_mode_does_not():
    plan = docker_engine_plan(converged(), settings(docker_daemon_options={'log-driver': 'local'}))
    assert plan['restart'] and plan['config_restart'] and plan['reasons'] == ['daemon.json changes']
    assert plan['daemon_json']['content'] == '{\n  "log-driver": "local"\n}\n'
    probe = converged()
    probe['files'][PATHS['daemon_json']]['mode'] = '0600'
    plan = docker_engine_plan(probe, settings())
    assert plan['daemon_json']['write'] and not plan['restart'] and plan['reasons'] == ['daemon.json owner and mode']


def test_the_drop_in_content_restarts_its_mode_does_not_and_its_removal_does():
    plan = docker_engine_plan(converged(), settings(docker_service_environment={'NO_PROXY': 'localhost'}))
    assert plan['restart'] and plan['config_restart'] and plan['dropin']['action'] == 'write'
    probe = converged()
    probe['files'][PATHS['dropin']]['mode'] = '0644'  # as earlier versions of the role wrote it
    plan = docker_engine_plan(probe, settings())
    assert plan['dropin']['action'] == 'write' and not plan['restart'] and not plan['config_restart']
    assert plan['reasons'] == ['engine environment %s: write HTTPS_PROXY (owner and mode only)' % PATHS['dropin']]
    plan = docker_engine_plan(converged(), settings(docker_service_environment={}))
    assert plan['dropin']['action'] == 'remove' and plan['restart']


def test_a_drop_in_written_before_the_first_install_needs_no_restart():
    plan = docker_engine_plan(fresh(), settings(docker_daemon_options={}))
    assert plan['dropin']['action'] == 'write' and not plan['config_restart']
    # daemon.json is written after the install (dockerd validates it then): the new engine is restarted once.
    assert docker_engine_plan(fresh(), settings())['config_restart']


def test_removing_a_running_distribution_engine_is_a_restart():
    probe = converged()
    probe['packages'].update({'docker.io': package('20.10.24+dfsg1-1'), 'docker-ce': package()})
    plan = docker_engine_plan(probe, settings())
    assert plan['conflicts'] == ['docker.io'] and plan['restart']
    assert 'remove conflicting packages: docker.io' in plan['reasons'] and 'install docker-ce %s' % V_NEW in plan['reasons']


def test_a_pin_the_cache_does_not_offer_is_resolved_after_a_forced_refresh():
    probe = converged()
    probe['madison'] = []  # the lists of the repository are missing from the cache
    plan = docker_engine_plan(probe, settings())
    assert plan['pin']['resolve_after_refresh'] and plan['install']['refresh_first']
    assert plan['install']['cache_valid_time'] is None  # refresh even if the cache is recent
    assert plan['restart']  # announced: the refresh may bring a newer match
    assert not docker_engine_plan(probe, settings(), madison=MADISON)['changed']


def test_a_pin_nothing_matches_is_refused_with_the_versions_on_offer():
    with pytest.raises(AnsibleFilterError, match='docker_version 99.0 matches none of the versions of docker-ce in the '
                                                 'repository: %s, %s' % (V_NEW, V_OLD)):
        docker_engine_plan(converged(), settings(docker_version='99.0'), madison=MADISON)


def test_a_changed_source_refreshes_the_cache_and_resolves_the_pin_again():
    plan = docker_engine_plan(converged(), settings(docker_apt_channel='test'))
    assert plan['source']['write'] and 'Components: test\n' in plan['source']['content']
    assert plan['pin']['resolve_after_refresh'] and plan['install']['refresh_first']
    assert plan['install']['cache_valid_time'] is None
    check = docker_engine_plan(converged(), settings(docker_apt_channel='test', check_mode=True))
    assert not check['install']['apt_can_resolve'] and not check['install']['refresh_first']


@pytest.mark.parametrize('state, member, refused', [
    ('active', False, True), ('locked', False, True), ('inactive', True, True), ('inactive', False, False),
])
def test_live_restore_is_refused_on_swarm_members(state, member, refused):
    probe = converged()
    probe['engine']['swarm_state'] = state
    options = {'live-restore': True}
    if refused:
        with pytest.raises(AnsibleFilterError, match='Docker does not support live-restore in swarm mode'):
            docker_engine_plan(probe, settings(docker_daemon_options=options, docker_swarm_member=member))
    else:
        assert docker_engine_plan(probe, settings(docker_daemon_options=options))['restart']


def test_a_distribution_docker_does_not_serve_is_refused_unless_a_mirror_is_named():
    probe = converged()
    probe['host'].update(distribution='Fedora', os_family='RedHat')
    with pytest.raises(AnsibleFilterError, match='this host runs Fedora'):
        docker_engine_plan(probe, settings(docker_apt_repository_url=''))
    assert 'URIs: %s\n' % MIRROR in docker_engine_plan(probe, settings())['source']['content']


def test_the_repository_defaults_follow_the_distribution():
    probe = converged()
    probe['host'].update(distribution='Ubuntu', distribution_release='noble')
    plan = docker_engine_plan(probe, settings(docker_apt_repository_url='', docker_apt_gpg_key_url=''))
    assert plan['keyring']['url'] == 'https://download.docker.com/linux/ubuntu/gpg'
    assert 'URIs: https://download.docker.com/linux/ubuntu\nSuites: noble\n' in plan['source']['content']


@pytest.mark.parametrize('stored, refresh, write', [
    ({'fingerprints': [FINGERPRINT], 'canonical': True, 'error': ''}, False, False),
    ({'fingerprints': [FINGERPRINT], 'canonical': True, 'error': ''}, True, True),
    ({'fingerprints': [FINGERPRINT], 'canonical': False, 'error': ''}, False, True),
    ({'fingerprints': [FINGERPRINT, 'A' * 40], 'canonical': False, 'error': ''}, False, True),
    ({'fingerprints': [], 'canonical': False, 'error': 'truncated packet'}, False, True),
])
def test_the_key_is_downloaded_again_unless_the_stored_keyring_is_exactly_the_verified_one(stored, refresh, write):
    probe = converged()
    probe['keyring'] = stored
    assert docker_engine_plan(probe, settings(docker_apt_key_refresh=refresh))['keyring']['write'] is write


def test_leftovers_holds_users_and_images():
    probe = converged()
    probe['leftovers'] = ['/etc/apt/keyrings/docker.asc', '/etc/apt/sources.list.d/docker.list']
    probe['packages']['docker-ce'] = package(V_NEW, 'install')
    probe['group']['members'] = []
    probe['engine']['images'] = ['other:latest']
    plan = docker_engine_plan(probe, settings(docker_image_archives=[{'name': 'swarmops/busybox', 'src': '/x.tar'}]))
    assert plan['leftovers'] == probe['leftovers'] and plan['selections'] == ['docker-ce']
    assert plan['users'] == ['operator'] and not plan['restart']
    assert plan['images'] == [{'name': 'swarmops/busybox', 'tag': 'swarmops/busybox:latest',
                               'file': 'swarmops_busybox.tar', 'src': '/x.tar'}]
    assert plan['missing_images'] == ['swarmops/busybox']
    unpinned = docker_engine_plan(converged(), settings(docker_version=''))
    assert unpinned['selections'] == ['docker-ce', 'docker-ce-cli']  # the holds of the old pin are released
    assert unpinned['reasons'] == ['release the hold of docker-ce, docker-ce-cli']


def test_units_that_do_not_run_are_started():
    probe = converged()
    probe['services']['docker'].update(enabled='disabled', active='inactive')
    probe['engine']['answers'] = False
    plan = docker_engine_plan(probe, settings())
    assert plan['units'] == ['docker'] and plan['reasons'] == ['start docker'] and not plan['restart']


# ---- every value that reaches a file or a command ------------------------------------------------------

@pytest.mark.parametrize('name, value, message', [
    ('docker_apt_release', 'bookworm\nTrusted: yes', 'docker_apt_release holds a newline'),
    ('docker_apt_release', 'bookworm stable', 'docker_apt_release is not a distribution codename'),
    ('docker_apt_arch', 'amd64\nTrusted: yes', 'docker_apt_arch holds a newline'),
    ('docker_apt_arch', 'amd64,arm64', 'docker_apt_arch is not a dpkg architecture'),
    ('docker_apt_repository_url', 'http://mirror/debian\nTrusted: yes', 'docker_apt_repository_url holds a newline'),
    ('docker_apt_repository_url', 'http://mirror/debian [trusted=yes]', 'docker_apt_repository_url holds whitespace'),
    ('docker_apt_repository_url', 'mirror/debian', 'docker_apt_repository_url must be an absolute'),
    ('docker_apt_gpg_key_url', 'http://mirror/gpg\r\n', 'docker_apt_gpg_key_url holds a newline'),
    ('docker_apt_gpg_key_url', 'ftp://mirror/gpg', 'docker_apt_gpg_key_url must be an absolute http, https, file URL'),
    ('docker_apt_gpg_fingerprint', 'B1B0 6529', 'docker_apt_gpg_fingerprint is not the 40 hex digits'),
    ('docker_apt_keyring', '/etc/apt/keyrings/docker.key', 'docker_apt_keyring must be an absolute path ending in .gpg'),
    ('docker_apt_keyring', 'keyrings/docker.gpg', 'docker_apt_keyring must be an absolute path'),
    ('docker_apt_keyring', '/etc/apt/keyrings/docker\n.gpg', 'docker_apt_keyring holds a newline'),
    ('docker_apt_channel', 'stable\nTrusted: yes', 'docker_apt_channel holds a newline'),
    ('docker_apt_channel', 'stable nightly', 'docker_apt_channel is not a repository component'),
    ('docker_version', '26.1\n', 'docker_version holds a newline'),
    ('docker_version', '26.1 --allow-unauthenticated', 'docker_version is not a Debian version'),
    ('docker_packages', ['docker-ce', 'docker-ce\npython3-evil'], r'docker_packages\[1\] holds a newline'),
    ('docker_packages', ['-oAPT::Get::AllowUnauthenticated=1'], r'docker_packages\[0\] is not a Debian package name'),
    ('docker_version_packages', ['Docker-CE'], r'docker_version_packages\[0\] is not a Debian package name'),
    ('docker_version_packages', [], 'docker_version_packages must name at least one package'),
    ('docker_version_packages', ['containerd.io', 'runc'], r'docker_version_packages \(runc\) must be among'),
    ('docker_apt_conflicting_packages', ['docker.io\t'], r'docker_apt_conflicting_packages\[0\] holds a newline'),
    ('docker_users', ['operator\nroot'], r'docker_users\[0\] holds a newline'),
    ('docker_daemon_options', {'log-driver\n': 'local'}, "docker_daemon_options key 'log-driver\\\\n' holds a newline"),
    ('docker_daemon_options', {'log driver': 'local'}, 'is not a dockerd option name'),
    ('docker_daemon_options', {'log-opts': {'tag': 'a\nb'}}, r"docker_daemon_options\['log-opts'\]\['tag'\] holds"),
    ('docker_service_environment', {'HTTP PROXY': 'x'}, 'is not an environment variable name'),
    ('docker_service_environment', {'HTTP_PROXY\nExecStartPre': 'x'}, 'docker_service_environment key'),
    ('docker_service_environment', {'HTTP_PROXY': 'http://p:3128\nExecStartPre=/bin/sh -c evil'},
     r"docker_service_environment\['HTTP_PROXY'\] holds a newline or another control character; refusing it"),
    ('docker_service_environment', {'HTTP_PROXY': ['a']}, r"docker_service_environment\['HTTP_PROXY'\] must be a string"),
    ('docker_image_archives', [{'name': 'busybox'}], r'docker_image_archives\[0\] needs a name and exactly one of'),
    ('docker_image_archives', [{'name': 'a\nb', 'src': '/x'}], r'docker_image_archives\[0\].name holds a newline'),
    ('docker_image_archives', [{'name': 'busybox', 'url': 'http://m/x.tar\n'}], r'docker_image_archives\[0\].url holds'),
])
def test_bad_values_are_refused_naming_the_variable(name, value, message):
    with pytest.raises(AnsibleFilterError, match=message) as error:
        docker_engine_plan(converged(), settings(**{name: value}))
    if name == 'docker_service_environment':
        assert 'p:3128' not in str(error.value) and 'evil' not in str(error.value)  # values are never echoed


def test_a_codename_read_from_the_host_is_checked_too():
    probe = converged()
    probe['host']['distribution_release'] = 'trixie\nTrusted: yes'
    with pytest.raises(AnsibleFilterError, match="docker_apt_release \\(the host's os-release codename\\) holds a newline"):
        docker_engine_plan(probe, settings())


# ---- what the role writes --------------------------------------------------------------------------

def test_the_deb822_source():
    plan = docker_engine_plan(converged(), settings(docker_apt_arch='amd64 arm64'))
    assert plan['source']['content'] == (
        '# Managed by Ansible (swarmops.swarm.docker); local changes are overwritten.\nTypes: deb\n'
        'URIs: %s\nSuites: trixie\nComponents: stable\nArchitectures: amd64 arm64\nSigned-By: %s\n' % (MIRROR, KEYRING))


def test_the_drop_in_quotes_for_systemd():
    text = docker_service_dropin({'NO_PROXY': 'localhost,.internal', 'HTTP_PROXY': 'http://u:p%40ss"\\x@proxy:3128',
                                  'DEBUG': 1})
    assert text == (
        '# Managed by Ansible (swarmops.swarm.docker: docker_service_environment); local changes are overwritten.\n'
        '[Service]\nEnvironment="DEBUG=1"\nEnvironment="HTTP_PROXY=http://u:p%%40ss\\"\\\\x@proxy:3128"\n'
        'Environment="NO_PROXY=localhost,.internal"\n')
    with pytest.raises(AnsibleFilterError, match=r"docker_service_environment\['A'\] holds a newline"):
        docker_service_dropin({'A': 'x\ny'})


def test_secrets_stay_out_of_the_plan():
    secret = 'http://user:s3cr%t@proxy:3128'
    plan = docker_engine_plan(converged(), settings(docker_service_environment={'HTTPS_PROXY': secret + 'X'}))
    assert plan['dropin']['action'] == 'write' and plan['dropin']['names'] == ['HTTPS_PROXY']
    assert 's3cr' not in json.dumps(plan)


def test_the_plan_does_not_change_its_input():
    probe, s = converged(), settings()
    before = (copy.deepcopy(probe), copy.deepcopy(s))
    docker_engine_plan(probe, s)
    assert (probe, s) == before


# ---- registry CA certificates (docker_registry_ca_certs) ---------------------------------------------

CA = '''-----BEGIN CERTIFICATE-----
MIIBlzCCAT2gAwIBAgIUJjHfbtu+leqnC4oXPjkgBa3lD7AwCgYIKoZIzj0EAwIw
IDEeMBwGA1UEAwwVc3dhcm1vcHMtdW5pdC10ZXN0LWNhMCAXDTI2MTEzMDE5MTEz
M1oYDzIxMjYxMTA2MTkxMTMzWjAgMR4wHAYDVQQDDBVzd2FybW9wcy11bml0LXRl
c3QtY2EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAR2LfV4cfsjR+KLcT88JmBi
4bpl8/IRjPeiPC0EdlfmsLTCxW4vuKT/ul0QMCG+rYIpIspqEONqnTRA8g1erEkH
o1MwUTAdBgNVHQ4EFgQUyI0DL+85AS8jcWJNaTqeT3pLZlAwHwYDVR0jBBgwFoAU
yI0DL+85AS8jcWJNaTqeT3pLZlAwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQD
AgNIADBFAiBxNarf4ylvqOOriy18pgjh4/fCmr91Wl3UuVT06TkDogIhANMf51cf
s6eYgJVaV9bvbsa+ABWOOnHVjs6btk49pars
-----END CERTIFICATE-----
'''
CA_PATH = '/etc/docker/certs.d/registry.example.com:5000/ca.crt'


def with_ca(probe, ca_file=None, directories=True):
    probe['files']['/etc/docker/certs.d'] = DIRECTORY if directories else ABSENT
    probe['files']['/etc/docker/certs.d/registry.example.com:5000'] = DIRECTORY if directories else ABSENT
    probe['files'][CA_PATH] = ca_file or ABSENT
    return probe


def test_a_registry_ca_is_written_once_without_a_restart():
    certs = [{'registry': 'registry.example.com:5000', 'content': CA}]
    plan = docker_engine_plan(with_ca(converged(), directories=False), settings(docker_registry_ca_certs=certs))
    assert plan['ca']['write'] == [{'path': CA_PATH, 'content': CA}]
    assert plan['ca']['directories'] == ['/etc/docker/certs.d', '/etc/docker/certs.d/registry.example.com:5000']
    assert plan['changed'] and not plan['restart'] and not plan['config_restart']
    assert 'registry CA %s' % CA_PATH in plan['reasons']
    done = docker_engine_plan(with_ca(converged(), file(CA)), settings(docker_registry_ca_certs=certs))
    assert not done['changed'] and done['ca'] == {'directories': [], 'write': []}
    # A file another tool wrote with other bytes, or the right bytes with a loose mode, is rewritten.
    for found in (file(CA.replace('\n', '\r\n')), file(CA, '0666')):
        assert docker_engine_plan(with_ca(converged(), found), settings(docker_registry_ca_certs=certs))['ca']['write']


def test_a_src_certificate_is_read_on_the_controller_relative_to_the_playbook(tmp_path):
    (tmp_path / 'files').mkdir()
    (tmp_path / 'files' / 'ca.pem').write_text('\n' + CA.replace('\n', '\r\n') + '\n')
    certs = [{'registry': 'registry.example.com:5000', 'src': 'files/ca.pem'}]
    plan = docker_engine_plan(with_ca(converged()), settings(docker_registry_ca_certs=certs), base_dir=str(tmp_path))
    assert plan['ca']['write'] == [{'path': CA_PATH, 'content': CA}]  # the canonical text, whatever the line ends
    with pytest.raises(AnsibleFilterError) as err:
        docker_engine_plan(with_ca(converged()), settings(docker_registry_ca_certs=[dict(certs[0], src='nope.pem')]),
                           base_dir=str(tmp_path))
    assert 'docker_registry_ca_certs[0].src: cannot read nope.pem on the controller' in str(err.value)


KEY = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n'


@pytest.mark.parametrize('certs, message', [
    ({'registry': 'r', 'content': CA}, 'docker_registry_ca_certs must be a list'),
    (['registry.example.com'], 'docker_registry_ca_certs[0] must be a mapping'),
    ([{'registry': '../../../etc/ssl', 'content': CA}], 'docker_registry_ca_certs[0].registry must be host or'),
    ([{'registry': 'registry.example.com/team', 'content': CA}], 'docker_registry_ca_certs[0].registry must be host'),
    ([{'registry': '..', 'content': CA}], 'docker_registry_ca_certs[0].registry must be host'),
    ([{'registry': 'reg\n.example.com', 'content': CA}], 'docker_registry_ca_certs[0].registry must be host'),
    ([{'registry': 'registry.example.com:99999', 'content': CA}], 'port 99999 is out of range'),
    ([{'registry': 'a.example.com', 'content': CA}, {'registry': 'a.example.com', 'content': CA}],
     'docker_registry_ca_certs[1].registry: a.example.com is listed twice'),
    ([{'registry': 'a.example.com'}], 'docker_registry_ca_certs[0] needs exactly one of content'),
    ([{'registry': 'a.example.com', 'content': CA, 'src': 'ca.pem'}], 'needs exactly one of content'),
    ([{'registry': 'a.example.com', 'content': CA, 'path': '/tmp'}], 'docker_registry_ca_certs[0]: unknown key(s) path'),
    ([{'registry': 'a.example.com', 'content': 'hello'}], 'docker_registry_ca_certs[0].content is not a PEM certificate'),
    ([{'registry': 'a.example.com', 'content': CA + KEY}], 'docker_registry_ca_certs[0].content holds something besides'),
    ([{'registry': 'a.example.com', 'content': CA.replace('MIIB', 'AAAA')}], 'not a DER certificate in base64'),
    ([{'registry': 'a.example.com', 'content': '-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n'}],
     'not a DER certificate'),
])
def test_bad_registry_ca_certs_are_refused_by_name_before_anything_changes(certs, message):
    with pytest.raises(AnsibleFilterError) as err:
        docker_engine_plan(converged(), settings(docker_registry_ca_certs=certs))
    assert message in str(err.value)
