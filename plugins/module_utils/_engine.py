# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's one client for the Docker Engine API, on Python's standard library alone.

Private to the collection (the leading underscore). Every module that talks to an engine uses it:

    client = EngineClient('unix:///var/run/docker.sock')
    info = client.get('/info')

It speaks HTTP/1.1 over the engine's Unix socket (`unix://PATH`) or over TCP (`tcp://HOST:PORT` and
`http://HOST:PORT`, `https://HOST:PORT` or `tls=True` for TLS), negotiates the API version once per
client (`GET /version`, then every path is sent as `/vX.Y/PATH`), and turns the engine's
`{"message": ...}` errors into EngineError. Requests and answers are the Engine API's own JSON, so
the spec logic (swarm_spec, swarm_cluster) works on exactly what the engine stores, and the modules
need nothing on the node but Python 3 (no Docker SDK).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import socket
import ssl

import http.client as http_client
from urllib.parse import urlencode, urlsplit

DEFAULT_HOST = 'unix:///var/run/docker.sock'
USER_AGENT = 'swarmops.swarm'

ENGINE_ARGUMENT_SPEC = dict(
    docker_host=dict(type='str', default=DEFAULT_HOST, aliases=['docker_url']),
    api_timeout=dict(type='int', default=60),
    tls=dict(type='bool', default=False),
    validate_certs=dict(type='bool', default=True),
    ca_path=dict(type='path', aliases=['ca_cert']),
    client_cert=dict(type='path'),
    client_key=dict(type='path'),
)


class EngineError(Exception):
    """An error answered by the engine (status set) or met on the way to it (status None)."""

    def __init__(self, message, status=None, path=None):
        super(EngineError, self).__init__(message)
        self.message = message
        self.status = status
        self.path = path

    def __str__(self):
        return self.message


class _UnixHTTPConnection(http_client.HTTPConnection):
    """HTTP/1.1 over a Unix socket (the engine's default endpoint)."""

    def __init__(self, path, timeout):
        http_client.HTTPConnection.__init__(self, 'localhost', timeout=timeout)
        self.socket_path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.socket_path)
        except Exception:
            sock.close()
            raise
        self.sock = sock


def parse_host(docker_host, tls=False):
    """(kind, address, use_tls) of a docker_host: ('unix', PATH, False) or ('tcp', (HOST, PORT), TLS).

    ValueError with the accepted forms for anything else.
    """
    text = (docker_host or '').strip()
    if text.startswith('unix://'):
        path = text[len('unix://'):]
        if not path:
            raise ValueError('docker_host %r names no socket path; write unix:///var/run/docker.sock' % docker_host)
        return 'unix', path, False
    parts = urlsplit(text)
    if parts.scheme not in ('tcp', 'http', 'https') or not parts.hostname:
        raise ValueError('docker_host %r is not an engine address; write unix:///PATH, tcp://HOST:PORT, '
                         'http://HOST:PORT or https://HOST:PORT' % docker_host)
    use_tls = parts.scheme == 'https' or bool(tls)
    try:
        port = parts.port
    except ValueError:
        raise ValueError('docker_host %r has a port outside 1-65535' % docker_host)
    if port is None:
        port = 2376 if use_tls else 2375
    return 'tcp', (parts.hostname, port), use_tls


def _query(params):
    """Query string of PARAMS: booleans as true/false, dicts and lists (filters) as JSON."""
    if not params:
        return ''
    items = []
    for key, value in sorted(params.items()):
        if value is None:
            continue
        if isinstance(value, bool):
            value = 'true' if value else 'false'
        elif isinstance(value, (dict, list)):
            value = json.dumps(value)
        items.append((key, value))
    return '?' + urlencode(items) if items else ''


def api_version_tuple(version):
    """(1, 41) of '1.41'; (0, 0) for anything unreadable."""
    try:
        return tuple(int(part) for part in str(version).split('.')[:2])
    except ValueError:
        return (0, 0)


