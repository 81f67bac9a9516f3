"""The collection's Engine API client (plugins/module_utils/_engine.py) over real sockets.

A small HTTP server in the test process answers like an engine (version negotiation, JSON, the engine's
error form, chunked answers) on a Unix socket, on TCP and on TLS; the client is exercised end to end
against it. Against real engines the modules' integration tests use the same client.
"""

import json
import os
import socket
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

try:
    from socketserver import UnixStreamServer
except ImportError:  # pragma: no cover
    UnixStreamServer = None

import pytest

from ansible_collections.swarmops.swarm.plugins.module_utils import _engine
from ansible_collections.swarmops.swarm.plugins.module_utils._engine import EngineClient, EngineError


class FakeEngine(BaseHTTPRequestHandler):
    """Answers like dockerd: GET /version unversioned; everything else under /v1.43/."""

    seen = []

    def log_message(self, *args):
        pass

    def address_string(self):
        return 'client'

    def _send(self, status, body, chunked=False):
        data = json.dumps(body).encode('utf-8') if body is not None else b''
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        if chunked:
            self.send_header('Transfer-Encoding', 'chunked')
            self.end_headers()
            for start in range(0, len(data), 7):
                piece = data[start:start + 7]
                self.wfile.write(b'%x\r\n%s\r\n' % (len(piece), piece))
            self.wfile.write(b'0\r\n\r\n')
            return
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        FakeEngine.seen.append(('GET', self.path, dict(self.headers)))
        if self.path == '/version':
            return self._send(200, {'ApiVersion': '1.43', 'Version': '24.0.0'})
        if self.path == '/v1.43/info':
            return self._send(200, {'Swarm': {'LocalNodeState': 'active', 'ControlAvailable': True}}, chunked=True)
        if self.path.startswith('/v1.43/services?'):
            return self._send(200, [{'query': self.path.split('?', 1)[1]}])
        return self._send(404, {'message': 'page not found'})

    def do_POST(self):
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length else b''
        FakeEngine.seen.append(('POST', self.path, dict(self.headers), body))
        if self.path == '/v1.43/services/create':
            spec = json.loads(body)
            if not spec.get('Name'):
                return self._send(400, {'message': 'rpc error: code = InvalidArgument desc = name must be valid'})
            return self._send(201, {'ID': 'abc', 'Warnings': None})
        if self.path.startswith('/v1.43/swarm/leave'):
            self.send_response(200)
            self.send_header('Content-Length', '0')
            self.end_headers()
            return None
        return self._send(500, {'message': 'boom'})

    def do_DELETE(self):
        FakeEngine.seen.append(('DELETE', self.path, dict(self.headers)))
        self.send_response(200)
        self.send_header('Content-Length', '0')
        self.end_headers()


class UnixHTTPServer(UnixStreamServer):
    def get_request(self):
        request, _address = super(UnixHTTPServer, self).get_request()
        return request, ('local', 0)


def serve(server):
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


@pytest.fixture
def unix_engine(tmp_path):
    path = str(tmp_path / 'docker.sock')
    server = serve(UnixHTTPServer(path, FakeEngine))
    FakeEngine.seen = []
    yield 'unix://' + path
    server.shutdown()
    server.server_close()


@pytest.fixture
def tcp_engine():
    server = serve(HTTPServer(('127.0.0.1', 0), FakeEngine))
    FakeEngine.seen = []
    yield 'tcp://127.0.0.1:%d' % server.server_address[1]
    server.shutdown()
    server.server_close()


def test_negotiates_once_then_prefixes_every_path(unix_engine):
    client = EngineClient(unix_engine)
    assert FakeEngine.seen == []  # nothing is sent before the first request
    assert client.info()['Swarm']['LocalNodeState'] == 'active'  # a chunked answer
    assert client.get('/info')['Swarm']['ControlAvailable'] is True
    assert [call[1] for call in FakeEngine.seen] == ['/version', '/v1.43/info', '/v1.43/info']
    assert client.api_version == '1.43' and client.api_at_least((1, 41)) and not client.api_at_least((1, 44))


def test_query_parameters_and_bodies(unix_engine):
    client = EngineClient(unix_engine)
    answer = client.get('/services', params={'status': True, 'filters': {'name': ['web']}, 'skip': None})
    query = answer[0]['query']
    assert query == 'filters=%7B%22name%22%3A+%5B%22web%22%5D%7D&status=true'
    assert client.post('/services/create', data={'Name': 'web'}) == {'ID': 'abc', 'Warnings': None}
    method, path, headers, body = FakeEngine.seen[-1]
    assert (method, path, json.loads(body), headers['Content-Type']) == \
        ('POST', '/v1.43/services/create', {'Name': 'web'}, 'application/json')
    assert client.post('/swarm/leave', params={'force': True}) is None
    assert FakeEngine.seen[-1][1] == '/v1.43/swarm/leave?force=true'
    client.post('/services/create', data={'Name': 'web'}, headers={'X-Registry-Auth': 'e30='})
    assert FakeEngine.seen[-1][2]['X-Registry-Auth'] == 'e30='
    assert client.delete('/services/abc') is None


