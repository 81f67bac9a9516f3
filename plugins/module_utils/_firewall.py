# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The firewall role's rules, as data: validated values, the wanted rule set, ufw's rule files, firewalld's rich
rules, Docker's DOCKER-USER chain, and what differs from what a host holds. Private to the collection.

Pure functions without I/O, shared by the controller (the firewall_plan action) and the host (firewall_info,
firewall_rules), so the decision and the change are made by the same code and unit-tested once.

A rule is a dict {kind: swarm|ssh|published, proto: tcp|udp|esp, port: 'N'|'LO:HI'|'any', src: 'any'|address|
network, comment}. Every value in it went through the validators below: sources are IP addresses or networks in
network form (canonical text), ports numbers or ranges, comments free of anything that could end a quoted string
in ufw's, firewalld's or iptables' syntax. Nothing is ever built from raw input.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import binascii
import ipaddress
import re

# Every rule the role writes carries a comment starting with this: it is how a later run tells its own rules
# (reconciled) from rules anyone else added (never touched).
OWNER_PREFIX = 'swarmops:'

# The swarm's ports (Docker's "swarm mode" port list): proto, port, purpose, managers only.
SWARM_PORTS = (
    ('tcp', '2377', 'swarm cluster management', True),
    ('tcp', '7946', 'swarm node gossip', False),
    ('udp', '7946', 'swarm node gossip', False),
    ('udp', '4789', 'swarm overlay network traffic (VXLAN)', False),
)
ESP_COMMENT = OWNER_PREFIX + ' swarm encrypted overlay (ESP, IP protocol 50)'

# A network with a shorter prefix than this that is not wholly private space is "the world" for the swarm ports:
# 0.0.0.0/1 is half the internet, 10.0.0.0/8 and fc00::/7 are one organisation's.
WORLD_PREFIX = {4: 8, 6: 16}

PACKAGES = {'ufw': ['ufw'], 'firewalld': ['firewalld', 'python3-firewall']}
AUTO_BACKENDS = {'Debian': 'ufw', 'RedHat': 'firewalld'}

# firewalld: the policy the role owns applies to traffic from any zone to the host itself, before the zones'
# own rules (a negative priority), so it sees every packet whatever zone its interface or source is in.
POLICY_PRIORITY = -100
POLICY_SETTINGS = {'ingress_zones': ['ANY'], 'egress_zones': ['HOST'], 'priority': POLICY_PRIORITY,
                   'target': 'CONTINUE'}
# Policy fields the role leaves empty (everything it opens is a rich rule, so one list says it all).
POLICY_EMPTY_FIELDS = ('services', 'ports', 'protocols', 'source_ports', 'forward_ports', 'icmp_blocks')
# Zones firewalld ships: the old design's zone is deleted only when it was the role's own.
BUILTIN_ZONES = ('block', 'dmz', 'docker', 'drop', 'external', 'home', 'internal', 'nm-shared', 'public',
                 'trusted', 'work', 'libvirt')

# Docker's DOCKER-USER chain: the role's own chain, jumped to from there.
DOCKER_USER_CHAIN = 'SWARMOPS-PUBLISHED'
DOCKER_USER_DIR = '/etc/swarmops/firewall'
DOCKER_USER_FILES = {'v4': DOCKER_USER_DIR + '/docker-user.rules', 'v6': DOCKER_USER_DIR + '/docker-user6.rules'}
DOCKER_USER_SCRIPT_PATH = '/usr/local/sbin/swarmops-docker-user'
DOCKER_USER_UNIT_NAME = 'swarmops-docker-user.service'
DOCKER_USER_UNIT_PATH = '/etc/systemd/system/' + DOCKER_USER_UNIT_NAME

DOCKER_USER_SCRIPT = '''#!/bin/sh
# Written by the swarmops.swarm firewall role. Puts the role's chain %(chain)s (sources allowed to reach
# ports that containers publish) into Docker's DOCKER-USER chain, from the rules files in %(dir)s.
# Docker creates DOCKER-USER when the engine starts and never flushes it; the chain and the jump to it do not
# survive a reboot, so %(unit)s runs this after every start of the engine.
set -eu
apply() {
  restore="$1" tables="$2" file="$3"
  [ -f "$file" ] || return 0
  # No DOCKER-USER (engine not running, or no IPv6 in the engine): nothing to restrict yet.
  "$tables" -w -n -L DOCKER-USER >/dev/null 2>&1 || return 0
  # The file declares the chain: iptables-restore --noflush empties and refills it in one commit.
  "$restore" -w --noflush "$file"
  "$tables" -w -C DOCKER-USER -j %(chain)s 2>/dev/null || "$tables" -w -I DOCKER-USER 1 -j %(chain)s
}
apply iptables-restore iptables %(v4)s
apply ip6tables-restore ip6tables %(v6)s
''' % {'chain': DOCKER_USER_CHAIN, 'dir': DOCKER_USER_DIR, 'unit': DOCKER_USER_UNIT_NAME,
       'v4': DOCKER_USER_FILES['v4'], 'v6': DOCKER_USER_FILES['v6']}

