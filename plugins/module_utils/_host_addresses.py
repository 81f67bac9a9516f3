# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A host's IPv4 addresses, for swarm_info (the advertise address) and firewall_info (the members' sources).
Private to the collection.

One reader, so the address a node advertises and the address the others' firewalls let in are found the same
way, and no play has to gather facts for them. The default address is what Ansible's default_ipv4 fact holds:
the source address the kernel picks for a packet to the outside world.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Any outside address does: `ip route get` only asks the routing table, nothing is sent.
OUTSIDE = '8.8.8.8'


def parse_addresses(text):
    """{interface: [IPv4 addresses]} from `ip -4 -o addr show`."""
    interfaces = {}
    for line in (text or '').splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[2] == 'inet':
            interfaces.setdefault(fields[1].split('@')[0], []).append(fields[3].split('/')[0])
    return interfaces


def _after(fields, word):
    return fields[fields.index(word) + 1] if word in fields[:-1] else ''


def parse_default(route_get, route_default, interfaces):
    """The default IPv4 address: the source of `ip -4 route get OUTSIDE` when it is an address of the host, else
    the first address of the default route's interface; empty without a default route."""
    fields = (route_get or '').split()
    source = _after(fields, 'src')
    if source and any(source in addresses for addresses in interfaces.values()):
        return source
    device = _after(fields, 'dev') or _after((route_default or '').split(), 'dev')
    return (interfaces.get(device) or [''])[0]


def ipv4_addresses(module):
    """{'interfaces': {name: [addresses]}, 'default_ipv4': str} of the host the module runs on. Without `ip`
    (iproute2), nothing is known: both empty."""
    ip = module.get_bin_path('ip')
    if not ip:
        return {'interfaces': {}, 'default_ipv4': ''}
    _rc, out, _err = module.run_command([ip, '-4', '-o', 'addr', 'show'])
    interfaces = parse_addresses(out)
    rc, route_get, _err = module.run_command([ip, '-4', 'route', 'get', OUTSIDE])
    _rc, route_default, _err = module.run_command([ip, '-4', 'route', 'show', 'default'])
    return {'interfaces': interfaces,
            'default_ipv4': parse_default(route_get if rc == 0 else '', route_default, interfaces)}
