# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure logic of the cluster modules (swarm_init, swarm_join, swarm_info, swarm_node).

Nothing here talks to an engine: join-token parsing and CA digests, the swarm_init spec diff,
address checks, engine error mapping and the summaries swarm_info returns.
All of it is unit-tested in tests/unit/plugins/module_utils/test_swarm_cluster.py.
"""

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

import copy
import hashlib
import re

from ansible_collections.swarmops.swarm.plugins.module_utils._durations import format_duration, parse_duration

BASE36 = '0123456789abcdefghijklmnopqrstuvwxyz'
# swarmkit ca/config.go: "SWMTKN-1-%050s-%025s" of base36(sha256(root CA PEM)) and base36(random secret);
# version 2 is the FIPS variant.
JOIN_TOKEN_RE = re.compile(r'^SWMTKN-([12])-([0-9a-z]{50})-([0-9a-z]{25})$')
SECRET_RES = (
    (re.compile(r'SWMTKN-[0-9]+-[0-9a-zA-Z]+-[0-9a-zA-Z]+'), '<join token redacted>'),
    (re.compile(r'SWMKEY-[0-9]+-[0-9A-Za-z+/=_-]+'), '<unlock key redacted>'),
)


class SwarmInputError(ValueError):
    """A parameter that cannot work, refused before anything changes."""


def redact(text):
    """TEXT with every join token and unlock key replaced (safe for messages and warnings)."""
    text = '' if text is None else str(text)
    for pattern, replacement in SECRET_RES:
        text = pattern.sub(replacement, text)
    return text


# ---- join tokens and root CA digests ------------------------------------------------------------

def base36(number):
    if number == 0:
        return '0'
    digits = []
    while number:
        number, rest = divmod(number, 36)
        digits.append(BASE36[rest])
    return ''.join(reversed(digits))


def ca_digest(pem_bytes):
    """The cluster's identity as a join token carries it: base36 of sha256(root CA PEM), 50 wide."""
    if not isinstance(pem_bytes, bytes):
        pem_bytes = pem_bytes.encode('utf-8')
    return base36(int(hashlib.sha256(pem_bytes).hexdigest(), 16)).zfill(50)


def parse_join_token(token):
    """{'version', 'ca_digest'} of a join token; SwarmInputError (without the token) when malformed."""
    token = (token or '').strip()
    if not token:
        raise SwarmInputError('join_token is empty: pass the worker or manager token that swarm_init returned '
                              '(join_tokens.worker / join_tokens.manager) or `docker swarm join-token -q ROLE` prints')
    match = JOIN_TOKEN_RE.match(token)
    if not match:
        # (the message never spells the prefix with its dash: tests look for that in all output)
        hint = ('it does not begin with the SWMTKN prefix' if not token.startswith('SWMTKN-')
                else 'a part has the wrong length or characters')
        raise SwarmInputError('join_token is not a swarm join token (%s); expected the form `docker swarm join-token '
                              '-q worker` prints: the SWMTKN prefix, version 1, 50 and 25 base36 characters, joined '
                              'by dashes' % hint)
    return {'version': int(match.group(1)), 'ca_digest': match.group(2)}


def short_digest(digest):
    """The leading significant characters of a CA digest, enough to tell clusters apart in a message."""
    return (digest or '').lstrip('0')[:12] or '?'


def membership(token_digest, node_digest, node_managers=(), remote_addrs=()):
    """Whether the node is in the swarm a join token is for: ('same' | 'other' | 'unknown', evidence).

    NODE_DIGEST is the root CA digest of the node's own swarm as its engine (a manager) or its managers
    (a worker) told it, or None when neither could; without it, the node's managers (HOST:PORT, as its
    engine lists them) being among REMOTE_ADDRS (the managers to join through, resolved the same way)
    still says 'same'. Nothing else is evidence of another swarm: 'unknown' is never 'other'.
    """
    if node_digest:
        if node_digest == token_digest:
            return 'same', 'its swarm has the root CA %s, the token\'s' % short_digest(node_digest)
        return 'other', 'its swarm has the root CA %s, the token\'s swarm %s' % (
            short_digest(node_digest), short_digest(token_digest))
    shared = sorted(set(node_managers) & set(remote_addrs))
    if shared:
        return 'same', 'its managers include %s, which remote_addrs names' % ', '.join(shared)
    return 'unknown', 'neither its engine nor its managers told which swarm it is in'


# ---- addresses ----------------------------------------------------------------------------------

