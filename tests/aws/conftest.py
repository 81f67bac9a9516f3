"""Harness of the AWS suite: a moto server on 127.0.0.1 as the EC2 endpoint of the real playbooks.

The server (tests/aws/moto_server.py, moto with one fix for port-less security-group rules) listens on a
free port picked at start and is stopped at the end. Every ansible-playbook and ansible-inventory run gets
AWS_ENDPOINT_URL pointing at it (amazon.aws modules and the aws_ec2 inventory plugin both honour it), fake
credentials, and no AWS configuration files, so nothing here can reach real AWS.

Its images come from tests/aws/amis.json (MOTO_AMIS_PATH): the Debian 12 and Ubuntu 24.04 presets' names and
owners, older builds, another architecture, another image family, and an impostor with the right name and
a newer date from another account.

Each run's output is kept under .cache/aws-artifacts/ (emptied when a session starts).
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
AWS_DIR = Path(__file__).resolve().parent
ARTIFACTS = REPO_ROOT / '.cache' / 'aws-artifacts'
VENV_BIN = REPO_ROOT / '.venv' / 'bin'
RECAP_LINE = re.compile(r'^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)'
                        r'\s+skipped=(\d+)\s+rescued=(\d+)\s+ignored=(\d+)', re.M)
FATAL_LINE = re.compile(r'^fatal: \[([^\]]+)\]: FAILED! => (.*)$', re.M)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class Moto:
    """The running server: its URL, a boto3 EC2 client per region, and the environment for Ansible."""

    def __init__(self, url):
        self.url = url

    def ec2(self, region='us-east-1'):
        import boto3
        return boto3.client('ec2', region_name=region, endpoint_url=self.url, aws_access_key_id='testing',
                            aws_secret_access_key='testing')

    def env(self, cluster, region='us-east-1', **extra):
        env = dict(os.environ)
        for name in list(env):
            if name.startswith('AWS_') or name.startswith('SWARMOPS_'):
                del env[name]
        env.update({
            'AWS_ENDPOINT_URL': self.url,
            'AWS_ACCESS_KEY_ID': 'testing',
            'AWS_SECRET_ACCESS_KEY': 'testing',
            'AWS_REGION': region,
            'AWS_CONFIG_FILE': '/dev/null',
            'AWS_SHARED_CREDENTIALS_FILE': '/dev/null',
            'SWARMOPS_AWS_CLUSTER': cluster,
            'ANSIBLE_CONFIG': str(REPO_ROOT / 'ansible.cfg'),
            'ANSIBLE_COLLECTIONS_PATH': str(REPO_ROOT / '.cache' / 'collections'),
            # An inventory source that cannot be read is an error, not an empty inventory.
            'ANSIBLE_INVENTORY_UNPARSED_FAILED': 'true',
            'ANSIBLE_NOCOLOR': '1',
            'ANSIBLE_FORCE_COLOR': '0',
            'ANSIBLE_DEPRECATION_WARNINGS': 'false',
            'PATH': '%s:%s' % (VENV_BIN, os.environ.get('PATH', '')),
        })
        env.update(extra)
        return env


class Run:
    """One ansible-playbook / ansible-inventory process, started at once; .result() waits for it."""

    def __init__(self, name, argv, env, timeout=600):
        self.name = name
        self.argv = argv
        self.timeout = timeout
        self.log = ARTIFACTS / ('%s.log' % name)
        self.started = time.time()
        self.proc = subprocess.Popen(argv, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self._result = None

    def result(self):
        if self._result is None:
            out, err = self.proc.communicate(timeout=self.timeout)
            self._result = Result(self.proc.returncode, out, err, time.time() - self.started)
            self.log.write_text('$ %s\n(rc %d, %.0f s)\n%s\n--- stderr\n%s' % (
                ' '.join(self.argv), self.proc.returncode, self._result.seconds, out, err))
        return self._result


class Result:
    def __init__(self, rc, out, err, seconds):
        self.rc, self.out, self.err, self.seconds = rc, out, err, seconds
        fields = ('ok', 'changed', 'unreachable', 'failed', 'skipped')
        self.recap = dict((m.group(1), dict(zip(fields, map(int, m.groups()[1:6])))) for m in RECAP_LINE.finditer(out))
        self.fatal = {}
        for match in FATAL_LINE.finditer(out):
            try:
                self.fatal[match.group(1)] = json.loads(match.group(2))
            except ValueError:
                self.fatal[match.group(1)] = {'msg': match.group(2)}

    def __repr__(self):
        return 'rc=%d recap=%s\n%s\n%s' % (self.rc, self.recap, self.out[-3000:], self.err[-2000:])


def playbook(name, env, playbook_path, *args, inventory=None):
    argv = [str(VENV_BIN / 'ansible-playbook')]
    for source in inventory or []:
        argv += ['-i', str(source)]
    argv += [str(playbook_path)] + list(args)
    return Run(name, argv, env)


def inventory_list(name, env, *args):
    return Run(name, [str(VENV_BIN / 'ansible-inventory'), '-i', str(REPO_ROOT / 'inventories' / 'aws'), '--list']
               + list(args), env)


def unwrap(value):
    """ansible-inventory --list marks inventory values as unsafe ({'__ansible_unsafe': value})."""
    if isinstance(value, dict):
        if set(value) == {'__ansible_unsafe'}:
            return value['__ansible_unsafe']
        return dict((k, unwrap(v)) for k, v in value.items())
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


@pytest.fixture(scope='session')
def artifacts():
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


@pytest.fixture(scope='session')
def moto(artifacts):
    port = free_port()
    env = dict(os.environ, MOTO_AMIS_PATH=str(AWS_DIR / 'amis.json'))
    log = open(artifacts / 'moto_server.log', 'w')
    proc = subprocess.Popen([sys.executable, str(AWS_DIR / 'moto_server.py'), '-H', '127.0.0.1', '-p', str(port)],
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = 'http://127.0.0.1:%d' % port
    deadline = time.time() + 60
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError('moto_server exited (%s): see %s' % (proc.returncode, log.name))
            try:
                urllib.request.urlopen(url + '/moto-api/', timeout=2).read()
                break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError('moto_server did not answer on %s within 60 s' % url)
                time.sleep(0.3)
        yield Moto(url)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope='session')
def public_key(tmp_path_factory):
    key = tmp_path_factory.mktemp('ssh') / 'id_ed25519'
    subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'aws-suite', '-f', str(key)], check=True)
    return (key.parent / 'id_ed25519.pub').read_text().strip()
