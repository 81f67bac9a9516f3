# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure logic of the swarm's certificates (swarm_ca, swarm_cert_info).

- The validity and names of an X.509 certificate, read from its DER encoding with the few lines of ASN.1
  that needs: the nodes have Python but not necessarily a crypto library or openssl's CLI.
- The progress of a root CA rotation, decided as `docker swarm ca --rotate` decides it: every node's
  certificate issued by the new root (its TLS info's issuer subject and public key equal the swarm's), no
  rotation in progress any more, and every node trusting the new root.
Unit-tested in tests/unit/plugins/module_utils/test_swarm_certs.py.
"""

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

import base64
import datetime
import hashlib
import re

PEM_RE = re.compile(r'-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----', re.S)
OID_NAMES = {
    b'\x55\x04\x03': 'CN',
    b'\x55\x04\x0a': 'O',
    b'\x55\x04\x0b': 'OU',
}
# swarmkit's node certificates: O = cluster ID, OU = the node's role, CN = the node's ID.
SWARM_ROLES = {'swarm-manager': 'manager', 'swarm-worker': 'worker'}


class CertificateError(ValueError):
    pass


# ---- DER -----------------------------------------------------------------------------------------

def _tlv(data, pos):
    """(tag, start of the value, end of the value) of the DER element at POS."""
    if pos + 2 > len(data):
        raise CertificateError('truncated certificate')
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7f
        if count == 0 or count > 4 or pos + count > len(data):
            raise CertificateError('bad length in certificate')
        length = int(''.join('%02x' % b for b in bytearray(data[pos:pos + count])), 16)
        pos += count
    if pos + length > len(data):
        raise CertificateError('truncated certificate')
    return tag, pos, pos + length


def _children(data, start, end):
    out = []
    pos = start
    while pos < end:
        tag, value_start, value_end = _tlv(data, pos)
        out.append((tag, value_start, value_end))
        pos = value_end
    return out


def _time(data, tag, start, end):
    text = bytes(data[start:end]).decode('ascii')
    if tag == 0x17:    # UTCTime: YYMMDDHHMMSSZ (years 1950-2049)
        parsed = datetime.datetime.strptime(text, '%y%m%d%H%M%SZ')
    elif tag == 0x18:  # GeneralizedTime: YYYYMMDDHHMMSSZ
        parsed = datetime.datetime.strptime(text, '%Y%m%d%H%M%SZ')
    else:
        raise CertificateError('unexpected time encoding in certificate')
    return parsed


def _name(data, start, end):
    names = {}
    for _set_tag, set_start, set_end in _children(data, start, end):
        for _seq_tag, seq_start, seq_end in _children(data, set_start, set_end):
            parts = _children(data, seq_start, seq_end)
            if len(parts) != 2:
                continue
            oid = bytes(data[parts[0][1]:parts[0][2]])
            if oid in OID_NAMES:
                names[OID_NAMES[oid]] = bytes(data[parts[1][1]:parts[1][2]]).decode('utf-8', 'replace')
    return names


def pem_to_der(pem):
    if isinstance(pem, bytes):
        pem = pem.decode('ascii', 'replace')
    match = PEM_RE.search(pem or '')
    if not match:
        raise CertificateError('no PEM certificate found')
    return base64.b64decode(''.join(match.group(1).split()))


def parse_certificate(pem):
    """{'not_before', 'not_after' (UTC datetimes), 'subject', 'issuer' ({CN, O, OU})} of the first PEM certificate."""
    try:
        return _parse(bytearray(pem_to_der(pem)))
    except CertificateError:
        raise
    except (IndexError, ValueError, TypeError) as exc:
        raise CertificateError('not a readable X.509 certificate (%s)' % exc)


def _parse(der):
    _tag, start, end = _tlv(der, 0)
    tbs_tag, tbs_start, tbs_end = _children(der, start, end)[0]
    if tbs_tag != 0x30:
        raise CertificateError('not an X.509 certificate')
    fields = _children(der, tbs_start, tbs_end)
    if fields and fields[0][0] == 0xa0:  # explicit version
        fields = fields[1:]
    # serialNumber, signature, issuer, validity, subject
    if len(fields) < 5:
        raise CertificateError('not an X.509 certificate')
    validity = _children(der, fields[3][1], fields[3][2])
    return {
        'issuer': _name(der, fields[2][1], fields[2][2]),
        'not_before': _time(der, *validity[0]),
        'not_after': _time(der, *validity[1]),
        'subject': _name(der, fields[4][1], fields[4][2]),
    }


def certificate_report(pem, now, warn_days=30):
    """What swarm_cert_info returns for a node certificate PEM, at NOW (a naive UTC datetime)."""
    cert = parse_certificate(pem)
    left = cert['not_after'] - now
    days = left.days + left.seconds / 86400.0
    return {
        'node_id': cert['subject'].get('CN'),
        'role': SWARM_ROLES.get(cert['subject'].get('OU'), cert['subject'].get('OU')),
        'cluster_id': cert['subject'].get('O'),
        'issuer': cert['issuer'].get('CN'),
        'not_before': cert['not_before'].strftime('%Y-%m-%dT%H:%M:%SZ'),
        'not_after': cert['not_after'].strftime('%Y-%m-%dT%H:%M:%SZ'),
        'expires_in_days': round(days, 1),
        'expires_soon': days < warn_days,
        'expired': days <= 0,
    }


def pem_digest(pem):
    """A short identity of a root CA (sha256 of its PEM text) for messages and comparisons."""
    return 'sha256:' + hashlib.sha256((pem or '').strip().encode('utf-8')).hexdigest()[:16]


# ---- root CA rotation ----------------------------------------------------------------------------

def rotation_progress(swarm, nodes):
    """How far a root rotation is: {'done', 'in_progress', 'nodes_total', 'certs_rotated', 'roots_rotated',
    'waiting_for': [hostnames]}. SWARM: GET /swarm; NODES: GET /nodes."""
    desired = swarm.get('TLSInfo') or {}
    in_progress = bool(swarm.get('RootRotationInProgress'))
    certs, roots, waiting = 0, 0, []
    for node in nodes:
        tls = (node.get('Description') or {}).get('TLSInfo') or {}
        cert_ok = (tls.get('CertIssuerPublicKey') == desired.get('CertIssuerPublicKey')
                   and tls.get('CertIssuerSubject') == desired.get('CertIssuerSubject'))
        root_ok = (tls.get('TrustRoot') or '').strip() == (desired.get('TrustRoot') or '').strip()
        certs += cert_ok
        roots += root_ok
        if not (cert_ok and root_ok):
            waiting.append((node.get('Description') or {}).get('Hostname') or node.get('ID'))
    total = len(nodes)
    return {'done': not in_progress and certs == total and roots == total, 'in_progress': in_progress,
            'nodes_total': total, 'certs_rotated': certs, 'roots_rotated': roots, 'waiting_for': sorted(waiting)}


def rotation_blockers(nodes):
    """Nodes that would hold a rotation forever: swarmkit finishes it only when every node in the list has a
    certificate from the new root, and a node that is down gets none until it is back (or removed)."""
    return sorted('%s (%s)' % ((n.get('Description') or {}).get('Hostname'), n.get('ID'))
                  for n in nodes if (n.get('Status') or {}).get('State') == 'down')
