"""The host's IPv4 addresses, as swarm_info and firewall_info read them (`ip` output parsed, or the kernel asked
directly on a host without `ip`)."""

import shutil
import subprocess

from ansible_collections.swarmops.swarm.plugins.module_utils._host_addresses import (
    OUTSIDE, kernel_ipv4_addresses, parse_addresses, parse_default, parse_proc_route,
)

ADDR = '''1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
2: eth0    inet 10.213.120.11/24 brd 10.213.120.255 scope global eth0\\       valid_lft forever preferred_lft forever
2: eth0    inet 10.213.120.50/24 scope global secondary eth0\\       valid_lft forever preferred_lft forever
5: vlan7@eth0    inet 192.168.7.2/24 scope global vlan7\\       valid_lft forever preferred_lft forever
7: docker_gwbridge    inet 172.18.0.1/16 brd 172.18.255.255 scope global docker_gwbridge
'''
INTERFACES = {'lo': ['127.0.0.1'], 'eth0': ['10.213.120.11', '10.213.120.50'], 'vlan7': ['192.168.7.2'],
              'docker_gwbridge': ['172.18.0.1']}


def test_addresses_by_interface_in_order_secondaries_and_vlan_names_included():
    assert parse_addresses(ADDR) == INTERFACES
    assert parse_addresses('') == {} and parse_addresses(None) == {}
    assert parse_addresses('garbage\n3: eth1 inet6 fe80::1/64 scope link') == {}


def test_default_is_the_kernels_source_address_for_the_outside():
    get = '8.8.8.8 via 10.213.120.1 dev eth0 src 10.213.120.50 uid 0 \n    cache '
    default = 'default via 10.213.120.1 dev eth0 '
    # the source the kernel picks, even when it is not the interface's first address (what ansible_default_ipv4 holds)
    assert parse_default(get, default, INTERFACES) == '10.213.120.50'
    # a source that is no address of the host (a hostile or odd answer) is not believed: the interface's first
    assert parse_default(get.replace('10.213.120.50', '1.2.3.4'), default, INTERFACES) == '10.213.120.11'
    # `ip route get` failed (no route to the outside): the default route's interface
    assert parse_default('', default, INTERFACES) == '10.213.120.11'
    # no default route at all, or one through an interface without IPv4
    assert parse_default('', '', INTERFACES) == ''
    assert parse_default('', 'default dev wg0 scope link', INTERFACES) == ''
    assert parse_default('dev', 'default via', {}) == ''


PROC_ROUTE = """Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth1\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0
eth0\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0
wg0\t00000000\t00000000\t0000\t0\t0\t0\t00000000\t0\t0\t0
eth2\t000AD50A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
bad\t00000000\t00000000\tzz\t0\t0\tx\t00000000
short\t00000000
"""


def test_default_route_interface_from_proc_is_the_lowest_metric_route_that_is_up():
    # wg0's default route is not up (flags 0), eth2's route is no default, malformed lines are passed over
    assert parse_proc_route(PROC_ROUTE) == 'eth0'
    assert parse_proc_route(PROC_ROUTE.replace('\t100\t', '\t900\t')) == 'eth1'
    assert parse_proc_route(PROC_ROUTE.splitlines()[0]) == '' and parse_proc_route(None) == ''


def test_kernel_read_agrees_with_ip_on_this_host():
    """A host without `ip` is read from the kernel: on this machine both ways must find the same primary
    address of every interface and the same default address."""
    kernel = kernel_ipv4_addresses()
    assert kernel['interfaces'].get('lo') == ['127.0.0.1']
    ip = shutil.which('ip')
    if ip is None:  # nothing to compare with: the kernel read alone must still be coherent
        every = [a for addresses in kernel['interfaces'].values() for a in addresses]
        assert kernel['default_ipv4'] == '' or kernel['default_ipv4'] in every
        return

    def ip_says(*argv):
        return subprocess.run([ip, '-4'] + list(argv), capture_output=True, text=True, check=False)

    shown = parse_addresses(ip_says('-o', 'addr', 'show').stdout)
    get = ip_says('route', 'get', OUTSIDE)
    default = ip_says('route', 'show', 'default').stdout
    both = set(shown) & set(kernel['interfaces'])  # interfaces may come and go while the test runs
    assert 'lo' in both
    for name in both:
        assert kernel['interfaces'][name] == shown[name][:1], name
    assert kernel['default_ipv4'] == parse_default(get.stdout if get.returncode == 0 else '', default, shown)