DOCKER_USER_UNIT = '''# Written by the swarmops.swarm firewall role.
[Unit]
Description=swarmops: sources allowed to reach ports that containers publish (Docker's DOCKER-USER chain)
# After every start of the engine (boot included): the engine makes DOCKER-USER, this fills the role's part.
After=docker.service firewalld.service
# A restart of the engine restarts this too.
PartOf=docker.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh %s

[Install]
WantedBy=docker.service
''' % DOCKER_USER_SCRIPT_PATH

UFW_TUPLE_PREFIX = '### tuple ### '
# One rule in ufw's user.rules/user6.rules: a blank line, the tuple line ufw reads back, the iptables lines.
UFW_BLOCK = re.compile(r'\n### tuple ### ([^\n]*)\n(?:-A [^\n]*\n)*')
UFW_RULES_MARKER = '### RULES ###\n'
UFW_END_RULES_MARKER = '\n### END RULES ###\n'

POLICY_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_-]{0,16}$')
PORT = re.compile(r'^([0-9]{1,5})(?::([0-9]{1,5}))?$')
# Anything that could end or escape a quoted string in ufw's, firewalld's or iptables-restore's syntax.
COMMENT_FORBIDDEN = re.compile('[\x00-\x1f\x7f"\'`\\\\]')
COMMENT_MAX = 200


class FirewallInputError(ValueError):
    """A value the role refuses. The message names the variable (or field) and says what is expected."""


# ---- validation -------------------------------------------------------------------------------------------

def _text(value, name):
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise FirewallInputError('%s: %r is not a string' % (name, value))
    return str(value).strip()


def source(value, name, allow_any=False):
    """The canonical text of an address or network in network form ('10.0.0.1', '10.0.0.0/24', '2001:db8::/32').

    'any' only where ALLOW_ANY (it means anywhere there). A host address never carries /32 or /128, as ufw and
    firewalld show it.
    """
    text = _text(value, name)
    if text.lower() == 'any':
        if allow_any:
            return 'any'
        raise FirewallInputError('%s: "any" is not allowed here (give addresses or networks)' % name)
    if isinstance(value, int) or not text:
        raise FirewallInputError('%s: %r is not an IP address or a CIDR network' % (name, value))
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError:
        try:
            loose = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise FirewallInputError('%s: %r is not an IP address or a CIDR network' % (name, value))
        raise FirewallInputError('%s: %r is not in network form (host bits set; the network is %s)'
                                 % (name, value, loose))
    if network.prefixlen == network.max_prefixlen:
        return str(network.network_address)
    return str(network)


def address(value, name):
    """A single IP address (a member's advertise address), canonical."""
    text = source(value, name)
    if '/' in text:
        raise FirewallInputError('%s: %r is a network, not an address' % (name, value))
    return text


def family(src):
    """4 or 6 for a canonical source; None for 'any'."""
    if src == 'any':
        return None
    return ipaddress.ip_network(src).version


def is_world(src):
    """True for 'any' and for networks so wide that they are effectively everyone (see WORLD_PREFIX)."""
    if src == 'any':
        return True
    network = ipaddress.ip_network(src)
    return network.prefixlen < WORLD_PREFIX[network.version] and not network.is_private


def port(value, name):
    """'N' or 'LO:HI' (1-65535, LO < HI)."""
    text = _text(value, name)
    match = PORT.match(text)
    low = high = None
    if match:
        low = int(match.group(1))
        high = int(match.group(2)) if match.group(2) else None
    if not match or not 1 <= low <= 65535 or (high is not None and not low < high <= 65535):
        raise FirewallInputError('%s: %r is not a port (1-65535) or a range written LO:HI (LO < HI)' % (name, value))
    return str(low) if high is None else '%d:%d' % (low, high)


