# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The docker role's decisions: from one read of the host (swarmops.swarm.docker_engine_info) and the role's
variables, what must change. Pure functions, so every rule has a unit test (filter docker_engine_plan).

The role reads the host, calls plan() once (its result is the host fact docker_engine_plan), and applies only
what the plan lists. The plan also says whether applying it restarts dockerd or containerd, so a playbook can
roll such changes one node at a time and leave nodes with nothing to change alone.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import hashlib
import json
import posixpath
import re

try:  # Python 3
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover
    from urlparse import urlsplit


class PlanError(ValueError):
    """A setting (or what the host reports) that the role refuses; the message names the variable."""


# ---- validation: every value that reaches a file or a command ---------------------------------------

# Anything below a space, DEL, and the Unicode line and paragraph separators: a newline in a deb822 field or a
# systemd line adds a field or a directive.
CONTROL = re.compile(u'[\x00-\x1f\x7f\x85\u2028\u2029]')
PACKAGE_NAME = re.compile(r'^[a-z0-9][a-z0-9+.-]+$')  # Debian policy 5.6.1
SUITE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._+-]*$')
ARCHITECTURE = re.compile(r'^[a-z0-9][a-z0-9-]*$')
COMPONENT = re.compile(r'^[a-z0-9][a-z0-9._-]*$')
VERSION = re.compile(r'^[A-Za-z0-9.+~:-]*$')  # Debian version characters (epoch, upstream, revision)
ENVIRONMENT_NAME = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')
DAEMON_OPTION = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]*$')
USER_NAME = re.compile(r'^[A-Za-z0-9_.][A-Za-z0-9_.-]*\$?$')
FINGERPRINT = re.compile(r'^[0-9A-F]{40}$')
REPOSITORY_SCHEMES = ('http', 'https', 'file', 'mirror+http', 'mirror+https', 'mirror+file', 'tor+http', 'tor+https')
KEY_SCHEMES = ('http', 'https', 'file')
SWARM_MEMBER_STATES = ('active', 'pending', 'locked', 'error')
# Kernel machine names to dpkg architecture names, for a host without dpkg's answer.
ARCH_MAP = {'x86_64': 'amd64', 'aarch64': 'arm64', 'armv7l': 'armhf', 'ppc64le': 'ppc64el', 's390x': 's390x'}
# Packages whose maintainer scripts restart the engine (docker-ce) or containerd (containerd.io) when they change.
ENGINE_PACKAGES = ('docker-ce', 'containerd.io')


def _text(name, value, pattern=None, what=None, secret=False):
    if not isinstance(value, str):
        raise PlanError('%s must be a string, not %s' % (name, type(value).__name__))
    if CONTROL.search(value):
        raise PlanError('%s holds a newline or another control character%s; refusing it before anything changes'
                        % (name, '' if secret else ' (%r)' % value))
    if pattern is not None and value and not pattern.match(value):
        raise PlanError('%s is not %s: %r' % (name, what, value))
    return value


def _names(name, values, pattern, what):
    if not isinstance(values, (list, tuple)):
        raise PlanError('%s must be a list' % name)
    for index, value in enumerate(values):
        _text('%s[%d]' % (name, index), value, pattern, what)
    return list(values)


def _url(name, value, schemes):
    _text(name, value)
    if not value:
        return value
    if re.search(r'\s', value):
        raise PlanError('%s holds whitespace: %r' % (name, value))
    parts = urlsplit(value)
    if parts.scheme not in schemes or not (parts.netloc or parts.scheme.endswith('file')):
        raise PlanError('%s must be an absolute %s URL: %r' % (name, ', '.join(schemes), value))
    return value


def _daemon_options(name, value, top=True):
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise PlanError('%s has a key that is not a string: %r' % (name, key))
            _text('%s key %r' % (name, key), key, DAEMON_OPTION if top else None, 'a dockerd option name')
            _daemon_options('%s[%r]' % (name, key), item, top=False)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _daemon_options('%s[%d]' % (name, index), item, top=False)
    elif isinstance(value, str):
        _text(name, value)


