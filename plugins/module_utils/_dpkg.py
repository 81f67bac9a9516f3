# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading the package database of a host (dpkg, with rpm as the fallback). Private to the collection.

One reader for every module that asks "is this package installed, in which version, is it held":
the docker role's probe and the firewall role's probe.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DPKG_FORMAT = '${Package}\t${Version}\t${Status}\n'


def absent():
    return {'installed': False, 'version': '', 'selection': '', 'status': 'not-installed'}


def parse_dpkg_query(output, names):
    """{name: {installed, version, selection, status}} from `dpkg-query -W -f DPKG_FORMAT NAMES...` output.

    Status is dpkg's "want flag status" triple: `install ok installed`, `hold ok installed`,
    `deinstall ok config-files`, ... Only `installed` counts as installed (a half-configured or
    config-files-only package does not); the selection (want) is reported so holds can be read.
    """
    result = dict((name, absent()) for name in names)
    for line in (output or '').splitlines():
        fields = line.split('\t')
        if len(fields) != 3 or fields[0] not in result:
            continue
        status = fields[2].split()
        want, state = (status[0], status[-1]) if len(status) == 3 else ('', '')
        result[fields[0]] = {'installed': state == 'installed', 'version': fields[1] if state == 'installed' else '',
                             'selection': want, 'status': state or 'unknown'}
    return result


def package_states(module, names):
    """{name: {installed, version, selection, status}} for NAMES, read on the host of MODULE.

    dpkg-query exits 1 when some package is unknown to it; the known ones are still printed, so its
    exit status alone is not an error. Without dpkg, rpm answers installed/not installed (no selection).
    A database that cannot be read at all fails the module: "not installed" must never stand for "unknown".
    """
    names = list(names or [])
    if not names:
        return {}
    dpkg_query = module.get_bin_path('dpkg-query')
    if dpkg_query:
        rc, out, err = module.run_command([dpkg_query, '-W', '-f=' + DPKG_FORMAT] + names,
                                          environ_update=dict(LANG='C', LC_ALL='C'))
        if rc not in (0, 1) or (rc == 1 and not out and 'no packages found' not in err.lower()):
            module.fail_json(msg='cannot read the dpkg database (dpkg-query exited %d): %s' % (rc, err.strip()))
        return parse_dpkg_query(out, names)
    rpm = module.get_bin_path('rpm')
    result = dict((name, absent()) for name in names)
    if rpm:
        for name in names:
            rc, out, _err = module.run_command([rpm, '-q', '--qf', '%{VERSION}-%{RELEASE}', name],
                                               environ_update=dict(LANG='C', LC_ALL='C'))
            if rc == 0:
                result[name] = {'installed': True, 'version': out.strip(), 'selection': 'install',
                                'status': 'installed'}
    return result