def test_engine_errors_carry_the_engines_message_and_status(unix_engine):
    client = EngineClient(unix_engine)
    with pytest.raises(EngineError) as err:
        client.post('/services/create', data={'Name': ''})
    assert err.value.status == 400 and err.value.path == '/services/create'
    assert str(err.value) == 'rpc error: code = InvalidArgument desc = name must be valid'
    with pytest.raises(EngineError) as err:
        client.get('/nodes/nope')
    assert err.value.status == 404 and str(err.value) == 'page not found'


def test_tcp_and_http_urls(tcp_engine):
    assert EngineClient(tcp_engine).info()['Swarm']['LocalNodeState'] == 'active'
    assert EngineClient(tcp_engine.replace('tcp://', 'http://')).info()['Swarm']['ControlAvailable']


def test_an_engine_that_does_not_answer_is_named_with_a_hint(tmp_path):
    with pytest.raises(EngineError) as err:
        EngineClient('unix://%s' % (tmp_path / 'none.sock')).get('/info')
    assert err.value.status is None
    assert 'Cannot reach the Docker engine at unix://' in str(err.value) and 'systemctl status docker' in str(err.value)
    closed = socket.socket()
    closed.bind(('127.0.0.1', 0))
    port = closed.getsockname()[1]
    closed.close()
    with pytest.raises(EngineError, match='Cannot reach the Docker engine at tcp://127.0.0.1:%d .*port open' % port):
        EngineClient('tcp://127.0.0.1:%d' % port, timeout=2).get('/info')


def test_something_that_is_not_an_engine_is_refused():
    server = serve(HTTPServer(('127.0.0.1', 0), BaseHTTPRequestHandler))  # answers 501 to everything
    try:
        with pytest.raises(EngineError, match='did not answer GET /version like a Docker engine'):
            EngineClient('tcp://127.0.0.1:%d' % server.server_address[1]).get('/info')
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize('host, tls, parsed', [
    ('unix:///var/run/docker.sock', False, ('unix', '/var/run/docker.sock', False)),
    ('tcp://10.0.0.1:2375', False, ('tcp', ('10.0.0.1', 2375), False)),
    ('tcp://10.0.0.1', False, ('tcp', ('10.0.0.1', 2375), False)),
    ('tcp://10.0.0.1', True, ('tcp', ('10.0.0.1', 2376), True)),
    ('https://manager.example.com', False, ('tcp', ('manager.example.com', 2376), True)),
    ('http://[2001:db8::1]:2375', False, ('tcp', ('2001:db8::1', 2375), False)),
])
def test_docker_host_forms(host, tls, parsed):
    assert _engine.parse_host(host, tls) == parsed


@pytest.mark.parametrize('host', ['unix://', '/var/run/docker.sock', 'ssh://me@host', 'tcp://', 'tcp://h:99999', ''])
def test_bad_docker_host_is_refused_with_the_forms(host):
    with pytest.raises(EngineError, match='docker_host'):
        EngineClient(host)


@pytest.fixture(scope='module')
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 (openssl, as an engine's TLS setup makes one)."""
    folder = tmp_path_factory.mktemp('tls')
    cert, key = str(folder / 'cert.pem'), str(folder / 'key.pem')
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
                    '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
                   check=True, capture_output=True)
    return cert, key


@pytest.fixture
def tls_engine(certificate):
    server = HTTPServer(('127.0.0.1', 0), FakeEngine)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    serve(server)
    yield 'https://127.0.0.1:%d' % server.server_address[1]
    server.shutdown()
    server.server_close()


def test_tls_checks_the_engines_certificate(tls_engine, certificate):
    assert EngineClient(tls_engine, ca_path=certificate[0]).info()['Swarm']['LocalNodeState'] == 'active'
    tcp = tls_engine.replace('https://', 'tcp://')
    assert EngineClient(tcp, tls=True, ca_path=certificate[0]).get('/info')
    with pytest.raises(EngineError, match='Cannot reach the Docker engine .*CERTIFICATE_VERIFY_FAILED'):
        EngineClient(tls_engine, timeout=5).get('/info')  # not signed by a CA the system trusts
    assert EngineClient(tls_engine, validate_certs=False).get('/info')


def test_a_missing_client_certificate_file_is_named(tls_engine, tmp_path):
    with pytest.raises(EngineError, match='^client_cert/client_key: cannot load'):
        EngineClient(tls_engine, client_cert=str(tmp_path / 'nope.pem'), client_key=str(tmp_path / 'nope.key'))


def test_no_docker_sdk_is_imported():
    source = open(_engine.__file__).read()
    assert 'import docker' not in source and 'requests' not in source
    assert os.path.basename(_engine.__file__) == '_engine.py'
