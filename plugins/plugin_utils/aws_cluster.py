# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The decisions of the aws_cluster role, as pure functions.

check_settings() reads only the role's variables (and the region list that ships with botocore) and
either refuses them, naming each variable that is wrong and how to fix it, or returns everything the
role sends to EC2: names, tags, the security group's rules, the AMI query. It runs before any AWS call.

plan_instances() compares the instances a cluster already has (as amazon.aws.ec2_instance_info reports
them) with the counts asked for, and refuses what EC2 would do wrongly or what would break the swarm.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import hashlib
import ipaddress
import re
import struct

# The swarm's own traffic, allowed only between members of the cluster's security group (the host firewall
# does the same between the inventory's hosts). IP protocol 50 (ESP) carries encrypted overlay networks.
SWARM_RULES = (
    ('tcp', 2377, 'swarm cluster management (join, raft between managers)'),
    ('tcp', 7946, 'swarm node gossip'),
    ('udp', 7946, 'swarm node gossip'),
    ('udp', 4789, 'swarm overlay network data (VXLAN)'),
    ('50', None, 'swarm encrypted overlay networks (ESP)'),
)

ROLES = ('manager', 'worker')
# Docker recommends at most seven managers: raft gets slower with each one, and seven tolerate three failures.
MANAGER_COUNTS = (1, 3, 5, 7)
MAX_WORKERS = 100
# EC2 states in which an instance still exists (and counts); shutting-down and terminated ones do not.
LIVE_STATES = ('pending', 'running', 'stopping', 'stopped')
# EC2 imports these key types only.
KEY_TYPES = ('ssh-ed25519', 'ssh-rsa')
# A network wider than this is treated as "anywhere": 0.0.0.0/1 plus 128.0.0.0/1 is as open as 0.0.0.0/0.
WORLD_PREFIX = {4: 8, 6: 32}
ARCHITECTURES = ('x86_64', 'arm64')
# How AMI names spell the architecture (Debian and Ubuntu both say amd64/arm64).
AMI_NAME_ARCH = {'x86_64': 'amd64', 'arm64': 'arm64'}

_CLUSTER_NAME = re.compile(r'^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$')
_INSTANCE_TYPE = re.compile(r'^([a-z]+)(\d+)([a-z]*)(-[a-z0-9]+)?\.[a-z0-9-]+$')
_AMI_ID = re.compile(r'^ami-([0-9a-f]{8}|[0-9a-f]{17})$')
_VPC_ID = re.compile(r'^vpc-([0-9a-f]{8}|[0-9a-f]{17})$')
_SUBNET_ID = re.compile(r'^subnet-([0-9a-f]{8}|[0-9a-f]{17})$')
_SSH_USER = re.compile(r'^[a-z_][a-z0-9_-]{0,31}$')
_AMI_OWNER = re.compile(r'^(\d{12}|amazon|aws-marketplace|self)$')


def known_regions():
    """Every region botocore knows for EC2, in every partition; None when botocore is missing."""
    try:
        import botocore.session
    except ImportError:
        return None
    session = botocore.session.get_session()
    regions = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions('ec2', partition_name=partition))
    return regions


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_bool(value):
    return isinstance(value, bool)


def _as_int(value):
    """Whole numbers, also as text (`-e aws_managers=3` passes a string); anything else unchanged."""
    if isinstance(value, str) and re.match(r'^\s*-?\d+\s*$', value):
        return int(value)
    return value


_TRUE = ('true', 'yes', 'on', '1')
_FALSE = ('false', 'no', 'off', '0')


def _as_bool(value):
    """Booleans, also as text (`-e aws_ssh_allow_world=true`); anything else unchanged."""
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    return value


def instance_architecture(instance_type):
    """arm64 for Graviton types (a 'g' among the attributes after the generation: t4g, m7gd, c6gn), else x86_64."""
    match = _INSTANCE_TYPE.match(instance_type or '')
    if not match:
        return None
    return 'arm64' if 'g' in match.group(3) else 'x86_64'