def validate_environment(environment):
    if not isinstance(environment, dict):
        raise PlanError('docker_service_environment must be a mapping of names to values')
    for key, value in sorted(environment.items(), key=lambda item: str(item[0])):
        _text('docker_service_environment key %r' % (key,), key if isinstance(key, str) else repr(key),
              ENVIRONMENT_NAME, 'an environment variable name')
        if not isinstance(value, (str, int, float)):
            raise PlanError('docker_service_environment[%r] must be a string' % key)
        _text('docker_service_environment[%r]' % key, str(value), secret=True)


def validate(settings):
    """Refuse, naming the variable, any value that would reach a file or a command in a form that changes its
    meaning (a newline that adds a deb822 field or a systemd directive, a space that splits an argument)."""
    s = settings
    _url('docker_apt_repository_url', s['docker_apt_repository_url'], REPOSITORY_SCHEMES)
    _url('docker_apt_gpg_key_url', s['docker_apt_gpg_key_url'], KEY_SCHEMES)
    if not FINGERPRINT.match(fingerprint(s)):
        raise PlanError('docker_apt_gpg_fingerprint is not the 40 hex digits of a key fingerprint (spaces allowed): %r'
                        % s['docker_apt_gpg_fingerprint'])
    keyring = _text('docker_apt_keyring', s['docker_apt_keyring'])
    if not keyring.startswith('/') or posixpath.splitext(keyring)[1] not in ('.gpg', '.asc') or re.search(r'\s', keyring):
        raise PlanError('docker_apt_keyring must be an absolute path ending in .gpg (binary keyring) or .asc '
                        '(armored), without spaces; apt reads the file by its extension: %r' % keyring)
    _text('docker_apt_channel', s['docker_apt_channel'], COMPONENT, 'a repository component')
    _text('docker_apt_release', s['docker_apt_release'], SUITE, 'a distribution codename')
    _text('docker_apt_arch', s['docker_apt_arch'])
    if s['docker_apt_arch'] and not all(ARCHITECTURE.match(arch) for arch in s['docker_apt_arch'].split(' ')):
        raise PlanError('docker_apt_arch is not a dpkg architecture (or a space-separated list of them): %r'
                        % s['docker_apt_arch'])
    _text('docker_version', s['docker_version'], VERSION, 'a Debian version or a prefix of one')
    for name in ('docker_packages', 'docker_version_packages', 'docker_apt_conflicting_packages'):
        _names(name, s[name], PACKAGE_NAME, 'a Debian package name')
    additional = s.get('docker_apt_additional_packages') or []
    _names('docker_apt_additional_packages', additional, PACKAGE_NAME, 'a Debian package name')
    if not s['docker_version_packages']:
        raise PlanError('docker_version_packages must name at least one package (the pin applies to it)')
    clash = set(additional) & set(s['docker_packages'] + s['docker_apt_conflicting_packages'])
    if clash:
        raise PlanError('docker_apt_additional_packages names packages the role manages itself: %s'
                        % ', '.join(sorted(clash)))
    if s['docker_version'] and not set(s['docker_version_packages']) <= set(s['docker_packages']):
        raise PlanError('docker_version_packages (%s) must be among docker_packages'
                        % ', '.join(sorted(set(s['docker_version_packages']) - set(s['docker_packages']))))
    _names('docker_users', s['docker_users'], USER_NAME, 'a user name')
    _daemon_options('docker_daemon_options', s['docker_daemon_options'])
    validate_environment(s['docker_service_environment'])
    for index, archive in enumerate(s['docker_image_archives']):
        where = 'docker_image_archives[%d]' % index
        if not archive.get('name') or bool(archive.get('url')) == bool(archive.get('src')):
            raise PlanError('%s needs a name and exactly one of url or src' % where)
        _text(where + '.name', archive['name'], re.compile(r'^[A-Za-z0-9][A-Za-z0-9._/:@-]*$'), 'an image name')
        if archive.get('url'):
            _url(where + '.url', archive['url'], KEY_SCHEMES + ('ftp',))


