# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: host_read_fits
short_description: Whether a read made earlier in the run answers for the read a role is about to make
version_added: 0.1.0
description:
  - The firewall and docker roles each read the host in one module call (M(swarmops.swarm.firewall_info),
    M(swarmops.swarm.docker_engine_info)). M(swarmops.swarm.swarm_info) can make the same reads in the call that
    reads the swarm (its C(firewall) and C(engine) options), so a playbook's first read of a node carries them
    and each role saves a round trip.
  - True only when the role reads with some options and the given read is a mapping that carries the options it
    was made with (C(options)) and every option the role would read with has the same value there. Anything
    else (no read, a read made with other options, a value of another type) is false, and the role reads the
    host itself.
  - Whether the host changed since the read was made is the caller's to know; the playbook passes a read only
    where nothing changed since.
options:
  _input:
    description: The earlier read (C(firewall_read) or C(engine_read) of a swarm_info result), or nothing.
    type: raw
    required: true
  options:
    description: The options the role would read the host with.
    type: dict
    required: true
'''

EXAMPLES = r'''
- name: Read the host unless the play's first read already did
  swarmops.swarm.firewall_info:
    backend: "{{ firewall_backend }}"
  when: "not (firewall_host_read | swarmops.swarm.host_read_fits(firewall_read_options))"
  register: firewall_read
'''

RETURN = r'''
_value:
  description: Whether the earlier read can stand for the role's own.
  type: bool
'''

from collections.abc import Mapping


def _plain(value):
    """Values as the module's argument checks leave them and as JSON brings them back: a list and a tuple are
    the same, a mapping compares by its items, and None stands for an option left out."""
    if isinstance(value, Mapping):
        return dict((str(key), _plain(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if value == '':
        return None
    return value


def host_read_fits(read, options):
    if not isinstance(read, Mapping) or not isinstance(options, Mapping) or not options:
        return False
    made_with = read.get('options')
    if not isinstance(made_with, Mapping) or read.get('failed'):
        return False
    return all(_plain(made_with.get(key)) == _plain(value) for key, value in options.items())


class FilterModule(object):
    def filters(self):
        return {'host_read_fits': host_read_fits}
