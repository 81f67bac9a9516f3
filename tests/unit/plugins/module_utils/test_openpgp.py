# -*- coding: utf-8 -*-
# Key files an attacker (or a broken mirror) could serve, read by the collection's one OpenPGP reader
# (module_utils/_openpgp). Every case is either refused with a clear error, or yields a keyring that holds
# exactly the expected primary key. The fixtures are real gpg 2.2.40 exports; the fingerprints are the ones
# gpg printed for them. molecule/docker/tests imports CASES and checks every accepted keyring with real gpg
# on a node container.
from __future__ import absolute_import, division, print_function

import base64
import re

import pytest

from ansible_collections.swarmops.swarm.plugins.module_utils import _openpgp as openpgp

# ed25519 primary (sign, certify) + cv25519 subkey; certified by the attacker key (a third-party signature).
GOOD = 'D357D862C9DC55C0B6820A8CACC8F26C78DB08B1'
GOOD_SUBKEY = '0D6024C5CD6AAB18655CA363A3D1E6095D91694B'
GOOD_ASC = """-----BEGIN PGP PUBLIC KEY BLOCK-----

mDMEaw2RdxYJKwYBBAHaRw8BAQdAjECejJnMv7ddeP5fzq1eXmW8S/R+ghcQeC6a
c0CSn4G0M3N3YXJtb3BzIHVuaXQgdGVzdCBnb29kIGtleSA8Z29vZEBzd2FybW9w
cy5pbnZhbGlkPoiQBBMWCAA4FiEE01fYYsncVcC2ggqMrMjybHjbCLEFAmsNkXcC
GwMFCwkIBwIGFQoJCAsCBBYCAwECHgECF4AACgkQrMjybHjbCLHZ/wEA3LTbHzo9
jr8A56tfvgHa6msf1iQ6t7IwwMDsfixgXnIBAINi9URVSSr+YAjbA40F1C3Dxfdw
Apst3oE4xgbsBS8PiHUEEBYIAB0WIQSZAvj+bBNHz+Igx6StPz31OJzT+AUCaw2R
eAAKCRCtPz31OJzT+I+zAQDyAYOt6rEKRhW4rMCTmYuEmMdGGrOGqQmeNB5IfRny
9AD/cHlJ/tW94KBAwjGpuu3ej+D/CU4a/RD/IesO46a2mA24OARrDZF7EgorBgEE
AZdVAQUBAQdADrQrI4wcMz9wAKpcke4Air5KqsX9HnT/WkRiR03ARQYDAQgHiHgE
GBYIACAWIQTTV9hiydxVwLaCCoysyPJseNsIsQUCaw2RewIbDAAKCRCsyPJseNsI
sSVWAQDZ1UzwxPOV4o+0afflynypXV0cT8udGnnWURKSlK2OZQD/R6HCQ5gcOJuR
lxPjgFCB4k53pNudxU2Hi1PzZ1sPqAo=
=M8fQ
-----END PGP PUBLIC KEY BLOCK-----
"""
# The same key, `gpg --export-options export-minimal`: the third-party certification left out.
GOOD_MINIMAL_ASC = """-----BEGIN PGP PUBLIC KEY BLOCK-----

mDMEaw2RdxYJKwYBBAHaRw8BAQdAjECejJnMv7ddeP5fzq1eXmW8S/R+ghcQeC6a
c0CSn4G0M3N3YXJtb3BzIHVuaXQgdGVzdCBnb29kIGtleSA8Z29vZEBzd2FybW9w
cy5pbnZhbGlkPoiQBBMWCAA4FiEE01fYYsncVcC2ggqMrMjybHjbCLEFAmsNkXcC
GwMFCwkIBwIGFQoJCAsCBBYCAwECHgECF4AACgkQrMjybHjbCLHZ/wEA3LTbHzo9
jr8A56tfvgHa6msf1iQ6t7IwwMDsfixgXnIBAINi9URVSSr+YAjbA40F1C3Dxfdw
Apst3oE4xgbsBS8PuDgEaw2RexIKKwYBBAGXVQEFAQEHQA60KyOMHDM/cACqXJHu
AIq+SqrF/R50/1pEYkdNwEUGAwEIB4h4BBgWCAAgFiEE01fYYsncVcC2ggqMrMjy
bHjbCLEFAmsNkXsCGwwACgkQrMjybHjbCLElVgEA2dVM8MTzleKPtGn35cp8qV1d
HE/LnRp51lESkpStjmUA/0ehwkOYHDibkZcT44BQgeJOd6TbncVNh4tT82dbD6gK
=pBDA
-----END PGP PUBLIC KEY BLOCK-----
"""
# ed25519 primary (sign, certify) + ed25519 signing subkey.
ATTACKER = '9902F8FE6C1347CFE220C7A4AD3F3DF5389CD3F8'
ATTACKER_SUBKEY = '42266FBB7544144E4529B573F610C0A7BA0FD182'
ATTACKER_ASC = """-----BEGIN PGP PUBLIC KEY BLOCK-----

mDMEaw2RdxYJKwYBBAHaRw8BAQdA+/yDs9EgasfhCmogD5XmfKbpyIlWEphpIToq
Zm/v8EO0O3N3YXJtb3BzIHVuaXQgdGVzdCBhdHRhY2tlciBrZXkgPGF0dGFja2Vy
QHN3YXJtb3BzLmludmFsaWQ+iJAEExYIADgWIQSZAvj+bBNHz+Igx6StPz31OJzT
+AUCaw2RdwIbAwULCQgHAgYVCgkICwIEFgIDAQIeAQIXgAAKCRCtPz31OJzT+AdR
AP9A/YWruwjHGcJGq58yceqsLl45eMOLUL1YcwO0IpTgwQEAnLZAqLk4hgRXuqjO
R4SRD7bsjRiuRoY7wtubz7l5nw64MwRrDZF4FgkrBgEEAdpHDwEBB0DhX+3EPCik
oqth5BF/uJ5S3YLS2+tOBVFcNu/dSgzXjYjvBBgWCAAgFiEEmQL4/mwTR8/iIMek
rT899Tic0/gFAmsNkXgCGwIAgQkQrT899Tic0/h2IAQZFggAHRYhBEImb7t1RBRO
RSm1c/YQwKe6D9GCBQJrDZF4AAoJEPYQwKe6D9GC2FQBAOZp11BA73tRo3h8k7if
YCip5CQvvyQKJinO4ELNYAW6APsGRkXkJHyUSmrTDh5JzrUpmt4rD+ZgJnH5fsS6
5mLlBtADAP9EjsGsyl+W3gy37HcavD+jzikUls/r9TQa1RD7CUSpDQD/VYOksj0e
veVzC6aZE1wBg0FVRUIsqnlA9m2YqIhayQ0=
=fss+
-----END PGP PUBLIC KEY BLOCK-----
"""
# RSA 2048, sign only (Docker's own key is RSA 4096).
RSA = '7DFFCCD54194FBA3ECBE171B78CB34EBB9883B3E'
RSA_ASC = """-----BEGIN PGP PUBLIC KEY BLOCK-----

mQENBGsNkXgBCADg8A3k8j7SyGvC1FePJunNY79zBmEKsD6b9H882Z1EwRgw1509
N5ZvS7+v0EuHw73VX/GUMFJtX3krDr1gp+L8LlQUgr5KEuYjY6nerFEFll9CrOep
SgwMDSqci+imL5dVoa5v9Ek2un4L7cV5O6CEb+O2+Lr7s8syYBpX9FPbJyad0AJV
lMgks8dsgRU6qCJNixeOZ1teX0M42W4DcvKA+jJKhCFU/VqZRnTw9fps0TpDKfWx
/bkCQJh8Bet0yCxwW8zAs0W0waIxMuW4WuXZyVcoyU5V8KX2HXNIpowV7Afa4kPj
8bFN0Oa0Edv/4lr4MKEfUZbm57LgUItLleB1ABEBAAG0MXN3YXJtb3BzIHVuaXQg
dGVzdCByc2Ega2V5IDxyc2FAc3dhcm1vcHMuaW52YWxpZD6JAU4EEwEKADgWIQR9
/8zVQZT7o+y+Fxt4yzTruYg7PgUCaw2ReAIbAwULCQgHAgYVCgkICwIEFgIDAQIe
AQIXgAAKCRB4yzTruYg7PhdmCADOp31zWL6qK5c6j5epzRNMY1zK1F3ATgGFDe03
/+xfxCvR5zd7ELPBHQtBoMyVL8nNCv2pjYJCycdUx4W4+Pa3GBGVW+YQ8rPSqot5
LXpZzLbdgr9FuzmVPNQUuHmw4fVS8pjNxLrNAHqusdhsvvzjlBBDtXPhq+TcnjsF
0n4QkSRF3N2ecu9uPlM9/lsK6iMixarF9H/tslHLnDUOUucblh38kUWQ/RwZqEfF
oU8JZvIz5qlBEDIKQTGjP2AG6xHiA19lNz8T5rVgyww29DRlIN0uVpls7sfcgnzr
f+GifY2ztfVJZ1xbixOUPpc5vC7wkasbbCt5y8rfYUroZMdC
=Yds1
-----END PGP PUBLIC KEY BLOCK-----
"""