# ---- registry CA certificates -------------------------------------------------------------------------

CERTS_D = '/etc/docker/certs.d'
# host[:port] as in image names: DNS labels (no empty one, so no '..') or an IPv4 address, an optional port;
# no '/', so the directory under certs.d is exactly one level deep.
REGISTRY = re.compile(r'^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:[0-9]{1,5})?$')
PEM_BLOCK = re.compile(r'-----BEGIN CERTIFICATE-----\r?\n([A-Za-z0-9+/=\r\n]+?)-----END CERTIFICATE-----')


def _pem_certificates(where, content):
    """CONTENT is one or more PEM certificates and nothing else (whitespace aside): the canonical text, else
    PlanError naming WHERE. Each block must decode to a DER SEQUENCE (what a certificate is)."""
    if not isinstance(content, str):
        raise PlanError('%s must be a string holding a PEM certificate' % where)
    blocks = list(PEM_BLOCK.finditer(content))
    if not blocks:
        raise PlanError('%s is not a PEM certificate (no -----BEGIN CERTIFICATE----- ... -----END CERTIFICATE----- '
                        'block)' % where)
    if PEM_BLOCK.sub('', content).strip():
        raise PlanError('%s holds something besides PEM certificates (a private key or other text?); give only '
                        'the CA certificate(s)' % where)
    canonical = []
    for block in blocks:
        body = re.sub(r'\s', '', block.group(1))
        try:
            der = base64.b64decode(body.encode('ascii'), validate=True) if body else b''
        except (binascii.Error, ValueError):
            der = b''
        if len(der) < 64 or der[0:1] != b'\x30':
            raise PlanError('%s holds a CERTIFICATE block that is not a DER certificate in base64' % where)
        lines = [body[i:i + 64] for i in range(0, len(body), 64)]
        canonical.append('-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n' % '\n'.join(lines))
    return ''.join(canonical)


def registry_ca_certs(items, read=None):
    """docker_registry_ca_certs -> [{registry, directory, path, content}], every item checked, naming the variable.

    Each item is {registry: "host[:port]", content: PEM} or {registry, src: a file on the controller}; READ(src)
    returns a src file's text (the filter passes a reader of controller files; None refuses src).
    """
    name = 'docker_registry_ca_certs'
    if not isinstance(items, (list, tuple)):
        raise PlanError('%s must be a list of {registry, content} or {registry, src}' % name)
    result, seen = [], set()
    for index, item in enumerate(items):
        where = '%s[%d]' % (name, index)
        if not isinstance(item, dict):
            raise PlanError('%s must be a mapping with registry and content (or src)' % where)
        unknown = sorted(str(key) for key in item if key not in ('registry', 'content', 'src'))
        if unknown:
            raise PlanError('%s: unknown key(s) %s; it has registry and content or src' % (where, ', '.join(unknown)))
        registry = item.get('registry')
        if not isinstance(registry, str) or not REGISTRY.match(registry) or len(registry) > 253:
            raise PlanError('%s.registry must be host or host:port, as in image names (registry.example.com:5000): '
                            '%r' % (where, registry))
        port = registry.rpartition(':')[2] if ':' in registry else ''
        if port and not 0 < int(port) < 65536:
            raise PlanError('%s.registry: port %s is out of range' % (where, port))
        if registry in seen:
            raise PlanError('%s.registry: %s is listed twice' % (where, registry))
        seen.add(registry)
        if ('content' in item) == ('src' in item):
            raise PlanError('%s needs exactly one of content (the PEM text) or src (a file on the controller)' % where)
        if 'src' in item:
            if not isinstance(item['src'], str) or not item['src']:
                raise PlanError('%s.src must be a path on the controller' % where)
            if read is None:
                raise PlanError('%s.src: no reader of controller files' % where)
            try:
                content = read(item['src'])
            except (IOError, OSError, UnicodeDecodeError) as exc:
                raise PlanError('%s.src: cannot read %s on the controller: %s' % (where, item['src'], exc))
            content = _pem_certificates('%s.src (%s)' % (where, item['src']), content)
        else:
            content = _pem_certificates('%s.content' % where, item['content'])
        directory = posixpath.join(CERTS_D, registry)
        result.append({'registry': registry, 'directory': directory, 'path': posixpath.join(directory, 'ca.crt'),
                       'content': content})
    return result


