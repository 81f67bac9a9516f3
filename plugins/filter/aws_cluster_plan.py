# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: aws_cluster_plan
short_description: Decide the network, the image and, per swarm role, whether to launch, keep or terminate instances
version_added: 0.1.0
description:
  - Takes what the aws_cluster role read from EC2 (subnets, images, the cluster's instances) and the settings
    P(swarmops.swarm.aws_cluster_check#filter) normalised, and decides everything the role then applies - or refuses,
    naming the variable to change, before anything is created.
  - Network - the subnet asked for (its VPC must be the one asked for, if any), or the first subnet (by
    availability zone) of the VPC asked for or of the default VPC.
  - Image - the newest available match (creation date, then name); its architecture must match the instance type.
  - Key pair - kept when its C(swarmops:ssh-key) tag holds the public key's SHA256 fingerprint, else imported
    (or replaced).
  - Instances - a lower count is refused unless the cluster's C(allow_scale_down) (terminating managers that were not demoted
    breaks the swarm's quorum); instances of another type are refused (EC2 resizes stopped instances only); so are
    instances with the cluster's tag but no manager or worker role. A count of zero never reaches
    M(amazon.aws.ec2_instance) with C(exact_count), which launches one instance when asked for zero.
options:
  _input:
    description: What was read - C(subnets), C(images), C(instances) and C(keypairs), each the list the matching
      amazon.aws C(_info) module returns.
    type: dict
    required: true
  cluster:
    description: The C(cluster) result of P(swarmops.swarm.aws_cluster_check#filter).
    type: dict
    required: true
'''

EXAMPLES = r'''
- name: Decide what to create
  ansible.builtin.set_fact:
    plan: >-
      {{ {'subnets': subnets.subnets, 'images': images.images, 'instances': found.instances,
          'keypairs': keys.keypairs}
         | swarmops.swarm.aws_cluster_plan(checked.cluster) }}
'''

RETURN = r'''
_value:
  description: C(ok) (bool), C(errors) (sentences naming the variable to change), C(vpc_id), C(subnet_id),
    C(image) (C(image_id), C(name), C(root_device_name)), C(key_action) (C(keep) when the key pair's
    C(swarmops:ssh-key) tag holds this public key's fingerprint, C(import) when there is no key pair,
    C(replace) otherwise) and C(roles), one entry per swarm role with C(role),
    C(count), C(current), C(instance_ids) and C(action) (C(keep), C(launch) or C(terminate)).
  type: dict
'''

from ansible_collections.swarmops.swarm.plugins.plugin_utils.aws_cluster import plan_cluster


def aws_cluster_plan(reads, cluster):
    return plan_cluster(dict(reads or {}), dict(cluster or {}))


class FilterModule(object):
    def filters(self):
        return {'aws_cluster_plan': aws_cluster_plan}
