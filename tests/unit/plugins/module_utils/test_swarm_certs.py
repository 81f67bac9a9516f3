"""Certificates: validity and names read from DER, the root CA rotation's progress as docker swarm ca decides it."""

import datetime

import pytest

from ansible_collections.swarmops.swarm.plugins.module_utils import _swarm_certs as sc

# A real node certificate and root CA of a test swarm (public material; checked against openssl x509:
# node notBefore=Nov 30 14:02:00 2026 GMT, notAfter=Feb 28 15:02:00 2027 GMT,
# subject=O = ro9ebjilc02osej04cq1a7jqv, OU = swarm-manager, CN = px54y7u11ooo75edvvg0qknkf, issuer=CN = swarm-ca;
# root notAfter=Nov 25 14:53:00 2046 GMT).
NODE_CERT = '''-----BEGIN CERTIFICATE-----
MIICNTCCAdugAwIBAgIUYQx90zz5+67P7XeG7q69QiBb22MwCgYIKoZIzj0EAwIw
EzERMA8GA1UEAxMIc3dhcm0tY2EwHhcNMjYxMTMwMTQwMjAwWhcNMjcwMjI4MTUw
MjAwWjBgMSIwIAYDVQQKExlybzllYmppbGMwMm9zZWowNGNxMWE3anF2MRYwFAYD
VQQLEw1zd2FybS1tYW5hZ2VyMSIwIAYDVQQDExlweDU0eTd1MTFvb283NWVkdnZn
MHFrbmtmMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEUfCsP0IDUnX+GK5jdjDj
26JOFv+OpNVkfM/OuLqUbXpDDPdkGUwxWXkBkUC1i4VVbrOGQo13Yg8UZkFXMTIP
u6OBvzCBvDAOBgNVHQ8BAf8EBAMCBaAwHQYDVR0lBBYwFAYIKwYBBQUHAwEGCCsG
AQUFBwMCMAwGA1UdEwEB/wQCMAAwHQYDVR0OBBYEFHNwUDr2L1i9ZhN6WwPJon1t
oOGiMB8GA1UdIwQYMBaAFCJ/+zDVIJABYuedqzF6NlNp1c7SMD0GA1UdEQQ2MDSC
DXN3YXJtLW1hbmFnZXKCGXB4NTR5N3UxMW9vbzc1ZWR2dmcwcWtua2aCCHN3YXJt
LWNhMAoGCCqGSM49BAMCA0gAMEUCID9e0ABZVg1L/hq58OUKLas1CQdEdkuevRa5
i8uKWkSmAiEAtykEX9iS7ukAzfhQIOYzUAonNnbeduM5Rv+j2A01c+I=
-----END CERTIFICATE-----
'''
ROOT_CA = '''-----BEGIN CERTIFICATE-----
MIIBaTCCARCgAwIBAgIUX2/cD+GxdRlabXXqcvhdpWQAxAowCgYIKoZIzj0EAwIw
EzERMA8GA1UEAxMIc3dhcm0tY2EwHhcNMjYxMTMwMTQ1MzAwWhcNNDYxMTI1MTQ1
MzAwWjATMREwDwYDVQQDEwhzd2FybS1jYTBZMBMGByqGSM49AgEGCCqGSM49AwEH
A0IABCp6lYWAsBW9dGYm/TX92g+vq2xq0k3zGgVHCaXuHoqQD6igtsMslKxivwir
4wIj7j8kXsNN264Knpwy7xvhkwCjQjBAMA4GA1UdDwEB/wQEAwIBBjAPBgNVHRMB
Af8EBTADAQH/MB0GA1UdDgQWBBQif/sw1SCQAWLnnasxejZTadXO0jAKBggqhkjO
PQQDAgNHADBEAiAfKWnqnbAmcyOFKwqCpv7DpyD31VMYqrF348vQhagmtwIgEK23
GSMhBVwAklJtutp2P6tsXOGBwF0l6zOm+bW8KCs=
-----END CERTIFICATE-----
'''