def ca_plan(files, cas):
    """{directories, write}: the certs.d directories (parents first) and the ca.crt files that are missing or
    differ (content, owner, mode). dockerd reads certs.d on every pull and push: a new CA needs no restart."""
    wanted = (['/etc/docker', CERTS_D] if cas else []) + [ca['directory'] for ca in cas]
    return {'directories': [path for path in wanted if not _attributes_ok(files.get(path) or {}, 'directory', '0755')],
            'write': [{'path': ca['path'], 'content': ca['content']} for ca in cas
                      if _differs(files.get(ca['path']) or {}, _sha256(ca['content']), '0644')]}


def fingerprint(settings):
    text = re.sub(r'\s+', '', str(settings['docker_apt_gpg_fingerprint'] or ''))
    return (text[2:] if text[:2].lower() == '0x' else text).upper()


# ---- what the role writes ----------------------------------------------------------------------------

def _systemd_quote(value):
    """A value for Environment="NAME=value": systemd's C-style escapes, and %% for its specifier character."""
    return value.replace('\\', '\\\\').replace('"', '\\"').replace('%', '%%')


def service_dropin(environment):
    """The engine's systemd drop-in for docker_service_environment (mode 0600: it may hold proxy credentials)."""
    lines = ['# Managed by Ansible (swarmops.swarm.docker: docker_service_environment); local changes are overwritten.',
             '[Service]']
    for name in sorted(environment):
        lines.append('Environment="%s=%s"' % (name, _systemd_quote(str(environment[name]))))
    return '\n'.join(lines) + '\n'


def source_content(url, release, channel, arch, keyring):
    return '\n'.join([
        '# Managed by Ansible (swarmops.swarm.docker); local changes are overwritten.',
        'Types: deb',
        'URIs: %s' % url,
        'Suites: %s' % release,
        'Components: %s' % channel,
        'Architectures: %s' % arch,
        'Signed-By: %s' % keyring,
    ]) + '\n'


def daemon_json(options):
    return json.dumps(options, indent=2, sort_keys=True, ensure_ascii=False) + '\n'


def _sha256(text):
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


def _attributes_ok(found, kind, mode):
    return (found.get('type') == kind and found.get('mode') == mode and found.get('owner') == 'root'
            and found.get('group') == 'root')


def _differs(found, sha256, mode):
    return not (_attributes_ok(found, 'file', mode) and found.get('sha256') == sha256)


# ---- the version pin ---------------------------------------------------------------------------------

def version_regex(pin):
    """'27.3' also matches '5:27.3.1-1~debian.12~bookworm': the epoch is optional in docker_version."""
    return '^' + ('' if ':' in pin else '([0-9]+:)?') + re.escape(pin)


def resolve(pin, versions):
    """The newest version on offer that the pin matches ('' when none)."""
    regex = re.compile(version_regex(pin))
    return next((version for version in versions if regex.match(version)), '')


# ---- the plan ----------------------------------------------------------------------------------------

RUNNING = ('active', 'activating', 'reloading')


def _where(probe, s):
    """Repository URL, key URL, codename and architecture: the settings, else what the host reports."""
    host = probe['host']
    if host.get('os_family') != 'Debian' and not s['docker_apt_repository_url']:
        raise PlanError("swarmops.swarm.docker installs from Docker's apt repository, which serves Debian and Ubuntu; "
                        'this host runs %s (docker_apt_repository_url can name a mirror that serves it)'
                        % (host.get('distribution') or 'an unknown distribution'))
    distribution = 'ubuntu' if host.get('distribution') == 'Ubuntu' else 'debian'
    repository = (s['docker_apt_repository_url'] or 'https://download.docker.com/linux/' + distribution).rstrip('/')
    release = s['docker_apt_release'] or host.get('distribution_release') or ''
    if not release:
        raise PlanError("docker_apt_release is empty and the host's os-release names no codename: set it")
    _text("docker_apt_release (the host's os-release codename)", release, SUITE, 'a distribution codename')
    arch = (s['docker_apt_arch'] or host.get('dpkg_architecture')
            or ARCH_MAP.get(host.get('architecture'), host.get('architecture') or ''))
    _text('docker_apt_arch (the host architecture)', arch, re.compile(r'^[a-z0-9][a-z0-9 -]*$'), 'a dpkg architecture')
    return repository, s['docker_apt_gpg_key_url'] or repository + '/gpg', release, arch