def split_host_port(addr, option='remote_addrs'):
    """(host, port) of 'host:port' or '[v6]:port'; SwarmInputError naming OPTION otherwise."""
    addr = (addr or '').strip()
    match = re.match(r'^\[([0-9a-fA-F:.%a-zA-Z]+)\]:([0-9]+)$', addr) or re.match(r'^([^:\[\]\s]+):([0-9]+)$', addr)
    if not match:
        raise SwarmInputError(
            '%s: %r has no port; write it as HOST:PORT, for example %s:2377 (2377 is the swarm management port)'
            % (option, addr, addr.strip('[]') or 'MANAGER'))
    port = int(match.group(2))
    if not 0 < port < 65536:
        raise SwarmInputError('%s: %r has port %d, outside 1-65535' % (option, addr, port))
    return match.group(1), port


def check_remote_addrs(addrs):
    if not addrs:
        raise SwarmInputError('remote_addrs is empty: give at least one manager as HOST:2377')
    return [split_host_port(a) for a in addrs]


def manager_addr(info):
    """This manager's HOST:PORT to join through, from /info (its own RemoteManagers entry)."""
    swarm = info.get('Swarm') or {}
    for manager in swarm.get('RemoteManagers') or []:
        if manager.get('NodeID') == swarm.get('NodeID'):
            return manager.get('Addr')
    if swarm.get('NodeAddr'):
        return '%s:2377' % swarm['NodeAddr']
    return None


# ---- durations ----------------------------------------------------------------------------------

def duration_ns(value, option):
    """Nanoseconds of a Go-style duration ('2160h', '1h30m', '90s') or a number of seconds."""
    return parse_duration(value, option, SwarmInputError)


# ---- swarm_init: the settable spec --------------------------------------------------------------

# option name -> (path in the swarm Spec, converter of the option value to the engine's value, formatter)
SPEC_OPTIONS = (
    ('autolock', ('EncryptionConfig', 'AutoLockManagers'), bool, None),
    ('cert_expiry', ('CAConfig', 'NodeCertExpiry'), 'duration', format_duration),
    ('dispatcher_heartbeat', ('Dispatcher', 'HeartbeatPeriod'), 'duration', format_duration),
    ('task_history_limit', ('Orchestration', 'TaskHistoryRetentionLimit'), int, None),
    ('snapshot_interval', ('Raft', 'SnapshotInterval'), int, None),
    ('labels', ('Labels',), 'labels', None),
)

# Chosen at init, fixed for the life of the cluster (or of the node's membership).
INIT_ONLY_OPTIONS = ('default_addr_pool', 'subnet_size', 'data_path_port', 'advertise_addr')


def _convert(option, kind, value):
    if kind == 'duration':
        return duration_ns(value, option)
    if kind == 'labels':
        return dict((str(k), '' if v is None else str(v)) for k, v in (value or {}).items())
    if kind is int and value is not None and int(value) < 0:
        raise SwarmInputError('%s: %r is negative' % (option, value))
    return kind(value)


def desired_spec_values(params):
    """{option: engine value} for the spec options the user set (None = not set, left alone)."""
    wanted = {}
    for option, _path, kind, _fmt in SPEC_OPTIONS:
        if params.get(option) is not None:
            wanted[option] = _convert(option, kind, params[option])
    return wanted


def _get_path(spec, path):
    node = spec
    for key in path:
        node = (node or {}).get(key)
    return node


def current_spec_values(spec):
    current = {}
    for option, path, kind, _fmt in SPEC_OPTIONS:
        value = _get_path(spec, path)
        if kind == 'labels':
            value = dict(value or {})
        elif kind is bool:
            value = bool(value)
        current[option] = value
    return current


def _show(option, value):
    for name, _path, _kind, fmt in SPEC_OPTIONS:
        if name == option and fmt is not None:
            return fmt(value)
    return value


def spec_diff(current_spec, params):
    """(differences, diff) between the current swarm Spec and the options set.

    differences: {option: (current engine value, wanted engine value)} of only what differs;
    diff: {'before': {...}, 'after': {...}} of those options, durations shown like docker shows them.
    """
    wanted = desired_spec_values(params)
    current = current_spec_values(current_spec)
    differences = {}
    for option, value in wanted.items():
        if current.get(option) != value:
            differences[option] = (current.get(option), value)
    diff = {'before': dict((o, _show(o, b)) for o, (b, _a) in differences.items()),
            'after': dict((o, _show(o, a)) for o, (_b, a) in differences.items())}
    return differences, diff