def protocol(value, name):
    text = _text(value, name).lower()
    if text not in ('tcp', 'udp'):
        raise FirewallInputError('%s: %r is not tcp or udp' % (name, value))
    return text


def comment(value, name):
    """Free text that may go into a rule's comment: no control characters, quotes or backslashes, 200 at most."""
    if value is None:
        return ''
    if not isinstance(value, str):
        raise FirewallInputError('%s: %r is not a string' % (name, value))
    if COMMENT_FORBIDDEN.search(value) or len(value) > COMMENT_MAX:
        raise FirewallInputError('%s: %r must be at most %d characters without quotes, backslashes or control '
                                 'characters (they would break the rule syntax)' % (name, value, COMMENT_MAX))
    return value.strip()


def policy_name(value, name):
    text = _text(value, name)
    if not POLICY_NAME.match(text):
        raise FirewallInputError('%s: %r is not a firewalld policy name (letters, digits, - and _, 17 at most)'
                                 % (name, value))
    return text


def _collect(errors, function, *args, **kwargs):
    try:
        return function(*args, **kwargs)
    except FirewallInputError as exc:
        errors.append(str(exc))
        return None


def _entries(values, name, errors):
    """(entry name, value) of each item of the list VALUES; an error (and nothing) when it is not a list."""
    if values is None:
        return []
    if not isinstance(values, (list, tuple)):
        errors.append('%s: %r is not a list' % (name, values))
        return []
    return [('%s[%d]' % (name, index), value) for index, value in enumerate(values)]


def sources_list(values, name, errors, allow_any=False, allow_world=True):
    """Each entry of the list VALUES validated (errors collected), in order, without duplicates."""
    out = []
    for entry, value in _entries(values, name, errors):
        src = _collect(errors, source, value, entry, allow_any=allow_any)
        if src is None:
            continue
        if not allow_world and is_world(src):
            errors.append('%s: %r opens the swarm ports to the whole internet; set firewall_allow_world: true if '
                          'that is really meant' % (entry, value))
            continue
        if src not in out:
            out.append(src)
    return out


def published_ports(values, name, errors):
    """firewall_published_ports validated: [{port, protocol, sources (['any'] when open to all), comment}]."""
    out = []
    for entry, item in _entries(values, name, errors):
        if not isinstance(item, dict):
            errors.append('%s: %r is not a dict with port, protocol, sources, comment' % (entry, item))
            continue
        unknown = sorted(set(item) - set(['port', 'protocol', 'sources', 'comment']))
        if unknown:
            errors.append('%s: unknown keys %s (port, protocol, sources, comment)' % (entry, ', '.join(unknown)))
        if 'port' not in item:
            errors.append('%s.port is missing' % entry)
            continue
        number = _collect(errors, port, item['port'], entry + '.port')
        proto = _collect(errors, protocol, item.get('protocol') or 'tcp', entry + '.protocol')
        text = _collect(errors, comment, item.get('comment'), entry + '.comment')
        srcs = sources_list(item.get('sources') or [], entry + '.sources', errors, allow_any=True)
        if number is None or proto is None or text is None:
            continue
        out.append({'port': number, 'protocol': proto, 'sources': ['any'] if 'any' in srcs or not srcs else srcs,
                    'comment': text})
    return out


def resolve_backend(requested, os_family):
    """The backend to drive: REQUESTED, or for auto the usual one of the OS family (None when it has none)."""
    if requested != 'auto':
        return requested
    return AUTO_BACKENDS.get(os_family)


# ---- the wanted rules -------------------------------------------------------------------------------------

def published_comment(item):
    text = '%s published port %s/%s' % (OWNER_PREFIX, item['port'], item['protocol'])
    return text + (' - ' + item['comment'] if item.get('comment') else '')


def ssh_comment(number):
    return '%s ssh (%s/tcp, keeps the operator connected)' % (OWNER_PREFIX, number)


def wanted_rules(is_manager, swarm_sources, allow_esp, ssh_ports, ssh_sources, published):
    """The host's rules, backend-neutral, in a stable order, one per (proto, port, source)."""
    rules = []
    seen = set()

    def add(kind, proto, number, src, text):
        key = (proto, number, src)
        if key not in seen:
            seen.add(key)
            rules.append({'kind': kind, 'proto': proto, 'port': number, 'src': src, 'comment': text})

    for proto, number, purpose, managers_only in SWARM_PORTS:
        if managers_only and not is_manager:
            continue
        for src in swarm_sources:
            add('swarm', proto, number, src, '%s %s (%s/%s)' % (OWNER_PREFIX, purpose, number, proto))
    if allow_esp:
        for src in swarm_sources:
            add('swarm', 'esp', 'any', src, ESP_COMMENT)
    for number in ssh_ports:
        for src in ssh_sources or ['any']:
            add('ssh', 'tcp', str(number), src, ssh_comment(number))
    for item in published:
        for src in item['sources']:
            add('published', item['protocol'], item['port'], src, published_comment(item))
    return rules