def public_key_digest(key):
    """The key's fingerprint as `ssh-keygen -l` prints it (SHA256:base64, no padding); None if unreadable.

    Kept in the key pair's swarmops:ssh-key tag: EC2's own KeyFingerprint is a different digest per key type
    and per import or creation, and ec2_key can only compare it by importing the key again under a
    temporary name (a write on every run, and a change reported on every check-mode run).
    """
    try:
        blob = base64.b64decode(key.strip().split()[1].encode('ascii'), validate=True)
    except (AttributeError, IndexError, binascii.Error, ValueError, UnicodeError):
        return None
    return 'SHA256:' + base64.b64encode(hashlib.sha256(blob).digest()).decode('ascii').rstrip('=')


def _check_public_key(key):
    """Return an error text (never quoting the key) or None."""
    if not isinstance(key, str) or not key.strip():
        return ('aws_ssh_public_key is empty: give the public half of the key you log in with, e.g. '
                "\"{{ lookup('ansible.builtin.file', '~/.ssh/id_ed25519.pub') }}\"")
    if 'PRIVATE KEY' in key:
        return ('aws_ssh_public_key holds a PRIVATE key: give the public key (the .pub file) instead, and treat '
                'the private key you pasted as exposed')
    parts = key.strip().split()
    if len(parts) < 2 or parts[0] not in KEY_TYPES:
        return ('aws_ssh_public_key is not an OpenSSH public key of a type EC2 imports (%s): it should read '
                '"ssh-ed25519 AAAA... comment"' % ', '.join(KEY_TYPES))
    try:
        blob = base64.b64decode(parts[1].encode('ascii'), validate=True)
        (length,) = struct.unpack('>I', blob[:4])
        blob_type = blob[4:4 + length].decode('ascii')
    except (binascii.Error, ValueError, UnicodeError, struct.error):
        return 'aws_ssh_public_key is damaged: its base64 part does not decode (copy the whole .pub line)'
    if blob_type != parts[0]:
        return ('aws_ssh_public_key is damaged: it says %s but its key data is of type %s' % (parts[0], blob_type))
    return None


def _check_cidrs(cidrs, allow_world):
    """Return (errors, ipv4 list, ipv6 list)."""
    errors = []
    ipv4, ipv6 = [], []
    if not isinstance(cidrs, (list, tuple)):
        return (['aws_ssh_cidrs must be a list of networks (e.g. ["203.0.113.7/32"]), not %s'
                 % type(cidrs).__name__], ipv4, ipv6)
    if not cidrs:
        return (['aws_ssh_cidrs is empty: list the networks you connect from over SSH (e.g. your address as '
                 '"203.0.113.7/32"); there is no default, and none of the world'], ipv4, ipv6)
    for cidr in cidrs:
        text = str(cidr).strip()
        try:
            network = ipaddress.ip_network(text, strict=True)
        except ValueError as e:
            hint = ''
            try:
                hint = ' (did you mean %s?)' % ipaddress.ip_network(text, strict=False)
            except ValueError:
                pass
            errors.append('aws_ssh_cidrs: %r is not a network in CIDR form: %s%s' % (text, e, hint))
            continue
        if network.prefixlen < WORLD_PREFIX[network.version] and not allow_world:
            errors.append('aws_ssh_cidrs: %s opens SSH to (a large part of) the whole internet. List the networks '
                          'you connect from instead, or set aws_ssh_allow_world: true if you really mean it'
                          % network)
            continue
        (ipv4 if network.version == 4 else ipv6).append(str(network))
    return errors, sorted(set(ipv4)), sorted(set(ipv6))


def _ami_query(ami, presets, architecture):
    """Return (errors, query): query is {'image_id'} or {'owner', 'name', 'architecture', 'ssh_user'}."""
    if not isinstance(ami, str) or not ami:
        return ['aws_ami is empty: name a preset (%s) or an AMI id (ami-...)' % ', '.join(sorted(presets or {}))], {}
    if _AMI_ID.match(ami):
        return [], {'image_id': ami}
    if ami.startswith('ami-'):
        return ['aws_ami %r is not a well-formed AMI id (ami- and 8 or 17 hexadecimal digits)' % ami], {}
    if not isinstance(presets, dict) or ami not in presets:
        return ['aws_ami %r is neither a preset (%s) nor an AMI id (ami-...)'
                % (ami, ', '.join(sorted(presets or {})) or 'none defined')], {}
    preset = presets[ami]
    if not isinstance(preset, dict) or not preset.get('owner') or not preset.get('name'):
        return ['aws_ami_presets[%r] needs an owner (account id) and a name pattern' % ami], {}
    owner = str(preset['owner'])
    if not _AMI_OWNER.match(owner):
        return ['aws_ami_presets[%r].owner %r is not an account id (12 digits), amazon or self' % (ami, owner)], {}
    name = str(preset['name']).replace('{arch}', AMI_NAME_ARCH.get(architecture, architecture or ''))
    return [], {'owner': owner, 'name': name, 'architecture': architecture, 'ssh_user': preset.get('ssh_user') or ''}