def updated_spec(current_spec, params):
    """A copy of the current Spec with the options set applied (what POST /swarm/update receives)."""
    spec = copy.deepcopy(current_spec or {})
    wanted = desired_spec_values(params)
    for option, path, _kind, _fmt in SPEC_OPTIONS:
        if option not in wanted:
            continue
        node = spec
        for key in path[:-1]:
            if not isinstance(node.get(key), dict):
                node[key] = {}
            node = node[key]
        node[path[-1]] = wanted[option]
    return spec


def init_spec(params):
    """The Spec part of POST /swarm/init: only what the user set (the engine fills in its defaults)."""
    return updated_spec({}, params)


def init_only_differences(swarm, info, params):
    """Options fixed at init whose value differs from the cluster's: {option: (current, wanted)}."""
    current = {
        'default_addr_pool': swarm.get('DefaultAddrPool'),
        'subnet_size': swarm.get('SubnetSize'),
        'data_path_port': swarm.get('DataPathPort'),
        'advertise_addr': ((info.get('Swarm') or {}).get('NodeAddr')),
    }
    wanted = dict((o, params.get(o)) for o in INIT_ONLY_OPTIONS)
    if wanted['advertise_addr']:
        # an interface name or HOST:PORT: compare the host part only when it is an address
        host = wanted['advertise_addr']
        if re.match(r'^[0-9.]+(:[0-9]+)?$', host):
            wanted['advertise_addr'] = host.split(':')[0]
        else:
            wanted['advertise_addr'] = None
    differences = {}
    for option in INIT_ONLY_OPTIONS:
        if wanted[option] is None or current[option] is None:
            continue
        if option == 'default_addr_pool':
            if sorted(wanted[option]) != sorted(current[option]):
                differences[option] = (current[option], wanted[option])
        elif wanted[option] != current[option]:
            differences[option] = (current[option], wanted[option])
    return differences


# ---- states and errors ---------------------------------------------------------------------------

def describe_state(info):
    """A sentence on what the node is, from /info, for failure messages."""
    swarm = info.get('Swarm') or {}
    state = swarm.get('LocalNodeState') or 'inactive'
    if state == 'active':
        managers = ', '.join(m.get('Addr', '?') for m in swarm.get('RemoteManagers') or []) or 'unknown'
        role = 'a manager' if swarm.get('ControlAvailable') else 'a worker'
        return 'this node is %s of a swarm (node %s, managers %s)' % (role, swarm.get('NodeID'), managers)
    if state == 'locked':
        return 'this node is a manager whose swarm data is locked (autolock is on and the engine restarted)'
    if state == 'pending':
        return 'this node is still trying to reach the managers of a swarm (state pending)'
    if state == 'error':
        return 'this node is in a swarm error state (%s)' % (swarm.get('Error') or 'no detail')
    return 'this node is not part of a swarm'


def map_join_error(message, remote_addrs):
    """A clear sentence for an engine error of POST /swarm/join."""
    text = redact(message)
    lower = text.lower()
    where = ', '.join(remote_addrs)
    if 'valid join token is necessary' in lower or 'invalid join token' in lower:
        return ('the managers at %s refused the join token: it is not a current token of that swarm (wrong, '
                'mistyped or rotated). Read it again on a manager (swarm_init join_tokens) [engine: %s]' % (where, text))
    if 'remote ca does not match fingerprint' in lower:
        return ('the join token belongs to another swarm than the managers at %s (its CA digest does not match '
                'their root CA): use a token read on one of those managers [engine: %s]' % (where, text))
    if 'timeout was reached' in lower or 'deadline exceeded' in lower:
        return ('joining through %s timed out: the managers answered but the join did not complete (check that '
                'ports 2377/tcp, 7946/tcp+udp and 4789/udp are open both ways and the advertise address is '
                'reachable) [engine: %s]' % (where, text))
    if 'already part of a swarm' in lower:
        return 'this node is already part of a swarm [engine: %s]' % text
    return 'joining through %s failed: %s' % (where, text)


def is_no_leader_error(message):
    lower = (message or '').lower()
    return 'does not have a leader' in lower or 'no leader' in lower or 'context deadline exceeded' in lower


# ---- swarm_info summaries -----------------------------------------------------------------------

def summarize_swarm(info):
    swarm = info.get('Swarm') or {}
    cluster = swarm.get('Cluster') or {}
    state = swarm.get('LocalNodeState') or 'inactive'
    control = bool(swarm.get('ControlAvailable'))
    role = None
    if state == 'active':
        role = 'manager' if control else 'worker'
    return {
        'local_node_state': state,
        'node_id': swarm.get('NodeID') or None,
        'node_addr': swarm.get('NodeAddr') or None,
        'control_available': control,
        'role': role,
        'cluster_id': cluster.get('ID') or None,
        'created': cluster.get('CreatedAt') or None,
        'remote_managers': [m.get('Addr') for m in swarm.get('RemoteManagers') or []],
        'nodes': swarm.get('Nodes'),
        'managers': swarm.get('Managers'),
        'error': swarm.get('Error') or None,
    }