# ---- building hostile files ------------------------------------------------------------------------

def binary(armored_text):
    """gpg's binary export of an armored fixture (the armor is only an encoding of it)."""
    return openpgp.dearmor(armored_text)


def packets(data):
    return openpgp.read_packets(data)


def join(packet_list, new_format=False):
    if not new_format:
        return b''.join(openpgp.write_packet(tag, body) for tag, body in packet_list)
    out = b''
    for tag, body in packet_list:
        size = len(body)
        length = bytes([size]) if size < 192 else bytes([((size - 192) >> 8) + 192, (size - 192) & 0xFF])
        out += bytes([0xC0 | tag]) + length + body
    return out


def armored(data, headers=(), eol='\n', crc=None, kind='PGP PUBLIC KEY BLOCK'):
    """Armor as gpg writes it, with optional headers, line ends, and a chosen (possibly wrong) checksum."""
    encoded = base64.b64encode(data).decode()
    crc = openpgp.crc24(data) if crc is None else crc
    checksum = base64.b64encode(bytes([crc >> 16, (crc >> 8) & 0xFF, crc & 0xFF])).decode()
    lines = (['-----BEGIN %s-----' % kind] + list(headers) + ['']
             + [encoded[i:i + 64] for i in range(0, len(encoded), 64)] + ['=' + checksum, '-----END %s-----' % kind])
    return (eol.join(lines) + eol).encode()


