"""The host's IPv4 addresses, as swarm_info and firewall_info read them (`ip` output parsed)."""

from ansible_collections.swarmops.swarm.plugins.module_utils._host_addresses import parse_addresses, parse_default

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
