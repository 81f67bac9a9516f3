"""Harness for the distribution tests: the collection as users get it.

The tarball is built with `ansible-galaxy collection build`, installed into an empty collections path, and every
later step (ansible-doc, ansible-playbook, ansible-runner) runs from a directory outside the repository with an
ansible.cfg of its own, so nothing resolves through the repository's `.cache/collections` link or its ansible.cfg.
The collections the roles depend on come from the `ansible` package in the virtualenv (no Galaxy here), exactly
as they would from an execution environment.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
TOKEN_PATTERN = re.compile(r'SWMTKN-1-[0-9A-Za-z]+-[0-9A-Za-z]+')


def scrub(text):
    """Text with every swarm join token replaced, safe for assertion messages."""
    return TOKEN_PATTERN.sub('SWMTKN-<redacted>', text or '')


def tool(name):
    """A console script of the virtualenv the tests run in (falls back to PATH)."""
    candidate = VENV_BIN / name
    return str(candidate) if candidate.exists() else name


class _UnsafeLoader(yaml.SafeLoader):
    """yaml.SafeLoader that reads Ansible's !unsafe / !vault tags as plain strings."""


_UnsafeLoader.add_constructor('!unsafe', lambda loader, node: loader.construct_scalar(node))
_UnsafeLoader.add_constructor('!vault', lambda loader, node: loader.construct_scalar(node))


def load_yaml(path):
    with open(path, encoding='utf-8') as handle:
        return yaml.load(handle, Loader=_UnsafeLoader)  # noqa: S506 - SafeLoader subclass


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
        'host_key_checking = false\n'
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


def run(args, env, cwd, timeout=300, check=True):
    result = subprocess.run([str(a) for a in args], env=env, cwd=str(cwd), capture_output=True, text=True,
                            timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError('`%s` failed (%d):\n%s\n%s' % (
            ' '.join(str(a) for a in args), result.returncode, scrub(result.stdout)[-4000:],
            scrub(result.stderr)[-4000:]))
    return result


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


def installed_collections(env, cwd):
    """{fqcn: version} of every collection ansible-galaxy sees with ENV (including the venv's bundle)."""
    out = run([tool('ansible-galaxy'), 'collection', 'list', '--format', 'json'], env=env, cwd=cwd).stdout
    found = {}
    for collections in json.loads(out).values():
        for name, meta in collections.items():
            found.setdefault(name, meta.get('version'))
    return found


def rmtree_quiet(path):
    shutil.rmtree(str(path), ignore_errors=True)
