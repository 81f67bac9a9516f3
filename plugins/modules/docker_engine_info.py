#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

DOCUMENTATION = r'''
module: docker_engine_info
short_description: Everything the docker role decides on, read from the host in one call
version_added: 0.1.0
description:
  - A read-only probe, run once at the start of the C(swarmops.swarm.docker) role (its C(plan) step); the role
    decides from it what must change (filter C(swarmops.swarm.docker_engine_plan)) and runs only those changes.
  - Called C(swarmops.swarm.docker_engine_state) before; that name still works and is deprecated.
  - Reports the host's distribution, release and architecture; checksums, modes and owners of files (and the
    text of some of them); the dpkg status, version and selection (hold) of packages; whether C(python3-apt) is
    present and how old the apt cache is; the versions a repository offers for a package (C(apt-cache madison));
    source entries and keyrings left by older instructions; the enablement and activity of systemd units;
    whether the engine answers, its swarm state and its images; and the members of a group.
  - The stored apt keyring is read with the same strict OpenPGP reader the role verifies downloaded keys with
    (module_utils C(_openpgp)), so a keyring that reads as anything but the expected key is replaced.
  - Never changes anything (always C(changed=false)); runs the same in check mode. Needs only the Python
    standard library on the host (no Docker SDK, no python3-apt).
author:
  - swarmops.swarm contributors (@swarmops)
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same in check mode.
  diff_mode:
    support: none
    description: Reports no diff; it changes nothing.
options:
  files:
    description: Paths to report (existence, type, SHA-256 of a regular file's content, mode, owner, group).
    type: list
    elements: path
    default: []
  packages:
    description: Debian packages to report from the dpkg database.
    type: list
    elements: str
    default: []
  madison:
    description: A package whose versions in the configured apt sources are listed (C(apt-cache madison)),
      newest first. Reflects the apt cache as it is, so it is stale when the cache is refreshed afterwards.
    type: str
  repository_urls:
    description: Find apt source entries (C(*.list) and C(*.sources) in C(/etc/apt/sources.list.d)) that mention
      any of these strings, other than O(source_file).
    type: list
    elements: str
    default: []
  source_file:
    description: The source entry that is wanted; never reported as a leftover.
    type: path
  keyring_dirs:
    description: Directories to look in for leftover keyrings named one of O(keyring_names).
    type: list
    elements: path
    default: []
  keyring_names:
    description: File names of leftover keyrings.
    type: list
    elements: str
    default: []
  keyring:
    description:
      - The keyring that is wanted; never reported as a leftover. Reported in RV(files) and read as an OpenPGP
        key file (RV(keyring)), so that a re-run can tell the key already stored is exactly the verified one
        without downloading it again. A name ending in C(.asc) is read as ASCII armor, anything else as binary.
    type: path
  services:
    description: systemd units to report (C(UnitFileState), C(ActiveState), C(LoadState)).
    type: list
    elements: str
    default: []
  engine_socket:
    description: The engine's Unix socket. Empty means the engine is not asked anything.
    type: path
    default: /var/run/docker.sock
  engine_wait:
    description:
      - Seconds to wait for the engine to answer, when its unit (the first of O(services)) is active or
        activating. 0 asks once. Waiting for the engine changes nothing.
    type: int
    default: 0
  group:
    description: A group whose members (C(/etc/group)) are reported.
    type: str
'''

EXAMPLES = r'''
- name: Read what the docker role decides on
  swarmops.swarm.docker_engine_info:
    files: [/etc/docker/daemon.json, /etc/apt/sources.list.d/docker.sources]
    keyring: /etc/apt/keyrings/docker.gpg
    packages: [docker-ce, docker-ce-cli, containerd.io, docker.io]
    services: [docker, containerd]
    group: docker
  register: engine_state

- name: Restart the engine only when daemon.json differs
  ansible.builtin.debug:
    msg: daemon.json differs
  when: engine_state.files['/etc/docker/daemon.json'].sha256 != (wanted_daemon_json | hash('sha256'))
'''

