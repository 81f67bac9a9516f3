# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
name: swarm_play_hosts
short_description: The hosts of a swarm play, from the managers' and workers' groups and swarm_limit
version_added: 0.1.0
description:
  - The hosts of the managers' group, then of the workers' group, restricted to those that C(swarm_limit) names
    and without the hosts of the excluded groups, in inventory order - what the collection's playbooks put on their
    C(hosts:) lines.
  - C(swarm_limit) takes host names, group names, C(all) and shell-style wildcards (C(worker*)), joined with C(:)
    or C(,) - the survey's C(manager1:worker3) is both hosts, where a host pattern C(managers:workers:&manager1:worker3)
    would keep manager1 only. A name that matches no host or group of the inventory is refused, naming it - a
    typo must not turn a run into one that silently changes nothing.
  - Refuses a group name that is not a single group (empty, or holding a pattern character such as C(:), C(,),
    C(&), C(!), C(*) or a space), naming the variable. A group that does not exist has no hosts.
  - Why the playbooks use a filter here, besides the above. A play's C(hosts:) line is templated once, in the
    controller's main process. Using one of the collection's filters there loads them all in that process, so
    that every task's worker process (forked from it) finds them loaded. Otherwise each worker loads and compiles
    all of the collection's filters again, about 0.15 s for each task that uses one.
  - For the same reason, given C(hostvars), it loads there the connection plugin that the play's first host
    uses (C(ansible_connection)). C(ansible-playbook) loads the connection plugins of ansible-core (C(ssh),
    C(local)) in its main process itself, but not one from a collection, such as C(community.docker.docker) (the
    lab's) or C(community.aws.aws_ssm). Each worker that reaches a host through one otherwise loads it and parses
    its documentation again for its settings, about 7 ms per task and host. A plugin that cannot be loaded here
    is left to the worker, which reports why as before.
  - For the same reason again, it hands every object the main process holds at that point (ansible-core's
    modules, the loaded plugins, the parsed playbook and inventory - about 84,000 in C(site.yml)) to Python's
    permanent generation (C(gc.freeze())), where the cyclic garbage collector does not look. Each task's worker is
    a fork of that process. Without this, a worker's first full collection walks the whole inherited heap and
    writes to every object it visits, so the kernel copies each memory page the two processes shared - 30 to
    90 ms in the tasks where it happens, about 0.5 s of an unchanged C(site.yml) run on three nodes. Objects made
    after the call are collected as always; cyclic garbage that already exists then (about 1,800 objects in
    C(site.yml)) is kept until the run ends.
options:
  _input:
    description: The inventory's groups (the C(groups) variable).
    type: dict
    required: true
  managers:
    description: The managers' group name (C(swarm_managers_group)).
    type: str
    required: true
  workers:
    description: The workers' group name (C(swarm_workers_group)); omitted, the play is the managers' only.
    type: str
  limit:
    description: The hosts the play is restricted to (C(swarm_limit)), see above.
    type: str
    default: all
  exclude:
    description: Groups whose hosts are left out of the play.
    type: list
    elements: str
    default: []
  hostvars:
    description:
      - The C(hostvars) variable. Given, the connection plugin of the play's first host is loaded in the
        controller's main process (above). It changes no result.
      - C(hostvars) is defined on the C(hosts:) line of a playbook's second and later plays, not of its first
        (nor in C(--syntax-check)), so pass C(hostvars | default(none)).
    type: dict
'''

EXAMPLES = r'''
- name: Every node of the swarm, within swarm_limit
  hosts: >-
    {{ groups | swarmops.swarm.swarm_play_hosts(swarm_managers_group | default('swarm_managers'),
       swarm_workers_group | default('swarm_workers'), limit=swarm_limit | default('all')) }}
  gather_facts: false
  tasks: []
# A later play (hostvars is not defined yet on the first play's hosts line, nor in --syntax-check) also loads the
# first host's connection plugin in the main process, once for every later task of the run.
- name: Every node of the swarm, and the connection plugin loaded once
  hosts: >-
    {{ groups | swarmops.swarm.swarm_play_hosts(swarm_managers_group | default('swarm_managers'),
       swarm_workers_group | default('swarm_workers'), hostvars=hostvars | default(none)) }}
  gather_facts: false
  tasks: []
'''

RETURN = r'''
_value:
  description: The host names, managers' group first, each once.
  type: list
  elements: str
'''

import fnmatch
import gc

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import is_sequence
from ansible.module_utils.six import string_types
from ansible.plugins.loader import connection_loader

# What separates or modifies the parts of a host pattern: a group name holding one is several patterns.
_PATTERN_CHARACTERS = frozenset(':,&!*?[]~ \t\n')
_WILDCARDS = frozenset('*?[')
_LIMIT_HELP = ("swarm_limit takes host names, group names, 'all' and wildcards (worker*), joined with ':' or ','")


def _group(name, variable):
    if not isinstance(name, string_types) or not name.strip() or _PATTERN_CHARACTERS.intersection(name):
        raise AnsibleFilterError(
            '%s must be the name of one inventory group, not %r: a name with a pattern character (: , & ! * ? [ ] ~ '
            'or a space) would select other hosts' % (variable, name))
    return name


def _limited(groups, limit):
    """The hosts LIMIT names, or None for all of them."""
    items = [item.strip() for item in limit.replace(',', ':').split(':') if item.strip()] \
        if isinstance(limit, string_types) else []
    if not items:  # not a string, empty, or separators only
        raise AnsibleFilterError('%s, not %r' % (_LIMIT_HELP, limit))
    every_host = list(groups.get('all') or [])
    chosen = set()
    for item in items:
        if item == 'all':
            return None
        if item[0] in '&!~' or item.startswith('@'):
            raise AnsibleFilterError('%s; %r is not one' % (_LIMIT_HELP, item))
        if item in groups:
            matched = list(groups[item] or [])
        elif item in every_host:
            matched = [item]
        elif _WILDCARDS.intersection(item):
            matched = fnmatch.filter(every_host, item)
        else:
            matched = []
        if not matched:
            raise AnsibleFilterError(
                'swarm_limit names %r, which is no host or group of the inventory (or a group without hosts): '
                'nothing would be converged' % item)
        chosen.update(matched)
    return chosen


def load_connection_plugin(hostvars, host):
    """Load the connection plugin HOST uses in this process (see DOCUMENTATION); return its name, or None.

    Only a speed-up: whatever fails here (a setting that does not resolve yet, a plugin that is not installed) is
    left to the task's worker, which loads the plugin itself and reports the error where it always did.
    """
    try:
        name = hostvars[host].get('ansible_connection')
        if isinstance(name, string_types) and name and connection_loader.get(name, class_only=True) is not None:
            return name
    except Exception:  # pylint: disable=broad-except  # nothing to speed up; the worker will say what is wrong
        pass
    return None


def swarm_play_hosts(groups, managers, workers=None, limit='all', exclude=None, hostvars=None):
    if not isinstance(groups, dict):
        raise AnsibleFilterError('swarm_play_hosts takes the groups variable, not %s' % type(groups).__name__)
    names = [_group(managers, 'swarm_managers_group')]
    if workers is not None:
        names.append(_group(workers, 'swarm_workers_group'))
    if exclude is not None and (isinstance(exclude, string_types) or not is_sequence(exclude)):
        raise AnsibleFilterError('exclude must be a list of group names, not %r' % (exclude,))
    chosen = _limited(groups, limit)
    excluded = set()
    for name in exclude or []:
        excluded.update(groups.get(_group(name, 'an excluded group')) or [])
    hosts = []
    for name in names:
        for host in groups.get(name) or []:
            if host not in hosts and host not in excluded and (chosen is None or host in chosen):
                hosts.append(host)
    if hostvars is not None and hosts:
        load_connection_plugin(hostvars, hosts[0])
    # Only a speed-up for the workers forked from here (see DOCUMENTATION); it changes no result.
    gc.freeze()
    return hosts


class FilterModule(object):
    def filters(self):
        return {'swarm_play_hosts': swarm_play_hosts}
