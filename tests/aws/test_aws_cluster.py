"""The AWS playbooks against a moto server: provision, re-run, check mode, a count change, the dynamic
inventory, refusals and teardown -- and bad input refused before anything is created.

One cluster ("demo", us-east-1: 1 manager + 2 workers) goes through its life in four phases; the runs of a
phase that only read run side by side (each module run costs seconds of CPU, most of it loading boto3):

  1. provision demo  |  check mode on an empty region  |  the bad-input table (its own region)
  2. aws_site.yml re-run (limited to localhost)  |  check mode with one more worker  |  a scale-down
     refused  |  the inventory, public and private
  3. one more worker (and a rule added by hand removed)  |  teardown refused (no confirmation, another name)
  4. teardown confirmed, then again (nothing left to remove)

Bystanders in the same region (another cluster's instance, security group and key pair) must come through
untouched. Assertions are on moto's state, read with boto3, not on what the playbooks say they did.
"""

import json

import pytest

from conftest import AWS_DIR, REPO_ROOT, inventory_list, playbook, unwrap

PROVISION = REPO_ROOT / 'playbooks' / 'aws_provision.yml'
TEARDOWN = REPO_ROOT / 'playbooks' / 'aws_teardown.yml'
SITE = REPO_ROOT / 'playbooks' / 'aws_site.yml'
INVENTORY = REPO_ROOT / 'inventories' / 'aws'
REGION = 'us-east-1'
EMPTY_REGION = 'eu-west-2'     # check mode on a fresh account
BAD_REGION = 'eu-west-1'       # the bad-input table: must stay empty
SSH_CIDR = '203.0.113.0/24'
DEBIAN_NEWEST = 'ami-0d3e11a0000000002'
LIVE = ['pending', 'running', 'stopping', 'stopped']

# Each case: host name, variables over a valid baseline, words the failure must contain.
BAD_INPUT = [
    ('managers_even', {'aws_managers': 2}, ['aws_managers is 2, an even number']),
    ('managers_text', {'aws_managers': 'three'}, ['aws_managers']),
    ('workers_negative', {'aws_workers': -1}, ['aws_workers -1']),
    ('region_unknown', {'aws_region': 'us-east-7'}, ["aws_region 'us-east-7' is not an EC2 region"]),
    ('ssh_world', {'aws_ssh_cidrs': ['0.0.0.0/0']}, ['aws_ssh_cidrs: 0.0.0.0/0 opens SSH', 'aws_ssh_allow_world']),
    ('ssh_world_halves', {'aws_ssh_cidrs': ['0.0.0.0/1', '128.0.0.0/1']}, ['0.0.0.0/1 opens SSH', '128.0.0.0/1 opens']),
    ('ssh_none', {'aws_ssh_cidrs': []}, ['aws_ssh_cidrs is empty']),
    ('cidr_malformed', {'aws_ssh_cidrs': ['10.0.0.300/24']}, ["aws_ssh_cidrs: '10.0.0.300/24' is not a network"]),
    ('key_missing', {'aws_ssh_public_key': ''}, ['aws_ssh_public_key is empty']),
    ('key_private', {'aws_ssh_public_key': '-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw\n'
                                           '-----END OPENSSH PRIVATE KEY-----'},
     ['aws_ssh_public_key holds a PRIVATE key']),
    ('ami_unknown_preset', {'aws_ami': 'centos-7'}, ["aws_ami 'centos-7' is neither a preset"]),
    # These pass the variable check and are refused once the account has been read (reads only).
    ('vpc_missing', {'aws_vpc_id': 'vpc-0123456789abcdef0'}, ['aws_vpc_id vpc-0123456789abcdef0 does not exist']),
    ('ami_other_arch', {'aws_ami': 'ami-0d3e11a0000000003', 'aws_ssh_user': 'admin'},
     ['aws_ami ami-0d3e11a0000000003 is an arm64 image']),
]


def live_instances(ec2, **tags):
    filters = [{'Name': 'instance-state-name', 'Values': LIVE}]
    filters += [{'Name': 'tag:%s' % k, 'Values': [v]} for k, v in tags.items()]
    found = {}
    for reservation in ec2.describe_instances(Filters=filters)['Reservations']:
        for instance in reservation['Instances']:
            instance['TagMap'] = dict((t['Key'], t['Value']) for t in instance.get('Tags', []))
            found[instance['InstanceId']] = instance
    return found


