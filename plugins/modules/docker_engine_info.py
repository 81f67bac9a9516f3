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

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.swarm.plugins.module_utils._engine_read import ENGINE_READ_SPEC, read_engine


def main():
    module = AnsibleModule(argument_spec=ENGINE_READ_SPEC, supports_check_mode=True)
    module.exit_json(changed=False, **read_engine(module, module.params))


if __name__ == '__main__':
    main()
