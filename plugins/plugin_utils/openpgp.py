# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fingerprints of the primary keys in an OpenPGP public key file (RFC 4880 / RFC 9580).

Pure Python on the controller, so verifying an apt repository key needs no gpg on the host (a fresh
Debian host has gpgv only) and works in check mode, before anything is written.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import hashlib
import re

PUBLIC_KEY_TAG = 6  # primary keys only; subkeys (tag 14) are not what a repository publishes as its identity


class OpenPGPError(ValueError):
    pass


def normalize_fingerprint(value):
    """'9DC8 5822 9fc7 ...' -> '9DC858229FC7...' (spaces and an 0x prefix dropped, upper case)."""
    text = re.sub(r'\s+', '', str(value or ''))
    if text[:2].lower() == '0x':
        text = text[2:]
    return text.upper()


def dearmor(text):
    """Concatenated binary packets of every ASCII-armored block in text."""
    blocks = re.findall(
        r'-----BEGIN PGP PUBLIC KEY BLOCK-----\r?\n(.*?)-----END PGP PUBLIC KEY BLOCK-----', text, re.S)
    if not blocks:
        raise OpenPGPError('no "BEGIN PGP PUBLIC KEY BLOCK" found: the key must be ASCII-armored (as Docker publishes it)')
    data = b''
    for block in blocks:
        # Armor header lines ("Comment: ...") contain a colon, which base64 never does; the last
        # "=XXXX" line is the CRC-24 checksum, not data.
        body = ''.join(line.strip() for line in block.splitlines()
                       if line.strip() and ':' not in line and not line.startswith('='))
        try:
            data += base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise OpenPGPError('the armored key block is not valid base64: %s' % exc)
    return data


def packets(data):
    """(tag, body) of each OpenPGP packet, old and new header formats."""
    pos = 0
    while pos < len(data):
        header = data[pos]
        if not header & 0x80:
            raise OpenPGPError('byte %d is not an OpenPGP packet header' % pos)
        if header & 0x40:  # new format
            tag = header & 0x3F
            pos += 1
            first = data[pos]
            if first < 192:
                length, pos = first, pos + 1
            elif first < 224:
                length, pos = ((first - 192) << 8) + data[pos + 1] + 192, pos + 2
            elif first == 255:
                length, pos = int.from_bytes(data[pos + 1:pos + 5], 'big'), pos + 5
            else:
                raise OpenPGPError('partial body lengths are not used in key files')
        else:  # old format
            tag = (header >> 2) & 0x0F
            size = {0: 1, 1: 2, 2: 4}.get(header & 0x03)
            if size is None:
                raise OpenPGPError('indeterminate packet length')
            length = int.from_bytes(data[pos + 1:pos + 1 + size], 'big')
            pos += 1 + size
        body = data[pos:pos + length]
        if len(body) != length:
            raise OpenPGPError('truncated packet')
        yield tag, body
        pos += length


def fingerprint(body):
    version = body[0]
    if version == 4:
        return hashlib.sha1(b'\x99' + len(body).to_bytes(2, 'big') + body).hexdigest().upper()
    if version == 5:
        return hashlib.sha256(b'\x9a' + len(body).to_bytes(4, 'big') + body).hexdigest().upper()
    if version == 6:
        return hashlib.sha256(b'\x9b' + len(body).to_bytes(4, 'big') + body).hexdigest().upper()
    raise OpenPGPError('OpenPGP key version %d is not supported' % version)


def primary_fingerprints(text):
    """Upper-case hex fingerprints of the primary public keys in an armored key file, in file order."""
    result = [fingerprint(body) for tag, body in packets(dearmor(text)) if tag == PUBLIC_KEY_TAG]
    if not result:
        raise OpenPGPError('the file holds no public key')
    return result