def tagged_groups(ec2, cluster):
    return ec2.describe_security_groups(Filters=[{'Name': 'tag:swarmops:cluster', 'Values': [cluster]}])['SecurityGroups']


def tagged_keys(ec2, cluster):
    return ec2.describe_key_pairs(Filters=[{'Name': 'tag:swarmops:cluster', 'Values': [cluster]}])['KeyPairs']


def region_contents(ec2):
    """Everything a run could have created in a region: live instances, non-default groups, key pairs."""
    return {'instances': sorted(live_instances(ec2)),
            'groups': sorted(g['GroupName'] for g in ec2.describe_security_groups()['SecurityGroups']
                             if g['GroupName'] != 'default'),
            'keys': sorted(k['KeyName'] for k in ec2.describe_key_pairs()['KeyPairs'])}


def cluster_contents(ec2, cluster):
    return {'instances': dict((i, (x['InstanceType'], x['ImageId'], x['TagMap'].get('swarmops:role')))
                              for i, x in live_instances(ec2, **{'swarmops:cluster': cluster}).items()),
            'groups': dict((g['GroupId'], ingress(g)) for g in tagged_groups(ec2, cluster)),
            'keys': sorted((k['KeyName'], k['KeyFingerprint']) for k in tagged_keys(ec2, cluster))}


def ingress(group):
    """The group's ingress rules as (protocol, from, to, source); source 'self' for the group itself."""
    rules = set()
    for permission in group['IpPermissions']:
        key = (permission['IpProtocol'], permission.get('FromPort'), permission.get('ToPort'))
        for pair in permission.get('UserIdGroupPairs', []):
            rules.add(key + ('self' if pair['GroupId'] == group['GroupId'] else pair['GroupId'],))
        for cidr in permission.get('IpRanges', []):
            rules.add(key + (cidr['CidrIp'],))
        for cidr in permission.get('Ipv6Ranges', []):
            rules.add(key + (cidr['CidrIpv6'],))
        for prefix in permission.get('PrefixListIds', []):
            rules.add(key + (prefix['PrefixListId'],))
    return rules


SWARM_RULES = {('tcp', 2377, 2377, 'self'), ('tcp', 7946, 7946, 'self'), ('udp', 7946, 7946, 'self'),
               ('udp', 4789, 4789, 'self'), ('50', None, None, 'self'), ('tcp', 22, 22, SSH_CIDR)}


def add_bystanders(ec2):
    """Another cluster's instance, security group and key pair, and an untagged key: teardown of demo leaves them."""
    group = ec2.create_security_group(GroupName='swarmops-other', Description='another cluster',
                                      TagSpecifications=[{'ResourceType': 'security-group',
                                                          'Tags': [{'Key': 'swarmops:cluster', 'Value': 'other'}]}])
    ec2.create_key_pair(KeyName='swarmops-other', TagSpecifications=[{
        'ResourceType': 'key-pair', 'Tags': [{'Key': 'swarmops:cluster', 'Value': 'other'}]}])
    ec2.create_key_pair(KeyName='personal')
    reservation = ec2.run_instances(ImageId=DEBIAN_NEWEST, MinCount=1, MaxCount=1, InstanceType='t3.small',
                                    SecurityGroupIds=[group['GroupId']],
                                    TagSpecifications=[{'ResourceType': 'instance', 'Tags': [
                                        {'Key': 'swarmops:cluster', 'Value': 'other'},
                                        {'Key': 'swarmops:role', 'Value': 'manager'},
                                        {'Key': 'swarmops:ssh-user', 'Value': 'admin'}]}])
    return reservation['Instances'][0]['InstanceId']


def bad_input_inventory(tmp_path, public_key):
    hosts = {}
    for name, overrides, _words in BAD_INPUT:
        variables = {'aws_cluster_name': 'bad-%s' % name.replace('_', '-'), 'aws_region': BAD_REGION,
                     'aws_ssh_cidrs': [SSH_CIDR], 'aws_ssh_public_key': public_key}
        variables.update(overrides)
        hosts[name] = variables
    path = tmp_path / 'bad-input.yml'
    path.write_text(json.dumps({'cases': {'hosts': hosts, 'vars': {'ansible_connection': 'local'}}}))
    return path