RETURN = r'''
host:
  description: The host's distribution as Ansible's facts name it, its codename and architectures.
  returned: always
  type: dict
  contains:
    distribution:
      description: For example C(Debian) or C(Ubuntu).
      type: str
    distribution_release:
      description: The codename (C(VERSION_CODENAME) of os-release).
      type: str
    os_family:
      description: C(Debian) for Debian and its derivatives, otherwise the distribution.
      type: str
    architecture:
      description: The kernel's machine name, for example C(x86_64) or C(aarch64).
      type: str
    dpkg_architecture:
      description: dpkg's architecture name (C(amd64)); empty on a host without dpkg.
      type: str
  sample: {distribution: Debian, distribution_release: bookworm, os_family: Debian, architecture: x86_64,
           dpkg_architecture: amd64}
files:
  description: Per path of O(files) and O(keyring).
  returned: always
  type: dict
  sample: {/etc/docker/daemon.json: {exists: true, type: file, sha256: 3f2a..., mode: '0644', owner: root,
           group: root}}
packages:
  description: Per package of O(packages); C(installed) is true for dpkg status C(installed) only.
  returned: always
  type: dict
  sample: {docker-ce: {installed: true, version: '5:27.3.1-1~debian.12~bookworm', selection: hold,
           status: installed}, docker.io: {installed: false, version: '', selection: '', status: not-installed}}
python_apt:
  description: Whether the system Python can import apt_pkg (the apt module needs it, also in check mode).
  returned: always
  type: bool
apt_cache_age:
  description: Seconds since the apt cache was last refreshed, as the apt module computes it; null when unknown.
  returned: always
  type: float
madison:
  description: Versions of O(madison) the apt sources offer, newest first (empty when not asked or none).
  returned: always
  type: list
  elements: str
leftovers:
  description: Leftover source entries and keyrings found (paths).
  returned: always
  type: list
  elements: str
services:
  description: Per unit of O(services).
  returned: always
  type: dict
  sample: {docker: {enabled: enabled, active: active, load: loaded}}
engine:
  description: The engine as its API answers.
  returned: always
  type: dict
  contains:
    answers:
      description: Whether the engine answered.
      type: bool
    version:
      description: The engine's version (C(docker version) Server.Version).
      type: str
    swarm_state:
      description: The node's swarm state (C(docker info) Swarm.LocalNodeState), for example C(inactive) or C(active).
      type: str
    images:
      description: Every name:tag the engine holds.
      type: list
      elements: str
    error:
      description: Why the engine did not answer.
      type: str
keyring:
  description:
    - Fingerprints (upper-case hex, file order) of the primary public keys in O(keyring), read strictly on the
      host; C(canonical) is true when the file is exactly the keyring the role writes for them (the packets
      re-serialised, nothing else). Empty with C(error) set when the file is missing or does not read as a key.
  returned: always
  type: dict
  sample: {fingerprints: [9DC858229FC7DD38854AE2D88D81803C0EBFCD88], canonical: true, error: ''}
group:
  description: Whether O(group) exists, and its members.
  returned: always
  type: dict
  sample: {exists: true, members: [operator]}
'''

import glob
import grp
import hashlib
import http.client as http_client
import json
import os
import platform
import pwd
import socket
import stat
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.swarm.plugins.module_utils._dpkg import package_states
from ansible_collections.swarmops.swarm.plugins.module_utils._openpgp import keyring_state

APT_UPDATE_SUCCESS_STAMP_PATH = '/var/lib/apt/periodic/update-success-stamp'
APT_LISTS_PATH = '/var/lib/apt/lists'


class UnixHTTPConnection(http_client.HTTPConnection):
    def __init__(self, path, timeout):
        http_client.HTTPConnection.__init__(self, 'localhost', timeout=timeout)
        self.socket_path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.socket_path)
        self.sock = sock


def engine_get(path, url):
    connection = UnixHTTPConnection(path, timeout=10)
    try:
        connection.request('GET', url)
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise IOError('HTTP %d' % response.status)
        return json.loads(body.decode('utf-8'))
    finally:
        connection.close()


