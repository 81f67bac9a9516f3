"""Fixtures of the distribution tests: the tarball built, installed into an empty collections path, and a
working directory outside the repository with its own ansible.cfg (see dist_helpers)."""

import os

import pytest

from dist_helpers import REPO_ROOT, VENV_BIN, load_yaml, run, tool


@pytest.fixture(scope='session')
def galaxy():
    return load_yaml(REPO_ROOT / 'galaxy.yml')


@pytest.fixture(scope='session')
def outside(tmp_path_factory):
    """A working directory outside the repository, with its own ansible.cfg and collections path."""
    base = tmp_path_factory.mktemp('dist')
    assert REPO_ROOT not in base.parents
    (base / 'collections').mkdir()
    (base / 'work').mkdir()
    (base / 'ansible.cfg').write_text(
        '[defaults]\n'
        'collections_path = %s\n'
        'retry_files_enabled = false\n'
        'interpreter_python = auto_silent\n' % (base / 'collections'))
    return base


@pytest.fixture(scope='session')
def outside_env(outside):
    """Environment for tools run outside the repository: the installed collection, not the repo's link."""
    env = dict(os.environ)
    for var in list(env):
        if var.startswith('ANSIBLE_') or var.startswith('CONTROLLER_'):
            del env[var]
    env.update({
        'ANSIBLE_CONFIG': str(outside / 'ansible.cfg'),
        'ANSIBLE_COLLECTIONS_PATH': str(outside / 'collections'),
        'ANSIBLE_FORCE_COLOR': '0',
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_LOCAL_TEMP': str(outside / 'tmp'),
        'PATH': '%s:%s' % (VENV_BIN, env.get('PATH', '')),
    })
    return env


@pytest.fixture(scope='session')
def tarball(outside, outside_env, galaxy):
    """The collection tarball built from the repository by ansible-galaxy."""
    dist = outside / 'dist'
    dist.mkdir()
    run([tool('ansible-galaxy'), 'collection', 'build', REPO_ROOT, '--output-path', dist],
        env=outside_env, cwd=outside / 'work')
    built = sorted(dist.glob('*.tar.gz'))
    assert [p.name for p in built] == ['%s-%s-%s.tar.gz' % (galaxy['namespace'], galaxy['name'], galaxy['version'])]
    return built[0]


@pytest.fixture(scope='session')
def installed(tarball, outside, outside_env, galaxy):
    """The tarball installed into the empty collections path (no Galaxy: dependencies come from the venv)."""
    run([tool('ansible-galaxy'), 'collection', 'install', tarball, '-p', outside / 'collections',
         '--no-deps', '--offline'], env=outside_env, cwd=outside / 'work')
    path = outside / 'collections' / 'ansible_collections' / galaxy['namespace'] / galaxy['name']
    assert (path / 'MANIFEST.json').is_file()
    return path


@pytest.fixture(scope='session')
def fqcn_prefix(galaxy):
    return '%s.%s' % (galaxy['namespace'], galaxy['name'])
