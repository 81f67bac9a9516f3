"""Compose files -> the services and networks `docker stack deploy` would make
(plugins/module_utils/_swarm_compose.py), checked through swarm_spec like the module does."""

import pytest

from ansible_collections.swarmops.swarm.plugins.module_utils import _swarm_compose as sc
from ansible_collections.swarmops.swarm.plugins.module_utils import _swarm_objects
from ansible_collections.swarmops.swarm.plugins.module_utils import swarm_spec
from ansible_collections.swarmops.swarm.plugins.module_utils._swarm_compose import ComposeError

NS = sc.NAMESPACE_LABEL

APP = {
    'version': '3.8',
    'services': {
        'web': {
            'image': 'registry.example.com:5000/web:1',
            'command': 'httpd -f -p 8080',
            'environment': ['MODE=prod', 'EMPTY='],
            'labels': {'tier': 'front'},
            'ports': ['8080:8080', {'target': 9000, 'published': 9000, 'mode': 'host'}],
            'networks': {'front': {'aliases': ['www']}},
            'volumes': ['data:/data:ro', '/srv/static:/static'],
            'secrets': ['db_password', {'source': 'tls', 'target': 'site.key', 'mode': 0o400}],
            'configs': ['nginx'],
            'deploy': {'replicas': 3, 'labels': {'owner': 'ops'},
                       'placement': {'constraints': ['node.role==worker'], 'max_replicas_per_node': 2},
                       'resources': {'limits': {'cpus': '0.5', 'memory': '64M'}},
                       'update_config': {'parallelism': 2, 'order': 'start-first'}},
            'healthcheck': {'test': ['CMD', 'true'], 'interval': '10s'},
        },
        'agent': {'image': 'agent:2', 'deploy': {'mode': 'global'}, 'depends_on': ['web']},
    },
    'networks': {'front': {'driver': 'overlay', 'attachable': True, 'driver_opts': {'encrypted': ''},
                           'ipam': {'config': [{'subnet': '10.40.0.0/24'}]}}},
    'volumes': {'data': {'labels': {'backup': 'daily'}}},
    'secrets': {'db_password': {'external': True}, 'tls': {'external': True, 'name': 'site_tls'}},
    'configs': {'nginx': {'external': True, 'name': 'nginx_conf'}},
    'x-notes': 'ignored',
}


def objects(compose=None, stack='app'):
    return sc.stack_objects(stack, compose or APP)


def service(result, name):
    return [s for s in result['services'] if s['name'] == name][0]


def with_service(**web):
    compose = {'services': {'web': dict({'image': 'web:1'}, **web)}}
    return compose


def test_names_labels_and_aliases_like_docker_stack_deploy():
    result = objects()
    web = service(result, 'app_web')
    assert web['labels'] == {'owner': 'ops', NS: 'app', sc.IMAGE_LABEL: 'registry.example.com:5000/web:1'}
    assert web['container_labels'] == {'tier': 'front', NS: 'app'}
    assert web['networks'] == [{'name': 'app_front', 'aliases': ['web', 'www']}]
    agent = service(result, 'app_agent')
    assert agent['networks'] == [{'name': 'app_default', 'aliases': ['agent']}] and agent['mode'] == 'global'
    assert 'replicas' not in agent and 'max_replicas_per_node' not in agent
    assert [n['name'] for n in result['networks']] == ['app_default', 'app_front']
    assert result['warnings'] == ['stack app, service agent: ignoring depends_on (not used by swarm services, as '
                                  'docker stack deploy does)']


def test_command_entrypoint_environment_ports_mounts_references():
    web = service(objects(), 'app_web')
    assert web['args'] == ['httpd', '-f', '-p', '8080'] and web['command'] == []
    assert web['env'] == {'MODE': 'prod', 'EMPTY': ''}
    assert web['publish'] == [{'target': 8080, 'published': 8080, 'protocol': 'tcp', 'mode': 'ingress'},
                              {'target': 9000, 'published': 9000, 'mode': 'host'}]
    assert web['mounts'] == [
        {'type': 'volume', 'target': '/data', 'readonly': True, 'source': 'app_data',
         'volume_labels': {'backup': 'daily', NS: 'app'}},
        {'type': 'bind', 'target': '/static', 'readonly': False, 'source': '/srv/static'}]
    assert web['secrets'] == [{'name': 'db_password', 'target': 'db_password'},
                              {'name': 'site_tls', 'target': 'site.key', 'mode': 0o400}]
    assert web['configs'] == [{'name': 'nginx_conf', 'target': '/nginx'}]


def test_every_service_option_is_set_so_a_removed_key_resets_it():
    web = service(objects(with_service()), 'app_web')
    assert web['env'] == {} and web['publish'] == [] and web['mounts'] == [] and web['constraints'] == []
    assert web['replicas'] == 1 and web['mode'] == 'replicated' and web['endpoint_mode'] == 'vip'
    assert web['update_config']['parallelism'] == 1 and web['restart_policy']['condition'] == 'any'
    assert web['limits'] == {'cpus': 0, 'memory': 0} and web['stop_grace_period'] == '10s'
    # ...and they are what a service created without them stores: no difference, no update.
    stored = swarm_spec.merged_spec(swarm_spec.validate(dict(web, networks=[])), None, web['name'])
    before, after = swarm_spec.compare(swarm_spec.validate(dict(web, networks=[])), stored)
    assert before == {} and after == {}