def check_rules(rules, name='rules'):
    """Rules received by a module, validated again field by field (a module never trusts its input)."""
    errors = []
    out = []
    for index, rule in enumerate(rules or []):
        entry = '%s[%d]' % (name, index)
        kind = rule.get('kind')
        if kind not in ('swarm', 'ssh', 'published'):
            errors.append('%s.kind: %r is not swarm, ssh or published' % (entry, kind))
        proto = rule.get('proto')
        if proto == 'esp':
            number = 'any'
            if rule.get('port') not in (None, 'any'):
                errors.append('%s.port: %r given for esp, which has no ports' % (entry, rule.get('port')))
        else:
            proto = _collect(errors, protocol, proto, entry + '.proto')
            number = _collect(errors, port, rule.get('port'), entry + '.port')
        src = _collect(errors, source, rule.get('src'), entry + '.src', allow_any=True)
        text = _collect(errors, comment, rule.get('comment'), entry + '.comment')
        if text is not None and not text.startswith(OWNER_PREFIX):
            errors.append('%s.comment: %r must start with %r (how the role knows its own rules)'
                          % (entry, text, OWNER_PREFIX))
        out.append({'kind': kind, 'proto': proto, 'port': number, 'src': src, 'comment': text})
    if errors:
        raise FirewallInputError('; '.join(errors))
    return out


def describe(rule):
    """One line a person reads in --diff output and in messages."""
    what = 'esp' if rule['proto'] == 'esp' else '%s/%s' % (rule['port'], rule['proto'])
    return 'allow %s from %s  # %s' % (what, rule['src'], rule['comment'])


# ---- ufw ----------------------------------------------------------------------------------------------------

def _hex(text):
    return binascii.hexlify(text.encode('utf-8')).decode('ascii')


OWNER_HEX = _hex(OWNER_PREFIX)


def ufw_rules_for(rules, v6):
    """The rules that belong in user6.rules (V6) or user.rules: by source family; 'any' in both."""
    want = 6 if v6 else 4
    return [rule for rule in rules if family(rule['src']) in (None, want)]


def ufw_tuple(rule, v6):
    """The tuple line ufw writes for RULE (and reads back: ufw status, ufw delete)."""
    anywhere = '::/0' if v6 else '0.0.0.0/0'
    src = anywhere if rule['src'] == 'any' else rule['src']
    return '%sallow %s %s %s any %s in comment=%s' % (UFW_TUPLE_PREFIX, rule['proto'], rule['port'], anywhere, src,
                                                      _hex(rule['comment']))


def ufw_iptables_line(rule, v6):
    """The iptables line ufw writes under the tuple (ufw's own UFWRule.format_rule for these shapes)."""
    parts = ['-A', 'ufw6-user-input' if v6 else 'ufw-user-input', '-p', rule['proto']]
    if ':' in rule['port']:
        parts += ['-m', 'multiport', '--dports', rule['port']]
    elif rule['port'] != 'any':
        parts += ['--dport', rule['port']]
    if rule['src'] != 'any':
        parts += ['-s', rule['src']]
    return ' '.join(parts + ['-j', 'ACCEPT'])


def ufw_block(rule, v6):
    return '\n%s\n%s\n' % (ufw_tuple(rule, v6), ufw_iptables_line(rule, v6))


def ufw_tuple_owned(line):
    """Whether a tuple line (with or without the '### tuple ### ' prefix) is one of the role's rules."""
    _before, sep, hexed = line.rpartition(' comment=')
    return bool(sep) and hexed.strip().lower().startswith(OWNER_HEX)


def ufw_tuples(text):
    """Every tuple line of a ufw rules file, in order."""
    return [UFW_TUPLE_PREFIX + match.group(1) for match in UFW_BLOCK.finditer(text or '')]


