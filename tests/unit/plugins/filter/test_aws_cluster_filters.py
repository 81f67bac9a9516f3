"""The aws_cluster filters as the role calls them: names, arguments, and a refused purpose."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.swarmops.swarm.plugins.filter import aws_cluster_check, aws_cluster_plan
from ansible_collections.swarmops.swarm.plugins.plugin_utils import aws_cluster


def test_filters_are_registered_under_their_file_names():
    assert set(aws_cluster_check.FilterModule().filters()) == {'aws_cluster_check'}
    assert set(aws_cluster_plan.FilterModule().filters()) == {'aws_cluster_plan'}


def test_check_teardown_purpose_and_unknown_purpose(monkeypatch):
    # The region list botocore would give (the filter runs without botocore too, on older ansible-core test runs).
    monkeypatch.setattr(aws_cluster, 'known_regions', lambda: {'us-east-1'})
    check = aws_cluster_check.FilterModule().filters()['aws_cluster_check']
    result = check({'aws_cluster_name': 'demo', 'aws_region': 'us-east-1'}, 'teardown')
    assert result['ok'] and result['cluster']['tags'] == {'swarmops:cluster': 'demo'}
    # The same two variables are not enough to provision.
    assert not check({'aws_cluster_name': 'demo', 'aws_region': 'us-east-1'})['ok']
    assert not check({'aws_cluster_name': 'demo', 'aws_region': 'eu-central-1'}, 'teardown')['ok']
    with pytest.raises(AnsibleFilterError, match='purpose'):
        check({}, 'destroy')


def test_plan_takes_the_reads_and_the_checked_cluster():
    plan = aws_cluster_plan.FilterModule().filters()['aws_cluster_plan']
    cluster = {'region': 'us-east-1', 'managers': 1, 'workers': 0, 'instance_type': 't3.small',
               'architecture': 'x86_64', 'ami': {'owner': '1', 'name': 'x', 'architecture': 'x86_64'},
               'key_name': 'swarmops-demo', 'key_digest': 'SHA256:x'}
    result = plan({'subnets': [{'id': 'subnet-1', 'vpc_id': 'vpc-1', 'availability_zone': 'a'}],
                   'images': [{'image_id': 'ami-1', 'name': 'x', 'architecture': 'x86_64',
                               'root_device_name': '/dev/xvda'}],
                   'instances': None, 'keypairs': None}, cluster)
    assert result['ok'], result['errors']
    assert [(r['role'], r['action']) for r in result['roles']] == [('manager', 'launch'), ('worker', 'keep')]
