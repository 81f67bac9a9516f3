"""Helpers for the distribution tests: the collection as users get it.
(A uniquely named module, not conftest: tests/unit has a conftest.py of its own.)


The tarball is built with `ansible-galaxy collection build`, installed into an empty collections path, and every
later step (ansible-doc, ansible-playbook, ansible-runner) runs from a directory outside the repository with an
ansible.cfg of its own, so nothing resolves through the repository's `.cache/collections` link or its ansible.cfg.
The collections the roles depend on come from the `ansible` package in the virtualenv (no Galaxy here), exactly
as they would from an execution environment.
"""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

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


def run(args, env, cwd, timeout=300, check=True):
    """Run a tool; with CHECK, a non-zero exit fails the test with the (token-scrubbed) output."""
    result = subprocess.run([str(a) for a in args], env=env, cwd=str(cwd), capture_output=True, text=True,
                            timeout=timeout, check=False)
    if check and result.returncode != 0:
        raise AssertionError('`%s` failed (%d):\n%s\n%s' % (
            ' '.join(str(a) for a in args), result.returncode, scrub(result.stdout)[-4000:],
            scrub(result.stderr)[-4000:]))
    return result


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
