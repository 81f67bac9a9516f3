# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type


class ModuleDocFragment(object):
    """Options of the shared Engine API client (plugins/module_utils/engine.py: ENGINE_ARGUMENT_SPEC)."""

    DOCUMENTATION = r'''
options:
  docker_host:
    description:
      - The Docker engine to talk to, as the Docker SDK for Python understands it
        (C(unix:///var/run/docker.sock), C(tcp://HOST:2375), ...).
      - The module runs on the managed node, so the default is that node's own engine.
    type: str
    default: unix:///var/run/docker.sock
    aliases: [docker_url]
  api_timeout:
    description:
      - Seconds to wait for one answer of the engine before giving up.
    type: int
    default: 60
requirements:
  - The Docker SDK for Python on the managed node (Debian/Ubuntu package C(python3-docker), 5.0 or newer,
    or C(pip install docker)). It is used only as the transport to the Engine API.
notes:
  - The modules speak the Engine API's own JSON, so they behave the same with the distributions'
    python3-docker 5.0.x and 7.x and the newest SDK from PyPI.
'''