def smuggle_with_colons(good, attacker):
    """The attacker's key base64-encoded in lines that hold a colon, before the good key's lines.

    The parser this collection used before skipped every line with a colon (taking it for an armor header) and
    saw only the good key; gpg skips the colons (invalid base64 characters) and reads both keys, and the
    checksum covers both. Marker packets (ignored by everyone) align the attacker's data to whole base64 groups.
    """
    while len(attacker) % 3:
        attacker += openpgp.write_packet(openpgp.MARKER, b'PGP')
    hidden = base64.b64encode(attacker).decode()
    hidden_lines = [hidden[i:i + 30] + ':' + hidden[i + 30:i + 60] for i in range(0, len(hidden), 60)]
    visible = base64.b64encode(good).decode()
    visible_lines = [visible[i:i + 64] for i in range(0, len(visible), 64)]
    crc = openpgp.crc24(attacker + good)
    checksum = base64.b64encode(bytes([crc >> 16, (crc >> 8) & 0xFF, crc & 0xFF])).decode()
    lines = (['-----BEGIN PGP PUBLIC KEY BLOCK-----', ''] + hidden_lines + visible_lines
             + ['=' + checksum, '-----END PGP PUBLIC KEY BLOCK-----'])
    return ('\n'.join(lines) + '\n').encode()


def graft_subkey(good, attacker):
    """The good key with the attacker's signing subkey (and its binding signature, made by the attacker's
    primary key) appended: one primary key, the expected fingerprint, and a subkey the good key never bound."""
    attacker_packets = packets(attacker)
    start = [i for i, (tag, _body) in enumerate(attacker_packets) if tag == openpgp.PUBLIC_SUBKEY][0]
    return good + join(attacker_packets[start:start + 2])


