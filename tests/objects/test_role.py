"""The swarm_objects role, from inventory variables: a network, a secret (from a vaulted-style variable), a
config and a stack whose service uses all three and an image from the authenticated registry. A bad object
stops the run before anything changes; --check predicts a fresh deploy; a re-run and --check --diff change
nothing; a rotated secret rolls the stack's service and leaves the stack task unchanged; no secret value in
any output, at -vvv, with the default callback as an operator reads it."""

import json
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


def test_role_converges_every_kind_and_keeps_values_out_of_the_output(lab):
    _user, password = lab.registry_credentials()
    first, second, key = ('role-one-' + uuid.uuid4().hex[:10], 'role-two-' + uuid.uuid4().hex[:10],
                          'role-key-' + uuid.uuid4().hex)
    lab.secret_values.update([first, second, key, password])
    vault = {'vault_role_secret': first, 'vault_hash_key': key, 'vault_registry_password': password}
    good = inventory(lab)

    broken = dict(STACK, services={'app': dict(STACK['services']['app'], privileged=True)})
    bad = lab.playbook(None, hosts='swarm_managers', roles=ROLE, extra_vars=vault,
                       inventory=inventory(lab, swarm_stacks=[{'name': 'objrole', 'compose': [broken]}]))
    assert bad.rc != 0 and 'swarm_stacks[0] (objrole): stack objrole: services.app: privileged' in bad.output
    assert lab.manager.sh('docker network inspect obj-rolenet', check=False).returncode != 0, 'changed before refusing'

    predicted = lab.playbook(None, hosts='swarm_managers', roles=ROLE, extra_vars=vault, inventory=good, check=True)
    assert predicted.rc == 0, predicted.output[-3000:]
    assert predicted.changed() == 4 and lab.manager.sh('docker service ls -q --filter name=objrole').stdout == ''
    applied = lab.playbook(None, hosts='swarm_managers', roles=ROLE, extra_vars=vault, inventory=good)
    assert applied.rc == 0 and applied.changed() == 4, applied.output[-3000:]
    assert lab.read_in_task('objrole_app', 'cat /run/secrets/obj_role_secret') == first
    assert lab.read_in_task('objrole_app', 'cat /etc/role.conf') == 'mode=demo\n'
    again = lab.playbook(None, hosts='swarm_managers', roles=ROLE, extra_vars=vault, inventory=good)
    checked = lab.playbook(None, hosts='swarm_managers', roles=ROLE, extra_vars=vault, inventory=good, check=True)
    assert again.changed() == 0 and checked.changed() == 0, (again.output[-2000:], checked.output[-2000:])
    # What an operator reads: the default callback, at -vvv, with --diff.
    shown = lab.playbook(None, hosts='swarm_managers', roles=ROLE, extra_vars=vault, inventory=good, verbosity=3,
                         text_output=True)
    assert shown.rc == 0 and 'changed=0' in shown.output, shown.output[-2000:]

    rotated_vault = dict(vault, vault_role_secret=second)
    rotation = lab.playbook(None, hosts='swarm_managers', roles=ROLE, extra_vars=rotated_vault, inventory=good,
                            verbosity=3, text_output=True)
    assert rotation.rc == 0 and 'changed=1' in rotation.output, rotation.output[-3000:]
    assert '"service": "objrole_app"' in rotation.output and '"to": "obj_role_secret_v2"' in rotation.output
    lab.wait_for(lambda: lab.read_in_task('objrole_app', 'cat /run/secrets/obj_role_secret') == second,
                 'the rotated value in the stack\'s service')
    settled = lab.playbook(None, hosts='swarm_managers', roles=ROLE, extra_vars=rotated_vault, inventory=good)
    assert settled.changed() == 0, settled.output[-2000:]
    lab.assert_never_shown(first, second, key, password)

    cleanup = inventory(lab, swarm_stacks=[{'name': 'objrole', 'state': 'absent'}],
                        swarm_secrets=[{'name': 'obj_role_secret', 'state': 'absent'}],
                        swarm_configs=[{'name': 'obj_role_conf', 'state': 'absent'}],
                        swarm_networks=[{'name': 'obj-rolenet', 'state': 'absent'}])
    # The role's order (networks, secrets, configs, stacks) cannot remove what the stack uses: the stack first.
    lab.module('swarmops.swarm.swarm_stack', {'name': 'objrole', 'state': 'absent'})
    removed = lab.playbook(None, hosts='swarm_managers', roles=ROLE, extra_vars=vault, inventory=cleanup)
    assert removed.rc == 0 and removed.changed() == 3, removed.output[-3000:]
