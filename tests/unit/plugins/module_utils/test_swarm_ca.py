"""The root CA fetch of swarm_join (plugins/module_utils/_swarm_ca.py): the wire format, byte by byte.

Against real managers it runs in the join integration tests (tests/integration/test_swarm_join.py).
"""

import struct

import pytest

from ansible_collections.swarmops.swarm.plugins.module_utils import _swarm_ca as ca

PEM = b'-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'


def test_a_frame_is_length_type_flags_stream_payload():
    assert ca.frame(ca.DATA, ca.END_STREAM, 1, b'abc') == b'\x00\x00\x03\x00\x01\x00\x00\x00\x01abc'
    frames, rest = ca.split_frames(ca.frame(ca.SETTINGS, 0, 0, b'\x00\x05\x00\x00\x40\x00')
                                   + ca.frame(ca.PING, 0, 0, b'12345678') + b'\x00\x00')
    assert frames == [(ca.SETTINGS, 0, 0, b'\x00\x05\x00\x00\x40\x00'), (ca.PING, 0, 0, b'12345678')]
    assert rest == b'\x00\x00'  # an incomplete frame waits for more bytes


def test_headers_are_literal_and_uncompressed():
    block = ca.hpack_literal_headers([(':path', '/x'), ('te', 'trailers')])
    assert block == b'\x00\x05:path\x02/x' + b'\x00\x02te\x08trailers'
    long_value = 'v' * 200  # lengths of 127 and more continue in further bytes (RFC 7541 5.1)
    assert ca.hpack_literal_headers([('k', long_value)]) == b'\x00\x01k' + b'\x7f\x49' + long_value.encode()


def test_the_request_is_the_preface_settings_headers_and_an_empty_message():
    sent = ca.request_frames('10.0.0.1')
    assert sent.startswith(b'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')
    frames, rest = ca.split_frames(sent[len(ca.PREFACE):])
    assert rest == b''
    assert [(kind, flags, stream) for kind, flags, stream, _payload in frames] == [
        (ca.SETTINGS, 0, 0), (ca.HEADERS, ca.END_HEADERS, 1), (ca.DATA, ca.END_STREAM, 1)]
    assert b'/docker.swarmkit.v1.CA/GetRootCACertificate' in frames[1][3]
    assert b'application/grpc' in frames[1][3]
    assert frames[2][3] == b'\x00\x00\x00\x00\x00'


def grpc(message):
    return struct.pack('>BI', 0, len(message)) + message


def test_the_certificate_is_field_one_of_the_answer():
    assert ca.certificate_from_grpc(grpc(b'\x0a' + bytes([len(PEM)]) + PEM)) == PEM
    # unknown fields before it are skipped (a varint, a fixed64, another bytes field)
    message = b'\x10\x96\x01' + b'\x19' + b'\x00' * 8 + b'\x12\x02hi' + b'\x0a' + bytes([len(PEM)]) + PEM
    assert ca.certificate_from_grpc(grpc(message)) == PEM


@pytest.mark.parametrize('body, words', [
    (b'', 'without a message'),
    (grpc(b''), 'holds no certificate'),
    (struct.pack('>BI', 1, 3) + b'abc', 'compressed'),
    (grpc(b'\x0a\x80'), 'ends inside a number'),
])
def test_answers_that_are_not_a_root_ca(body, words):
    with pytest.raises(ca.SwarmCAError, match=words):
        ca.certificate_from_grpc(body)


def test_padding_is_removed_from_data():
    assert ca._unpad(ca.PADDED, b'\x02abcXX') == b'abc'
    assert ca._unpad(0, b'abc') == b'abc'


def test_nobody_listening_is_an_error_not_a_verdict():
    with pytest.raises(ca.SwarmCAError, match='did not answer'):
        ca.fetch_root_ca('127.0.0.1', 1, timeout=2)