def test_every_service_validates_through_swarm_spec():
    for params in objects()['services']:
        swarm_spec.validate(params)


def test_jobs_get_no_update_config():
    job = service(objects(with_service(deploy={'mode': 'replicated-job', 'replicas': 2})), 'app_web')
    assert 'update_config' not in job and 'rollback_config' not in job and 'restart_policy' not in job
    assert job['replicas'] == 2


def test_network_definition_goes_to_swarm_network():
    front = [n for n in objects()['networks'] if n['name'] == 'app_front'][0]
    assert front['labels'] == {NS: 'app'} and front['attachable'] is True
    assert front['driver_options'] == {'encrypted': ''} and front['ipam_config'] == [{'subnet': '10.40.0.0/24'}]


def test_external_networks_are_required_not_created():
    compose = {'services': {'web': {'image': 'web:1', 'networks': ['shared']}},
               'networks': {'shared': {'external': True, 'name': 'backbone'}}}
    result = objects(compose)
    assert result['networks'] == [] and result['external_networks'] == ['backbone']
    assert service(result, 'app_web')['networks'] == [{'name': 'backbone', 'aliases': ['web']}]


def test_merge_later_files_win_key_by_key():
    merged = sc.merge([APP, {'services': {'web': {'image': 'web:2', 'ports': []}}}])
    assert merged['services']['web']['image'] == 'web:2' and merged['services']['web']['ports'] == []
    assert merged['services']['web']['command'] == 'httpd -f -p 8080'
    assert APP['services']['web']['image'] == 'registry.example.com:5000/web:1', 'inputs are not changed'


def test_dollars():
    web = service(objects(with_service(command=['sh', '-c', 'echo $$HOME'])), 'app_web')
    assert web['args'] == ['sh', '-c', 'echo $HOME']
    with pytest.raises(ComposeError, match=r'services.web.image: .*\$TAG'):
        objects({'services': {'web': {'image': 'web:$TAG'}}})
    with pytest.raises(ComposeError, match='template the compose file with Jinja'):
        objects(with_service(environment={'A': '${A:-1}'}))


@pytest.mark.parametrize('compose, message', [
    ({'services': {}}, 'at least one service'),
    ({'services': {'web': {'command': 'x'}}}, 'services.web.image is required'),
    ({'services': {'web': {'image': 'w', 'privileged': True}}}, 'services.web: privileged not supported'),
    ({'services': {'web': {'image': 'w', 'deploy': {'replicas': 1, 'bogus': 1}}}}, 'services.web.deploy: bogus'),
    ({'services': {'web': {'image': 'w', 'networks': ['nope']}}}, 'the network nope is not declared'),
    ({'services': {'web': {'image': 'w', 'volumes': ['data:/d']}}}, 'the volume data is not declared'),
    ({'services': {'web': {'image': 'w', 'volumes': ['./d:/d']}}}, 'is relative'),
    ({'services': {'web': {'image': 'w', 'secrets': ['s']}}, 'secrets': {'s': {'file': './s.txt'}}},
     'only external secrets'),
    ({'services': {'web': {'image': 'w', 'secrets': ['s']}}}, 'the secret s is not declared'),
    ({'services': {'web': {'image': 'w', 'ports': ['127.0.0.1:80:80']}}}, 'a host IP has no meaning'),
    ({'services': {'web': {'image': 'w', 'environment': {'A': None}}}}, 'services.web.environment.A has no value'),
    ({'services': {'web': {'image': 'w', 'env_file': 'a.env'}}}, 'env_file'),
    ({'services': {'web': {'image': 'w', 'networks': ['n']}}, 'networks': {'n': {'driver': 'bridge'}}},
     'networks.n.driver: bridge'),
    ({'services': {'web': {'image': 'w'}}, 'include': ['x.yml']}, 'compose: include not supported'),
])
def test_what_cannot_be_honoured_is_refused_naming_the_key(compose, message):
    with pytest.raises(ComposeError) as err:
        objects(compose)
    assert message in str(err.value)


def test_port_ranges_expand():
    web = service(objects(with_service(ports=['8000-8001:9000-9001/udp', '53'])), 'app_web')
    assert web['publish'] == [{'target': 9000, 'published': 8000, 'protocol': 'udp', 'mode': 'ingress'},
                              {'target': 9001, 'published': 8001, 'protocol': 'udp', 'mode': 'ingress'},
                              {'target': 53, 'protocol': 'tcp', 'mode': 'ingress'}]


def test_prepare_stack_refuses_before_the_engine_with_the_stack_and_service_named():
    with pytest.raises(_swarm_objects.ObjectsError, match='stack app, service app_web: replicas'):
        _swarm_objects.prepare_stack({'name': 'app',
                                      'compose': [with_service(deploy={'mode': 'global', 'replicas': 2})]})
    with pytest.raises(_swarm_objects.ObjectsError, match='stack app: compose is required'):
        _swarm_objects.prepare_stack({'name': 'app'})
    prepared = _swarm_objects.prepare_stack({'name': 'app', 'compose': [APP], 'prune': None})
    assert prepared['prune'] is True and [n['name'] for n in prepared['networks']] == ['app_default', 'app_front']
    assert prepared['networks'][1]['fields']['encrypted'] is True
    assert _swarm_objects.prepare_stack({'name': 'app', 'state': 'absent'})['state'] == 'absent'