@pytest.fixture(scope='module')
def life(moto, public_key, tmp_path_factory):
    """Runs the four phases and records every run and what moto held after each phase."""
    tmp = tmp_path_factory.mktemp('aws')
    ec2 = moto.ec2(REGION)
    env = moto.env('demo', REGION)
    extra = ['-e', json.dumps({'aws_ssh_public_key': public_key, 'aws_ssh_cidrs': [SSH_CIDR]})]
    runs, state = {}, {}
    state['bystander'] = add_bystanders(ec2)
    state['other_before'] = cluster_contents(ec2, 'other')

    # 1. provision | check mode on an empty region | bad input (role and real playbook)
    bad_play = tmp / 'bad-input-play.yml'
    bad_play.write_text('- name: Provision with bad input\n  hosts: cases\n  gather_facts: false\n'
                        '  vars:\n    ansible_python_interpreter: "{{ ansible_playbook_python }}"\n'
                        '  roles:\n    - role: swarmops.swarm.aws_cluster\n')
    phase = {
        'provision': playbook('1-provision', env, PROVISION, *extra),
        'fresh_check': playbook('1-fresh-check', moto.env('fresh', EMPTY_REGION), PROVISION, '--check', *extra),
        'bad_input': playbook('1-bad-input', moto.env('unused', BAD_REGION), bad_play, '-v',
                              inventory=[bad_input_inventory(tmp, public_key)]),
        'bad_playbook': playbook('1-bad-playbook', moto.env('bad-playbook', BAD_REGION), PROVISION,
                                 '-e', json.dumps({'aws_ssh_public_key': public_key, 'aws_ssh_cidrs': ['0.0.0.0/0']})),
    }
    runs.update((name, run.result()) for name, run in phase.items())
    state['after_provision'] = cluster_contents(ec2, 'demo')
    state['volumes'] = dict(
        (instance_id, [(v['Size'], v['VolumeType'], v['Encrypted'], v['Attachments'][0]['Device'])
                       for v in ec2.describe_volumes(Filters=[{'Name': 'attachment.instance-id',
                                                               'Values': [instance_id]}])['Volumes']])
        for instance_id in state['after_provision']['instances'])
    state['empty_region'] = region_contents(moto.ec2(EMPTY_REGION))
    state['bad_region'] = region_contents(moto.ec2(BAD_REGION))

    # 2. read-only: re-run through aws_site.yml | check with one more worker | scale-down refused | inventory
    site_inventory = [INVENTORY, AWS_DIR / 'localhost.yml']
    phase = {
        'rerun': playbook('2-site-rerun', env, SITE, '--limit', 'localhost', *extra, inventory=site_inventory),
        # The inventory follows SWARMOPS_AWS_CLUSTER (here: the bystander cluster), -e names demo.
        'site_mismatch': playbook('2-site-mismatch', moto.env('other', REGION), SITE, '--limit', 'localhost',
                                  '-e', 'aws_cluster_name=demo', *extra, inventory=site_inventory),
        'check_more': playbook('2-check-more', env, PROVISION, '--check', '-e', 'aws_workers=3', *extra),
        'scale_down': playbook('2-scale-down', env, PROVISION, '-e', 'aws_workers=1', *extra),
        'inventory': inventory_list('2-inventory', env),
        'inventory_private': inventory_list('2-inventory-private', env, '-e', 'aws_inventory_address=private'),
    }
    runs.update((name, run.result()) for name, run in phase.items())
    state['after_reads'] = cluster_contents(ec2, 'demo')

    # 3. one more worker, with a world-open rule added by hand first | teardown refused
    group_id = list(state['after_reads']['groups'])[0] if state['after_reads']['groups'] else None
    if group_id:
        ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[{
            'IpProtocol': 'tcp', 'FromPort': 2377, 'ToPort': 2377, 'IpRanges': [{'CidrIp': '0.0.0.0/0'}]}])
    phase = {
        'more': playbook('3-more', env, PROVISION, '-e', 'aws_workers=3', *extra),
        'teardown_unconfirmed': playbook('3-teardown-unconfirmed', env, TEARDOWN),
        'teardown_other_name': playbook('3-teardown-other-name', env, TEARDOWN, '-e', 'confirm_teardown=other'),
    }
    runs.update((name, run.result()) for name, run in phase.items())
    state['after_more'] = cluster_contents(ec2, 'demo')
    state['after_more_instances'] = live_instances(ec2, **{'swarmops:cluster': 'demo'})

    # 4. teardown, twice
    runs['teardown'] = playbook('4-teardown', env, TEARDOWN, '-e', 'confirm_teardown=demo').result()
    state['after_teardown'] = cluster_contents(ec2, 'demo')
    runs['teardown_again'] = playbook('4-teardown-again', env, TEARDOWN, '-e', 'confirm_teardown=demo').result()
    state['other_after'] = cluster_contents(ec2, 'other')
    state['personal_key'] = [k['KeyName'] for k in ec2.describe_key_pairs()['KeyPairs'] if k['KeyName'] == 'personal']
    return runs, state