def read_os_release():
    values = {}
    for path in ('/etc/os-release', '/usr/lib/os-release'):
        try:
            with open(path) as handle:
                for line in handle:
                    if '=' in line and not line.startswith('#'):
                        key, value = line.rstrip('\n').split('=', 1)
                        values[key] = value.strip().strip('"\'')
            break
        except IOError:
            continue
    return values


def host_info(module):
    release = read_os_release()
    distribution_id = release.get('ID', '')
    names = {'debian': 'Debian', 'ubuntu': 'Ubuntu'}
    distribution = names.get(distribution_id, release.get('NAME', distribution_id) or platform.system())
    like = release.get('ID_LIKE', '').split()
    os_family = 'Debian' if distribution_id == 'debian' or 'debian' in like else distribution
    codename = release.get('VERSION_CODENAME') or release.get('UBUNTU_CODENAME', '')
    dpkg_arch = ''
    dpkg = module.get_bin_path('dpkg')
    if dpkg:
        rc, out, _err = module.run_command([dpkg, '--print-architecture'])
        dpkg_arch = out.strip() if rc == 0 else ''
    return {'distribution': distribution, 'distribution_release': codename, 'os_family': os_family,
            'architecture': platform.machine(), 'dpkg_architecture': dpkg_arch}


def keyring_info(path):
    """The stored keyring as the role's key check reads it (module_utils/_openpgp): its primary fingerprints, and
    whether it is exactly what the role writes for them."""
    try:
        with open(path, 'rb') as handle:
            data = handle.read()
    except (IOError, OSError) as exc:
        return {'fingerprints': [], 'canonical': False, 'error': str(exc)}
    return keyring_state(data, armored=path.endswith('.asc'))


def file_info(path):
    try:
        st = os.lstat(path)
    except OSError:
        return {'exists': False, 'type': 'absent', 'sha256': '', 'mode': '', 'owner': '', 'group': ''}
    if stat.S_ISREG(st.st_mode):
        kind = 'file'
    elif stat.S_ISDIR(st.st_mode):
        kind = 'directory'
    elif stat.S_ISLNK(st.st_mode):
        kind = 'link'
    else:
        kind = 'other'
    try:
        owner = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        owner = str(st.st_uid)
    try:
        group = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        group = str(st.st_gid)
    info = {'exists': True, 'type': kind, 'sha256': '', 'mode': '%04o' % stat.S_IMODE(st.st_mode),
            'owner': owner, 'group': group}
    if kind == 'file':
        with open(path, 'rb') as handle:
            data = handle.read()
        info['sha256'] = hashlib.sha256(data).hexdigest()
    return info


def python_apt_present():
    return bool(glob.glob('/usr/lib/python3/dist-packages/apt_pkg*.so'))


def apt_cache_age():
    for path in (APT_UPDATE_SUCCESS_STAMP_PATH, APT_LISTS_PATH):
        if os.path.exists(path):
            return max(time.time() - os.stat(path).st_mtime, 0.0)
    return None


def madison_versions(module, package):
    apt_cache = module.get_bin_path('apt-cache')
    if not package or not apt_cache:
        return []
    rc, out, _err = module.run_command([apt_cache, 'madison', package])
    if rc != 0:
        return []
    versions = []
    for line in out.splitlines():
        fields = [field.strip() for field in line.split('|')]
        if len(fields) >= 2 and fields[1] and fields[1] not in versions:
            versions.append(fields[1])
    return versions


def find_leftovers(params):
    found = []
    wanted_source = params['source_file']
    urls = [url for url in params['repository_urls'] if url]
    if urls:
        for path in sorted(glob.glob('/etc/apt/sources.list.d/*.list') + glob.glob('/etc/apt/sources.list.d/*.sources')):
            if wanted_source and os.path.abspath(path) == os.path.abspath(wanted_source):
                continue
            try:
                with open(path, 'rb') as handle:
                    text = handle.read().decode('utf-8', 'replace')
            except IOError:
                continue
            if any(url in text for url in urls):
                found.append(path)
    for directory in params['keyring_dirs']:
        for name in params['keyring_names']:
            path = os.path.join(directory, name)
            if params['keyring'] and os.path.abspath(path) == os.path.abspath(params['keyring']):
                continue
            if os.path.isfile(path) and path not in found:
                found.append(path)
    return found


