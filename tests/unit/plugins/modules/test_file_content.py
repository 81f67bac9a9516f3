"""file_content run as Ansible runs it (a module process reading its arguments), on real files of this machine:
the first run changes, the second changes nothing, check mode predicts without writing, diff shows the content,
and bad input fails naming the field before anything on the host changed."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

COLLECTIONS = Path(__file__).resolve().parents[4] / '.cache' / 'collections'
MODULE = 'ansible_collections.swarmops.swarm.plugins.modules.file_content'


def run(tmp_path, check_mode=False, diff=False, **args):
    arguments = tmp_path.parent / (tmp_path.name + '.args.json')  # outside the directory the tests compare
    args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    arguments.write_text(json.dumps({'ANSIBLE_MODULE_ARGS': args}))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(COLLECTIONS)] + sys.path))
    out = subprocess.run([sys.executable, '-m', MODULE, str(arguments)], env=env, capture_output=True, text=True,
                         check=False, cwd=str(tmp_path)).stdout
    return json.loads(out)


def mode_of(path):
    return stat.S_IMODE(path.stat().st_mode)


def snapshot(directory):
    return sorted((p.name, p.read_bytes() if p.is_file() else None, mode_of(p)) for p in directory.iterdir())


def test_write_then_unchanged_then_content_and_mode_changes(tmp_path):
    target = tmp_path / 'etc' / 'docker.sources'
    target.parent.mkdir()
    content = 'Types: deb\nURIs: http://mirror.example/linux/debian\nSuites: bookworm — ünïcode\n'

    predicted = run(tmp_path, check_mode=True, diff=True, path=str(target), content=content, mode='0644')
    assert predicted['changed'] and predicted['content_changed'] and not target.exists()
    assert predicted['diff']['before'] == '' and predicted['diff']['after'] == content

    first = run(tmp_path, path=str(target), content=content, mode='0644')
    assert first['changed'] and target.read_bytes() == content.encode('utf-8') and mode_of(target) == 0o644
    assert content not in json.dumps({k: v for k, v in first.items() if k != 'invocation'})
    assert list(target.parent.iterdir()) == [target]  # no temporary file left behind

    for check_mode in (True, False):
        again = run(tmp_path, check_mode=check_mode, path=str(target), content=content, mode='0644')
        assert not again['changed'] and not again['content_changed']

    predicted = run(tmp_path, check_mode=True, diff=True, path=str(target), content=content + 'x\n', mode='0644')
    assert predicted['changed'] and predicted['diff']['before'] == content
    assert target.read_bytes() == content.encode('utf-8')
    predicted = run(tmp_path, check_mode=True, path=str(target), content=content, mode='0600')
    assert predicted['changed'] and not predicted['content_changed'] and mode_of(target) == 0o644

    changed = run(tmp_path, path=str(target), content='', mode='u=rw,go=')
    assert changed['changed'] and target.read_bytes() == b'' and mode_of(target) == 0o600


@pytest.mark.parametrize('field, value, message', [
    ('mode', '0999', 'mode: '),
    ('mode', 'rw-r--r--', 'mode: '),
    ('owner', 'no-such-user-swarmops', 'owner: there is no user'),
    ('group', 'no-such-group-swarmops', 'group: there is no group'),
])
def test_bad_attributes_fail_naming_the_field_before_anything_changes(tmp_path, field, value, message):
    target = tmp_path / 'dropin.conf'
    target.write_text('old\n')
    target.chmod(0o600)
    before = snapshot(tmp_path)
    result = run(tmp_path, path=str(target), content='new\n', **{field: value})
    assert result.get('failed') and result['msg'].startswith(message), result
    assert snapshot(tmp_path) == before


def test_what_is_not_a_regular_file_in_an_existing_directory_is_refused(tmp_path):
    (tmp_path / 'a-directory').mkdir()
    (tmp_path / 'real').write_text('kept\n')
    (tmp_path / 'link').symlink_to(tmp_path / 'real')
    before = snapshot(tmp_path)
    for name, message in (('a-directory', 'path: '), ('link', 'path: '), ('missing/file', 'path: the directory')):
        result = run(tmp_path, path=str(tmp_path / name), content='x\n')
        assert result.get('failed') and result['msg'].startswith(message) and 'nothing was' in result['msg'], result
    assert snapshot(tmp_path) == before and (tmp_path / 'real').read_text() == 'kept\n'


def test_check_mode_predicts_a_new_file_in_a_directory_an_earlier_task_would_create(tmp_path):
    # the docker role in check mode on a fresh host: the drop-in's directory is only predicted, not made
    result = run(tmp_path, check_mode=True, diff=True, path=str(tmp_path / 'docker.service.d' / 'x.conf'),
                 content='[Service]\n', mode='0600')
    assert result['changed'] and result['content_changed'] and result['diff']['after'] == '[Service]\n'
    assert not (tmp_path / 'docker.service.d').exists()
