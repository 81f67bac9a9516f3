# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""OpenPGP public key files, read strictly (RFC 4880 / RFC 9580). Private to the collection.

The one implementation the collection has: the ``pgp_fingerprints`` filter, the docker role's key module
(which downloads, verifies and writes the apt keyring on the host) and the host probe (which checks the stored
keyring on re-runs) all import it. Pure standard library, so it runs on a fresh host and in check mode.

Why strict: apt (gpgv, sqv) and gpg read key files more leniently than a simple parser does (gpg skips
characters that are not base64, accepts several armored blocks, binary data after the armor...). A checker that
reads a file differently from the tool that trusts it can be shown one key while the tool sees two. So a key file
is accepted only when there is exactly one way to read it, and what is written for apt is never the file itself
but a keyring re-serialised from the packets that were verified.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import hashlib
import re

ARMOR_KIND = 'PGP PUBLIC KEY BLOCK'
ARMOR_BEGIN = '-----BEGIN %s-----' % ARMOR_KIND
ARMOR_END = '-----END %s-----' % ARMOR_KIND

PUBLIC_KEY, SIGNATURE, USER_ID, PUBLIC_SUBKEY, USER_ATTRIBUTE = 6, 2, 13, 14, 17
MARKER, TRUST = 10, 12  # ignored by every implementation (RFC 4880 5.8, 5.10): dropped from what is written
PACKET_NAMES = {
    1: 'public-key encrypted session key', 2: 'signature', 3: 'symmetric-key encrypted session key',
    4: 'one-pass signature', 5: 'secret key', 6: 'public key', 7: 'secret subkey', 8: 'compressed data',
    9: 'symmetrically encrypted data', 10: 'marker', 11: 'literal data', 12: 'trust', 13: 'user ID',
    14: 'public subkey', 17: 'user attribute', 18: 'encrypted and integrity protected data',
    19: 'modification detection code', 20: 'AEAD encrypted data', 21: 'padding',
}

# Public-key algorithms whose key material is a list of MPIs (RFC 4880 5.5.2).
MPI_ALGORITHMS = {1: 2, 2: 2, 3: 2, 16: 3, 17: 4}  # RSA (n, e), Elgamal (p, g, y), DSA (p, q, g, y)
# RFC 9580 native keys: fixed-size key material.
FIXED_ALGORITHMS = {25: 32, 26: 56, 27: 32, 28: 57}  # X25519, X448, Ed25519, Ed448

CRC24_INIT = 0xB704CE
CRC24_POLY = 0x1864CFB

HEADER_LINE = re.compile(r'^[A-Za-z][A-Za-z0-9-]*:( .*)?$')
BASE64_LINE = re.compile(r'^[A-Za-z0-9+/]+={0,2}$')
CHECKSUM_LINE = re.compile(r'^=[A-Za-z0-9+/]{4}$')
ANY_BEGIN = re.compile(r'^-----BEGIN (.*)-----$')


class OpenPGPError(ValueError):
    """A key file that is refused, with a message saying why (never a traceback)."""


def normalize_fingerprint(value):
    """'9DC8 5822 9fc7 ...' -> '9DC858229FC7...' (whitespace and an 0x prefix dropped, upper case)."""
    text = re.sub(r'\s+', '', str(value or ''))
    if text[:2].lower() == '0x':
        text = text[2:]
    return text.upper()


def crc24(data):
    """The CRC-24 of the ASCII armor's checksum line (RFC 4880 6.1)."""
    crc = CRC24_INIT
    for byte in bytearray(data):
        crc ^= byte << 16
        for _bit in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= CRC24_POLY
    return crc & 0xFFFFFF


def _preview(data):
    text = data[:32].decode('ascii', 'replace')
    return re.sub(r'[^\x20-\x7e]', '?', text)


def _lines(text):
    """Lines of the armored text: LF or CRLF line ends, trailing blanks ignored; a lone CR is refused."""
    lines = []
    for number, line in enumerate(text.split('\n'), 1):
        if line.endswith('\r'):
            line = line[:-1]
        if '\r' in line:
            raise OpenPGPError('line %d of the armor holds a carriage return inside the line' % number)
        if re.search(r'[^\t\x20-\x7e]', line):
            raise OpenPGPError('line %d of the armor holds a control character' % number)
        lines.append(line.rstrip(' \t'))
    return lines