def old_parser_fingerprints(data):
    """What the collection's previous check computed (kept here only to prove the fixtures fooled it)."""
    blocks = re.findall(r'-----BEGIN PGP PUBLIC KEY BLOCK-----\r?\n(.*?)-----END PGP PUBLIC KEY BLOCK-----',
                        data.decode('utf-8'), re.S)
    raw = b''.join(base64.b64decode(''.join(line.strip() for line in block.splitlines()
                                            if line.strip() and ':' not in line and not line.startswith('=')))
                   for block in blocks)
    return [openpgp.key_fingerprint(tag, body) for tag, body in packets(raw) if tag == openpgp.PUBLIC_KEY]


def lenient_fingerprints(data):
    """What a reader that skips invalid base64 characters (as gpg does) finds in an armored block."""
    text = data.decode('ascii')
    body = text.split('\n\n', 1)[1].split('\n=', 1)[0]
    raw = base64.b64decode(re.sub(r'[^A-Za-z0-9+/=]', '', body))
    return [openpgp.key_fingerprint(tag, body) for tag, body in packets(raw) if tag == openpgp.PUBLIC_KEY]


def key_packet(version, algorithm=27, material=b'\x40' * 32):
    """A synthetic primary key packet of another OpenPGP version."""
    created = b'\x6b\x0d\x91\x77'
    if version == 3:
        body = bytes([3]) + created + b'\x00\x00' + bytes([1]) + b'\x00\x08\xff\x00\x02\x03'
    elif version in (5, 6):
        body = bytes([version]) + created + bytes([algorithm]) + len(material).to_bytes(4, 'big') + material
    else:
        body = bytes([version]) + created + bytes([algorithm]) + material
    return openpgp.write_packet(openpgp.PUBLIC_KEY, body)


GOOD_BIN = binary(GOOD_ASC)
GOOD_PACKETS = packets(GOOD_BIN)
ATTACKER_BIN = binary(ATTACKER_ASC)
USER_ID = [body for tag, body in GOOD_PACKETS if tag == openpgp.USER_ID][0]
TRUST = openpgp.write_packet(openpgp.TRUST, b'\x00\x00')


class Case(object):
    def __init__(self, name, data, fingerprint=GOOD, keyring=None, error=None):
        self.name, self.data, self.fingerprint, self.keyring, self.error = name, data, fingerprint, keyring, error