def _refuse_live_restore(s, swarm_state):
    live_restore = s['docker_daemon_options'].get('live-restore') in (True, 'true', 'True', 'yes', 1)
    if live_restore and (s['docker_swarm_member'] or swarm_state in SWARM_MEMBER_STATES):
        raise PlanError(
            'docker_daemon_options sets live-restore: true, but this host is a swarm member (%s). Docker does not '
            'support live-restore in swarm mode: dockerd refuses to start with it ("--live-restore daemon '
            'configuration is incompatible with swarm mode"), so writing it would take the engine down on its next '
            'restart. Remove live-restore from docker_daemon_options for swarm hosts.'
            % ('docker_swarm_member is true' if s['docker_swarm_member']
               else 'the engine reports swarm state ' + swarm_state))


def _packages(probe, s, madison, source_changes, reasons):
    """Conflicts to remove, what to install (with the pin resolved), and whether that restarts anything."""
    packages = probe['packages']
    installed = dict((name, state['version']) for name, state in packages.items() if state.get('installed'))
    conflicts = [name for name in s['docker_apt_conflicting_packages'] if name in installed]
    if conflicts:
        reasons.append('remove conflicting packages: %s' % ', '.join(conflicts))
    wanted = list(s['docker_packages']) + (['python3-docker'] if s['docker_install_python_sdk'] else [])
    missing = [name for name in wanted if name not in installed]
    pin, pinned = s['docker_version'], list(s['docker_version_packages'])
    versions = list(madison if madison is not None else probe.get('madison') or [])
    target = resolve(pin, versions) if pin else ''
    # The cache as it is resolves the pin, unless the source changes or the cache does not offer a match yet (a
    # fresh host, or a version published since the last refresh): then the apply step refreshes it and decides
    # again. Until then an install is assumed, so a plan never promises less than the apply does.
    later = bool(pin) and madison is None and (source_changes or not target)
    moves = {}
    if pin and not later:
        if not target:
            raise PlanError('docker_version %s matches none of the versions of %s in the repository: %s.'
                            % (pin, pinned[0], ', '.join(versions) or 'none'))
        moves = dict((name, installed[name]) for name in pinned if name in installed and installed[name] != target)
    for name in missing:
        reasons.append('install %s%s' % (name, ' ' + target if target and name in pinned else ''))
    additional = list(s.get('docker_apt_additional_packages') or [])
    if additional and (missing or moves or later):
        reasons.append('install with them: %s' % ', '.join(additional))
    for name in sorted(moves):
        reasons.append('%s %s -> %s' % (name, moves[name], target))
    if later:
        reasons.append('docker_version %s: resolved after the apt cache is refreshed' % pin)
    restarts = conflicts or later or [name for name in ENGINE_PACKAGES if name in missing or name in moves]
    return {
        'installed': installed,
        'conflicts': conflicts,
        'needed': bool(missing or moves or later),
        'later': later,
        'target': target,
        'versions': versions,
        # the additional packages ride along in the same transaction (never pinned, never a reason to install)
        'names': ['%s=%s' % (name, target) if target and name in pinned else name for name in wanted] + additional,
        'restarts': bool(restarts),
    }


