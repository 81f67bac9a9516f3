# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type


class ModuleDocFragment(object):
    """Options of the collection's Engine API client (plugins/module_utils/_engine.py: ENGINE_ARGUMENT_SPEC)."""

    DOCUMENTATION = r'''
options:
  docker_host:
    description:
      - The Docker engine to talk to - V(unix:///var/run/docker.sock) (a Unix socket), V(tcp://HOST:2375) or
        V(http://HOST:2375) (plain TCP), V(https://HOST:2376) (TLS; or V(tcp://...) with O(tls=true)).
      - The module runs on the managed node, so the default is that node's own engine. Set it for every swarm
        module of a play at once with C(module_defaults) and the group C(group/swarmops.swarm.swarm).
    type: str
    default: unix:///var/run/docker.sock
    aliases: [docker_url]
  api_timeout:
    description:
      - Seconds to wait for one answer of the engine before giving up.
    type: int
    default: 60
  tls:
    description:
      - Speak TLS to a V(tcp://) O(docker_host) (V(https://) always does).
    type: bool
    default: false
  validate_certs:
    description:
      - With TLS, check the engine's certificate against O(ca_path) (or the system's CAs) and its host name.
    type: bool
    default: true
  ca_path:
    description:
      - With TLS, the CA certificate (PEM) that signed the engine's certificate.
    type: path
    aliases: [ca_cert]
  client_cert:
    description:
      - With TLS, the client certificate (PEM) to present, for an engine started with C(--tlsverify).
    type: path
  client_key:
    description:
      - With TLS, the private key (PEM) of O(client_cert).
    type: path
requirements:
  - Python 3 on the host the module runs on; nothing else. The modules speak the Engine API over HTTP with
    Python's standard library (no Docker SDK needed), and negotiate the API version with the engine.
notes:
  - Requests and answers are the Engine API's own JSON, so the modules behave the same on every engine
    version they support (API 1.41, Docker 20.10, and newer).
'''