# keyring: what must be written (accepted); error: a pattern of the refusal's message.
CASES = [
    # ---- accepted: exactly one key, the expected one ----
    Case('armored, as gpg exports it', GOOD_ASC.encode(), keyring=GOOD_BIN),
    Case('binary, as gpg exports it', GOOD_BIN, keyring=GOOD_BIN),
    Case('gpg --export-options export-minimal', GOOD_MINIMAL_ASC.encode(), keyring=binary(GOOD_MINIMAL_ASC)),
    Case('Version: and Comment: headers, one with colons in base64-looking text',
         armored(GOOD_BIN, ['Version: GnuPG v2', 'Comment: mDMEaw2RdxYJKwYB:BAHaRw8BAQdA+/yDs9Eg:asfhCmog',
                            'Comment:', 'Hash: SHA256']), keyring=GOOD_BIN),
    Case('CRLF line ends', armored(GOOD_BIN, ['Comment: from a Windows mirror'], eol='\r\n'), keyring=GOOD_BIN),
    Case('blank lines around the block, trailing blanks on its lines',
         b'\n\n' + armored(GOOD_BIN).replace(b'\n', b'  \n') + b'\n\t\n', keyring=GOOD_BIN),
    Case('new-format packet headers (written back as gpg writes them)', armored(join(GOOD_PACKETS, True)),
         keyring=GOOD_BIN),
    Case('trust and marker packets (dropped)',
         openpgp.write_packet(openpgp.MARKER, b'PGP') + GOOD_BIN[:53] + TRUST + GOOD_BIN[53:] + TRUST,
         keyring=GOOD_BIN),
    Case('RSA key', RSA_ASC.encode(), fingerprint=RSA, keyring=binary(RSA_ASC)),
    Case('foreign subkey grafted on the good key (kept as parsed; apt ignores a subkey the key never bound)',
         armored(graft_subkey(GOOD_BIN, ATTACKER_BIN)), keyring=graft_subkey(GOOD_BIN, ATTACKER_BIN)),
    # ---- refused: more than the one key ----
    Case('two armored blocks', GOOD_ASC.encode() + ATTACKER_ASC.encode(), error='more after'),
    Case('the same block twice', GOOD_ASC.encode() * 2, error='more after'),
    Case('a second block hidden right after the footer',
         GOOD_ASC.encode().rstrip(b'\n') + b' ' + ATTACKER_ASC.encode(), error='more after|not followed by'),
    Case('a binary key appended after the armor', GOOD_ASC.encode() + ATTACKER_BIN, error='not ASCII'),
    Case('a binary key appended after a binary key', GOOD_BIN + ATTACKER_BIN,
         error='primary keys %s, %s, not exactly' % (GOOD, ATTACKER)),
    Case('an attacker key in lines with colons (the earlier parser saw only the good key)',
         smuggle_with_colons(GOOD_BIN, ATTACKER_BIN), error='line 3 of the armor is not base64'),
    Case('two primary keys in one block', armored(GOOD_BIN + ATTACKER_BIN),
         error='primary keys %s, %s, not exactly the expected %s' % (GOOD, ATTACKER, GOOD)),
    Case('data before BEGIN', b'key follows\n' + GOOD_ASC.encode(), error='text before'),
    Case('an armor header inside the data', GOOD_ASC.encode().replace(b'\nc0CSn4G0', b'\nComment: x\nc0CSn4G0'),
         error='line 4 of the armor is not base64'),
    Case('no blank line after the headers', GOOD_ASC.encode().replace(b'-----\n\n', b'-----\n', 1),
         error='neither an armor header'),
    # ---- refused: damaged ----
    Case('truncated body', GOOD_ASC.encode()[:300], error='truncated'),
    Case('truncated body, checksum and footer kept', GOOD_ASC.encode()[:200] + GOOD_ASC.encode()[-47:],
         error='base64|CRC-24'),
    Case('bad CRC', armored(GOOD_BIN, crc=0x123456), error='CRC-24 checksum of the armor does not match'),
    Case('no CRC line', GOOD_ASC.encode().replace(b'=M8fQ\n', b''), error='no CRC-24 checksum line'),
    Case('one altered byte in the data (CRC recomputed): another fingerprint',
         armored(GOOD_BIN[:20] + bytes([GOOD_BIN[20] ^ 1]) + GOOD_BIN[21:]), error='not exactly the expected'),
    Case('padding inside the data', GOOD_ASC.encode().replace(b'S/R+ghcQeC6a\n', b'S/R+ghcQeC6=\n'),
         error='padding'),
    Case('a carriage return inside a line', GOOD_ASC.encode().replace(b'AHaRw8', b'AHa\rRw8'),
         error='carriage return'),
    Case('non-ASCII text', GOOD_ASC.encode().replace(b'\n\n', b'\nComment: \xc3\xa9\n\n', 1), error='not ASCII'),
    Case('binary, truncated', GOOD_BIN[:-10], error='truncated'),
    Case('binary with trailing garbage', GOOD_BIN + b'\n<html></html>', error='not the start of an OpenPGP packet'),
    Case('key material with trailing bytes',
         openpgp.write_packet(6, GOOD_PACKETS[0][1] + b'\x00') + join(GOOD_PACKETS[1:]),
         error=r'1 byte\(s\) after its key material'),
    Case('partial body length', bytes([0xC6, 0xE0]) + GOOD_BIN, error='partial body length'),
    Case('indeterminate length', bytes([0x9B]) + GOOD_BIN, error='indeterminate length'),
    # ---- refused: not one public key ----
    Case('subkey only', join([p for p in GOOD_PACKETS if p[0] == openpgp.PUBLIC_SUBKEY]), error='subkey alone'),
    Case('wrong key', ATTACKER_ASC.encode(), error='holds the primary key %s, not exactly the expected %s'
         % (ATTACKER, GOOD)),
    Case('no user ID', join([GOOD_PACKETS[0]]), error='no user ID'),
    Case('a user ID after the subkeys', GOOD_BIN + openpgp.write_packet(openpgp.USER_ID, USER_ID),
         error='user ID after the subkeys'),
    Case('OpenPGP v3 key', key_packet(3) + openpgp.write_packet(13, USER_ID), error='version 3 key'),
    Case('OpenPGP v5 key', key_packet(5) + openpgp.write_packet(13, USER_ID), error='version 5 key'),
    Case('OpenPGP v6 key', key_packet(6) + openpgp.write_packet(13, USER_ID), error='version 6 key'),
    Case('unknown public-key algorithm', key_packet(4, algorithm=99) + openpgp.write_packet(13, USER_ID),
         error='algorithm 99'),
    Case('secret key block', armored(GOOD_BIN, kind='PGP PRIVATE KEY BLOCK'), error='"PGP PRIVATE KEY BLOCK"'),
    Case('secret key packet', openpgp.write_packet(5, GOOD_PACKETS[0][1]) + join(GOOD_PACKETS[1:]),
         error='secret key packet'),
    Case('a signed message', armored(GOOD_BIN + openpgp.write_packet(11, b'b\x00\x00\x00\x00\x00hello')),
         error='literal data packet'),
    Case('an HTML error page', b'<html><body>404 Not Found</body></html>\n', error='not an OpenPGP key'),
    Case('empty file', b'', error='empty'),
    Case('only whitespace', b' \n\n', error='empty'),
]
ACCEPTED = [case for case in CASES if case.keyring is not None]


