"""firewall_info's reading of the live SSH session, with real processes: sudo (become) starts the module without
SSH_CONNECTION, and the module finds it in the nearest parent process that has it."""

import json
import os
import subprocess
import sys
from pathlib import Path

COLLECTIONS = Path(__file__).resolve().parents[4] / '.cache' / 'collections'
READ = ('import json; from ansible_collections.swarmops.swarm.plugins.module_utils._firewall_read import ssh_connection; '
        'print(json.dumps(ssh_connection()))')


def read(command, environment):
    env = dict(environment, PYTHONPATH=os.pathsep.join([str(COLLECTIONS)] + sys.path))
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def test_found_in_this_process():
    fields, note = read([sys.executable, '-c', READ], {'SSH_CONNECTION': '192.0.2.1 40000 192.0.2.10 2201'})
    assert fields == {'client': '192.0.2.1', 'client_port': 40000, 'server': '192.0.2.10', 'server_port': 2201}
    assert note == 'found in this process'


def test_found_in_a_parent_when_the_environment_was_cleared():
    # the shell keeps the variable, the module's process starts without it (as under sudo)
    shell = 'env -u SSH_CONNECTION "%s" -c "%s"' % (sys.executable, READ.replace('"', '\\"'))
    fields, note = read(['sh', '-c', shell], {'SSH_CONNECTION': '2001:db8::1 40000 2001:db8::10 2202',
                                              'PATH': os.environ['PATH']})
    assert fields['server_port'] == 2202 and fields['client'] == '2001:db8::1'
    assert note.startswith('found in parent process ')


def test_absent_or_malformed():
    fields, note = read([sys.executable, '-c', READ], {'PATH': os.environ['PATH']})
    assert fields == {} and 'not set' in note
    fields, note = read([sys.executable, '-c', READ], {'SSH_CONNECTION': 'garbage'})
    assert fields == {} and note.startswith('malformed')
