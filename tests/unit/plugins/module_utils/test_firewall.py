"""The firewall role's rules as data: validation, the wanted rules, ufw's files, firewalld's rich rules, DOCKER-USER.

The ufw fixtures are files ufw 0.36.2 (Debian 12 and 13) wrote itself: `ufw-user.rules.package` as the package
installs it, `ufw-user*.rules.written` after `ufw allow ...` of rules carrying the role's comments and of rules of
someone else's. The role's rendering must produce, rule for rule, the bytes ufw writes.
"""

import re
from pathlib import Path

import pytest

from ansible_collections.swarmops.swarm.plugins.module_utils import _firewall as fw

FIXTURES = Path(__file__).parent / 'fixtures'


def fixture(name):
    return (FIXTURES / name).read_text()


def rule(kind, proto, port, src, comment):
    return {'kind': kind, 'proto': proto, 'port': port, 'src': src, 'comment': comment}


# The rules whose tuples ufw wrote into the fixtures (same comments), in the role's order.
WRITTEN_RULES = [
    rule('swarm', 'tcp', '2377', '10.0.0.11', 'swarmops: swarm cluster management (2377/tcp)'),
    rule('swarm', 'udp', '4789', '10.0.0.0/24', 'swarmops: swarm overlay network traffic (VXLAN) (4789/udp)'),
    rule('swarm', 'esp', 'any', '10.0.0.11', 'swarmops: swarm encrypted overlay (ESP, IP protocol 50)'),
    rule('swarm', 'udp', '7946', '2001:db8::1', 'swarmops: swarm node gossip (7946/udp)'),
    rule('swarm', 'esp', 'any', '2001:db8::/32', 'swarmops: swarm encrypted overlay (ESP, IP protocol 50)'),
    rule('ssh', 'tcp', '2222', 'any', 'swarmops: ssh (2222/tcp, keeps the operator connected)'),
    rule('published', 'tcp', '8000:8010', 'any', 'swarmops: published port 8000:8010/tcp - web'),
]


def blocks(text):
    return [match.group(0) for match in fw.UFW_BLOCK.finditer(text)]


# ---- validation ------------------------------------------------------------------------------------------

@pytest.mark.parametrize('value, expected', [
    ('10.0.0.1', '10.0.0.1'),
    ('10.0.0.1/32', '10.0.0.1'),
    (' 10.0.0.0/24 ', '10.0.0.0/24'),
    ('2001:DB8:0:0::1', '2001:db8::1'),
    ('2001:db8::/32', '2001:db8::/32'),
    ('2001:db8::1/128', '2001:db8::1'),
])
def test_sources_are_canonical(value, expected):
    assert fw.source(value, 'x') == expected


@pytest.mark.parametrize('value, words', [
    ('10.0.0.1/24', ['not in network form', '10.0.0.0/24']),
    ('2001:db8::1/64', ['not in network form', '2001:db8::/64']),
    ('10.0.0.0/33', ['not an IP address']),
    ('300.1.1.1', ['not an IP address']),
    ('010.0.0.1', ['not an IP address']),
    ('example.com', ['not an IP address']),
    ('', ['not an IP address']),
    ('10.0.0.1" accept', ['not an IP address']),
    ('10.0.0.1\nrule family="ipv4" accept', ['not an IP address']),
    ('10.0.0.1 -j ACCEPT', ['not an IP address']),
    (None, ['not a string']),
    (True, ['not a string']),
    (167772161, ['not an IP address']),
    (['10.0.0.1'], ['not a string']),
    ('any', ['"any" is not allowed']),
])
def test_bad_sources_are_refused_naming_the_variable(value, words):
    with pytest.raises(fw.FirewallInputError) as error:
        fw.source(value, 'firewall_extra_sources[3]')
    assert str(error.value).startswith('firewall_extra_sources[3]: ')
    for word in words:
        assert word in str(error.value)


@pytest.mark.parametrize('src, world', [
    ('any', True), ('0.0.0.0/0', True), ('::/0', True), ('0.0.0.0/1', True), ('128.0.0.0/1', True),
    ('8.0.0.0/7', True), ('2000::/3', True), ('10.0.0.0/7', True),
    ('10.0.0.0/8', False), ('192.168.0.0/16', False), ('fc00::/7', False), ('2001:db8::/32', False),
    ('198.51.100.7', False), ('11.0.0.0/8', False),
])
def test_world_sources(src, world):
    assert fw.is_world(src) is world


