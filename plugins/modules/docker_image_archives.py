#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

DOCUMENTATION = r'''
module: docker_image_archives
short_description: Load the image archives (docker save tarballs) the local engine lacks, downloaded on the host
version_added: 0.1.0
description:
  - For each item of O(archives) whose image (O(archives[].name), C(:latest) when no tag is given) the engine on
    O(engine_socket) does not have, downloads the archive on the host (under C(/var/tmp)), checks it against
    O(archives[].checksum) when one is given, and loads it into the engine (C(docker load)). Then it checks that
    the engine has the named image; an archive that does not hold it fails the task.
  - An image the engine already has is not downloaded. One module run does all the work for all the archives,
    in place of a scratch directory, a download, a load and a clean-up per archive. Air-gapped hosts with no
    registry use this to get their service images. The C(swarmops.swarm.docker) role runs it for the
    C(docker_image_archives) entries with a C(url).
  - Every item is checked before anything is downloaded. A download that fails, a checksum that does not match,
    or an archive the engine refuses fails the task, naming the item; the archives after it are not downloaded.
    The downloaded file is removed in every case.
author:
  - swarmops.swarm contributors (@swarmops)
attributes:
  check_mode:
    support: full
    description: Reads the engine's images and reports which archives would be loaded; downloads nothing.
  diff_mode:
    support: none
    description: The result lists the images loaded (RV(loaded)); there is no file content to compare.
options:
  archives:
    description: The archives, each with the image it provides.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The image the archive provides, as the engine lists it (C(repository:tag)).
        type: str
        required: true
      url:
        description: Where the host downloads the archive from (C(http), C(https), C(ftp) or C(file)).
        type: str
        required: true
      checksum:
        description:
          - C(ALGORITHM:DIGEST) of the archive (such as C(sha256:3b1f...)), checked before it is loaded.
          - Or C(ALGORITHM:URL) of a checksum file (C(sha256sum) output), as M(ansible.builtin.get_url) takes it;
            the line for the archive's file name is used, or the one digest of a file with only one.
        type: str
  engine_socket:
    description: The engine's Unix socket.
    type: path
    default: /var/run/docker.sock
  timeout:
    description: Seconds allowed for each download and each load.
    type: int
    default: 300
  validate_certs:
    description: Check the server's TLS certificate (C(https)).
    type: bool
    default: true
'''

EXAMPLES = r'''
- name: Load the service image from the local mirror unless the engine has it
  swarmops.swarm.docker_image_archives:
    archives:
      - name: registry.example.com/shop/web:1.4.2
        url: http://mirror.example.com/images/web-1.4.2.tar
        checksum: sha256:3b1f1d36f2a0f7f4b0c2c4d1a3f60b2f1c9f0b7a1e6d2c4b8a9f0e1d2c3b4a59
'''

RETURN = r'''
loaded:
  description: The images loaded (in check mode, that would be loaded), in the order of O(archives).
  returned: always
  type: list
  elements: str
  sample: [registry.example.com/shop/web:1.4.2]
'''

import hashlib
import json
import os
import re
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.swarmops.swarm.plugins.module_utils._download import fetch_with_retries
from ansible_collections.swarmops.swarm.plugins.module_utils._engine import EngineClient, EngineError

CONTROL = re.compile(r'[\x00-\x20\x7f]')
CHECKSUM = re.compile(r'^([a-z0-9]+):(.+)$')
URL = re.compile(r'^(https?|ftp|file)://')


def image_tag(name):
    """The name as the engine lists it: repository:tag, with :latest when no tag is given."""
    return name if re.search(r':[^/]*$', name) else name + ':latest'


def checked_items(module):
    """The archives as (tag, url, algorithm, digest), or a failure naming the first bad field."""
    items = []
    for index, item in enumerate(module.params['archives']):
        where = 'archives[%d]' % index
        name, url, checksum = item['name'], item['url'], item.get('checksum')
        if not name or CONTROL.search(name) or name.startswith('-'):
            module.fail_json(msg='%s.name: %r is not an image name; nothing was loaded.' % (where, name))
        if not re.match(r'^(https?|ftp|file)://', url or '') or CONTROL.search(url):
            module.fail_json(msg='%s.url: %r is not an http, https, ftp or file URL; nothing was loaded.' % (where, url))
        algorithm = digest = None
        if checksum:
            match = CHECKSUM.match(checksum)
            if not match or match.group(1) not in hashlib.algorithms_available:
                module.fail_json(msg='%s.checksum: %r is not ALGORITHM:HEX with an algorithm this host knows (such as '
                                     'sha256); nothing was loaded.' % (where, checksum))
            algorithm, digest = match.group(1), match.group(2).lower()
            if URL.match(match.group(2)):
                digest = match.group(2)  # a checksum file, read when the archive is needed
            elif not re.match(r'^[0-9a-f]+$', digest) or len(digest) != hashlib.new(algorithm).digest_size * 2:
                module.fail_json(msg='%s.checksum: a %s digest is %d hex digits, not %r; nothing was loaded.'
                                     % (where, algorithm, hashlib.new(algorithm).digest_size * 2, digest))
        items.append((image_tag(name), url, algorithm, digest))
    return items


