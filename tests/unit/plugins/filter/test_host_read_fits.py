"""When a role may take a read made earlier in the run (swarm_info's firewall/engine options) instead of its own."""

import pytest

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.swarmops.swarm.plugins.filter.host_read_fits import FilterModule
from ansible_collections.swarmops.swarm.plugins.module_utils._engine_read import ENGINE_READ_SPEC
from ansible_collections.swarmops.swarm.plugins.module_utils._firewall_read import FIREWALL_READ_SPEC

fits = FilterModule().filters()['host_read_fits']

FIREWALL = {'backend': 'auto', 'policy': 'swarmops', 'legacy_zone': 'swarmops'}
ENGINE = {
    'files': ['/etc/apt/keyrings', '/etc/docker', '/etc/docker/daemon.json'],
    'keyring': '/etc/apt/keyrings/docker.asc',
    'packages': ['docker-ce', 'docker-ce-cli', 'containerd.io', 'python3-docker'],
    'madison': '',
    'repository_urls': ['download.docker.com', 'http://mirror:8080/docker'],
    'source_file': '/etc/apt/sources.list.d/docker.sources',
    'keyring_dirs': ['/etc/apt/trusted.gpg.d', '/usr/share/keyrings', '/etc/apt/keyrings'],
    'keyring_names': ['docker.gpg', 'docker.asc'],
    'services': ['docker', 'containerd'],
    'group': 'docker',
}


def made_with(spec, options):
    """A read as swarm_info returns it: the options after the module's own argument checks (defaults filled in)."""
    result = ArgumentSpecValidator(spec).validate(dict(options))
    assert not result.error_messages
    return {'ufw': {'active': True}, 'options': result.validated_parameters}


@pytest.mark.parametrize('spec, options', [(FIREWALL_READ_SPEC, FIREWALL), (ENGINE_READ_SPEC, ENGINE)])
def test_a_read_made_with_the_roles_options_fits_after_the_modules_checks(spec, options):
    assert fits(made_with(spec, options), options)


@pytest.mark.parametrize('change', [
    {'backend': 'firewalld'},
    {'policy': 'other'},
    {'legacy_zone': 'public'},
])
def test_a_read_made_with_other_firewall_options_does_not_fit(change):
    assert not fits(made_with(FIREWALL_READ_SPEC, FIREWALL), dict(FIREWALL, **change))


@pytest.mark.parametrize('change', [
    {'files': ENGINE['files'] + ['/etc/docker/certs.d']},   # a registry CA configured since
    {'files': list(reversed(ENGINE['files']))},             # order is part of the read's answer
    {'packages': ['docker-ce']},
    {'madison': 'docker-ce'},                               # docker_version pinned: the offered versions are needed
    {'keyring': '/etc/apt/keyrings/other.asc'},
    {'group': ''},
])
def test_a_read_made_with_other_engine_options_does_not_fit(change):
    assert not fits(made_with(ENGINE_READ_SPEC, ENGINE), dict(ENGINE, **change))


@pytest.mark.parametrize('read', [
    None, {}, [], 'ufw', 0,
    {'ufw': {}},                                             # a firewall_info result: no options carried
    {'options': None},
    {'options': ['backend', 'auto']},
    {'failed': True, 'options': dict(FIREWALL, packages=[])},  # a read that failed is no read
])
def test_anything_but_a_read_with_its_options_does_not_fit(read):
    assert not fits(read, FIREWALL)


def test_an_option_the_read_left_out_is_its_default_none_or_empty():
    assert fits({'options': {'backend': 'auto'}}, {'backend': 'auto', 'madison': ''})
    assert fits({'options': {'backend': 'auto', 'madison': None}}, {'backend': 'auto', 'madison': ''})
    assert not fits({'options': {'backend': 'auto'}}, {'backend': 'auto', 'madison': 'docker-ce'})


def test_options_that_are_not_a_mapping_fit_nothing():
    assert not fits(made_with(FIREWALL_READ_SPEC, FIREWALL), None)
    assert not fits(made_with(FIREWALL_READ_SPEC, FIREWALL), ['backend'])
    assert not fits(made_with(FIREWALL_READ_SPEC, FIREWALL), {})
