#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

DOCUMENTATION = r'''
module: file_content
short_description: Write a small generated file with exactly the given content, in one round trip
version_added: 0.1.0
description:
  - Makes O(path) a regular file holding exactly O(content) (UTF-8), with the owner, group and mode given, and
    reports a change only when the content or those attributes differ.
  - For the small files the roles generate (an apt source, a systemd drop-in). M(ansible.builtin.copy) with
    C(content) does the same in five commands on the host (a temporary directory, a C(stat) run, the transfer, the
    copy run, the clean-up); this module is one module run, which the connection pipelines. A cold run of
    C(site.yml) writes two such files on every node.
  - The new content goes to a temporary file in the same directory and replaces O(path) in one rename, so a reader
    (apt, systemd) never sees a half-written file. The directory must exist.
  - The content never appears in the module's result, only in its diff (when diff mode is on). Set C(no_log) and
    C(diff) to C(false) on the task when the content is secret.
author:
  - swarmops.swarm contributors (@swarmops)
extends_documentation_fragment:
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
    description: Reads the file and reports whether it would change; writes nothing.
  diff_mode:
    support: full
    description: The file's content before and after (empty before when it does not exist).
options:
  path:
    description: The file to write. Its directory must exist (in check mode a missing one means the file would be
      new, as an earlier task of the run may create the directory); a directory or other non-regular file at
      O(path) is refused.
    type: path
    required: true
  content:
    description: The whole content of the file, as text (written as UTF-8).
    type: str
    required: true
'''

EXAMPLES = r'''
- name: Add Docker's apt repository (deb822)
  swarmops.swarm.file_content:
    path: /etc/apt/sources.list.d/docker.sources
    content: |
      Types: deb
      URIs: https://download.docker.com/linux/debian
      Suites: bookworm
      Components: stable
      Signed-By: /etc/apt/keyrings/docker.gpg
    owner: root
    group: root
    mode: "0644"

- name: Write a drop-in whose values are credentials
  swarmops.swarm.file_content:
    path: /etc/systemd/system/docker.service.d/environment.conf
    content: "{{ proxy_dropin }}"
    mode: "0600"
  no_log: true
  diff: false
'''

RETURN = r'''
path:
  description: The file written (or that would be written, in check mode).
  returned: always
  type: str
  sample: /etc/apt/sources.list.d/docker.sources
content_changed:
  description: Whether the content differed (the attributes may change without it).
  returned: always
  type: bool
'''

import grp
import os
import pwd
import re
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_text


OCTAL_MODE = re.compile(r'^0?[0-7]{3,4}$')
SYMBOLIC_MODE = re.compile(r'^([ugoa]*[-+=]([rwxXst]*|[ugo]))+(,([ugoa]*[-+=]([rwxXst]*|[ugo]))+)*$')


def check_attributes(module):
    """Refuse a mode, owner or group that could not be applied, before the content is written."""
    mode, owner, group = module.params['mode'], module.params['owner'], module.params['group']
    if mode is not None and not isinstance(mode, int) and not (
            OCTAL_MODE.match(str(mode)) or SYMBOLIC_MODE.match(str(mode))):
        module.fail_json(msg='mode: %r is neither an octal mode (such as "0644") nor a symbolic one (such as '
                             '"u=rw,go=r"); nothing was changed.' % (mode,))
    for field, value, lookup in (('owner', owner, pwd.getpwnam), ('group', group, grp.getgrnam)):
        if value is None or str(value).isdigit():
            continue
        try:
            lookup(value)
        except KeyError:
            module.fail_json(msg='%s: there is no %s %r on this host; nothing was changed.'
                                 % (field, 'user' if field == 'owner' else 'group', value))


def read_current(module, path):
    """The file's bytes, or None when there is no file; refuses what is not a regular file."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(mode):
        module.fail_json(msg='path: %s exists and is not a regular file; nothing was changed.' % path, path=path)
    with open(path, 'rb') as handle:
        return handle.read()


def write(module, path, data):
    directory = os.path.dirname(path) or '.'
    handle, temporary = tempfile.mkstemp(dir=directory, prefix='.%s.' % os.path.basename(path))
    try:
        with os.fdopen(handle, 'wb') as out:
            out.write(data)
    except Exception:
        os.unlink(temporary)
        raise
    module.atomic_move(temporary, path)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            content=dict(type='str', required=True),
        ),
        add_file_common_args=True,
        supports_check_mode=True,
    )
    path = module.params['path']
    check_attributes(module)
    directory = os.path.dirname(path) or '.'
    if not os.path.isdir(directory):
        if module.check_mode:
            # a directory an earlier task of the same run creates (check mode only predicts it): the file is new
            result = dict(changed=True, path=path, content_changed=True)
            if module._diff:
                result['diff'] = {'before_header': path, 'after_header': path, 'before': '',
                                  'after': module.params['content']}
            module.exit_json(**result)
        module.fail_json(msg='path: the directory %s does not exist; nothing was written.' % directory, path=path)
    wanted = to_bytes(module.params['content'], errors='surrogate_or_strict')
    current = read_current(module, path)
    content_changed = current != wanted
    if content_changed and not module.check_mode:
        write(module, path, wanted)
    changed = content_changed
    if os.path.exists(path):
        file_args = module.load_file_common_arguments(module.params, path=path)
        changed = module.set_fs_attributes_if_different(file_args, changed)
    elif content_changed:
        # check mode, no file yet: the attributes are part of the file that would be created
        changed = True
    result = dict(changed=changed, path=path, content_changed=content_changed)
    if module._diff:
        result['diff'] = {'before_header': path, 'after_header': path,
                          'before': to_text(current or b'', errors='surrogate_or_replace'),
                          'after': module.params['content']}
    module.exit_json(**result)


if __name__ == '__main__':
    main()