def test_provision_creates_one_manager_and_two_workers_tagged_with_imdsv2_and_the_newest_debian(life):
    runs, state = life
    assert runs['provision'].rc == 0, runs['provision']
    created = state['after_provision']['instances']
    assert sorted(role for _type, _image, role in created.values()) == ['manager', 'worker', 'worker']
    assert set((itype, image) for itype, image, _role in created.values()) == {('t3.small', DEBIAN_NEWEST)}
    details = state['after_more_instances']
    for instance_id in created:
        instance = details[instance_id]
        assert instance['TagMap']['swarmops:cluster'] == 'demo'
        assert instance['TagMap']['swarmops:ssh-user'] == 'admin'
        assert instance['MetadataOptions']['HttpTokens'] == 'required'
        assert instance['KeyName'] == 'swarmops-demo'
        assert [g['GroupName'] for g in instance['SecurityGroups']] == ['swarmops-demo']
        assert state['volumes'][instance_id] == [(20, 'gp3', True, '/dev/xvda')]


def test_security_group_holds_exactly_the_swarm_rules_between_members_and_ssh_from_the_cidr(life):
    runs, state = life
    groups = state['after_provision']['groups']
    assert len(groups) == 1
    rules = list(groups.values())[0]
    assert rules == SWARM_RULES
    assert not [r for r in rules if r[3] in ('0.0.0.0/0', '::/0')]


def test_key_pair_imported_and_tagged(life):
    _runs, state = life
    assert [name for name, _fingerprint in state['after_provision']['keys']] == ['swarmops-demo']


def test_second_run_through_aws_site_changes_nothing_and_sees_the_cluster_in_the_inventory(life):
    runs, state = life
    rerun = runs['rerun']
    assert rerun.rc == 0, rerun
    assert rerun.recap['localhost']['changed'] == 0, rerun
    assert 'TASK [Check the inventory shows exactly the instances just provisioned]' in rerun.out
    check_task = rerun.out.split('TASK [Check the inventory shows exactly the instances just provisioned]')[1]
    assert check_task.split('TASK [')[0].split('PLAY [')[0].strip().splitlines()[-1].startswith('ok: [localhost]')
    assert state['after_reads'] == state['after_provision']


def test_aws_site_stops_when_the_inventory_shows_another_cluster_than_it_provisioned(life):
    runs, state = life
    result = runs['site_mismatch']
    assert result.rc != 0
    message = result.fatal['localhost']['msg']
    assert 'The inventory shows managers [%s]' % state['bystander'] in message
    assert 'but cluster demo in us-east-1 has managers' in message
    assert 'export SWARMOPS_AWS_CLUSTER=demo AWS_REGION=us-east-1' in message
    # It stopped before the plays that connect to hosts.
    assert 'TASK [Wait for SSH]' not in result.out
    assert result.recap['localhost']['changed'] == 0


def test_check_mode_predicts_one_more_worker_without_launching_it(life):
    runs, state = life
    check = runs['check_more']
    assert check.rc == 0, check
    assert check.recap['localhost']['changed'] == 1, check
    assert 'changed: [localhost] => (item=worker: 3 (now 2))' in check.out
    assert 'ok: [localhost] => (item=manager: 1 (now 1))' in check.out
    assert state['after_reads'] == state['after_provision']


def test_check_mode_on_an_empty_account_predicts_everything_and_creates_nothing(life):
    runs, state = life
    check = runs['fresh_check']
    assert check.rc == 0, check
    assert 'Would launch 1 manager(s) of t3.small from debian-12-amd64-20250610-2140' in check.out
    assert 'Would launch 2 worker(s) of t3.small from debian-12-amd64-20250610-2140' in check.out
    # the key pair, the security group, and the prediction task (one task, an item per role)
    assert check.recap['localhost']['changed'] == 3, check
    assert state['empty_region'] == {'instances': [], 'groups': [], 'keys': []}


def test_lowering_a_count_is_refused_before_anything_changes(life):
    runs, state = life
    refused = runs['scale_down']
    assert refused.rc != 0
    message = refused.fatal['localhost']['msg']
    assert 'aws_workers is 1 but the cluster has 2 workers' in message
    assert 'aws_allow_scale_down: true' in message
    assert state['after_reads'] == state['after_provision']