def render_ufw_rules_file(text, rules, v6):
    """TEXT (user.rules or user6.rules) with the role's rules replaced by RULES; everything else byte for byte.

    The role's block takes the place of its first rule, so its position relative to rules added by others (and
    with it what wins when rules overlap) stays what it was; a first run appends it, as `ufw allow` would.
    """
    blocks = ''.join(ufw_block(rule, v6) for rule in ufw_rules_for(rules, v6))
    kept = []
    position = 0
    insert_at = None
    for match in UFW_BLOCK.finditer(text):
        if ufw_tuple_owned(match.group(1)):
            kept.append(text[position:match.start()])
            if insert_at is None:
                insert_at = sum(len(part) for part in kept)
            position = match.end()
    kept.append(text[position:])
    stripped = ''.join(kept)
    if insert_at is None:
        insert_at = stripped.find(UFW_END_RULES_MARKER)
    if insert_at < 0:
        # The file as the package installs it: no rule written yet, no end marker (ufw adds it on its first write).
        start = stripped.find(UFW_RULES_MARKER)
        if start < 0:
            raise ValueError('not a ufw rules file (no "### RULES ###" line)')
        if not blocks:
            return stripped
        insert_at = start + len(UFW_RULES_MARKER)
        blocks += UFW_END_RULES_MARKER
    return stripped[:insert_at] + blocks + stripped[insert_at:]


def ufw_describe_tuple(line):
    """'allow 7946/tcp from 10.0.0.1  # swarmops: ...' for a tuple line the role wrote."""
    body, _sep, hexed = line[len(UFW_TUPLE_PREFIX):].partition(' comment=')
    fields = body.split()
    try:
        text = binascii.unhexlify(hexed.strip()).decode('utf-8')
    except (binascii.Error, ValueError, UnicodeDecodeError):
        text = hexed
    if len(fields) < 6:
        return line
    src = 'any' if fields[5] in ('0.0.0.0/0', '::/0') else fields[5]
    what = 'esp' if fields[1] == 'esp' else '%s/%s' % (fields[2], fields[1])
    return '%s %s from %s  # %s' % (fields[0], what, src, text)


def ufw_diff(tuples_v4, tuples_v6, rules, ipv6):
    """({'v4': (add, remove), 'v6': ...}) of tuple lines: the role's rules on the host vs the wanted ones."""
    out = {}
    for key, v6, current in (('v4', False, tuples_v4), ('v6', True, tuples_v6)):
        if v6 and not ipv6:
            continue
        owned = [line for line in current or [] if ufw_tuple_owned(line)]
        wanted = [ufw_tuple(rule, v6) for rule in ufw_rules_for(rules, v6)]
        out[key] = ([line for line in wanted if line not in owned], [line for line in owned if line not in wanted])
    return out


def ufw_foreign_ssh_openers(tuples, ssh_ports):
    """Rules someone else wrote that let anyone reach an SSH port (a restriction cannot hold against them)."""
    found = []
    for line in tuples or []:
        if ufw_tuple_owned(line):
            continue
        fields = line[len(UFW_TUPLE_PREFIX):].split(' comment=')[0].split()
        if len(fields) >= 6 and fields[0] == 'allow' and fields[5] in ('0.0.0.0/0', '::/0') \
                and fields[1] in ('tcp', 'any') and fields[2] in [str(p) for p in ssh_ports] + ['any']:
            found.append(line)
    return found


# ---- firewalld ----------------------------------------------------------------------------------------------

def rich_rules(rules):
    """The policy's rich rules for RULES, each built from validated parts, in firewalld's own canonical form.

    With SSH restricted to some sources, the default zone's ssh service (firewalld opens it to everyone by
    default) would still let anyone in: the policy, which runs before the zones, rejects the SSH ports for
    every other source, after accepting the allowed ones (rich-rule priorities order the two).
    """
    restricted = sorted(set(rule['port'] for rule in rules if rule['kind'] == 'ssh' and rule['src'] != 'any'),
                        key=int)
    out = []
    for rule in rules:
        parts = ['rule']
        if rule['kind'] == 'ssh' and rule['port'] in restricted:
            parts.append('priority="-2"')
        fam = family(rule['src'])
        if fam:
            parts.append('family="ipv%d" source address="%s"' % (fam, rule['src']))
        if rule['proto'] == 'esp':
            parts.append('protocol value="esp"')
        else:
            parts.append('port port="%s" protocol="%s"' % (rule['port'].replace(':', '-'), rule['proto']))
        parts.append('accept')
        text = ' '.join(parts)
        if text not in out:
            out.append(text)
    for number in restricted:
        out.append('rule priority="-1" port port="%s" protocol="tcp" reject' % number)
    return out


