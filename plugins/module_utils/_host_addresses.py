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


def parse_proc_route(text):
    """The interface of the default IPv4 route in /proc/net/route (the one of lowest metric), or ''."""
    best = None
    for line in (text or '').splitlines()[1:]:
        fields = line.split()
        # Iface Destination Gateway Flags RefCnt Use Metric Mask ...: destination and mask 0, flag RTF_UP
        if len(fields) < 8 or fields[1] != '00000000' or fields[7] != '00000000':
            continue
        try:
            up, metric = int(fields[3], 16) & 1, int(fields[6])
        except ValueError:
            continue
        if up and (best is None or metric < best[0]):
            best = (metric, fields[0])
    return best[1] if best else ''


def kernel_ipv4_addresses():
    """What ipv4_addresses returns, asked of the kernel without `ip` (a minimal image without iproute2): each
    interface's primary IPv4 address (SIOCGIFADDR), the default route's interface from /proc/net/route, and the
    source address the kernel picks for OUTSIDE (a UDP socket's connect sends nothing). Secondary addresses are
    not seen this way."""
    import fcntl
    import socket
    import struct

    interfaces = {}
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for _index, name in socket.if_nameindex():
            try:
                packed = fcntl.ioctl(probe.fileno(), 0x8915, struct.pack('256s', name[:15].encode('utf-8')))
            except (IOError, OSError):  # no IPv4 address on this interface
                continue
            interfaces.setdefault(name, []).append(socket.inet_ntoa(packed[20:24]))
        try:
            probe.connect((OUTSIDE, 53))
            source = probe.getsockname()[0]
        except (IOError, OSError):  # no route to the outside world
            source = ''
    finally:
        probe.close()
    try:
        with open('/proc/net/route') as handle:
            device = parse_proc_route(handle.read())
    except (IOError, OSError):
        device = ''
    route_get = '%s dev %s src %s' % (OUTSIDE, device, source) if source else ''
    route_default = 'default dev %s' % device if device else ''
    return {'interfaces': interfaces, 'default_ipv4': parse_default(route_get, route_default, interfaces)}


def ipv4_addresses(module):
    """{'interfaces': {name: [addresses]}, 'default_ipv4': str} of the host the module runs on, from `ip`
    (iproute2), or asked of the kernel directly on a host without it."""
    ip = module.get_bin_path('ip')
    if not ip:
        return kernel_ipv4_addresses()
    _rc, out, _err = module.run_command([ip, '-4', '-o', 'addr', 'show'])
    interfaces = parse_addresses(out)
    rc, route_get, _err = module.run_command([ip, '-4', 'route', 'get', OUTSIDE])
    _rc, route_default, _err = module.run_command([ip, '-4', 'route', 'show', 'default'])
    return {'interfaces': interfaces,
            'default_ipv4': parse_default(route_get if rc == 0 else '', route_default, interfaces)}