def test_raising_the_worker_count_adds_exactly_one_worker_and_the_hand_made_world_rule_goes(life):
    runs, state = life
    assert runs['more'].rc == 0, runs['more']
    before, after = state['after_provision']['instances'], state['after_more']['instances']
    new = set(after) - set(before)
    assert set(before) <= set(after) and len(new) == 1
    assert after[new.pop()] == ('t3.small', DEBIAN_NEWEST, 'worker')
    assert list(state['after_more']['groups'].values()) == [SWARM_RULES]


def test_inventory_groups_and_variables(life):
    runs, state = life
    for name, address in (('inventory', 'PublicIpAddress'), ('inventory_private', 'PrivateIpAddress')):
        result = runs[name]
        assert result.rc == 0, result
        data = unwrap(json.loads(result.out))
        assert sorted(data['swarm']['children']) == ['swarm_managers', 'swarm_workers']
        instances = state['after_more_instances']
        expected = {}
        for instance_id in state['after_provision']['instances']:
            role = instances[instance_id]['TagMap']['swarmops:role']
            expected.setdefault(role, []).append('%s-%s' % (role, instance_id))
        assert sorted(data['swarm_managers']['hosts']) == sorted(expected['manager'])
        assert sorted(data['swarm_workers']['hosts']) == sorted(expected['worker'])
        # Another cluster's instance in the same region is not in this inventory.
        assert not [h for h in data['_meta']['hostvars'] if state['bystander'] in h]
        for host, hostvars in data['_meta']['hostvars'].items():
            instance = instances[host.split('-', 1)[1]]
            assert hostvars['ansible_host'] == instance[address]
            assert hostvars['swarm_advertise_addr'] == instance['PrivateIpAddress']
            assert hostvars['ansible_user'] == 'admin'
            assert hostvars['ansible_become'] is True


def test_teardown_refuses_without_the_confirmation_and_removes_nothing(life):
    runs, state = life
    for name, words in (('teardown_unconfirmed', 'confirm with -e confirm_teardown=demo'),
                        ('teardown_other_name', 'confirm_teardown is other, another name')):
        result = runs[name]
        assert result.rc != 0
        assert words in result.fatal['localhost']['msg']
        assert 'Nothing was removed' in result.fatal['localhost']['msg']
        # It stopped before reading anything from AWS.
        assert 'Find the cluster' not in result.out
    assert set(state['after_provision']['instances']) <= set(state['after_more']['instances'])
    assert state['after_more']['keys'] == state['after_provision']['keys']


def test_teardown_removes_everything_of_the_cluster_and_nothing_else(life):
    runs, state = life
    assert runs['teardown'].rc == 0, runs['teardown']
    assert state['after_teardown'] == {'instances': {}, 'groups': {}, 'keys': []}
    assert state['other_after'] == state['other_before']
    assert state['other_before']['instances'] and state['other_before']['groups'] and state['other_before']['keys']
    assert state['personal_key'] == ['personal']
    again = runs['teardown_again']
    assert again.rc == 0 and again.recap['localhost']['changed'] == 0, again


@pytest.mark.parametrize('case, words', [(name, words) for name, _overrides, words in BAD_INPUT],
                         ids=[name for name, _overrides, _words in BAD_INPUT])
def test_bad_input_fails_naming_the_variable(life, case, words):
    runs, _state = life
    failure = runs['bad_input'].fatal.get(case)
    assert failure is not None, runs['bad_input']
    message = failure.get('msg', '') + ' '.join(failure.get('argument_errors', []))
    for word in words:
        assert word in message, message


def test_bad_input_created_nothing_and_never_printed_the_private_key(life):
    runs, state = life
    assert runs['bad_input'].recap and all(r['failed'] == 1 for r in runs['bad_input'].recap.values())
    assert len(runs['bad_input'].recap) == len(BAD_INPUT)
    assert state['bad_region'] == {'instances': [], 'groups': [], 'keys': []}
    assert 'c2VjcmV0LWtleS1ieXRlcw' not in runs['bad_input'].out + runs['bad_input'].err


def test_the_real_playbook_refuses_world_open_ssh_before_any_aws_call(life):
    runs, _state = life
    result = runs['bad_playbook']
    assert result.rc != 0
    assert 'aws_ssh_cidrs: 0.0.0.0/0 opens SSH' in result.fatal['localhost']['msg']
    assert 'Read the subnets' not in result.out
