# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: aws_cluster_check
short_description: Check the aws_cluster role's variables before any AWS call, and derive what it sends to EC2
version_added: 0.1.0
description:
  - Refuses, with one sentence per variable naming it and the fix, an even or out-of-range manager count, an
    unknown region (the regions the installed botocore knows), SSH open to the world (any network wider than
    /8 for IPv4 or /32 for IPv6) without C(aws_ssh_allow_world), a malformed CIDR, a missing, damaged or
    private key, an instance type that does not match the architecture, an unknown AMI preset, and so on.
  - Returns the normalised settings the role uses - resource names, tags, the security group's rules (swarm
    ports referencing the group itself; SSH from the listed networks only) and the AMI query.
options:
  _input:
    description: The role's variables, keyed by their names (C(aws_cluster_name), C(aws_region), C(aws_managers), ...).
    type: dict
    required: true
  purpose:
    description: C(provision) checks every variable; C(teardown) only those that find the cluster (name, region).
    type: str
    default: provision
    choices: [provision, teardown]
'''

EXAMPLES = r'''
- name: Refuse bad settings before any AWS call
  ansible.builtin.assert:
    that: checked.ok
    fail_msg: "{{ checked.errors | join('; ') }}"
  vars:
    checked: "{{ {'aws_cluster_name': aws_cluster_name, 'aws_region': aws_region} | swarmops.swarm.aws_cluster_check('teardown') }}"
'''

RETURN = r'''
_value:
  description: C(ok) (bool), C(errors) (list of sentences, each naming a variable) and C(cluster) (the normalised
    settings - name, region, security_group_name, key_name, tags, managers, workers, instance_type, architecture,
    ami, ssh_user, root_volume_size, ssh_port, ssh_cidrs_ipv4, ssh_cidrs_ipv6, vpc_id, subnet_id,
    security_group_rules).
  type: dict
'''

from ansible.errors import AnsibleFilterError

from ansible_collections.swarmops.swarm.plugins.plugin_utils.aws_cluster import check_settings


def aws_cluster_check(settings, purpose='provision'):
    if purpose not in ('provision', 'teardown'):
        raise AnsibleFilterError('aws_cluster_check: purpose must be provision or teardown, not %r' % (purpose,))
    return check_settings(dict(settings or {}), purpose)


class FilterModule(object):
    def filters(self):
        return {'aws_cluster_check': aws_cluster_check}