def test_parse_a_swarm_node_certificate_like_openssl():
    cert = sc.parse_certificate(NODE_CERT)
    assert cert['not_before'] == datetime.datetime(2026, 11, 30, 14, 2, 0)
    assert cert['not_after'] == datetime.datetime(2027, 2, 28, 15, 2, 0)
    assert cert['subject'] == {'O': 'ro9ebjilc02osej04cq1a7jqv', 'OU': 'swarm-manager',
                               'CN': 'px54y7u11ooo75edvvg0qknkf'}
    assert cert['issuer'] == {'CN': 'swarm-ca'}
    root = sc.parse_certificate(ROOT_CA.encode('ascii'))  # bytes too
    assert root['not_after'] == datetime.datetime(2046, 11, 25, 14, 53, 0)


def test_certificate_report_flags_what_expires_within_the_warning_window():
    report = sc.certificate_report(NODE_CERT, now=datetime.datetime(2027, 2, 1, 15, 2, 0), warn_days=30)
    assert report['node_id'] == 'px54y7u11ooo75edvvg0qknkf' and report['role'] == 'manager'
    assert report['cluster_id'] == 'ro9ebjilc02osej04cq1a7jqv' and report['issuer'] == 'swarm-ca'
    assert report['not_after'] == '2027-02-28T15:02:00Z'
    assert report['expires_in_days'] == 27.0 and report['expires_soon'] and not report['expired']
    fresh = sc.certificate_report(NODE_CERT, now=datetime.datetime(2026, 12, 1), warn_days=30)
    assert not fresh['expires_soon'] and fresh['expires_in_days'] > 80
    late = sc.certificate_report(NODE_CERT, now=datetime.datetime(2027, 3, 1), warn_days=30)
    assert late['expired'] and late['expires_in_days'] < 0


@pytest.mark.parametrize('text', ['', 'not a certificate', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----'])
def test_garbage_is_refused_with_certificate_error(text):
    with pytest.raises(sc.CertificateError):
        sc.parse_certificate(text)


def tls(root, subject, key):
    return {'TrustRoot': root, 'CertIssuerSubject': subject, 'CertIssuerPublicKey': key}


def swarm_node(hostname, info, state='ready'):
    return {'ID': hostname.upper(), 'Description': {'Hostname': hostname, 'TLSInfo': info}, 'Status': {'State': state}}


def test_rotation_progress_follows_the_cli():
    old, new = tls('OLD', 'c3ViamVjdA==', 'b2xka2V5'), tls('NEW', 'c3ViamVjdA==', 'bmV3a2V5')
    swarm = {'TLSInfo': new, 'RootRotationInProgress': True}
    nodes = [swarm_node('m1', new), swarm_node('w1', tls('OLD', 'c3ViamVjdA==', 'bmV3a2V5')), swarm_node('w2', old)]
    progress = sc.rotation_progress(swarm, nodes)
    assert progress == {'done': False, 'in_progress': True, 'nodes_total': 3, 'certs_rotated': 2,
                        'roots_rotated': 1, 'waiting_for': ['w1', 'w2']}
    # every certificate from the new root but the swarm still rotating: not done
    nodes = [swarm_node(h, new) for h in ('m1', 'w1', 'w2')]
    assert not sc.rotation_progress(swarm, nodes)['done']
    swarm['RootRotationInProgress'] = False
    assert sc.rotation_progress(swarm, nodes)['done']
    # trailing whitespace in the PEM does not count as a different root
    nodes[0]['Description']['TLSInfo'] = tls('NEW\n', 'c3ViamVjdA==', 'bmV3a2V5')
    assert sc.rotation_progress(swarm, nodes)['done']


def test_down_nodes_block_a_rotation():
    nodes = [swarm_node('m1', {}), swarm_node('w9', {}, state='down')]
    assert sc.rotation_blockers(nodes) == ['w9 (W9)']
    assert sc.rotation_blockers(nodes[:1]) == []
    assert sc.pem_digest(ROOT_CA) == sc.pem_digest(ROOT_CA + '\n') and sc.pem_digest(ROOT_CA).startswith('sha256:')
