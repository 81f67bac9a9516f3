"""Registry credentials: which image gets them, how they are encoded, and that they never show
(plugins/module_utils/_registry_auth.py, AuthenticatingClient in _swarm_objects.py)."""

import base64
import json

import pytest

from ansible_collections.swarmops.swarm.plugins.module_utils import _registry_auth as ra
from ansible_collections.swarmops.swarm.plugins.module_utils._engine import EngineClient
from ansible_collections.swarmops.swarm.plugins.module_utils._swarm_objects import AuthenticatingClient

AUTH = ra.validate({'server': 'https://registry.example.com:5000/', 'username': 'deploy', 'password': 'pa55-w0rd'})


@pytest.mark.parametrize('image, registry', [
    ('nginx', 'docker.io'), ('library/nginx:1', 'docker.io'), ('docker.io/library/nginx', 'docker.io'),
    ('index.docker.io/me/app', 'docker.io'), ('me/app:1', 'docker.io'),
    ('registry.example.com:5000/app:1', 'registry.example.com:5000'),
    ('registry.example.com/team/app@sha256:abc', 'registry.example.com'),
    ('localhost/app', 'localhost'), ('swarmops-registry:5000/swarmops/busybox:local', 'swarmops-registry:5000'),
])
def test_the_registry_of_an_image(image, registry):
    assert ra.image_registry(image) == registry


def test_server_normalised_and_header_decodes_like_the_cli_encodes():
    assert AUTH['server'] == 'registry.example.com:5000'
    encoded = ra.header(AUTH)
    assert '=' not in encoded.rstrip('=') and '+' not in encoded and '/' not in encoded
    assert json.loads(base64.urlsafe_b64decode(encoded)) == {'username': 'deploy', 'password': 'pa55-w0rd',
                                                             'serveraddress': 'registry.example.com:5000'}


def test_credentials_go_only_to_their_own_registry():
    assert ra.headers_for('registry.example.com:5000/app:1', AUTH) == {'X-Registry-Auth': ra.header(AUTH)}
    for other in ('nginx:1', 'registry.example.com/app:1', 'evil.example.com:5000/app', ''):
        assert ra.headers_for(other, AUTH) == {}
    assert ra.headers_for('registry.example.com:5000/app:1', None) == {}


@pytest.mark.parametrize('auth, message', [
    ('user:pass', 'must be a dict'),
    ({'server': 'r.example.com', 'username': 'u'}, 'password required'),
    ({'server': 'r.example.com', 'username': 'u', 'password': 'p', 'email': 'x'}, 'unknown key(s) email'),
    ({'server': 'a b', 'username': 'u', 'password': 'p'}, 'registry_auth.server'),
])
def test_bad_credentials_are_refused_by_name(auth, message):
    with pytest.raises(ra.RegistryAuthError) as err:
        ra.validate(auth)
    assert message in str(err.value)
    assert "'p'" not in str(err.value)


class Recorder(object):
    """Stands in for the engine client: what headers each call carries is the decision under test."""

    def __init__(self, error=None):
        self.calls = []
        self.error = error

    def post(self, path, data=None, params=None, headers=None):
        self.calls.append((path, headers))
        if self.error:
            raise self.error

    def get(self, path, params=None, headers=None):
        self.calls.append((path, headers))


class FakeEngineError(Exception):
    pass


def service_body(image):
    return {'Name': 'x', 'TaskTemplate': {'ContainerSpec': {'Image': image}}}


def test_the_client_adds_the_header_to_service_writes_of_that_registry_only():
    recorder = Recorder()
    client = AuthenticatingClient(recorder, AUTH)
    client.post('/services/create', data=service_body('registry.example.com:5000/app:1'))
    client.post('/services/abc/update', data=service_body('registry.example.com:5000/app:2'), params={'version': 3})
    client.post('/services/create', data=service_body('nginx'))
    client.post('/networks/create', data={'Name': 'n'})
    client.get('/services')
    headers = [h for _p, h in recorder.calls]
    assert headers[0] == headers[1] == {'X-Registry-Auth': ra.header(AUTH)}
    assert headers[2] == {} and headers[3] is None and headers[4] is None


def test_a_refused_login_says_so_without_the_password():
    answer = FakeEngineError('login attempt to https://registry.example.com:5000/v2/ failed with status: 401 '
                             'Unauthorized (sent pa55-w0rd)')
    with pytest.raises(ra.RegistryAuthError) as err:
        ra.check(Recorder(answer), AUTH, FakeEngineError)
    message = str(err.value)
    assert 'refused the login of user deploy' in message and '401 Unauthorized' in message
    assert 'pa55-w0rd' not in message
    tls = ra.explain_login_failure(AUTH, 'Get "https://registry.example.com:5000/v2/": x509: certificate signed by '
                                         'unknown authority')
    assert '/etc/docker/certs.d/registry.example.com:5000/ca.crt' in tls
    assert 'cannot reach' in ra.explain_login_failure(AUTH, 'dial tcp: lookup registry: no such host')


def test_the_client_is_the_engine_client_for_everything_else():
    """The service converger reads the API version and helpers of the client it is given (the stack module
    hands it this wrapper): they must be the real engine client's."""
    engine = EngineClient(api_version='1.41')
    client = AuthenticatingClient(engine, AUTH)
    assert client.api_version == '1.41'
    assert client.api_at_least((1, 41)) and not client.api_at_least((1, 44))
    assert client.local_node_state({'Swarm': {'LocalNodeState': 'active'}}) == 'active'