def manager_status(node):
    status = node.get('ManagerStatus')
    if not status:
        return None
    if status.get('Leader'):
        return 'Leader'
    reach = (status.get('Reachability') or '').lower()
    return {'reachable': 'Reachable', 'unreachable': 'Unreachable'}.get(reach, reach.capitalize() or None)


def summarize_node(node):
    spec = node.get('Spec') or {}
    description = node.get('Description') or {}
    status = node.get('Status') or {}
    addr = status.get('Addr')
    if node.get('ManagerStatus') and node['ManagerStatus'].get('Addr'):
        addr = node['ManagerStatus']['Addr'].rsplit(':', 1)[0]
    return {
        'id': node.get('ID'),
        'hostname': description.get('Hostname'),
        'role': spec.get('Role'),
        'status': status.get('State'),
        'availability': spec.get('Availability'),
        'manager_status': manager_status(node),
        'addr': addr,
        'engine_version': (description.get('Engine') or {}).get('EngineVersion'),
        'labels': spec.get('Labels') or {},
    }


def quorum_summary(nodes):
    """managers_total, managers_reachable, quorum (managers needed), has_quorum, fault_tolerance."""
    # raft members: a manager entry left behind by force_new_cluster has no ManagerStatus and does not count
    managers = [n for n in nodes if n.get('ManagerStatus')]
    total = len(managers)
    reachable = len([n for n in managers if manager_status(n) in ('Leader', 'Reachable')])
    needed = total // 2 + 1 if total else 0
    return {
        'managers_total': total,
        'managers_reachable': reachable,
        'quorum': needed,
        'has_quorum': bool(total) and reachable >= needed,
        'fault_tolerance': max(0, (total - 1) // 2),
    }


def quorum_after_removal(nodes, node_ids):
    """(ok, explanation): would demoting/removing NODE_IDS keep at least today's quorum of reachable managers?

    The bar is the quorum of the swarm as it is now (a majority of its current managers), not of the smaller
    swarm after the change: going from three managers to one, one node at a time, is refused at the second
    step, because the swarm would then tolerate no failure during the change and after it.
    """
    managers = [n for n in nodes if n.get('ManagerStatus')]
    leaving = [n for n in managers if n.get('ID') in node_ids]
    if not leaving:
        return True, ''
    total = len(managers)
    needed = total // 2 + 1
    remaining = [n for n in managers if n.get('ID') not in node_ids]
    reachable_after = len([n for n in remaining if manager_status(n) in ('Leader', 'Reachable')])
    if not remaining:
        return False, 'it would leave the swarm without any manager'
    if reachable_after < needed:
        return False, ('the swarm has %d manager(s), so its quorum is %d; afterwards %d reachable manager(s) would '
                       'remain, fewer than that: one more failure and the swarm stops accepting changes. Join or '
                       'promote another manager first' % (total, needed, reachable_after))
    return True, ''


def _task_counts(tasks):
    running = {}
    for task in tasks:
        if (task.get('Status') or {}).get('State') == 'running' and task.get('DesiredState') == 'running':
            running[task.get('ServiceID')] = running.get(task.get('ServiceID'), 0) + 1
    return running


def summarize_service(service, tasks=None, ready_nodes=None):
    """One line of `docker service ls`; running/desired from ServiceStatus or else from TASKS."""
    spec = service.get('Spec') or {}
    mode_spec = spec.get('Mode') or {}
    mode = 'replicated'
    desired = None
    if 'Replicated' in mode_spec:
        desired = (mode_spec.get('Replicated') or {}).get('Replicas', 1)
    elif 'Global' in mode_spec:
        mode = 'global'
    elif 'ReplicatedJob' in mode_spec:
        mode = 'replicated-job'
        desired = (mode_spec.get('ReplicatedJob') or {}).get('TotalCompletions')
    elif 'GlobalJob' in mode_spec:
        mode = 'global-job'
    status = service.get('ServiceStatus')
    if status:
        running = status.get('RunningTasks', 0)
        desired = status.get('DesiredTasks', desired)
    else:
        running = _task_counts(tasks or []).get(service.get('ID'), 0)
        if mode in ('global', 'global-job'):
            desired = len(set(t.get('NodeID') for t in tasks or []
                              if t.get('ServiceID') == service.get('ID') and t.get('DesiredState') == 'running'))
    image = ((spec.get('TaskTemplate') or {}).get('ContainerSpec') or {}).get('Image')
    ports = []
    for port in (service.get('Endpoint') or {}).get('Ports') or (spec.get('EndpointSpec') or {}).get('Ports') or []:
        ports.append({'published': port.get('PublishedPort'), 'target': port.get('TargetPort'),
                      'protocol': port.get('Protocol', 'tcp'), 'mode': port.get('PublishMode', 'ingress')})
    return {
        'id': service.get('ID'),
        'name': spec.get('Name'),
        'mode': mode,
        'replicas_running': running,
        'replicas_desired': desired,
        'image': image,
        'ports': ports,
        'update_state': (service.get('UpdateStatus') or {}).get('State'),
    }


# ---- swarm_info filters and tasks ---------------------------------------------------------------

def parse_label_selectors(selectors, option):
    """[(key, value or None)] of 'key' / 'key=value' selectors (like `docker node ls -f node.label=...`)."""
    parsed = []
    for selector in selectors or []:
        key, sep, value = str(selector).partition('=')
        key = key.strip()
        if not key:
            raise SwarmInputError('%s: %r is not a label selector; write KEY or KEY=VALUE' % (option, selector))
        parsed.append((key, value if sep else None))
    return parsed


def labels_match(labels, selectors):
    """Whether LABELS (a dict) has every (key, value) of SELECTORS (value None: the key with any value)."""
    labels = labels or {}
    return all(key in labels and (value is None or labels[key] == value) for key, value in selectors)


def filter_nodes(nodes, role=None, labels=None, hostnames=None):
    """The raw /nodes entries with ROLE, every label selector of LABELS, and one of HOSTNAMES (when given)."""
    selectors = parse_label_selectors(labels, 'node_filters.labels')
    kept = []
    for node in nodes:
        spec = node.get('Spec') or {}
        if role and spec.get('Role') != role:
            continue
        if hostnames and (node.get('Description') or {}).get('Hostname') not in hostnames:
            continue
        if not labels_match(spec.get('Labels'), selectors):
            continue
        kept.append(node)
    return kept


def filter_services(services, names=None, labels=None):
    """The raw /services entries named exactly one of NAMES (when given) with every label selector of LABELS."""
    selectors = parse_label_selectors(labels, 'service_filters.labels')
    return [s for s in services
            if (not names or (s.get('Spec') or {}).get('Name') in names)
            and labels_match((s.get('Spec') or {}).get('Labels'), selectors)]


def summarize_task(task, node_names):
    """One line of `docker service ps`: where the task runs, its state, error and image (with digest, if pinned)."""
    status = task.get('Status') or {}
    image = ((task.get('Spec') or {}).get('ContainerSpec') or {}).get('Image')
    digest = image.split('@', 1)[1] if image and '@' in image else None
    return {
        'id': task.get('ID'),
        'slot': task.get('Slot'),
        'node_id': task.get('NodeID'),
        'node': node_names.get(task.get('NodeID')),
        'desired_state': task.get('DesiredState'),
        'state': status.get('State'),
        'message': status.get('Message'),
        'error': status.get('Err') or None,
        'exit_code': (status.get('ContainerStatus') or {}).get('ExitCode'),
        'image': image,
        'image_digest': digest,
        'created': task.get('CreatedAt'),
        'updated': status.get('Timestamp') or task.get('UpdatedAt'),
    }


def tasks_by_service(tasks, node_names):
    """{service id: [task summaries]}, by slot (or node) and newest first within one (like docker service ps)."""
    result = {}
    for task in tasks:
        result.setdefault(task.get('ServiceID'), []).append(summarize_task(task, node_names))
    for entries in result.values():
        # replicated tasks are grouped by slot, global ones (no slot) by node
        entries.sort(key=lambda e: (e['slot'] or 0, '' if e['slot'] else e['node'] or '',
                                    _reverse_text(e['created'] or '')))
    return result


def _reverse_text(text):
    """A key that sorts TEXT (an RFC 3339 time) newest first."""
    return [-ord(char) for char in text]


def summarize_cluster(info):
    """The swarm's settings as a manager's /info reports them (Cluster), or None elsewhere."""
    cluster = (info.get('Swarm') or {}).get('Cluster')
    if not cluster:
        return None
    return {
        'spec': cluster.get('Spec'),
        'default_addr_pool': cluster.get('DefaultAddrPool'),
        'subnet_size': cluster.get('SubnetSize'),
        'data_path_port': cluster.get('DataPathPort'),
        'root_rotation_in_progress': cluster.get('RootRotationInProgress'),
        'updated': cluster.get('UpdatedAt'),
    }