def test_world_sources_refused_for_the_swarm_ports_unless_allowed():
    errors = []
    assert fw.sources_list(['10.0.0.0/8', '0.0.0.0/0', '::/0', '128.0.0.0/1'], 'firewall_extra_sources', errors,
                           allow_world=False) == ['10.0.0.0/8']
    assert len(errors) == 3
    assert all('firewall_allow_world' in error for error in errors)
    assert errors[0].startswith('firewall_extra_sources[1]: ')
    errors = []
    assert fw.sources_list(['0.0.0.0/0'], 'firewall_extra_sources', errors, allow_world=True) == ['0.0.0.0/0']
    assert errors == []


@pytest.mark.parametrize('value, expected', [(22, '22'), ('2222', '2222'), ('8000:8010', '8000:8010'),
                                             ('1:65535', '1:65535'), (' 80 ', '80')])
def test_ports(value, expected):
    assert fw.port(value, 'p') == expected


@pytest.mark.parametrize('value', [0, 65536, -1, '0', '80:80', '90:80', '1-2', 'ssh', '22/tcp', '22,23', True,
                                   None, '', '1:70000', 3.5, '22 -j ACCEPT'])
def test_bad_ports(value):
    with pytest.raises(fw.FirewallInputError) as error:
        fw.port(value, 'firewall_published_ports[0].port')
    assert str(error.value).startswith('firewall_published_ports[0].port: ')


@pytest.mark.parametrize('value', ['icmp', 'esp', 'tcp6', '', 'all', None])
def test_bad_protocols(value):
    with pytest.raises(fw.FirewallInputError) as error:
        fw.protocol(value, 'firewall_published_ports[1].protocol')
    assert 'firewall_published_ports[1].protocol' in str(error.value)


def test_protocol_is_lower_case():
    assert fw.protocol('TCP', 'x') == 'tcp'


@pytest.mark.parametrize('value', ['web " accept', "it's", 'a\nb', 'tab\there', 'back\\slash', 'x' * 201,
                                   'bell\x07', '`id`', 7])
def test_bad_comments(value):
    with pytest.raises(fw.FirewallInputError) as error:
        fw.comment(value, 'firewall_published_ports[2].comment')
    assert 'firewall_published_ports[2].comment' in str(error.value)


def test_comment_may_be_plain_text():
    assert fw.comment('web front end (TLS), v2', 'c') == 'web front end (TLS), v2'
    assert fw.comment(None, 'c') == ''


@pytest.mark.parametrize('value', ['', 'a' * 18, 'bad name', '-x', 'x;y', 'zone"'])
def test_bad_policy_names(value):
    with pytest.raises(fw.FirewallInputError):
        fw.policy_name(value, 'firewall_firewalld_policy')


def test_published_ports_collect_every_error_with_its_path():
    errors = []
    out = fw.published_ports([
        {'port': 8080},
        {'port': 70000, 'protocol': 'tcp'},
        {'port': 53, 'protocol': 'icmp', 'sources': ['10.0.0.1/8']},
        {'proto': 'tcp'},
        'x',
        {'port': '9000:9010', 'protocol': 'udp', 'sources': ['192.0.2.0/24', 'any'], 'comment': 'ok'},
        {'port': 443, 'comment': 'say "hi"', 'colour': 'blue'},
    ], 'firewall_published_ports', errors)
    assert out == [
        {'port': '8080', 'protocol': 'tcp', 'sources': ['any'], 'comment': ''},
        {'port': '9000:9010', 'protocol': 'udp', 'sources': ['any'], 'comment': 'ok'},
    ]
    text = '\n'.join(errors)
    for path in ('firewall_published_ports[1].port', 'firewall_published_ports[2].protocol',
                 'firewall_published_ports[2].sources[0]', 'firewall_published_ports[3].port is missing',
                 'firewall_published_ports[3]: unknown keys proto', 'firewall_published_ports[4]: ',
                 'firewall_published_ports[6].comment', 'firewall_published_ports[6]: unknown keys colour'):
        assert path in text


def test_modules_validate_their_rules_again():
    good = WRITTEN_RULES[0]
    assert fw.check_rules([good]) == [good]
    bad = [dict(good, src='10.0.0.1/8'), dict(good, comment='not ours'), dict(good, proto='icmp'),
           dict(good, proto='esp', port='22'), dict(good, kind='other'), dict(good, port='0')]
    with pytest.raises(fw.FirewallInputError) as error:
        fw.check_rules(bad)
    for index, word in enumerate(['rules[0].src', 'rules[1].comment', 'rules[2].proto', 'rules[3].port',
                                  'rules[4].kind', 'rules[5].port']):
        assert word in str(error.value), (index, str(error.value))


