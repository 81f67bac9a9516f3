# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The root CA certificate a swarm manager serves on its swarm port, fetched the way `docker swarm join` does.

Private to the collection. A swarm is identified by its root CA: a join token carries the digest of
that certificate. A manager's engine tells its own (GET /swarm, TLSInfo.TrustRoot), but a worker's
engine does not know it; what the worker's engine does tell is the addresses of its managers
(/info, Swarm.RemoteManagers). Every manager answers the unauthenticated gRPC call
`docker.swarmkit.v1.CA/GetRootCACertificate` on its swarm port (2377) - the call a joining node
makes to check the token - so the certificate is asked for there, with Python's standard library:
one TLS connection, HTTP/2 framed by hand (one stream, literal headers, no compression), one
protobuf field read back.

The answer is then checked: a second TLS connection to the same manager must verify against that
certificate (the manager proves it holds a key the CA signed), so a certificate that does not belong
to the manager at that address is never taken for the swarm's identity.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket
import ssl
import struct

PREFACE = b'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'
GRPC_PATH = '/docker.swarmkit.v1.CA/GetRootCACertificate'

DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE = 0x0, 0x1, 0x3, 0x4, 0x6, 0x7, 0x8
END_STREAM, ACK, END_HEADERS, PADDED, PRIORITY = 0x1, 0x1, 0x4, 0x8, 0x20
STREAM = 1


class SwarmCAError(Exception):
    """The manager at an address did not hand out a root CA that it can prove is its own."""


# ---- the wire format (pure functions, unit-tested) ----------------------------------------------------

def frame(kind, flags, stream, payload=b''):
    """One HTTP/2 frame."""
    return struct.pack('>I', len(payload))[1:] + struct.pack('>BBI', kind, flags, stream) + payload


def _hpack_int(value, prefix_bits, first_byte=0):
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes(bytearray([first_byte | value]))
    out = bytearray([first_byte | limit])
    value -= limit
    while value >= 128:
        out.append((value % 128) + 128)
        value //= 128
    out.append(value)
    return bytes(out)


def _hpack_string(text):
    data = text.encode('utf-8')
    return _hpack_int(len(data), 7) + data


def hpack_literal_headers(headers):
    """Header block of HEADERS: each a literal field without indexing, new name, no Huffman (RFC 7541 6.2.2)."""
    return b''.join(b'\x00' + _hpack_string(name) + _hpack_string(value) for name, value in headers)


def request_frames(authority):
    """Everything the client sends for one unary call with an empty request message."""
    headers = [(':method', 'POST'), (':scheme', 'https'), (':path', GRPC_PATH), (':authority', authority),
               ('content-type', 'application/grpc'), ('te', 'trailers'), ('user-agent', 'swarmops.swarm')]
    return (PREFACE + frame(SETTINGS, 0, 0)
            + frame(HEADERS, END_HEADERS, STREAM, hpack_literal_headers(headers))
            + frame(DATA, END_STREAM, STREAM, b'\x00\x00\x00\x00\x00'))  # uncompressed, zero-length message


def split_frames(buffer):
    """([(kind, flags, stream, payload)], rest) of the complete frames at the start of BUFFER."""
    frames = []
    while len(buffer) >= 9:
        length = struct.unpack('>I', b'\x00' + buffer[:3])[0]
        if len(buffer) < 9 + length:
            break
        kind, flags, stream = struct.unpack('>BBI', buffer[3:9])
        frames.append((kind, flags, stream & 0x7fffffff, buffer[9:9 + length]))
        buffer = buffer[9 + length:]
    return frames, buffer


def _unpad(flags, payload):
    if flags & PADDED and payload:
        pad = bytearray(payload[:1])[0]
        return payload[1:len(payload) - pad]
    return payload


def _varint(data, pos):
    result, shift = 0, 0
    while True:
        if pos >= len(data):
            raise SwarmCAError('the answer ends inside a number')
        byte = bytearray(data[pos:pos + 1])[0]
        pos += 1
        result |= (byte & 0x7f) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def certificate_from_grpc(body):
    """The `certificate` (field 1, bytes) of a GetRootCACertificateResponse in a gRPC message body."""
    if len(body) < 5:
        raise SwarmCAError('the manager answered without a message (not a swarm manager, or a refusal)')
    compressed, length = struct.unpack('>BI', body[:5])
    if compressed:
        raise SwarmCAError('the manager answered with a compressed message')
    message = body[5:5 + length]
    pos = 0
    while pos < len(message):
        key, pos = _varint(message, pos)
        field, wire = key >> 3, key & 7
        if wire == 2:
            size, pos = _varint(message, pos)
            value = message[pos:pos + size]
            pos += size
            if field == 1:
                return value
        elif wire == 0:
            _unused, pos = _varint(message, pos)
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:
            raise SwarmCAError('the answer is not a root CA message')
    raise SwarmCAError('the answer holds no certificate')


# ---- the network ------------------------------------------------------------------------------------

def _tls_socket(host, port, timeout, cadata=None):
    if cadata is None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        # Verify the chain against the fetched root; swarm certificates name nodes, not addresses.
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(cadata=cadata)
    context.set_alpn_protocols(['h2'])
    raw = socket.create_connection((host, port), timeout=timeout)
    try:
        return context.wrap_socket(raw, server_hostname=host)
    except Exception:
        raw.close()
        raise


def _call(sock):
    sock.sendall(request_frames('%s' % sock.getpeername()[0]))
    buffer, body = b'', b''
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            raise SwarmCAError('the manager closed the connection before answering')
        frames, buffer = split_frames(buffer + chunk)
        for kind, flags, stream, payload in frames:
            if kind == SETTINGS and not flags & ACK:
                sock.sendall(frame(SETTINGS, ACK, 0))
            elif kind == PING and not flags & ACK:
                sock.sendall(frame(PING, ACK, 0, payload))
            elif kind == GOAWAY:
                raise SwarmCAError('the manager ended the connection (HTTP/2 GOAWAY)')
            elif kind == RST_STREAM and stream == STREAM:
                raise SwarmCAError('the manager refused the call (HTTP/2 RST_STREAM)')
            elif kind == DATA and stream == STREAM:
                body += _unpad(flags, payload)
                if flags & END_STREAM:
                    return body
            elif kind == HEADERS and stream == STREAM and flags & END_STREAM:
                return body  # trailers: the call is over


def fetch_root_ca(host, port=2377, timeout=5):
    """The PEM bytes of the root CA the swarm manager at HOST:PORT serves and is certified by.

    SwarmCAError (or a socket error, wrapped) when it cannot be had.
    """
    try:
        sock = _tls_socket(host, port, timeout)
        try:
            certificate = certificate_from_grpc(_call(sock))
        finally:
            sock.close()
        if b'BEGIN CERTIFICATE' not in certificate:
            raise SwarmCAError('the answer is not a PEM certificate')
        verified = _tls_socket(host, port, timeout, cadata=certificate.decode('ascii', 'replace'))
        verified.close()
    except SwarmCAError:
        raise
    except ssl.SSLError as exc:
        raise SwarmCAError('TLS with %s:%s failed (%s)' % (host, port, getattr(exc, 'reason', None) or exc))
    except (socket.error, socket.timeout, OSError) as exc:
        raise SwarmCAError('%s:%s did not answer (%s)' % (host, port, exc or exc.__class__.__name__))
    return certificate