@pytest.mark.parametrize('case', CASES, ids=[case.name for case in CASES])
def test_hostile_key_files(case):
    if case.error:
        with pytest.raises(openpgp.OpenPGPError, match=case.error):
            openpgp.verified_key(case.data, case.fingerprint)
        return
    key = openpgp.verified_key(case.data, case.fingerprint)
    assert key.fingerprint == case.fingerprint
    assert openpgp.keyring(key) == case.keyring
    # What is written reads back as exactly that key, in either form.
    assert openpgp.primary_fingerprints(openpgp.keyring(key)) == [case.fingerprint]
    assert openpgp.primary_fingerprints(openpgp.keyring(key, armored=True)) == [case.fingerprint]


def test_the_colon_fixture_fooled_the_earlier_parser_and_a_lenient_reader_sees_both_keys():
    data = smuggle_with_colons(GOOD_BIN, ATTACKER_BIN)
    assert old_parser_fingerprints(data) == [GOOD]
    assert lenient_fingerprints(data) == [ATTACKER, GOOD]


def test_the_keyring_is_gpgs_own_export_of_the_key():
    # Written from the parsed packets, in gpg's packet format: identical to `gpg --export`.
    assert openpgp.keyring(openpgp.verified_key(GOOD_ASC, GOOD)) == GOOD_BIN
    assert openpgp.keyring(openpgp.verified_key(GOOD_ASC, GOOD), armored=True).decode() == GOOD_ASC


def test_subkeys_and_user_ids_are_reported():
    key = openpgp.verified_key(GOOD_BIN, GOOD)
    assert key.subkeys == [GOOD_SUBKEY]
    assert key.user_ids == ['swarmops unit test good key <good@swarmops.invalid>']
    assert openpgp.verified_key(ATTACKER_ASC, ATTACKER).subkeys == [ATTACKER_SUBKEY]


@pytest.mark.parametrize('value', [
    'D357 D862 C9DC 55C0 B682  0A8C ACC8 F26C 78DB 08B1',
    '0xd357d862c9dc55c0b6820a8cacc8f26c78db08b1',
])
def test_the_expected_fingerprint_may_be_spaced_or_prefixed(value):
    assert openpgp.normalize_fingerprint(value) == GOOD
    assert openpgp.verified_key(GOOD_ASC, value).fingerprint == GOOD