def download(module, url, path):
    """Fetch URL into PATH (after retries: see fetch_with_retries). Returns None, or the reason it failed."""
    response, reason, dummy = fetch_with_retries(module, url)
    if response is None:
        return reason
    with open(path, 'wb') as out:
        shutil.copyfileobj(response, out, 1024 * 1024)
    return None


def listed_digest(module, checksum_url, archive_url, algorithm, path):
    """The digest a checksum file lists for the archive (by file name, or its only line), or a failure reason."""
    reason = download(module, checksum_url, path)
    if reason:
        return None, 'the checksum file %s could not be downloaded: %s' % (checksum_url, reason)
    with open(path, 'rb') as handle:
        text = handle.read(1024 * 1024).decode('utf-8', 'replace')
    os.unlink(path)
    size = hashlib.new(algorithm).digest_size * 2
    entries = [line.split() for line in text.splitlines() if line.strip()]
    entries = [(fields[0].lower(), fields[-1].lstrip('*').rsplit('/', 1)[-1]) for fields in entries
               if re.match(r'^[0-9a-fA-F]{%d}$' % size, fields[0])]
    name = archive_url.rstrip('/').rsplit('/', 1)[-1]
    found = [digest for digest, listed in entries if listed == name]
    if not found and len(entries) == 1:
        found = [entries[0][0]]
    if len(found) != 1:
        return None, 'the checksum file %s lists no single %s digest for %s' % (checksum_url, algorithm, name)
    return found[0], None


def file_digest(path, algorithm):
    digest = hashlib.new(algorithm)
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b''):
            digest.update(block)
    return digest.hexdigest()


def load(client, path):
    """POST the archive to /images/load: (the engine's refusal as text or None, the images it says it loaded)."""
    with open(path, 'rb') as archive:
        status, answer = client.raw('POST', '/v%s/images/load?quiet=1' % client.negotiate(), body=archive,
                                    headers={'Content-Type': 'application/x-tar',
                                             'Content-Length': str(os.path.getsize(path))})
    if status >= 400:
        return (answer.get('message') if isinstance(answer, dict) else str(answer)), []
    # The answer is a stream of JSON messages: "Loaded image: NAME" for each image, or an "error" one.
    refusal, names = None, []
    for line in (answer if isinstance(answer, str) else json.dumps(answer or {})).splitlines():
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if not isinstance(message, dict):
            continue
        if message.get('error') or message.get('errorDetail'):
            refusal = message.get('error') or str(message.get('errorDetail'))
        match = re.match(r'Loaded image(?: ID)?: (\S+)', message.get('stream') or '')
        if match:
            names.append(match.group(1))
    return refusal, names


def engine_tags(client):
    return set(tag for image in client.get('/images/json') or [] for tag in image.get('RepoTags') or [])


def main():
    module = AnsibleModule(
        argument_spec=dict(
            archives=dict(type='list', elements='dict', required=True, options=dict(
                name=dict(type='str', required=True),
                url=dict(type='str', required=True),
                checksum=dict(type='str'),
            )),
            engine_socket=dict(type='path', default='/var/run/docker.sock'),
            timeout=dict(type='int', default=300),
            validate_certs=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
    )
    items = checked_items(module)
    client = EngineClient(base_url='unix://%s' % module.params['engine_socket'], timeout=module.params['timeout'])
    try:
        present = engine_tags(client)
    except EngineError as exc:
        module.fail_json(msg='engine_socket: the engine at %s did not answer: %s; nothing was loaded.'
                             % (module.params['engine_socket'], exc), loaded=[])
    missing = [item for item in items if item[0] not in present]
    loaded = []
    if module.check_mode or not missing:
        module.exit_json(changed=bool(missing), loaded=[item[0] for item in missing])

    # /var/tmp: on disk, where /tmp may be a small tmpfs
    scratch = tempfile.mkdtemp(prefix='swarmops-image-archive-', dir='/var/tmp' if os.path.isdir('/var/tmp') else None)
    try:
        for tag, url, algorithm, digest in missing:
            def fail(reason, also_loaded=()):
                if loaded:
                    after = 'loaded before it: %s' % ', '.join(loaded)
                else:
                    after = 'nothing else was loaded' if also_loaded else 'nothing was loaded'
                module.fail_json(msg='%s (from %s): %s; %s' % (tag, url, reason, after),
                                 changed=bool(loaded or also_loaded), loaded=loaded + list(also_loaded))
            path = os.path.join(scratch, 'archive.tar')
            if algorithm and URL.match(digest):
                digest, reason = listed_digest(module, digest, url, algorithm, path)
                if reason:
                    fail(reason)
            reason = download(module, url, path)
            if reason:
                fail('the download failed: %s' % reason)
            if algorithm and file_digest(path, algorithm) != digest:
                fail('the archive does not match its checksum (%s:%s)' % (algorithm, digest))
            try:
                refusal, names = load(client, path)
            except EngineError as exc:
                refusal, names = str(exc), []
            os.unlink(path)
            if refusal:
                fail('the engine refused it: %s' % refusal)
            if tag not in engine_tags(client):
                fail('the archive does not hold that image (it held %s)'
                     % (', '.join(names) + ', now loaded' if names else 'no image the engine names'), names)
            loaded.append(tag)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    module.exit_json(changed=True, loaded=loaded)


if __name__ == '__main__':
    main()