def service_info(module, units):
    result = dict((unit, {'enabled': '', 'active': '', 'load': 'unknown'}) for unit in units)
    systemctl = module.get_bin_path('systemctl')
    if not units or not systemctl:
        return result
    rc, out, _err = module.run_command([systemctl, 'show', '--property=UnitFileState,ActiveState,LoadState']
                                       + [unit if '.' in unit else unit + '.service' for unit in units])
    if rc != 0:
        return result
    blocks = out.strip('\n').split('\n\n')
    for unit, block in zip(units, blocks):
        values = dict(line.split('=', 1) for line in block.splitlines() if '=' in line)
        result[unit] = {'enabled': values.get('UnitFileState', ''), 'active': values.get('ActiveState', ''),
                        'load': values.get('LoadState', '')}
    return result


def engine_info(socket_path, wait):
    info = {'answers': False, 'version': '', 'swarm_state': '', 'images': [], 'error': ''}
    if not socket_path:
        return info
    deadline = time.time() + max(wait, 0)
    while True:
        try:
            version = engine_get(socket_path, '/version')
            system = engine_get(socket_path, '/info')
            images = engine_get(socket_path, '/images/json')
            info.update(answers=True, version=version.get('Version', ''),
                        swarm_state=(system.get('Swarm') or {}).get('LocalNodeState', ''),
                        images=sorted(set(tag for image in images for tag in (image.get('RepoTags') or [])
                                          if tag != '<none>:<none>')))
            info['error'] = ''
            return info
        except (IOError, OSError, ValueError, http_client.HTTPException) as exc:
            info['error'] = str(exc)
        if time.time() >= deadline:
            return info
        time.sleep(0.5)


def group_info(name):
    if not name:
        return {'exists': False, 'members': []}
    try:
        return {'exists': True, 'members': sorted(grp.getgrnam(name).gr_mem)}
    except KeyError:
        return {'exists': False, 'members': []}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            files=dict(type='list', elements='path', default=[]),
            packages=dict(type='list', elements='str', default=[]),
            madison=dict(type='str'),
            repository_urls=dict(type='list', elements='str', default=[]),
            source_file=dict(type='path'),
            keyring_dirs=dict(type='list', elements='path', default=[], no_log=False),
            keyring_names=dict(type='list', elements='str', default=[], no_log=False),
            keyring=dict(type='path'),
            services=dict(type='list', elements='str', default=[]),
            engine_socket=dict(type='path', default='/var/run/docker.sock'),
            engine_wait=dict(type='int', default=0),
            group=dict(type='str'),
        ),
        supports_check_mode=True,
    )
    params = module.params
    # The environment of a fresh host may not have a UTF-8 locale; dpkg-query and apt-cache output is parsed.
    module.run_command_environ_update = dict(LANG='C', LC_ALL='C', LC_MESSAGES='C')

    paths = list(params['files']) + ([params['keyring']] if params['keyring'] else [])
    files = dict((path, file_info(path)) for path in paths)
    services = service_info(module, params['services'])
    wait = params['engine_wait']
    if params['services'] and services[params['services'][0]]['active'] not in ('active', 'activating', 'reloading'):
        wait = 0  # the engine's unit is not running: nothing to wait for

    module.exit_json(
        changed=False,
        host=host_info(module),
        files=files,
        packages=package_states(module, params['packages']),
        python_apt=python_apt_present(),
        apt_cache_age=apt_cache_age(),
        madison=madison_versions(module, params['madison']),
        keyring=keyring_info(params['keyring']) if params['keyring'] else {'fingerprints': [], 'canonical': False,
                                                                           'error': 'not asked'},
        leftovers=find_leftovers(params),
        services=services,
        engine=engine_info(params['engine_socket'], wait),
        group=group_info(params['group']),
    )


if __name__ == '__main__':
    main()