def _rules(group_name, ssh_port, ipv4, ipv6):
    """The security group's ingress rules, as amazon.aws.ec2_security_group takes them."""
    rules = []
    for proto, port, purpose in SWARM_RULES:
        rule = {'proto': proto, 'group_name': group_name, 'rule_desc': 'swarmops: %s' % purpose}
        if port is not None:
            rule['ports'] = [port]
        rules.append(rule)
    ssh = {'proto': 'tcp', 'ports': [ssh_port], 'rule_desc': 'swarmops: SSH from aws_ssh_cidrs'}
    if ipv4:
        rules.append(dict(ssh, cidr_ip=ipv4))
    if ipv6:
        rules.append(dict(ssh, cidr_ipv6=ipv6))
    return rules


def check_settings(settings, purpose='provision', regions=None):
    """Validate the role's variables (a dict keyed by variable name) before any AWS call.

    purpose: 'provision' checks everything; 'teardown' only what finds the cluster (name, region).
    regions: the known region names (default: botocore's list).
    Returns {'ok': bool, 'errors': [text naming the variable], 'cluster': {...normalised settings...}}.
    """
    settings = dict(settings or {})
    for variable in ('aws_managers', 'aws_workers', 'aws_root_volume_size', 'aws_ssh_port', 'aws_wait_timeout'):
        if variable in settings:
            settings[variable] = _as_int(settings[variable])
    for variable in ('aws_ssh_allow_world', 'aws_assign_public_ip', 'aws_allow_scale_down'):
        if variable in settings:
            settings[variable] = _as_bool(settings[variable])
    if isinstance(settings.get('aws_ssh_cidrs'), str):
        # As Ansible's list type does: "a, b" is the list [a, b].
        settings['aws_ssh_cidrs'] = [c.strip() for c in settings['aws_ssh_cidrs'].split(',') if c.strip()]
    errors = []

    name = settings.get('aws_cluster_name')
    if not isinstance(name, str) or not _CLUSTER_NAME.match(name):
        errors.append('aws_cluster_name %r must be 1-32 lowercase letters, digits or hyphens, starting and ending '
                      'with a letter or digit (it names the security group, the key pair and the tags)' % (name,))

    region = settings.get('aws_region')
    if regions is None:
        regions = known_regions()
    if not isinstance(region, str) or not region:
        errors.append('aws_region is not set: give the region to use (e.g. eu-central-1), or export AWS_REGION')
    elif regions is None:
        errors.append('aws_region cannot be checked: botocore is not installed on the controller '
                      '(pip install boto3 botocore; the amazon.aws modules need them too)')
    elif region not in regions:
        errors.append('aws_region %r is not an EC2 region this botocore knows (%s, ...); check the spelling, or '
                      'upgrade boto3/botocore for a region launched after it' % (region, ', '.join(sorted(regions)[:4])))

    cluster = {
        'name': name,
        'region': region,
        'security_group_name': 'swarmops-%s' % name,
        'key_name': 'swarmops-%s' % name,
        'tags': {'swarmops:cluster': name},
        'instance_filters': {'tag:swarmops:cluster': name, 'instance-state-name': list(LIVE_STATES)},
    }
    if purpose == 'teardown':
        return {'ok': not errors, 'errors': errors, 'cluster': cluster}

    managers = settings.get('aws_managers')
    if not _is_int(managers) or managers not in MANAGER_COUNTS:
        if _is_int(managers) and managers > 0 and managers % 2 == 0:
            errors.append('aws_managers is %d, an even number: %d managers tolerate no more failures than %d do, '
                          'and a network split can leave neither half with a majority. Use %d or %d'
                          % (managers, managers, managers - 1, managers - 1, managers + 1))
        else:
            errors.append('aws_managers %r must be one of %s (an odd number, at most seven)'
                          % (managers, ', '.join(str(n) for n in MANAGER_COUNTS)))
    workers = settings.get('aws_workers')
    if not _is_int(workers) or not 0 <= workers <= MAX_WORKERS:
        errors.append('aws_workers %r must be a whole number from 0 to %d' % (workers, MAX_WORKERS))

    instance_type = settings.get('aws_instance_type')
    type_arch = instance_architecture(instance_type if isinstance(instance_type, str) else '')
    if type_arch is None:
        errors.append('aws_instance_type %r is not an EC2 instance type (e.g. t3.small, m7g.large)' % (instance_type,))
    architecture = settings.get('aws_architecture') or type_arch or 'x86_64'
    if architecture not in ARCHITECTURES:
        errors.append('aws_architecture %r must be empty (follow the instance type), x86_64 or arm64' % (architecture,))
    elif type_arch and architecture != type_arch:
        errors.append('aws_architecture is %s but aws_instance_type %s runs %s images: leave aws_architecture empty '
                      'or choose a matching type' % (architecture, instance_type, type_arch))

    ami_errors, ami = _ami_query(settings.get('aws_ami'), settings.get('aws_ami_presets'), architecture)
    errors.extend(ami_errors)
    ssh_user = settings.get('aws_ssh_user') or ami.get('ssh_user') or ''
    if ami and not ssh_user:
        errors.append('aws_ssh_user is empty: with an AMI id (aws_ami %s) say which user the image lets you log in '
                      'as (admin on Debian, ubuntu on Ubuntu)' % settings.get('aws_ami'))
    elif ssh_user and not _SSH_USER.match(str(ssh_user)):
        errors.append('aws_ssh_user %r is not a valid login name' % (ssh_user,))

    size = settings.get('aws_root_volume_size')
    if not _is_int(size) or not 8 <= size <= 16384:
        errors.append('aws_root_volume_size %r must be a whole number of GiB from 8 to 16384' % (size,))

    allow_world = settings.get('aws_ssh_allow_world', False)
    if not _is_bool(allow_world):
        errors.append('aws_ssh_allow_world %r must be true or false' % (allow_world,))
        allow_world = False
    cidr_errors, ipv4, ipv6 = _check_cidrs(settings.get('aws_ssh_cidrs'), allow_world)
    errors.extend(cidr_errors)
    ssh_port = settings.get('aws_ssh_port', 22)
    if not _is_int(ssh_port) or not 1 <= ssh_port <= 65535:
        errors.append('aws_ssh_port %r must be a port number (1-65535)' % (ssh_port,))

    key_error = _check_public_key(settings.get('aws_ssh_public_key'))
    if key_error:
        errors.append(key_error)
    key_digest = None if key_error else public_key_digest(settings.get('aws_ssh_public_key'))

    vpc_id = settings.get('aws_vpc_id') or ''
    if vpc_id and not _VPC_ID.match(str(vpc_id)):
        errors.append('aws_vpc_id %r is not a VPC id (vpc-...); leave it empty for the default VPC' % (vpc_id,))
    subnet_id = settings.get('aws_subnet_id') or ''
    if subnet_id and not _SUBNET_ID.match(str(subnet_id)):
        errors.append('aws_subnet_id %r is not a subnet id (subnet-...); leave it empty to use the first subnet '
                      'of the VPC' % (subnet_id,))
    for flag in ('aws_assign_public_ip', 'aws_allow_scale_down'):
        if not _is_bool(settings.get(flag, False)):
            errors.append('%s %r must be true or false' % (flag, settings.get(flag)))
    wait_timeout = settings.get('aws_wait_timeout', 600)
    if not _is_int(wait_timeout) or wait_timeout < 1:
        errors.append('aws_wait_timeout %r must be a positive number of seconds' % (wait_timeout,))

    cluster.update({
        'managers': managers,
        'workers': workers,
        'instance_type': instance_type,
        'architecture': architecture,
        'ami': ami,
        'ssh_user': ssh_user,
        'root_volume_size': size,
        'ssh_port': ssh_port,
        'ssh_cidrs_ipv4': ipv4,
        'ssh_cidrs_ipv6': ipv6,
        'vpc_id': vpc_id,
        'subnet_id': subnet_id,
        'assign_public_ip': settings.get('aws_assign_public_ip', True) is True,
        'allow_scale_down': settings.get('aws_allow_scale_down', False) is True,
        'wait_timeout': wait_timeout,
        'security_group_rules': _rules(cluster['security_group_name'], ssh_port, ipv4, ipv6),
        'key_digest': key_digest,
        'key_tags': dict(cluster['tags'], **{'swarmops:ssh-key': key_digest or ''}),
    })
    return {'ok': not errors, 'errors': errors, 'cluster': cluster}


