"""swarm_stack on a real swarm: a compose file deployed, re-run unchanged, updated (exactly the differing option),
a removed service pruned, the stack removed; its services talk across nodes by their compose names; a worker
pulls from the test bed's authenticated registry, and a wrong password fails the run before anything changes."""

import uuid

from conftest import REGISTRY, REGISTRY_IMAGE, SERVICE_IMAGE

STACK = 'swarmops.swarm.swarm_stack'
QUICK_COMPOSE = {'init': True, 'stop_grace_period': '1s'}


def compose(level='1', probe=True):
    services = {'server': dict(QUICK_COMPOSE, image=SERVICE_IMAGE, command=['httpd', '-f', '-p', '8080', '-h', '/www'],
                               environment={'LEVEL': level}, networks=['back'],
                               deploy={'placement': {'constraints': ['node.hostname==obj-w1']},
                                       'update_config': {'monitor': '1s'}})}
    if probe:
        services['probe'] = dict(QUICK_COMPOSE, image=SERVICE_IMAGE, command='sleep 3600', networks=['back'],
                                 deploy={'placement': {'constraints': ['node.hostname==obj-w2']}})
    return {'version': '3.8', 'services': services, 'networks': {'back': {'attachable': True}}}


def stack_services(lab, stack):
    out = lab.manager.sh("docker stack services %s --format '{{.Name}}'" % stack, check=False).stdout
    return sorted(out.split())


def test_stack_deploy_update_prune_remove(lab):
    args = {'name': 'objstack', 'compose': [compose()]}
    predicted, deployed, again, checked = lab.steps((STACK, args, 'check'), (STACK, args), (STACK, args),
                                                    (STACK, args, 'check'))
    assert predicted['changed'] and not predicted.get('failed'), predicted.get('msg')
    assert deployed['changed'] and not deployed.get('failed'), deployed.get('msg')
    assert sorted(predicted['diff']['after']['objstack']) == sorted(deployed['diff']['after']['objstack']) == \
        ['objstack_back', 'objstack_probe', 'objstack_server']
    assert not again['changed'] and not checked['changed'], (again.get('diff'), checked.get('diff'))
    # The CLI sees it as a stack of its own.
    assert stack_services(lab, 'objstack') == ['objstack_probe', 'objstack_server']
    network = lab.manager.json("docker network inspect objstack_back --format '{{json .}}'")
    assert network['Labels'] == {'com.docker.stack.namespace': 'objstack'} and network['Attachable']
    # Across nodes (probe on obj-w2, server on obj-w1), by the name the compose file uses.
    page = lab.wait_for(lambda: lab.nodes['obj-w2'].task_exec('objstack_probe', 'timeout 5 wget -q -O- '
                                                              'http://tasks.server:8080/', check=False).stdout,
                        'the server\'s page from the probe', seconds=60)
    assert page.strip() == 'hello from swarmops'

    update = {'name': 'objstack', 'compose': [compose(level='2')]}
    predicted, updated, settled = lab.steps((STACK, update, 'check'), (STACK, update), (STACK, update))
    assert updated['diff'] == predicted['diff'] == {
        'before': {'objstack': {'objstack_server': {'env': {'LEVEL': '1'}}}},
        'after': {'objstack': {'objstack_server': {'env': {'LEVEL': '2'}}}}}, updated['diff']
    assert not settled['changed']
    assert 'LEVEL=2' in lab.nodes['obj-w1'].task_exec('objstack_server', 'env').stdout.split()

    pruning = {'name': 'objstack', 'compose': [compose(level='2', probe=False)]}
    predicted, pruned, settled = lab.steps((STACK, pruning, 'check'), (STACK, pruning), (STACK, pruning))
    assert predicted['stack']['pruned'] == pruned['stack']['pruned'] == ['objstack_probe']
    assert pruned['diff']['after'] == {'objstack': {'objstack_probe': {'state': 'absent'}}}
    assert not settled['changed'] and stack_services(lab, 'objstack') == ['objstack_server']

    absent = {'name': 'objstack', 'state': 'absent'}
    removed, gone = lab.steps((STACK, absent), (STACK, absent))
    assert removed['stack']['removed']['services'] == ['objstack_server']
    assert removed['stack']['removed']['networks'] == ['objstack_back'] and not gone['changed']
    assert stack_services(lab, 'objstack') == []


def test_compose_it_cannot_honour_is_refused_before_any_change(lab):
    bad = compose()
    bad['services']['probe']['privileged'] = True
    result = lab.module(STACK, {'name': 'objbad', 'compose': [bad]})
    assert result.get('failed') and 'services.probe: privileged not supported' in result['msg'], result.get('msg')
    assert lab.manager.sh('docker network inspect objbad_back', check=False).returncode != 0


def test_worker_pulls_from_the_authenticated_registry(lab):
    user, password = lab.registry_credentials()
    wrong = 'not-the-password-' + uuid.uuid4().hex[:8]
    lab.secret_values.update([password, wrong])
    app = {'services': {'pulled': dict(QUICK_COMPOSE, image=REGISTRY_IMAGE, command='sleep 3600',
                                       deploy={'placement': {'constraints': ['node.hostname==obj-w2']}})}}

    def args(secret):
        return {'name': 'objreg', 'compose': [app], 'wait_timeout': 120,
                'registry_auth': {'server': REGISTRY, 'username': user, 'password': secret}}

    assert lab.nodes['obj-w2'].sh('docker image inspect %s' % REGISTRY_IMAGE, check=False).returncode != 0
    refused, deployed, again = lab.steps((STACK, args(wrong)), (STACK, args(password)), (STACK, args(password)),
                                         verbosity=3)
    assert refused.get('failed') and not refused['changed']
    assert 'refused the login of user %s' % user in refused['msg'] and '401 Unauthorized' in refused['msg'], \
        refused['msg']
    assert not deployed.get('failed'), deployed.get('msg')
    assert deployed['stack']['services'][0]['tasks']['running'] == 1
    assert not again['changed']
    # The trixie worker pulled the image from the registry, with the credentials that travelled with the service.
    assert lab.nodes['obj-w2'].sh('docker image inspect %s' % REGISTRY_IMAGE, check=False).returncode == 0
    lab.assert_never_shown(password, wrong)
    assert lab.module(STACK, {'name': 'objreg', 'state': 'absent'})['changed']