# ---- the wanted rules ------------------------------------------------------------------------------------

def test_manager_gets_the_management_port_workers_do_not():
    manager = fw.wanted_rules(True, ['10.0.0.11', '10.0.0.12'], True, [], [], [])
    worker = fw.wanted_rules(False, ['10.0.0.11', '10.0.0.12'], True, [], [], [])
    assert [(r['proto'], r['port']) for r in manager if r['src'] == '10.0.0.12'] == [
        ('tcp', '2377'), ('tcp', '7946'), ('udp', '7946'), ('udp', '4789'), ('esp', 'any')]
    assert not [r for r in worker if r['port'] == '2377']
    assert all(r['comment'].startswith('swarmops: ') for r in manager)


def test_esp_only_when_allowed_and_duplicates_once():
    rules = fw.wanted_rules(False, ['10.0.0.11'], False, [2222, 22], ['10.0.0.11'],
                            [{'port': '7946', 'protocol': 'tcp', 'sources': ['10.0.0.11'], 'comment': ''}])
    assert not [r for r in rules if r['proto'] == 'esp']
    assert [(r['kind'], r['port']) for r in rules if r['src'] == '10.0.0.11'] == [
        ('swarm', '7946'), ('swarm', '7946'), ('swarm', '4789'), ('ssh', '2222'), ('ssh', '22')]


def test_ssh_from_anywhere_unless_restricted():
    assert [r['src'] for r in fw.wanted_rules(False, [], True, [2200], [], [])] == ['any']
    assert [r['src'] for r in fw.wanted_rules(False, [], True, [2200], ['192.0.2.0/24', '10.0.0.1'], [])] == [
        '192.0.2.0/24', '10.0.0.1']


# ---- ufw ---------------------------------------------------------------------------------------------------

def test_rule_blocks_are_the_bytes_ufw_writes():
    """Each of the role's rules renders to exactly the block ufw wrote for the same rule."""
    for name, v6 in (('ufw-user.rules.written', False), ('ufw-user6.rules.written', True)):
        written = [block for block in blocks(fixture(name)) if 'comment=' + fw.OWNER_HEX in block]
        assert sorted(written) == sorted(fw.ufw_block(r, v6) for r in fw.ufw_rules_for(WRITTEN_RULES, v6))
        assert written


def test_render_keeps_every_other_byte_and_takes_the_place_of_the_first_owned_rule():
    text = fixture('ufw-user.rules.written')
    wanted = [WRITTEN_RULES[0], rule('swarm', 'tcp', '7946', '10.0.0.12', 'swarmops: swarm node gossip (7946/tcp)')]
    out = fw.render_ufw_rules_file(text, wanted, False)
    foreign = [b for b in blocks(text) if fw.OWNER_HEX not in b]
    assert [b for b in blocks(out) if fw.OWNER_HEX not in b] == foreign  # same text, same order
    assert [re.sub(r'\n### tuple ###.*?\n(-A.*\n)*', '', t) for t in (text, out)][0] == \
        re.sub(r'\n### tuple ###.*?\n(-A.*\n)*', '', out)  # header, logging, rate limiting untouched
    order = [fw.ufw_tuple_owned(b.split('\n')[1]) for b in blocks(out)]
    assert order == [False, True, True, False, False]  # the role's rules where its first rule was
    assert fw.render_ufw_rules_file(out, wanted, False) == out


def test_render_appends_on_a_first_run_and_removes_everything_owned_when_nothing_is_wanted():
    text = fixture('ufw-user.rules.written')
    none = fw.render_ufw_rules_file(text, [], False)
    assert list(blocks(none)) == [b for b in blocks(text) if fw.OWNER_HEX not in b]
    again = fw.render_ufw_rules_file(none, WRITTEN_RULES, False)
    assert [fw.ufw_tuple_owned(b.split('\n')[1]) for b in blocks(again)] == [False, False, False] + [True] * 5
    assert again.index('### END RULES ###') > again.rindex('### tuple ###')


