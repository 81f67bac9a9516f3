"""execution-environment.yml: `ansible-builder create` makes a build context that installs what the collection needs.

No image is built (no registry here); the build context is what `ansible-builder build` would hand to podman or
docker, so asserting on it checks the definition end to end short of the network.
"""

import re

import pytest
from ansible.galaxy.dependency_resolution.versioning import meets_requirements

from dist_helpers import REPO_ROOT, load_yaml, run, tool


@pytest.fixture(scope='module')
def ee():
    return load_yaml(REPO_ROOT / 'execution-environment.yml')


@pytest.fixture(scope='module')
def context(tmp_path_factory):
    ctx = tmp_path_factory.mktemp('ee') / 'context'
    run([tool('ansible-builder'), 'create', '-f', REPO_ROOT / 'execution-environment.yml', '--context', ctx,
         '--output-filename', 'Containerfile', '-v', '3'], env=None, cwd=ctx.parent)
    return ctx


def test_definition_is_v3(ee):
    assert ee['version'] == 3
    assert ee['images']['base_image']['name']


def test_containerfile_installs_ansible_core_and_runner_on_the_named_python(context, ee):
    text = (context / 'Containerfile').read_text()
    assert 'ARG EE_BASE_IMAGE="%s"' % ee['images']['base_image']['name'] in text
    refs = re.search(r'ARG ANSIBLE_INSTALL_REFS="([^"]*)"', text).group(1).split()
    core = [r for r in refs if r.startswith('ansible-core')]
    assert core and [r for r in refs if r.startswith('ansible-runner')], refs
    assert 'ARG PYCMD="%s"' % ee['dependencies']['python_interpreter']['python_path'] in text
    # The EE's ansible-core range starts where the collection's requires_ansible starts.
    requires = load_yaml(REPO_ROOT / 'meta' / 'runtime.yml')['requires_ansible']
    lower = re.search(r'>=\s*([0-9.]+)', requires).group(1)
    assert '>=%s' % lower in core[0], (core[0], requires)
    assert 'ansible-galaxy collection install' in text and '-r requirements.yml' in text
    assert 'install-from-bindep' in text


def test_galaxy_requirements_name_the_collection_and_its_dependencies(context):
    galaxy = load_yaml(REPO_ROOT / 'galaxy.yml')
    wanted = load_yaml(context / '_build' / 'requirements.yml')['collections']
    by_name = {c['name']: c.get('version', '*') for c in wanted}
    own = '%s.%s' % (galaxy['namespace'], galaxy['name'])
    assert own in by_name, 'the EE does not install %s' % own
    assert meets_requirements(galaxy['version'], by_name[own]), (galaxy['version'], by_name[own])
    for name, spec in galaxy['dependencies'].items():
        assert by_name.get(name) == spec, 'EE pins %s to %s, galaxy.yml to %s' % (name, by_name.get(name), spec)


def test_python_and_system_requirements(context):
    python = (context / '_build' / 'requirements.txt').read_text().split()
    assert any(re.match(r'^docker([<>=!~].*)?$', line) for line in python), python
    bindep = (context / '_build' / 'bindep.txt').read_text().splitlines()
    assert any(line.startswith('openssh-clients') for line in bindep), bindep


def test_ee_tag_matches_the_collection_version_and_the_awx_config(ee):
    galaxy = load_yaml(REPO_ROOT / 'galaxy.yml')
    tags = ee['options']['tags']
    assert tags == ['swarmops-swarm-ee:%s' % galaxy['version']]
    controller = load_yaml(REPO_ROOT / 'awx' / 'vars' / 'controller.yml')
    assert controller['awx_execution_environment']['image'].endswith('/' + tags[0])
