"""swarm_network on a real three-node swarm: the check -> apply -> again -> check rhythm, a network in use never
removed or recreated without force (and with force, its services detached and attached again), and services
talking across nodes over overlay networks it made."""

from conftest import QUICK, SERVICE_IMAGE

NETWORK = 'swarmops.swarm.swarm_network'
SERVICE = 'swarmops.swarm.swarm_service'


def inspect(lab, name):
    return lab.manager.json("docker network inspect %s --format '{{json .}}'" % name)


def test_network_rhythm_and_a_network_in_use(lab):
    args = {'name': 'obj-front', 'attachable': True, 'labels': {'team': 'a'},
            'ipam_config': [{'subnet': '10.91.0.0/24', 'gateway': '10.91.0.254'}]}
    predicted, created, again, checked = lab.steps((NETWORK, args, 'check'), (NETWORK, args), (NETWORK, args),
                                                   (NETWORK, args, 'check'))
    assert predicted['changed'] and predicted['operation'] == 'create' and predicted['network']['id'] is None
    assert created['changed'] and created['diff']['before'] == {'state': 'absent'}
    assert predicted['diff'] == created['diff']
    assert not again['changed'] and not checked['changed'], (again.get('diff'), checked.get('diff'))
    stored = inspect(lab, 'obj-front')
    assert stored['Id'] == created['network']['id'] and stored['Attachable'] and stored['Labels'] == {'team': 'a'}
    assert stored['IPAM']['Config'] == [{'Subnet': '10.91.0.0/24', 'Gateway': '10.91.0.254'}]

    holder = dict(QUICK, name='obj-holder', image=SERVICE_IMAGE, args=['sleep', '3600'],
                  networks=[{'name': 'obj-front', 'aliases': ['front-alias']}])
    assert not lab.module(SERVICE, holder).get('failed')
    internal = dict(args, internal=True)
    refused_check, refused, forced_check = lab.steps((NETWORK, internal, 'check'), (NETWORK, internal),
                                                     (NETWORK, dict(internal, force=True), 'check'))
    for result in (refused_check, refused):
        assert result.get('failed') and not result['changed']
        assert 'used by the service(s) obj-holder' in result['msg'] and 'force: true' in result['msg'], result['msg']
        assert 'internal cannot be changed' in result['msg']
    assert forced_check['changed'] and forced_check['detached'] == ['obj-holder'] and forced_check['recreated']
    assert inspect(lab, 'obj-front')['Id'] == stored['Id'] and not inspect(lab, 'obj-front')['Internal']

    forced, settled = lab.steps((NETWORK, dict(internal, force=True)), (NETWORK, dict(internal, force=True)))
    assert forced['changed'] and forced['recreated'] and forced['detached'] == ['obj-holder'], forced.get('msg')
    assert forced['diff'] == {'before': {'internal': False}, 'after': {'internal': True}}
    assert forced['diff'] == forced_check['diff']
    assert not settled['changed'], settled.get('diff')
    recreated = inspect(lab, 'obj-front')
    assert recreated['Id'] != stored['Id'] and recreated['Internal'] and recreated['Attachable']
    networks = lab.manager.json("docker service inspect obj-holder --format '{{json .Spec.TaskTemplate.Networks}}'")
    assert networks == [{'Target': recreated['Id'], 'Aliases': ['front-alias']}]
    lab.wait_for(lambda: lab.running_nodes('obj-holder'), 'obj-holder running again')

    absent = lab.module(NETWORK, {'name': 'obj-front', 'state': 'absent'})
    assert absent.get('failed') and 'used by the service(s) obj-holder' in absent['msg']
    lab.remove_services('obj-holder')
    removed, gone = lab.steps((NETWORK, {'name': 'obj-front', 'state': 'absent'}),
                              (NETWORK, {'name': 'obj-front', 'state': 'absent'}))
    assert removed['changed'] and not gone['changed'], removed.get('msg')


def test_bad_network_input_refused_before_any_change(lab):
    result = lab.module(NETWORK, {'networks': [
        {'name': 'obj-ok'}, {'name': 'obj-bad', 'ipam_config': [{'subnet': '10.92.0.0/24', 'gateway': '10.93.0.1'}]}]})
    assert result.get('failed') and 'network obj-bad: ipam_config[0].gateway' in result['msg'], result.get('msg')
    assert lab.manager.sh('docker network inspect obj-ok', check=False).returncode != 0


def test_services_talk_across_nodes_on_overlays_it_made(lab):
    result = lab.module(NETWORK, {'networks': [{'name': 'obj-app', 'attachable': True},
                                               {'name': 'obj-secure', 'encrypted': True}]})
    assert result['changed'] and [n['operation'] for n in result['networks']] == ['create', 'create']
    assert 'encrypted' in inspect(lab, 'obj-secure')['Options']
    server = dict(QUICK, name='obj-web', image=SERVICE_IMAGE, args=['httpd', '-f', '-p', '8080', '-h', '/www'],
                  networks=['obj-app', 'obj-secure'], constraints=['node.hostname==obj-w1'])
    # A job on another node fetches the page by the service's name; it completes only if it got it
    # (tasks.NAME: the task addresses; the service's virtual IP needs IPVS, which this kernel lacks).
    # The client is on the unencrypted network only, so the name resolves to the server's address there.
    client = dict(QUICK, name='obj-fetch', image=SERVICE_IMAGE, mode='replicated-job', replicas=1,
                  networks=['obj-app'], constraints=['node.hostname==obj-w2'],
                  restart_policy={'condition': 'on-failure', 'delay': '1s'},
                  command=['sh', '-c', 'timeout 5 wget -q -O- http://tasks.obj-web:8080/ | grep -q "hello from swarmops"'])
    del client['update_config']
    peer = dict(QUICK, name='obj-peer', image=SERVICE_IMAGE, args=['sleep', '3600'], networks=['obj-secure'],
                constraints=['node.hostname==obj-w2'])
    served, peered, fetched = lab.steps((SERVICE, server), (SERVICE, peer), (SERVICE, dict(client, wait_timeout=90)))
    assert not served.get('failed') and not peered.get('failed'), (served.get('msg'), peered.get('msg'))
    assert not fetched.get('failed') and fetched['tasks']['completed'] >= 1, fetched.get('msg')
    # Both workers hold tasks on the encrypted network: Docker programs IPsec (ESP) for the VXLAN traffic between
    # them. Whether the kernel can then carry it is the kernel's business (this test bed's cannot: no esp4).
    for node, other in (('obj-w1', '10.213.100.12'), ('obj-w2', '10.213.100.11')):
        lab.wait_for(lambda: 'dst %s/32 proto udp dport 4789' % other in lab.nodes[node].sh('ip xfrm policy').stdout,
                     '%s: an IPsec policy for the VXLAN traffic to %s' % (node, other), seconds=60)
        assert 'proto esp' in lab.nodes[node].sh('ip xfrm policy').stdout
    lab.remove_services('obj-web', 'obj-fetch', 'obj-peer')