def _role_of(instance):
    return ((instance or {}).get('tags') or {}).get('swarmops:role')


def _state_of(instance):
    state = (instance or {}).get('state')
    return state.get('name') if isinstance(state, dict) else state


def plan_instances(existing, managers, workers, instance_type, allow_scale_down=False):
    """Decide, per role, what the instance step does.

    existing: the cluster's instances as amazon.aws.ec2_instance_info returns them (any state).
    Returns {'ok', 'errors', 'roles': [{'role', 'count', 'current', 'instance_ids', 'action'}]}, where action
    is 'keep' (nothing to do), 'launch' (add count - current) or 'terminate' (scale down, only when allowed).
    ec2_instance's exact_count launches one instance when asked for zero, so a count of zero never reaches
    it: 'keep' when there is nothing, 'terminate' when there is something.
    """
    live = [i for i in (existing or []) if _state_of(i) in LIVE_STATES]
    errors = []
    roles = []
    for role, count, variable in (('manager', managers, 'aws_managers'), ('worker', workers, 'aws_workers')):
        mine = sorted((i for i in live if _role_of(i) == role), key=lambda i: i.get('instance_id') or '')
        ids = [i.get('instance_id') for i in mine]
        current = len(mine)
        if count == current:
            action = 'keep'
        elif count > current:
            action = 'launch'
        else:
            action = 'terminate'
            if not allow_scale_down:
                if role == 'manager':
                    advice = ('demote them first (docker node demote, one at a time, keeping a majority of managers '
                              'Reachable), ')
                else:
                    advice = 'drain them first (docker node update --availability drain), '
                errors.append('%s is %d but the cluster has %d %ss (%s): lowering it terminates instances. To shrink '
                              'the cluster, %sthen re-run with aws_allow_scale_down: true'
                              % (variable, count, current, role, ', '.join(ids), advice))
        other_type = [i.get('instance_id') for i in mine if i.get('instance_type') != instance_type]
        if other_type:
            errors.append('aws_instance_type is %s but %ss %s run %s: EC2 changes the type of a stopped instance only. '
                          'Keep aws_instance_type as it is, or stop, resize and start them yourself first'
                          % (instance_type, role, ', '.join(other_type),
                             ', '.join(sorted(set(i.get('instance_type') or '?' for i in mine
                                                  if i.get('instance_type') != instance_type)))))
        roles.append({'role': role, 'count': count, 'current': current, 'instance_ids': ids, 'action': action})
    unknown = sorted(i.get('instance_id') or '?' for i in live if _role_of(i) not in ROLES)
    if unknown:
        errors.append('instances %s carry this cluster\'s tag but no swarmops:role of manager or worker: tag them '
                      'or remove the swarmops:cluster tag, so that counts mean what they say' % ', '.join(unknown))
    return {'ok': not errors, 'errors': errors, 'roles': roles}


