# -*- coding: utf-8 -*-
# Fingerprints of repository keys, computed without gpg (swarmops.swarm.pgp_fingerprints).
# The fixture is a real gpg-made key (ed25519 primary + cv25519 subkey); gpg listed its fingerprints as
# 25F24E6D... (primary) and D5319BA6... (subkey).
from __future__ import absolute_import, division, print_function

import base64

import pytest

from ansible_collections.swarmops.swarm.plugins.plugin_utils import openpgp

KEY = """-----BEGIN PGP PUBLIC KEY BLOCK-----
Comment: made by gpg 2.2.40 for this test

mDMEawlDoRYJKwYBBAHaRw8BAQdA9l9Q2bmE4p4GhhSq0y2Q5FchH52GkRPbYt1u
JywUNgu0H3VuaXQgdGVzdCBhIDxhQGV4YW1wbGUuaW52YWxpZD6IkAQTFggAOBYh
BCXyTm2860bvnj8V62QXkwKuXAJ0BQJrCUOhAhsDBQsJCAcCBhUKCQgLAgQWAgMB
Ah4BAheAAAoJEGQXkwKuXAJ0AE4A/3/a/UpsJ46vOKCRy0id72nHuVU3h0d8wIK4
kh7ptMT4AP9xhKP3LXslCs1O2/Mv+kQgrTYxbJRWCM4JPrZgILFzBLg4BGsJQ6ES
CisGAQQBl1UBBQEBB0DjHXLn2yFwXEjb58KZnZ0+b1K5Ksa0yoY1cFSxdmDhYgMB
CAeIeAQYFggAIBYhBCXyTm2860bvnj8V62QXkwKuXAJ0BQJrCUOhAhsMAAoJEGQX
kwKuXAJ070oA/1jxEI2m28xfYLAha+ldMicIbLy1acQsh/yBkfbiUDDMAQDNvW+w
7Zcf/KELV1RPbSsS86WbHW2DBCa/rggx5jIIAw==
=0d8C
-----END PGP PUBLIC KEY BLOCK-----
"""
PRIMARY = '25F24E6DBCEB46EF9E3F15EB64179302AE5C0274'
SUBKEY = 'D5319BA64813B24801F6A60E97B792E679017048'


def armor(data):
    text = base64.b64encode(data).decode()
    lines = [text[i:i + 64] for i in range(0, len(text), 64)]
    return '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n%s\n-----END PGP PUBLIC KEY BLOCK-----\n' % '\n'.join(lines)


def new_format(data):
    """The same packets with new-format headers (gpg writes old-format ones for keys)."""
    out = b''
    for tag, body in openpgp.packets(data):
        if len(body) < 192:
            length = bytes([len(body)])
        elif len(body) < 8384:
            length = bytes([((len(body) - 192) >> 8) + 192, (len(body) - 192) & 0xFF])
        else:
            length = b'\xff' + len(body).to_bytes(4, 'big')
        out += bytes([0xC0 | tag]) + length + body
    return out


def test_primary_fingerprint_matches_gpg_and_subkeys_are_not_listed():
    assert openpgp.primary_fingerprints(KEY) == [PRIMARY]


def test_new_format_packet_headers_give_the_same_fingerprint():
    assert openpgp.primary_fingerprints(armor(new_format(openpgp.dearmor(KEY)))) == [PRIMARY]


def test_two_armored_blocks_list_both_primaries_in_order():
    other = armor(new_format(openpgp.dearmor(KEY)))
    assert openpgp.primary_fingerprints(KEY + other) == [PRIMARY, PRIMARY]


def test_a_changed_key_byte_changes_the_fingerprint():
    data = bytearray(openpgp.dearmor(KEY))
    data[20] ^= 0x01  # inside the ed25519 public key material
    assert openpgp.primary_fingerprints(armor(bytes(data))) != [PRIMARY]


@pytest.mark.parametrize('value', [
    '25F2 4E6D BCEB 46EF 9E3F  15EB 6417 9302 AE5C 0274',
    '0x25f24e6dbceb46ef9e3f15eb64179302ae5c0274',
])
def test_normalize_fingerprint(value):
    assert openpgp.normalize_fingerprint(value) == PRIMARY


@pytest.mark.parametrize('text, message', [
    ('<html>404 Not Found</html>', 'ASCII-armored'),
    ('-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n!!!!\n-----END PGP PUBLIC KEY BLOCK-----\n', 'base64'),
])
def test_not_a_key_is_a_clear_error(text, message):
    with pytest.raises(openpgp.OpenPGPError, match=message):
        openpgp.primary_fingerprints(text)


def test_subkeys_only_is_an_error():
    only_sub = b''.join(bytes([0xC0 | 14, len(body)]) + body
                        for tag, body in openpgp.packets(openpgp.dearmor(KEY)) if tag == 14)
    with pytest.raises(openpgp.OpenPGPError, match='no public key'):
        openpgp.primary_fingerprints(armor(only_sub))


def test_filter_reports_errors_as_filter_errors():
    from ansible.errors import AnsibleFilterError
    from ansible_collections.swarmops.swarm.plugins.filter.pgp_fingerprints import FilterModule
    pgp_fingerprints = FilterModule().filters()['pgp_fingerprints']
    assert pgp_fingerprints(KEY) == [PRIMARY]
    with pytest.raises(AnsibleFilterError, match='pgp_fingerprints'):
        pgp_fingerprints('not a key')