def plan(probe, settings, madison=None, read=None):
    """What applying the role changes on the host PROBE describes (the filter docker_engine_plan documents it).

    MADISON (versions on offer, newest first) replaces the probe's after the apt cache was refreshed. READ
    returns the text of a file on the controller (docker_registry_ca_certs' src).
    Raises PlanError, naming the variable, for settings the role refuses.
    """
    validate(settings)
    cas = registry_ca_certs(settings['docker_registry_ca_certs'], read)
    s, paths, check_mode = settings, settings['paths'], bool(settings['check_mode'])
    files, services, engine = probe['files'], probe['services'], probe['engine']
    repository, key_url, release, arch = _where(probe, s)
    swarm_state = engine.get('swarm_state') or ''
    _refuse_live_restore(s, swarm_state)
    reasons = []

    # -- the key, the apt source, and what older versions left behind
    keyring_path, stored = s['docker_apt_keyring'], probe['keyring']
    key_current = (not s['docker_apt_key_refresh'] and stored.get('fingerprints') == [fingerprint(s)]
                   and stored.get('canonical') is True and _attributes_ok(files[keyring_path], 'file', '0644'))
    if not key_current:
        reasons.append('apt keyring %s: %s' % (keyring_path, 'download and verify the key again (docker_apt_key_refresh)'
                                               if s['docker_apt_key_refresh'] else 'write the verified key'))
    source = source_content(repository, release, s['docker_apt_channel'], arch, keyring_path)
    source_changes = _differs(files[paths['source']], _sha256(source), '0644')
    if source_changes:
        reasons.append('apt source %s changes' % paths['source'])
    if probe['leftovers']:
        reasons.append('remove legacy apt sources and keyrings: %s' % ', '.join(probe['leftovers']))

    # -- the engine's configuration
    environment = s['docker_service_environment']
    dropin = service_dropin(environment) if environment else ''
    found = files[paths['dropin']]
    dropin_action = ('write' if dropin and _differs(found, _sha256(dropin), '0600')
                     else 'remove' if not dropin and found.get('exists') else '')
    dropin_content_changes = dropin_action == 'remove' or (dropin_action == 'write' and found.get('sha256') != _sha256(dropin))
    if dropin_action:
        reasons.append('engine environment %s: %s' % (
            paths['dropin'], 'remove' if dropin_action == 'remove' else 'write %s%s' % (
                ', '.join(sorted(environment)), '' if dropin_content_changes else ' (owner and mode only)')))
    config = daemon_json(s['docker_daemon_options']) if s['docker_daemon_options'] else ''
    config_changes = bool(config) and files[paths['daemon_json']].get('sha256') != _sha256(config)
    config_write = bool(config) and _differs(files[paths['daemon_json']], _sha256(config), '0644')
    if config_write:
        reasons.append('daemon.json %s' % ('changes' if config_changes else 'owner and mode'))
    directories = [posixpath.dirname(keyring_path)] + (['/etc/docker'] if config else []) \
        + ([posixpath.dirname(paths['dropin'])] if dropin else [])
    directories = [path for path in directories if not _attributes_ok(files.get(path) or {}, 'directory', '0755')]
    ca = ca_plan(files, cas)
    reasons.extend('registry CA %s' % item['path'] for item in ca['write'])
    if directories:
        reasons.append('directories (root, 0755): %s' % ', '.join(directories))

    # -- packages
    packages = _packages(probe, s, madison, source_changes, reasons)
    engine_installed = 'docker-ce' in packages['installed']
    pin = s['docker_version']
    want = ('hold',) if pin else ('install', '')
    selections = [name for name in s['docker_version_packages']
                  if (probe['packages'].get(name) or {}).get('selection', '') not in want]
    if selections and not packages['needed']:
        reasons.append('%s %s' % ('hold' if pin else 'release the hold of', ', '.join(selections)))

    # -- apt. Check mode can ask apt nothing without python3-apt, nor anything about a source not yet written.
    python_apt = bool(probe.get('python_apt'))
    apt_usable = not check_mode or python_apt
    apt_can_resolve = apt_usable and not (check_mode and source_changes)
    refresh_first = apt_can_resolve and not check_mode and (packages['later'] or (source_changes and not packages['needed']))
    # Refresh at once after the source changed, unless the apt module's bootstrap of python3-apt just did (it runs
    # apt-get update before installing it, with the new source in place); and to resolve a pin the cache lacks.
    force_refresh = (source_changes and python_apt) or (packages['later'] and not source_changes)

    # -- the engine: units to start, users, images
    units = [unit for unit in ('containerd', 'docker')
             if (services.get(unit) or {}).get('enabled') != 'enabled' or (services.get(unit) or {}).get('active') != 'active']
    if units and not packages['needed']:
        reasons.append('start %s' % ', '.join(units))
    users = [user for user in s['docker_users'] if user not in (probe.get('group') or {}).get('members', [])]
    if users:
        reasons.append('add to the docker group: %s' % ', '.join(users))
    images = archives(s['docker_image_archives'])
    missing_images = [image['name'] for image in images if image['tag'] not in (engine.get('images') or [])]
    if missing_images:
        reasons.append('load images: %s' % ', '.join(missing_images))

    # -- restarts: dockerd or containerd runs now, and a change restarts it
    engine_runs = (services.get('docker') or {}).get('active') in RUNNING or bool(engine.get('answers'))
    containerd_runs = (services.get('containerd') or {}).get('active') in RUNNING
    restart = bool((engine_runs or containerd_runs) and packages['restarts']) or \
        bool(engine_runs and (config_changes or dropin_content_changes))

    return {
        'restart': restart,
        'reasons': reasons,
        'changed': bool(reasons),
        'swarm_state': swarm_state,
        'engine_version': engine.get('version') or '',
        'target_version': packages['target'],
        'check_mode': check_mode,
        # Check mode on a host that lacks the packages: nothing after the install can be asked or predicted.
        'engine_pending': check_mode and packages['needed'],
        'apt_usable': apt_usable,
        'keyring': {'write': not key_current, 'path': keyring_path, 'url': key_url, 'fingerprint': fingerprint(s)},
        'source': {'write': source_changes, 'path': paths['source'], 'content': source},
        'leftovers': list(probe['leftovers']),
        'directories': directories,
        'dropin': {'action': dropin_action, 'path': paths['dropin'], 'names': sorted(environment)},
        'daemon_json': {'write': config_write, 'path': paths['daemon_json'], 'content': config},
        'ca': ca,
        # A drop-in written before the engine's first install needs no restart: the package starts it afterwards.
        'config_restart': config_changes or (engine_installed and dropin_content_changes),
        'conflicts': packages['conflicts'],
        'pin': {'version': pin, 'package': s['docker_version_packages'][0], 'resolve_after_refresh': packages['later'],
                'versions': packages['versions']},
        'install': {
            'needed': packages['needed'],
            'names': packages['names'],
            # A host without python3-apt, or one without the engine whose source is new (the firewall role
            # installed python3-apt moments ago), gets the packages and python3-apt in one apt-get update and
            # install, as a shell script would: the apt module would add its own cache loads to the same work
            # (a pin needs the cache first, so pinned installs go through the apt module).
            'fresh': bool(packages['needed'] and not pin and not check_mode and (
                not python_apt or (source_changes and not packages['conflicts']
                                   and not any(name in packages['installed'] for name in s['docker_packages'])))),
            'apt_can_resolve': apt_can_resolve,
            'refresh_first': refresh_first,
            'cache_valid_time': None if force_refresh else s['docker_apt_cache_valid_time'],
        },
        'selections': selections,
        'units': units,
        'users': users,
        'images': images,
        'missing_images': missing_images,
        'engine_answers': bool(engine.get('answers')),
    }


def archives(items):
    """docker_image_archives with the name as the engine reports it (name:tag) and a scratch file name."""
    result = []
    for item in items:
        name = item['name']
        entry = {'name': name, 'tag': name if re.search(r':[^/]*$', name) else name + ':latest',
                 'file': re.sub(r'[^A-Za-z0-9_.-]', '_', name) + '.tar'}
        entry.update(dict((key, item[key]) for key in ('url', 'src', 'checksum') if item.get(key)))
        result.append(entry)
    return result
