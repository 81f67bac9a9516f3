# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A thin client for the Docker Engine API, shared by every module of the collection.

The Docker SDK for Python is used only as the transport (unix socket, API version negotiation):
requests and responses are the Engine API's own JSON. That keeps the modules working the same
with the distributions' python3-docker 5.0.x and 7.x and the newest SDK from PyPI, whose
high-level helpers differ between versions, and lets the spec logic in swarm_spec work on
exactly what the engine stores.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import traceback

DOCKER_SDK_IMPORT_ERROR = None
try:
    import docker  # noqa: F401  (imported for the transport)
    from docker.errors import APIError, DockerException
    from requests.exceptions import RequestException
except ImportError:  # pragma: no cover - exercised on hosts without the SDK
    DOCKER_SDK_IMPORT_ERROR = traceback.format_exc()

    class APIError(Exception):  # type: ignore[no-redef]
        pass

    class DockerException(Exception):  # type: ignore[no-redef]
        pass

    class RequestException(Exception):  # type: ignore[no-redef]
        pass


DOCKER_SDK_PACKAGE_HINT = (
    "docker (Docker SDK for Python: install the python3-docker package on Debian/Ubuntu, "
    "or 'pip install docker'; the swarmops.swarm.docker role installs it)"
)

ENGINE_ARGUMENT_SPEC = dict(
    docker_host=dict(type='str', default='unix:///var/run/docker.sock', aliases=['docker_url']),
    api_timeout=dict(type='int', default=60),
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


def require_docker_sdk(module):
    """Fail the module, before anything is changed, when the Docker SDK is missing."""
    if DOCKER_SDK_IMPORT_ERROR is not None:
        from ansible.module_utils.basic import missing_required_lib
        module.fail_json(msg=missing_required_lib(DOCKER_SDK_PACKAGE_HINT), exception=DOCKER_SDK_IMPORT_ERROR)


class EngineClient(object):
    """GET/POST/DELETE on the Engine API with JSON in and out and errors as EngineError."""

    def __init__(self, base_url='unix:///var/run/docker.sock', timeout=60):
        try:
            self.api = docker.APIClient(base_url=base_url, version='auto', timeout=timeout)
        except DockerException as exc:
            raise EngineError(
                'Cannot talk to the Docker engine at %s: %s. Is docker installed and running '
                '(systemctl status docker)?' % (base_url, exc))
        self.base_url = base_url

    @classmethod
    def from_module(cls, module):
        require_docker_sdk(module)
        try:
            return cls(base_url=module.params['docker_host'], timeout=module.params['api_timeout'])
        except EngineError as exc:
            module.fail_json(msg=str(exc))

    @property
    def api_version(self):
        return self.api.api_version

    def _call(self, method, path, params=None, data=None, headers=None, expect_json=True):
        url = self.api._url(path)
        try:
            if method == 'GET':
                response = self.api._get(url, params=params)
            elif method == 'DELETE':
                response = self.api._delete(url, params=params)
            else:
                body = None if data is None else json.dumps(data)
                all_headers = {'Content-Type': 'application/json'}
                all_headers.update(headers or {})
                response = self.api._post(url, params=params, data=body, headers=all_headers)
            self.api._raise_for_status(response)
        except APIError as exc:
            status = exc.response.status_code if exc.response is not None else None
            raise EngineError(_engine_message(exc), status=status, path=path)
        except (RequestException, DockerException) as exc:
            raise EngineError('Cannot reach the Docker engine at %s (%s %s): %s'
                              % (self.base_url, method, path, exc), path=path)
        if not expect_json or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            return response.text

    def get(self, path, params=None):
        return self._call('GET', path, params=params)

    def post(self, path, data=None, params=None, headers=None):
        return self._call('POST', path, params=params, data=data, headers=headers)

    def delete(self, path, params=None):
        return self._call('DELETE', path, params=params, expect_json=False)

    # Small conveniences used by several modules.
    def info(self):
        return self.get('/info')

    def swarm(self):
        """The swarm as a manager sees it (spec, version, join tokens); EngineError on a non-manager."""
        return self.get('/swarm')

    def local_node_state(self, info=None):
        """'inactive', 'pending', 'active', 'error' or 'locked' (the engine's LocalNodeState)."""
        info = info or self.info()
        return (info.get('Swarm') or {}).get('LocalNodeState') or 'inactive'


def _engine_message(exc):
    explanation = getattr(exc, 'explanation', None)
    if isinstance(explanation, bytes):
        explanation = explanation.decode('utf-8', 'replace')
    if explanation:
        return str(explanation).strip()
    return str(exc)


def swarm_role(info):
    """'manager', 'worker' or None for the local node, from /info."""
    swarm = info.get('Swarm') or {}
    if swarm.get('LocalNodeState') != 'active':
        return None
    return 'manager' if swarm.get('ControlAvailable') else 'worker'