class EngineClient(object):
    """GET/POST/DELETE on the Engine API with JSON in and out and errors as EngineError.

    Nothing is sent before the first request; the API version is negotiated then (or pass
    API_VERSION, e.g. '1.41', to skip that).
    """

    def __init__(self, base_url=DEFAULT_HOST, timeout=60, api_version=None, tls=False, validate_certs=True,
                 ca_path=None, client_cert=None, client_key=None):
        try:
            self.kind, self.address, self.use_tls = parse_host(base_url, tls)
        except ValueError as exc:
            raise EngineError(str(exc))
        self.base_url = base_url
        self.timeout = timeout
        self._api_version = api_version
        self._ssl_context = None
        if self.use_tls:
            self._ssl_context = _tls_context(validate_certs, ca_path, client_cert, client_key)

    @classmethod
    def from_module(cls, module, failure=None):
        """The client for MODULE's engine options; fails the module (nothing changed) when the engine
        does not answer, so every later error is about the request, not the connection. FAILURE: more
        results for that failure (what the module read before)."""
        params = module.params
        try:
            client = cls(base_url=params['docker_host'], timeout=params['api_timeout'],
                         tls=params.get('tls'), validate_certs=params.get('validate_certs', True),
                         ca_path=params.get('ca_path'), client_cert=params.get('client_cert'),
                         client_key=params.get('client_key'))
            client.negotiate()
        except EngineError as exc:
            module.fail_json(msg=str(exc), **(failure or {}))
        return client

    # ---- transport -------------------------------------------------------------------------------
    def _connection(self):
        if self.kind == 'unix':
            return _UnixHTTPConnection(self.address, self.timeout)
        host, port = self.address
        if self.use_tls:
            return http_client.HTTPSConnection(host, port, timeout=self.timeout, context=self._ssl_context)
        return http_client.HTTPConnection(host, port, timeout=self.timeout)

    def _unreachable(self, method, path, exc):
        hint = ('Is docker installed and running (systemctl status docker)?' if self.kind == 'unix'
                else 'Does the engine listen there, and is the port open to this host?')
        return EngineError('Cannot reach the Docker engine at %s (%s %s): %s. %s'
                           % (self.base_url, method, path, exc or exc.__class__.__name__, hint), path=path)

    def raw(self, method, url, body=None, headers=None):
        """(status, parsed answer) of one request to URL (a path with its query, unversioned)."""
        all_headers = {'User-Agent': USER_AGENT, 'Host': 'docker' if self.kind == 'unix' else self.address[0]}
        if body is not None:
            all_headers['Content-Type'] = 'application/json'
        all_headers.update(headers or {})
        connection = self._connection()
        try:
            connection.request(method, url, body=body, headers=all_headers)
            response = connection.getresponse()
            content = response.read()
            status = response.status
            content_type = response.getheader('Content-Type') or ''
        except (socket.error, socket.timeout, ssl.SSLError, http_client.HTTPException, OSError) as exc:
            raise self._unreachable(method, url.split('?')[0], exc)
        finally:
            connection.close()
        text = content.decode('utf-8', 'replace') if content else ''
        if 'json' in content_type and text:
            try:
                return status, json.loads(text)
            except ValueError:
                return status, text
        return status, text or None

    def negotiate(self):
        """The API version to speak: the engine's own (GET /version), once per client."""
        if self._api_version is None:
            status, answer = self.raw('GET', '/version')
            if status != 200 or not isinstance(answer, dict) or not answer.get('ApiVersion'):
                raise EngineError('The endpoint %s did not answer GET /version like a Docker engine (HTTP %s: %s)'
                                  % (self.base_url, status, _message(answer)), status=status, path='/version')
            self._api_version = answer['ApiVersion']
        return self._api_version

    @property
    def api_version(self):
        return self.negotiate()

    def api_at_least(self, wanted):
        """Whether the negotiated API is WANTED (a tuple such as (1, 44)) or newer."""
        return api_version_tuple(self.api_version) >= tuple(wanted)

    def call(self, method, path, params=None, data=None, headers=None):
        """The parsed answer of METHOD PATH; EngineError (with the HTTP status) on an error answer."""
        url = '/v%s%s%s' % (self.negotiate(), path, _query(params))
        body = None if data is None else json.dumps(data).encode('utf-8')
        if body is None and method == 'POST':
            body = b''
        status, answer = self.raw(method, url, body=body, headers=headers)
        if status >= 400:
            raise EngineError(_message(answer) or 'HTTP %d from %s %s' % (status, method, path), status=status,
                              path=path)
        return answer

    def get(self, path, params=None, headers=None):
        return self.call('GET', path, params=params, headers=headers)

    def post(self, path, data=None, params=None, headers=None):
        return self.call('POST', path, params=params, data=data, headers=headers)

    def delete(self, path, params=None):
        self.call('DELETE', path, params=params)

    # ---- small conveniences used by several modules ----------------------------------------------
    def info(self):
        return self.get('/info')

    def swarm(self):
        """The swarm as a manager sees it (spec, version, join tokens); EngineError on a non-manager."""
        return self.get('/swarm')

    def local_node_state(self, info=None):
        """'inactive', 'pending', 'active', 'error' or 'locked' (the engine's LocalNodeState)."""
        info = info or self.info()
        return (info.get('Swarm') or {}).get('LocalNodeState') or 'inactive'


def _tls_context(validate_certs, ca_path, client_cert, client_key):
    context = ssl.create_default_context(cafile=ca_path) if validate_certs else ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if not validate_certs:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if client_cert:
        try:
            context.load_cert_chain(client_cert, client_key)
        except (IOError, OSError, ssl.SSLError) as exc:
            raise EngineError('client_cert/client_key: cannot load %s (%s)' % (client_cert, exc))
    return context


def _message(answer):
    if isinstance(answer, dict):
        return str(answer.get('message') or '').strip() or json.dumps(answer)
    return (answer or '').strip()


def swarm_role(info):
    """'manager', 'worker' or None for the local node, from /info."""
    swarm = info.get('Swarm') or {}
    if swarm.get('LocalNodeState') != 'active':
        return None
    return 'manager' if swarm.get('ControlAvailable') else 'worker'