def dearmor(data):
    """The binary packets of a file that is exactly one ASCII-armored public key block.

    Accepted: optional whitespace, the BEGIN line, armor headers ("Key: value"), one blank line, base64 lines,
    the CRC-24 line (which must match), the END line, optional whitespace. Anything else is refused: text or a
    second block before or after, a header after the blank line, a line that is not base64, a missing or wrong
    checksum, a truncated block.
    """
    if not isinstance(data, bytes):
        data = data.encode('utf-8')
    try:
        text = data.decode('ascii')
    except UnicodeDecodeError:
        raise OpenPGPError('the armored key holds bytes that are not ASCII')
    lines = _lines(text)
    pos = 0
    while pos < len(lines) and not lines[pos].strip():
        pos += 1
    if pos == len(lines):
        raise OpenPGPError('the key file is empty')
    found = ANY_BEGIN.match(lines[pos])
    if not found:
        raise OpenPGPError('the key file has text before "%s" (line %d: %r)' % (ARMOR_BEGIN, pos + 1, lines[pos][:40]))
    if found.group(1) != ARMOR_KIND:
        raise OpenPGPError('the key file is an armored "%s", not a "%s"' % (found.group(1), ARMOR_KIND))
    pos += 1
    # Armor headers, up to the one blank line that separates them from the data.
    while True:
        if pos == len(lines):
            raise OpenPGPError('the armor ends inside its headers (truncated?)')
        line = lines[pos]
        pos += 1
        if line == '':
            break
        if not HEADER_LINE.match(line):
            raise OpenPGPError('line %d of the armor is neither an armor header ("Key: value") nor the blank line '
                               'that ends the headers' % pos)
    body, checksum = [], None
    while True:
        if pos == len(lines):
            raise OpenPGPError('the armor has no "%s" line (truncated?)' % ARMOR_END)
        line = lines[pos]
        pos += 1
        if CHECKSUM_LINE.match(line):
            checksum = line[1:]
            break
        if line == ARMOR_END or ANY_BEGIN.match(line) or line.startswith('-----END'):
            raise OpenPGPError('the armor has no CRC-24 checksum line before its END line')
        if not BASE64_LINE.match(line):
            raise OpenPGPError('line %d of the armor is not base64 (%s)'
                               % (pos, 'empty line inside the data' if not line else 'unexpected characters'))
        body.append(line)
    if pos == len(lines) or lines[pos] != ARMOR_END:
        raise OpenPGPError('the CRC-24 checksum line is not followed by "%s"' % ARMOR_END)
    rest = [line for line in lines[pos + 1:] if line.strip()]
    if rest:
        raise OpenPGPError('the key file has more after "%s" (%r): exactly one armored block is accepted'
                           % (ARMOR_END, rest[0][:40]))
    encoded = ''.join(body)
    if not body or '=' in encoded.rstrip('=') or len(encoded) % 4:
        raise OpenPGPError('the armored data is not valid base64 (padding inside the data, or a truncated line)')
    try:
        packets = base64.b64decode(encoded.encode('ascii'), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise OpenPGPError('the armored data is not valid base64: %s' % exc)
    expected = bytearray(base64.b64decode(checksum.encode('ascii')))
    if crc24(packets) != (expected[0] << 16 | expected[1] << 8 | expected[2]):
        raise OpenPGPError('the CRC-24 checksum of the armor does not match its data (corrupt or altered)')
    return packets


def armor(packets):
    """ASCII armor for binary packets, as gpg writes it (64-character lines, CRC-24 line)."""
    encoded = base64.b64encode(packets).decode('ascii')
    crc = crc24(packets)
    checksum = base64.b64encode(bytes(bytearray([crc >> 16, (crc >> 8) & 0xFF, crc & 0xFF]))).decode('ascii')
    lines = [ARMOR_BEGIN, ''] + [encoded[i:i + 64] for i in range(0, len(encoded), 64)] + ['=' + checksum, ARMOR_END]
    return ('\n'.join(lines) + '\n').encode('ascii')


def read_packets(data):
    """[(tag, body)] of binary OpenPGP data: every byte must belong to a complete packet.

    Indeterminate (old format) and partial (new format) lengths are refused: key material never uses them.
    """
    data = bytearray(data)
    result, pos = [], 0
    while pos < len(data):
        start, header = pos, data[pos]
        if not header & 0x80:
            raise OpenPGPError('byte %d is not the start of an OpenPGP packet (data after the key, or not a key)' % pos)
        if header & 0x40:  # new format
            tag = header & 0x3F
            if pos + 1 >= len(data):
                raise OpenPGPError('truncated packet header at byte %d' % start)
            first = data[pos + 1]
            if first < 192:
                length, pos = first, pos + 2
            elif first < 224:
                if pos + 2 >= len(data):
                    raise OpenPGPError('truncated packet header at byte %d' % start)
                length, pos = ((first - 192) << 8) + data[pos + 2] + 192, pos + 3
            elif first == 255:
                if pos + 5 >= len(data):
                    raise OpenPGPError('truncated packet header at byte %d' % start)
                length, pos = int(binascii.hexlify(data[pos + 2:pos + 6]), 16), pos + 6
            else:
                raise OpenPGPError('packet at byte %d uses a partial body length, which key files never use' % start)
        else:  # old format
            tag = (header >> 2) & 0x0F
            size = {0: 1, 1: 2, 2: 4}.get(header & 0x03)
            if size is None:
                raise OpenPGPError('packet at byte %d has an indeterminate length, which key files never use' % start)
            if pos + size >= len(data):
                raise OpenPGPError('truncated packet header at byte %d' % start)
            length, pos = int(binascii.hexlify(data[pos + 1:pos + 1 + size]), 16), pos + 1 + size
        if tag == 0:
            raise OpenPGPError('packet at byte %d has the reserved type 0' % start)
        if pos + length > len(data):
            raise OpenPGPError('the %s packet at byte %d is truncated (%d of %d bytes)'
                               % (PACKET_NAMES.get(tag, 'type %d' % tag), start, len(data) - pos, length))
        result.append((tag, bytes(data[pos:pos + length])))
        pos += length
    return result


def write_packet(tag, body):
    """One packet as gpg writes keys: the old header format (tags below 16) with the shortest length field."""
    length = len(body)
    if tag < 16:
        if length < 0x100:
            return bytes(bytearray([0x80 | tag << 2, length])) + body
        if length < 0x10000:
            return bytes(bytearray([0x81 | tag << 2, length >> 8, length & 0xFF])) + body
        return bytes(bytearray([0x82 | tag << 2])) + _be32(length) + body
    if length < 192:
        return bytes(bytearray([0xC0 | tag, length])) + body
    if length < 8384:
        return bytes(bytearray([0xC0 | tag, ((length - 192) >> 8) + 192, (length - 192) & 0xFF])) + body
    return bytes(bytearray([0xC0 | tag, 0xFF])) + _be32(length) + body


def _be32(value):
    return bytes(bytearray([(value >> 24) & 0xFF, (value >> 16) & 0xFF, (value >> 8) & 0xFF, value & 0xFF]))


def _mpi_end(body, pos, what):
    if pos + 2 > len(body):
        raise OpenPGPError('%s: truncated key material' % what)
    bits = body[pos] << 8 | body[pos + 1]
    end = pos + 2 + (bits + 7) // 8
    if end > len(body):
        raise OpenPGPError('%s: truncated key material' % what)
    return end


def _oid_end(body, pos, what):
    if pos >= len(body) or body[pos] in (0, 0xFF):
        raise OpenPGPError('%s: malformed curve identifier' % what)
    end = pos + 1 + body[pos]
    if end > len(body):
        raise OpenPGPError('%s: truncated key material' % what)
    return end


def key_fingerprint(tag, body):
    """Fingerprint of a version 4 public key or subkey packet, after checking its key material is well-formed.

    Version 4 is what every key apt uses is (Docker's included); versions 3 (MD5 fingerprints), 5 (LibrePGP)
    and 6 (RFC 9580) are refused: gpgv on Debian 12 cannot use them.
    """
    what = 'the %s' % PACKET_NAMES[tag]
    body = bytearray(body)
    if not body:
        raise OpenPGPError('%s packet is empty' % what)
    if body[0] != 4:
        raise OpenPGPError('%s is an OpenPGP version %d key; only version 4 keys are accepted' % (what, body[0]))
    if len(body) < 6:
        raise OpenPGPError('%s packet is truncated' % what)
    algorithm, pos = body[5], 6
    if algorithm in MPI_ALGORITHMS:
        for _mpi in range(MPI_ALGORITHMS[algorithm]):
            pos = _mpi_end(body, pos, what)
    elif algorithm in (19, 22):  # ECDSA, EdDSA (legacy): curve OID, point
        pos = _mpi_end(body, _oid_end(body, pos, what), what)
    elif algorithm == 18:  # ECDH: curve OID, point, KDF parameters
        pos = _mpi_end(body, _oid_end(body, pos, what), what)
        if pos >= len(body) or body[pos] < 3 or body[pos + 1:pos + 2] != bytearray([1]):
            raise OpenPGPError('%s: malformed ECDH parameters' % what)
        pos += 1 + body[pos]
    elif algorithm in FIXED_ALGORITHMS:
        pos += FIXED_ALGORITHMS[algorithm]
    else:
        raise OpenPGPError('%s uses public-key algorithm %d, which this check does not know' % (what, algorithm))
    if pos != len(body):
        raise OpenPGPError('%s packet has %d byte(s) after its key material' % (what, len(body) - pos)
                           if pos < len(body) else '%s: truncated key material' % what)
    return hashlib.sha1(b'\x99' + bytes(bytearray([len(body) >> 8, len(body) & 0xFF])) + bytes(body)).hexdigest().upper()


class PublicKey(object):
    """One transferable public key (RFC 4880 11.1): the primary key and the packets that belong to it."""

    def __init__(self, fingerprint, packets):
        self.fingerprint = fingerprint
        self.packets = packets  # [(tag, body)], primary key first, trust and marker packets left out

    @property
    def subkeys(self):
        return [key_fingerprint(tag, body) for tag, body in self.packets if tag == PUBLIC_SUBKEY]

    @property
    def user_ids(self):
        return [body.decode('utf-8', 'replace') for tag, body in self.packets if tag == USER_ID]

    def serialize(self):
        return b''.join(write_packet(tag, body) for tag, body in self.packets)


def parse_keys(packets):
    """[PublicKey] from a packet list, in order; refuses what does not belong in a public key file.

    Each key: the primary key, its direct signatures, then user IDs and user attributes (each followed by its
    signatures; at least one user ID), then subkeys (each followed by its binding signatures).
    """
    keys, current, phase = [], None, None
    for index, (tag, body) in enumerate(packets, 1):
        if tag in (MARKER, TRUST):
            continue
        name = PACKET_NAMES.get(tag, 'type %d' % tag)
        if tag == PUBLIC_KEY:
            current = PublicKey(key_fingerprint(tag, body), [(tag, body)])
            keys.append(current)
            phase = 'primary'
            continue
        if current is None:
            raise OpenPGPError('the file starts with a %s packet, not with a public (primary) key%s'
                               % (name, ' (a subkey alone is not a key)' if tag == PUBLIC_SUBKEY else ''))
        if tag == SIGNATURE:
            if not body or bytearray(body)[0] not in (3, 4, 5, 6):
                raise OpenPGPError('packet %d: malformed signature packet' % index)
        elif tag in (USER_ID, USER_ATTRIBUTE):
            if phase == 'subkeys':
                raise OpenPGPError('packet %d: a %s after the subkeys of key %s' % (index, name, current.fingerprint))
            phase = 'user ids'
        elif tag == PUBLIC_SUBKEY:
            if phase == 'primary':
                raise OpenPGPError('key %s has a subkey but no user ID' % current.fingerprint)
            key_fingerprint(tag, body)
            phase = 'subkeys'
        else:
            raise OpenPGPError('packet %d is a %s packet, which does not belong in a public key file' % (index, name))
        current.packets.append((tag, body))
    for key in keys:
        if not key.user_ids:
            raise OpenPGPError('key %s has no user ID' % key.fingerprint)
    return keys


def read_keys(data):
    """[PublicKey] in a key file: exactly one armored public key block, or binary packets (nothing else)."""
    if not isinstance(data, bytes):
        data = data.encode('utf-8')
    if not data.strip():
        raise OpenPGPError('the key file is empty')
    if bytearray(data)[0] & 0x80:
        packets = data
    elif b'-----BEGIN ' in data:
        packets = dearmor(data)
    else:
        raise OpenPGPError('not an OpenPGP key: neither "%s" armor nor binary packets (it starts with %r)'
                           % (ARMOR_BEGIN, _preview(data)))
    keys = parse_keys(read_packets(packets))
    if not keys:
        raise OpenPGPError('the file holds no public key')
    return keys


def primary_fingerprints(data):
    """Upper-case hex fingerprints of the primary keys in a key file, in file order."""
    return [key.fingerprint for key in read_keys(data)]


def verified_key(data, fingerprint):
    """The one PublicKey of a key file whose primary fingerprint is FINGERPRINT; refuses anything else."""
    expected = normalize_fingerprint(fingerprint)
    if not re.match(r'^[0-9A-F]{40}$', expected):
        raise OpenPGPError('the expected fingerprint %r is not 40 hexadecimal digits (a version 4 key fingerprint)'
                           % fingerprint)
    keys = read_keys(data)
    found = [key.fingerprint for key in keys]
    if found != [expected]:
        raise OpenPGPError('the file holds the primary key%s %s, not exactly the expected %s'
                           % ('s' if len(found) > 1 else '', ', '.join(found), expected))
    return keys[0]


def keyring(key, armored=False):
    """What apt is given: the verified key's packets, re-serialised (binary, or armored for a .asc file)."""
    data = key.serialize()
    return armor(data) if armored else data


def keyring_state(data, armored=False):
    """How a stored keyring reads: its primary fingerprints, and whether it is exactly what keyring() writes
    for them (canonical). An unreadable file is reported with the reason, never raised."""
    try:
        keys = read_keys(data)
    except OpenPGPError as exc:
        return {'fingerprints': [], 'canonical': False, 'error': str(exc)}
    canonical = len(keys) == 1 and keyring(keys[0], armored) == data
    return {'fingerprints': [key.fingerprint for key in keys], 'canonical': canonical, 'error': ''}