def test_render_of_the_file_the_package_installs():
    text = fixture('ufw-user.rules.package')
    assert fw.render_ufw_rules_file(text, [], False) == text
    out = fw.render_ufw_rules_file(text, WRITTEN_RULES[:1], False)
    assert out.startswith(text[:text.index('### RULES ###\n') + len('### RULES ###\n')])
    assert fw.ufw_tuples(out) == [fw.ufw_tuple(WRITTEN_RULES[0], False)]
    assert out.endswith(text[text.index('### RULES ###\n') + len('### RULES ###\n'):])
    assert '\n### END RULES ###\n-A ufw-user-limit' in out
    assert fw.render_ufw_rules_file(out, WRITTEN_RULES[:1], False) == out
    with pytest.raises(ValueError):
        fw.render_ufw_rules_file('*filter\nCOMMIT\n', WRITTEN_RULES, False)


def test_ownership_is_the_comment_prefix():
    tuples = fw.ufw_tuples(fixture('ufw-user.rules.written'))
    assert [fw.ufw_tuple_owned(t) for t in tuples] == [False, True, True, True, False, True, True, False]
    assert not fw.ufw_tuple_owned('### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in comment=' +
                                  fw._hex('swarmopsx: not ours'))


def test_ufw_diff_and_descriptions():
    tuples = fw.ufw_tuples(fixture('ufw-user.rules.written'))
    tuples6 = fw.ufw_tuples(fixture('ufw-user6.rules.written'))
    assert fw.ufw_diff(tuples, tuples6, WRITTEN_RULES, True) == {'v4': ([], []), 'v6': ([], [])}
    diff = fw.ufw_diff(tuples, tuples6, WRITTEN_RULES[1:], False)
    assert list(diff) == ['v4'] and diff['v4'][0] == [] and len(diff['v4'][1]) == 1
    assert fw.ufw_describe_tuple(diff['v4'][1][0]) == \
        'allow 2377/tcp from 10.0.0.11  # swarmops: swarm cluster management (2377/tcp)'


def test_foreign_rules_that_open_ssh_to_anyone_are_found():
    tuples = ['### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in',
              '### tuple ### allow tcp 22 0.0.0.0/0 any 10.0.0.1 in',
              '### tuple ### allow any any 0.0.0.0/0 any 0.0.0.0/0 in',
              '### tuple ### allow tcp 80 0.0.0.0/0 any 0.0.0.0/0 in',
              fw.ufw_tuple(rule('ssh', 'tcp', '22', 'any', fw.ssh_comment(22)), False)]
    assert fw.ufw_foreign_ssh_openers(tuples, [22]) == [tuples[0], tuples[2]]


# ---- firewalld -----------------------------------------------------------------------------------------------

def test_rich_rules_from_validated_parts():
    rules = WRITTEN_RULES + [rule('published', 'udp', '53', '192.0.2.0/24', 'swarmops: published port 53/udp')]
    assert fw.rich_rules(rules) == [
        'rule family="ipv4" source address="10.0.0.11" port port="2377" protocol="tcp" accept',
        'rule family="ipv4" source address="10.0.0.0/24" port port="4789" protocol="udp" accept',
        'rule family="ipv4" source address="10.0.0.11" protocol value="esp" accept',
        'rule family="ipv6" source address="2001:db8::1" port port="7946" protocol="udp" accept',
        'rule family="ipv6" source address="2001:db8::/32" protocol value="esp" accept',
        'rule port port="2222" protocol="tcp" accept',
        'rule port port="8000-8010" protocol="tcp" accept',
        'rule family="ipv4" source address="192.0.2.0/24" port port="53" protocol="udp" accept',
    ]


def test_restricted_ssh_rejects_everyone_else_ahead_of_the_zones():
    rules = fw.wanted_rules(False, [], True, [2222], ['192.0.2.0/24', '2001:db8::7'], [])
    assert fw.rich_rules(rules) == [
        'rule priority="-2" family="ipv4" source address="192.0.2.0/24" port port="2222" protocol="tcp" accept',
        'rule priority="-2" family="ipv6" source address="2001:db8::7" port port="2222" protocol="tcp" accept',
        'rule priority="-1" port port="2222" protocol="tcp" reject',
    ]