def _subnet_id(subnet):
    return subnet.get('id', subnet.get('subnet_id'))


def _choose_network(cluster, subnets):
    """Return (errors, vpc_id, subnet_id) from the subnets read: the one asked for (aws_subnet_id), those of the
    VPC asked for (aws_vpc_id), or the region's default subnets (those of the default VPC)."""
    region = cluster.get('region')
    subnets = [s for s in subnets or [] if s.get('state', 'available') == 'available']
    if cluster.get('subnet_id'):
        found = [s for s in subnets if _subnet_id(s) == cluster['subnet_id']]
        if not found:
            return ['aws_subnet_id %s does not exist in %s' % (cluster['subnet_id'], region)], None, None
        vpc_id = found[0].get('vpc_id')
        if cluster.get('vpc_id') and cluster['vpc_id'] != vpc_id:
            return ['aws_subnet_id %s is in %s, not in aws_vpc_id %s: give one of them, or matching ones'
                    % (cluster['subnet_id'], vpc_id, cluster['vpc_id'])], None, None
        return [], vpc_id, cluster['subnet_id']
    if cluster.get('vpc_id'):
        subnets = [s for s in subnets if s.get('vpc_id') == cluster['vpc_id']]
        if not subnets:
            return ['aws_vpc_id %s does not exist in %s, or has no subnet (set aws_subnet_id)'
                    % (cluster['vpc_id'], region)], None, None
    elif not subnets:
        return ['%s has no default VPC (or it has no default subnet): set aws_vpc_id or aws_subnet_id' % region], \
            None, None
    # The same subnet on every run (new subnets do not move the choice), in the first availability zone.
    first = sorted(subnets, key=lambda s: (s.get('availability_zone') or '', _subnet_id(s) or ''))[0]
    return [], first.get('vpc_id'), _subnet_id(first)


