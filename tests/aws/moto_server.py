"""moto_server for the AWS suite, with one fix to moto that the suite needs.

Run as `python tests/aws/moto_server.py -H 127.0.0.1 -p PORT` (the arguments of moto_server).

moto 5.2.5 cannot store a security-group rule for a protocol without ports, such as ESP (IP protocol
50): its rule model converts the missing ports with int(None) and answers HTTP 500. EC2 itself stores
such a rule without ports. The fix below does the same, in this test server only: the collection sends
exactly what it sends to EC2.
"""

from __future__ import annotations

import sys

from moto.ec2.models import security_groups
from moto.server import main

# Protocols whose rules carry ports (or ICMP type/code) in EC2; every other protocol has none.
_PORTED = {'tcp', 'udp', 'icmp', 'icmpv6', '6', '17', '1', '58', '-1', 'all'}
_original_init = security_groups.SecurityGroupRule.__init__


def _init_without_ports(self, ec2_backend, ip_protocol, group_id, from_port, to_port, *args, **kwargs):
    portless = (ip_protocol is not None and str(ip_protocol).lower() not in _PORTED
                and from_port is None and to_port is None)
    if portless:
        _original_init(self, ec2_backend, ip_protocol, group_id, 0, 0, *args, **kwargs)
        self.from_port = self.to_port = None
    else:
        _original_init(self, ec2_backend, ip_protocol, group_id, from_port, to_port, *args, **kwargs)


security_groups.SecurityGroupRule.__init__ = _init_without_ports

if __name__ == '__main__':
    main(sys.argv[1:])
