# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The docker role's read of a host (module docker_engine_info), also made by swarm_info's engine option.

One function, so that a playbook can make this read in the same module call as its first swarm read (one
round trip per host instead of two) and the docker role can take it instead of reading the host again.
"""

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

import glob
import grp
import hashlib
import os
import platform
import pwd
import stat
import time

from ansible_collections.swarmops.swarm.plugins.module_utils._dpkg import package_states
from ansible_collections.swarmops.swarm.plugins.module_utils._engine import EngineClient, EngineError
from ansible_collections.swarmops.swarm.plugins.module_utils._openpgp import keyring_state

APT_UPDATE_SUCCESS_STAMP_PATH = '/var/lib/apt/periodic/update-success-stamp'
APT_LISTS_PATH = '/var/lib/apt/lists'


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
            # The collection's one engine client: a fresh one per attempt (it negotiates the API version once).
            client = EngineClient(base_url='unix://%s' % socket_path, timeout=10)
            version = client.get('/version')
            system = client.info()
            images = client.get('/images/json') or []
            info.update(answers=True, version=version.get('Version', ''),
                        swarm_state=(system.get('Swarm') or {}).get('LocalNodeState', ''),
                        images=sorted(set(tag for image in images for tag in (image.get('RepoTags') or [])
                                          if tag != '<none>:<none>')))
            info['error'] = ''
            return info
        except (EngineError, ValueError) as exc:
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


# The options of docker_engine_info, and of swarm_info's engine option (validated the same way).
ENGINE_READ_SPEC = dict(
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
)


def read_engine(module, params):
    """The read docker_engine_info returns (without `changed`), for the validated PARAMS (ENGINE_READ_SPEC)."""
    # The environment of a fresh host may not have a UTF-8 locale; dpkg-query and apt-cache output is parsed.
    module.run_command_environ_update = dict(LANG='C', LC_ALL='C', LC_MESSAGES='C')

    paths = list(params['files']) + ([params['keyring']] if params['keyring'] else [])
    files = dict((path, file_info(path)) for path in paths)
    services = service_info(module, params['services'])
    wait = params['engine_wait']
    if params['services'] and services[params['services'][0]]['active'] not in ('active', 'activating', 'reloading'):
        wait = 0  # the engine's unit is not running: nothing to wait for

    return dict(
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
