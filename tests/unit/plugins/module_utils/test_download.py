"""fetch_with_retries against a real HTTP server on localhost: what is retried, what is final, what is returned."""

from __future__ import absolute_import, division, print_function

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from ansible_collections.swarmops.swarm.plugins.module_utils._download import fetch_with_retries


class _Module:
    """What fetch_url reads from a module: its params."""

    def __init__(self):
        self.params = {'timeout': 5, 'validate_certs': True}
        self.tmpdir = None


@pytest.fixture
def server():
    """A server answering each request with the next (status, body) of `answers`; it records the paths asked."""
    state = {'answers': [], 'asked': []}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the name http.server calls)
            state['asked'].append(self.path)
            status, body = state['answers'].pop(0) if state['answers'] else (500, b'out of answers')
            self.send_response(status)
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = HTTPServer(('127.0.0.1', 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state['url'] = 'http://127.0.0.1:%d/key.asc' % httpd.server_address[1]
    yield state
    httpd.shutdown()
    httpd.server_close()


def test_a_server_error_is_tried_again_with_growing_pauses(server):
    server['answers'] = [(503, b'restarting'), (502, b'bad gateway'), (200, b'the key')]
    slept = []
    response, reason, status = fetch_with_retries(_Module(), server['url'], attempts=4, sleep=slept.append)
    assert (reason, status) == (None, 200)
    assert response.read() == b'the key'
    assert slept == [1, 2]
    assert len(server['asked']) == 3


def test_a_4xx_answer_is_final(server):
    server['answers'] = [(404, b'no such file'), (200, b'never asked for')]
    slept = []
    response, reason, status = fetch_with_retries(_Module(), server['url'], attempts=4, sleep=slept.append)
    assert response is None and status == 404
    assert reason
    assert slept == [] and len(server['asked']) == 1


def test_the_attempts_are_spent_and_the_last_reason_returned(server):
    server['answers'] = [(500, b'a'), (500, b'b'), (503, b'c')]
    slept = []
    response, reason, status = fetch_with_retries(_Module(), server['url'], attempts=3, sleep=slept.append)
    assert response is None and status == 503
    assert slept == [1, 2] and len(server['asked']) == 3


def test_a_refused_connection_is_retried_and_reported(server):
    slept = []
    # Port 9 on localhost: nothing listens there in the test bed (the discard service is not run).
    response, reason, status = fetch_with_retries(_Module(), 'http://127.0.0.1:9/key.asc', attempts=2,
                                                  sleep=slept.append)
    assert response is None and slept == [1]
    assert 'refused' in reason.lower() or 'error' in reason.lower()


def test_a_file_url_has_no_status_and_is_read(tmp_path):
    path = tmp_path / 'archive.tar'
    path.write_bytes(b'tar bytes')
    response, reason, status = fetch_with_retries(_Module(), path.as_uri(), sleep=pytest.fail)
    assert reason is None and response.read() == b'tar bytes'
