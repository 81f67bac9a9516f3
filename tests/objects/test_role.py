"""The swarm_objects role, from inventory variables: a network, a secret (from a vaulted-style variable), a
config and a stack whose service uses all three and an image from the authenticated registry. A bad object
stops the run before anything changes; --check predicts a fresh deploy; a re-run and --check --diff change
nothing; a rotated secret rolls the stack's service and leaves the stack task unchanged; no secret value in
any output, at -vvv, with the default callback as an operator reads it. (Removal through the role is each
module's state absent, tested with the modules.)"""

import json
import re
import uuid

from conftest import REGISTRY, REGISTRY_IMAGE

ROLE = [{'role': 'swarmops.swarm.swarm_objects'}]
APP = {'image': REGISTRY_IMAGE, 'command': 'sleep 3600', 'init': True, 'stop_grace_period': '1s',
       'secrets': ['obj_role_secret'], 'configs': [{'source': 'obj_role_conf', 'target': '/etc/role.conf'}],
       'networks': ['shared'], 'deploy': {'placement': {'constraints': ['node.role==worker']},
                                          'update_config': {'monitor': '1s'}}}
STACK = {'services': {'app': APP},
         'secrets': {'obj_role_secret': {'external': True}}, 'configs': {'obj_role_conf': {'external': True}},
         'networks': {'shared': {'external': True, 'name': 'obj-rolenet'}}}


def inventory(lab, **overrides):
    """An inventory directory: the manager in swarm_managers, the objects in group_vars as a user writes them
    (the secret value and the registry password come from variables, as they would from Ansible Vault)."""
    user, _password = lab.registry_credentials()
    objects = {
        'swarm_objects_manager': 'obj-m1',
        'swarm_objects_secret_hash_key': '{{ vault_hash_key }}',
        'swarm_networks': [{'name': 'obj-rolenet', 'attachable': True}],
        'swarm_secrets': [{'name': 'obj_role_secret', 'data': '{{ vault_role_secret }}'}],
        'swarm_configs': [{'name': 'obj_role_conf', 'data': 'mode=demo\n'}],
        'swarm_stacks': [{'name': 'objrole', 'compose': [STACK]}],
        'swarm_registry_auth': {'server': REGISTRY, 'username': user, 'password': '{{ vault_registry_password }}'},
    }
    objects.update(overrides)
    directory = lab.workdir / ('inventory-%s' % uuid.uuid4().hex[:6])
    (directory / 'group_vars').mkdir(parents=True)
    (directory / 'hosts.json').write_text(json.dumps({'swarm_managers': {'hosts': {'obj-m1': {}}, 'vars': {
        'ansible_connection': 'community.docker.docker', 'ansible_python_interpreter': '/usr/bin/python3'}}}))
    (directory / 'group_vars' / 'swarm_managers.json').write_text(json.dumps(objects))
    return directory


def play(vault, check=False, **overrides):
    """A play of the role on the managers; VAULT (and OVERRIDES of the inventory's lists) as play vars, which
    win over group_vars, so that several plays with different values run in one ansible-playbook."""
    return {'name': 'objects%s' % (' (check)' if check else ''), 'hosts': 'swarm_managers', 'gather_facts': False,
            'check_mode': check, 'vars': dict(vault, **overrides), 'roles': ROLE}


def test_role_converges_every_kind_and_keeps_values_out_of_the_output(lab):
    _user, password = lab.registry_credentials()
    first, second, key = ('role-one-' + uuid.uuid4().hex[:10], 'role-two-' + uuid.uuid4().hex[:10],
                          'role-key-' + uuid.uuid4().hex)
    lab.secret_values.update([first, second, key, password])
    vault = {'vault_role_secret': first, 'vault_hash_key': key, 'vault_registry_password': password}
    rotated = dict(vault, vault_role_secret=second)
    good = inventory(lab)

    broken = dict(STACK, services={'app': dict(APP, privileged=True)})
    bad_stacks = [{'name': 'objrole', 'compose': [broken]}]
    bad = lab.playbook(None, inventory=good, plays=[play(vault, swarm_stacks=bad_stacks)])
    assert bad.rc != 0 and 'swarm_stacks[0] (objrole): stack objrole: services.app: privileged' in bad.output
    assert lab.manager.sh('docker network inspect obj-rolenet', check=False).returncode != 0, 'changed before refusing'

    # Fresh swarm: --check predicts the four objects; then apply, re-run, --check again.
    run = lab.playbook(None, inventory=good, plays=[play(vault, check=True), play(vault), play(vault),
                                                    play(vault, check=True)])
    assert run.rc == 0, run.output[-3000:]
    assert [run.changed(n) for n in range(4)] == [4, 4, 0, 0], run.output[-3000:]
    assert lab.read_in_task('objrole_app', 'cat /run/secrets/obj_role_secret') == first
    assert lab.read_in_task('objrole_app', 'cat /etc/role.conf') == 'mode=demo\n'

    # What an operator reads (the default callback, -vvv, --diff): the secret rotated, then a re-run. The
    # rotation is the secret task's one change (it moves the stack's service onto the new version, so the
    # stack task has nothing to do), and the re-run changes nothing: one change in the whole run.
    shown = lab.playbook(None, inventory=good, plays=[play(rotated), play(rotated)], verbosity=3, text_output=True)
    assert shown.rc == 0 and re.search(r'obj-m1 +: ok=\d+ +changed=1 ', shown.output), shown.output[-3000:]
    assert '"service": "objrole_app"' in shown.output and '"to": "obj_role_secret_v2"' in shown.output
    lab.wait_for(lambda: lab.read_in_task('objrole_app', 'cat /run/secrets/obj_role_secret') == second,
                 'the rotated value in the stack\'s service')
    lab.assert_never_shown(first, second, key, password)