@pytest.mark.parametrize('value', ['', 'D357D862', GOOD + 'AA', 'not a fingerprint'])
def test_an_expected_fingerprint_that_is_not_one_is_refused(value):
    with pytest.raises(openpgp.OpenPGPError, match='not 40 hexadecimal digits'):
        openpgp.verified_key(GOOD_ASC, value)


def test_keyring_state_of_stored_keyrings():
    written = openpgp.keyring(openpgp.verified_key(GOOD_ASC, GOOD))
    assert openpgp.keyring_state(written) == {'fingerprints': [GOOD], 'canonical': True, 'error': ''}
    asc = openpgp.keyring(openpgp.verified_key(GOOD_ASC, GOOD), armored=True)
    assert openpgp.keyring_state(asc, armored=True)['canonical'] is True
    # Readable, but not what the role writes: rewritten on the next run.
    assert openpgp.keyring_state(asc)['canonical'] is False
    assert openpgp.keyring_state(join(GOOD_PACKETS, True)) == {'fingerprints': [GOOD], 'canonical': False,
                                                               'error': ''}
    two = openpgp.keyring_state(GOOD_BIN + ATTACKER_BIN)
    assert two['fingerprints'] == [GOOD, ATTACKER] and not two['canonical']
    broken = openpgp.keyring_state(written + b'junk')
    assert broken['fingerprints'] == [] and 'not the start of an OpenPGP packet' in broken['error']


def test_crc24_matches_the_rfc_initial_value_and_gpgs_checksums():
    assert openpgp.crc24(b'') == 0xB704CE
    assert base64.b64encode(openpgp.crc24(GOOD_BIN).to_bytes(3, 'big')) == b'M8fQ'
    assert base64.b64encode(openpgp.crc24(binary(RSA_ASC)).to_bytes(3, 'big')) == b'Yds1'


def test_packet_writer_reads_back_at_every_length_boundary():
    for size in (0, 191, 192, 255, 256, 8383, 8384, 65535, 65536):
        body = b'\x01' * size
        for tag in (openpgp.USER_ID, openpgp.USER_ATTRIBUTE):
            assert packets(openpgp.write_packet(tag, body)) == [(tag, body)]


def test_the_filter_lists_primaries_with_the_same_reader_and_reports_errors_as_filter_errors():
    from ansible.errors import AnsibleFilterError
    from ansible_collections.swarmops.swarm.plugins.filter.pgp_fingerprints import FilterModule
    pgp_fingerprints = FilterModule().filters()['pgp_fingerprints']
    assert pgp_fingerprints(GOOD_ASC) == [GOOD]
    assert pgp_fingerprints(armored(GOOD_BIN + ATTACKER_BIN).decode()) == [GOOD, ATTACKER]
    with pytest.raises(AnsibleFilterError, match='pgp_fingerprints: .*line 3 of the armor is not base64'):
        pgp_fingerprints(smuggle_with_colons(GOOD_BIN, ATTACKER_BIN).decode())
    with pytest.raises(AnsibleFilterError, match='pgp_fingerprints: not an OpenPGP key'):
        pgp_fingerprints('not a key')


def test_damaged_files_are_refused_with_a_reason_never_a_traceback():
    # Seeded mutations of every fixture (bytes changed, inserted, deleted, files cut short): each one either reads
    # as a key or is refused with OpenPGPError; no other exception escapes.
    import random
    rng = random.Random(20261130)
    seeds = [case.data for case in CASES if case.data]
    for _round in range(3000):
        data = bytearray(rng.choice(seeds))
        for _change in range(rng.randint(1, 4)):
            pos = rng.randrange(len(data)) if data else 0
            roll = rng.random()
            if roll < 0.4 and data:
                data[pos] = rng.randrange(256)
            elif roll < 0.6:
                data[pos:pos] = bytes([rng.randrange(256)])
            elif roll < 0.8:
                del data[pos:pos + rng.randint(1, 20)]
            else:
                del data[pos:]
        for read in (lambda d: openpgp.verified_key(d, GOOD), openpgp.primary_fingerprints):
            try:
                read(bytes(data))
            except openpgp.OpenPGPError:
                pass
        assert set(openpgp.keyring_state(bytes(data))) == {'fingerprints', 'canonical', 'error'}