def policy_settings(rules):
    """The complete settings of the role's policy (firewalld's dict form, the fields the role sets)."""
    settings = dict(POLICY_SETTINGS)
    settings['rich_rules'] = rich_rules(rules)
    for field in POLICY_EMPTY_FIELDS:
        settings[field] = []
    settings['masquerade'] = False
    return settings


def policy_diff(current, rules):
    """(add, remove, settings_differ) for the policy as read (its settings dict, or None when absent)."""
    wanted = policy_settings(rules)
    current = current or {}
    have = list(current.get('rich_rules') or [])
    add = [rule for rule in wanted['rich_rules'] if rule not in have]
    remove = [rule for rule in have if rule not in wanted['rich_rules']]
    differ = not current or not all(_same(current.get(key), wanted[key])
                                    for key in list(POLICY_SETTINGS) + list(POLICY_EMPTY_FIELDS) + ['masquerade'])
    return add, remove, differ


def _same(have, want):
    if isinstance(have, (list, tuple)) or isinstance(want, (list, tuple)):
        return sorted(str(item) for item in have or []) == sorted(str(item) for item in want or [])
    return (have or None) == (want or None)


# ---- Docker's DOCKER-USER chain -------------------------------------------------------------------------

def docker_user_rules(published, v6):
    """iptables-restore input (for --noflush) of the role's chain: for each published port that has sources,
    connections Docker forwarded to a container (DNAT) from those sources pass on, all others are dropped.

    Matching the original destination port (conntrack) is what makes this work: by the time a packet reaches
    DOCKER-USER, Docker's DNAT has already rewritten its destination to the container's.
    """
    want = 6 if v6 else 4
    lines = ['*filter', ':%s - [0:0]' % DOCKER_USER_CHAIN]
    for item in restricted_published(published):
        match = ('-p %s -m conntrack --ctstate DNAT --ctdir ORIGINAL --ctorigdstport %s -m comment --comment "%s"'
                 % (item['protocol'], item['port'], published_comment(item)))
        for src in item['sources']:
            if family(src) == want:
                lines.append('-A %s -s %s %s -j RETURN' % (DOCKER_USER_CHAIN, src, match))
        lines.append('-A %s %s -j DROP' % (DOCKER_USER_CHAIN, match))
    lines.append('COMMIT')
    return '\n'.join(lines) + '\n'


def restricted_published(published):
    return [item for item in published or [] if 'any' not in item['sources']]


def docker_user_files(published):
    """{path: content} the role wants on the host for DOCKER-USER; empty when no published port has sources."""
    if not restricted_published(published):
        return {}
    return {DOCKER_USER_FILES['v4']: docker_user_rules(published, False),
            DOCKER_USER_FILES['v6']: docker_user_rules(published, True),
            DOCKER_USER_SCRIPT_PATH: DOCKER_USER_SCRIPT,
            DOCKER_USER_UNIT_PATH: DOCKER_USER_UNIT}


def docker_user_expected_rules(published, v6):
    """How many rules the role's chain holds when it is loaded (read back to see a chain someone flushed)."""
    return sum(1 for line in docker_user_rules(published, v6).splitlines() if line.startswith('-A '))


def docker_user_diff(state, published):
    """Lines saying what differs between the host's DOCKER-USER setup (as firewall_info read it) and the wanted."""
    state = state or {}
    wanted = docker_user_files(published)
    files = state.get('files') or {}
    out = []
    for path in sorted(set(wanted) | set(path for path, content in files.items() if content is not None)):
        if files.get(path) != wanted.get(path):
            out.append('%s %s' % ('write' if path in wanted else 'remove', path))
    if wanted and not state.get('enabled'):
        out.append('enable %s' % DOCKER_USER_UNIT_NAME)
    for key, v6 in (('v4', False), ('v6', True)):
        chain = (state.get('chains') or {}).get(key) or {}
        if not chain.get('docker_user'):
            continue  # no engine (yet): the unit fills the chain when it starts
        if wanted and (not chain.get('jump') or chain.get('rules') != docker_user_expected_rules(published, v6)):
            out.append('load %s (%s)' % (DOCKER_USER_CHAIN, 'ip6tables' if v6 else 'iptables'))
        if not wanted and (chain.get('jump') or chain.get('rules') is not None):
            out.append('unload %s (%s)' % (DOCKER_USER_CHAIN, 'ip6tables' if v6 else 'iptables'))
    return out
