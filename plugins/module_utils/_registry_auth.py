# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Registry credentials sent the way `docker service create --with-registry-auth` sends them.

The CLI puts the credentials of the image's registry in the X-Registry-Auth header of the service
create/update call (base64url of a JSON AuthConfig); the manager stores them with the service and
hands them to the workers that pull its image. Credentials go only with images of their own
registry: an image from another registry gets no header, so a password never travels to a registry
it does not belong to.

Pure functions (unit-tested) plus `check()`, one POST /auth through the manager's engine, which asks
the registry whether the credentials are good before anything is created: a wrong password then
fails the run with the registry's answer, instead of tasks that cannot pull.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import re

DOCKER_HUB = 'docker.io'
_HUB_ALIASES = ('docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com')
AUTH_OPTIONS = dict(
    server=dict(type='str', required=True),
    username=dict(type='str', required=True),
    password=dict(type='str', required=True, no_log=True),
)


class RegistryAuthError(ValueError):
    """Bad credentials or a registry that refused them; the message never holds the password."""


def normalise_server(server):
    """'https://reg.example.com:5000/' -> 'reg.example.com:5000'; Docker Hub's names -> 'docker.io'."""
    text = re.sub(r'^[a-z]+://', '', str(server or '').strip()).rstrip('/')
    text = text.split('/', 1)[0]
    if text in _HUB_ALIASES:
        return DOCKER_HUB
    return text


def validate(auth, field='registry_auth'):
    """{server, username, password} -> the same with the server normalised; RegistryAuthError otherwise."""
    if auth is None:
        return None
    if not isinstance(auth, dict):
        raise RegistryAuthError('%s must be a dict with server, username and password' % field)
    missing = [key for key in ('server', 'username', 'password') if not auth.get(key)]
    if missing:
        raise RegistryAuthError('%s: %s required (the password from Ansible Vault)' % (field, ', '.join(missing)))
    unknown = sorted(set(auth) - set(['server', 'username', 'password']))
    if unknown:
        raise RegistryAuthError('%s: unknown key(s) %s; it has server, username, password' % (field, ', '.join(unknown)))
    server = normalise_server(auth['server'])
    if not server or ' ' in server:
        raise RegistryAuthError('%s.server: %r is not a registry address (host or host:port)' % (field, auth['server']))
    return {'server': server, 'username': str(auth['username']), 'password': str(auth['password'])}


def image_registry(image):
    """The registry an image reference pulls from: 'reg.example.com:5000/app:1' -> 'reg.example.com:5000',
    'nginx' and 'library/nginx' -> 'docker.io' (the first part is a host only with a '.', a ':' or 'localhost')."""
    first, sep, _rest = str(image or '').partition('/')
    if sep and ('.' in first or ':' in first or first == 'localhost'):
        return normalise_server(first)
    return DOCKER_HUB


def header(auth):
    """The X-Registry-Auth header value for AUTH (the CLI's encoding: URL-safe base64 of the JSON)."""
    body = {'username': auth['username'], 'password': auth['password'], 'serveraddress': auth['server']}
    return base64.urlsafe_b64encode(json.dumps(body).encode('utf-8')).decode('ascii')


def headers_for(image, auth):
    """{'X-Registry-Auth': ...} when IMAGE comes from AUTH's registry, else {}."""
    if not auth or not image or image_registry(image) != auth['server']:
        return {}
    return {'X-Registry-Auth': header(auth)}


def scrub(text, auth):
    """TEXT with AUTH's password replaced (for messages that quote an engine's or a registry's answer)."""
    text = str(text)
    if auth and auth.get('password'):
        text = text.replace(auth['password'], '********')
    return text


def check(client, auth, error_class):
    """Ask the registry, through the engine (POST /auth), whether AUTH's credentials are good.

    Raises RegistryAuthError with the registry's answer when they are not; ERROR_CLASS is the
    client's error type (the engine client's EngineError).
    """
    body = {'username': auth['username'], 'password': auth['password'], 'serveraddress': auth['server']}
    try:
        client.post('/auth', data=body)
    except error_class as exc:
        raise RegistryAuthError(explain_login_failure(auth, scrub(exc, auth)))


def explain_login_failure(auth, answer):
    """A message that says which of the usual causes the engine's ANSWER points at."""
    lowered = answer.lower()
    if 'x509' in lowered or 'certificate' in lowered:
        cause = ('the manager\'s engine does not trust the registry\'s TLS certificate: install its CA as '
                 '/etc/docker/certs.d/%s/ca.crt on every node (docker_registry_ca_certs)' % auth['server'])
    elif any(word in lowered for word in ('no such host', 'connection refused', 'timeout', 'i/o timeout',
                                          'no route to host', 'server misbehaving')):
        cause = 'the manager cannot reach the registry'
    else:
        cause = 'the registry refused the login of user %s (wrong username or password?)' % auth['username']
    return 'registry_auth: %s: %s. The registry answered: %s' % (auth['server'], cause, answer)