def test_policy_diff():
    rules = WRITTEN_RULES[:2]
    add, remove, differ = fw.policy_diff(None, rules)
    assert differ and len(add) == 2 and remove == []
    current = dict(fw.policy_settings(rules), short='swarmops', description='x', version='')
    assert fw.policy_diff(current, rules) == ([], [], False)
    current['rich_rules'] = current['rich_rules'][:1] + ['rule port port="1" protocol="tcp" accept']
    add, remove, differ = fw.policy_diff(current, rules)
    assert add == fw.rich_rules(rules)[1:] and remove == ['rule port port="1" protocol="tcp" accept'] and not differ
    assert fw.policy_diff(dict(current, services=['ssh']), rules)[2]
    assert fw.policy_diff(dict(current, priority=0), rules)[2]
    assert fw.policy_diff(dict(current, ingress_zones=['public']), rules)[2]


# ---- DOCKER-USER -------------------------------------------------------------------------------------------

PUBLISHED = [
    {'port': '8080', 'protocol': 'tcp', 'sources': ['10.0.0.11', '2001:db8::/32'], 'comment': 'web'},
    {'port': '9000:9010', 'protocol': 'udp', 'sources': ['192.0.2.0/24'], 'comment': ''},
    {'port': '443', 'protocol': 'tcp', 'sources': ['any'], 'comment': ''},
]


def test_docker_user_rules_match_the_original_destination_port_of_forwarded_connections():
    assert fw.docker_user_rules(PUBLISHED, False).splitlines() == [
        '*filter',
        ':SWARMOPS-PUBLISHED - [0:0]',
        '-A SWARMOPS-PUBLISHED -s 10.0.0.11 -p tcp -m conntrack --ctstate DNAT --ctdir ORIGINAL --ctorigdstport 8080'
        ' -m comment --comment "swarmops: published port 8080/tcp - web" -j RETURN',
        '-A SWARMOPS-PUBLISHED -p tcp -m conntrack --ctstate DNAT --ctdir ORIGINAL --ctorigdstport 8080'
        ' -m comment --comment "swarmops: published port 8080/tcp - web" -j DROP',
        '-A SWARMOPS-PUBLISHED -s 192.0.2.0/24 -p udp -m conntrack --ctstate DNAT --ctdir ORIGINAL --ctorigdstport'
        ' 9000:9010 -m comment --comment "swarmops: published port 9000:9010/udp" -j RETURN',
        '-A SWARMOPS-PUBLISHED -p udp -m conntrack --ctstate DNAT --ctdir ORIGINAL --ctorigdstport 9000:9010'
        ' -m comment --comment "swarmops: published port 9000:9010/udp" -j DROP',
        'COMMIT',
    ]
    six = fw.docker_user_rules(PUBLISHED, True)
    assert '-s 2001:db8::/32 ' in six and '-s 10.0.0.11' not in six and six.count('-j DROP') == 2
    assert fw.docker_user_expected_rules(PUBLISHED, False) == 4


def test_docker_user_files_only_when_a_published_port_has_sources():
    assert fw.docker_user_files(PUBLISHED[2:]) == {}
    files = fw.docker_user_files(PUBLISHED)
    assert sorted(files) == sorted([fw.DOCKER_USER_FILES['v4'], fw.DOCKER_USER_FILES['v6'],
                                    fw.DOCKER_USER_SCRIPT_PATH, fw.DOCKER_USER_UNIT_PATH])
    assert 'WantedBy=docker.service' in files[fw.DOCKER_USER_UNIT_PATH]
    assert 'PartOf=docker.service' in files[fw.DOCKER_USER_UNIT_PATH]


def test_docker_user_diff():
    files = fw.docker_user_files(PUBLISHED)
    loaded = {'docker_user': True, 'jump': True, 'rules': 4}
    loaded6 = {'docker_user': True, 'jump': True, 'rules': 3}
    done = {'files': files, 'enabled': True, 'chains': {'v4': loaded, 'v6': loaded6}}
    assert fw.docker_user_diff(done, PUBLISHED) == []
    # a chain someone flushed, and no engine at all (the unit fills it when the engine starts)
    assert fw.docker_user_diff(dict(done, chains={'v4': dict(loaded, rules=0), 'v6': {}}), PUBLISHED) == [
        'load SWARMOPS-PUBLISHED (iptables)']
    fresh = {'files': {}, 'enabled': False, 'chains': {}}
    assert len(fw.docker_user_diff(fresh, PUBLISHED)) == 5
    assert fw.docker_user_diff(fresh, PUBLISHED[2:]) == []
    gone = fw.docker_user_diff(done, [])
    assert sum(line.startswith('remove ') for line in gone) == 4 and 'unload SWARMOPS-PUBLISHED (iptables)' in gone