def _choose_image(cluster, images):
    """Return (errors, image) with image = {image_id, name, root_device_name}: the newest match of the query."""
    ami = cluster.get('ami') or {}
    region = cluster.get('region')
    candidates = [i for i in images or [] if i.get('state', 'available') == 'available']
    if not candidates:
        if ami.get('image_id'):
            return ['aws_ami %s does not exist in %s (AMI ids differ between regions)'
                    % (ami['image_id'], region)], None
        return ['aws_ami: no %s image named %s from owner %s in %s'
                % (ami.get('architecture'), ami.get('name'), ami.get('owner'), region)], None
    # The newest by creation date; the name (which carries the build date for Debian and Ubuntu) breaks ties.
    image = sorted(candidates, key=lambda i: (str(i.get('creation_date') or ''), i.get('name') or ''))[-1]
    errors = []
    if image.get('architecture') and image['architecture'] != cluster.get('architecture'):
        errors.append('aws_ami %s is an %s image, but aws_instance_type %s runs %s images'
                      % (image.get('image_id'), image['architecture'], cluster.get('instance_type'),
                         cluster.get('architecture')))
    if image.get('root_device_type', 'ebs') != 'ebs' or not image.get('root_device_name'):
        errors.append('aws_ami %s does not boot from an EBS volume, so aws_root_volume_size cannot apply'
                      % image.get('image_id'))
    return errors, {'image_id': image.get('image_id'), 'name': image.get('name'),
                    'root_device_name': image.get('root_device_name')}


def _key_action(cluster, keypairs):
    """keep (the key pair holds this public key), import (no key pair) or replace (another key)."""
    mine = [k for k in keypairs or [] if k.get('key_name') == cluster.get('key_name')]
    if not mine:
        return 'import'
    tags = mine[0].get('tags') or {}
    if isinstance(tags, list):
        tags = dict((t.get('Key'), t.get('Value')) for t in tags)
    return 'keep' if tags.get('swarmops:ssh-key') == cluster.get('key_digest') else 'replace'


def plan_cluster(reads, cluster):
    """Decide everything the apply step needs, from what was read, before anything is created.

    reads: {'subnets': ec2_vpc_subnet_info subnets (the one asked for, the VPC's, or the default ones),
    'images': ec2_ami_info images, 'instances': ec2_instance_info instances, 'keypairs': ec2_key_info keypairs}.
    cluster: check_settings()['cluster'].
    Returns {'ok', 'errors', 'vpc_id', 'subnet_id', 'image', 'key_action', 'roles'} (roles as plan_instances()).
    """
    reads = dict(reads or {})
    errors, vpc_id, subnet_id = _choose_network(cluster, reads.get('subnets'))
    image_errors, image = _choose_image(cluster, reads.get('images'))
    errors.extend(image_errors)
    instances = plan_instances(reads.get('instances'), cluster.get('managers'), cluster.get('workers'),
                               cluster.get('instance_type'), cluster.get('allow_scale_down', False))
    errors.extend(instances['errors'])
    return {'ok': not errors, 'errors': errors, 'vpc_id': vpc_id, 'subnet_id': subnet_id, 'image': image,
            'key_action': _key_action(cluster, reads.get('keypairs')), 'roles': instances['roles']}
