# -*- coding: utf-8 -*-
# Copyright: (c) 2026, swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One download with retries, shared by the modules that fetch a file (the repository key, image archives)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import time

from ansible.module_utils.urls import fetch_url


def fetch_with_retries(module, url, attempts=4, sleep=time.sleep):
    """Open URL with the module's `timeout` and `validate_certs`.

    A failed connection or a server error is tried again, 1, 2, 4 ... seconds apart: a mirror that is being
    restarted should not fail a run. A 4xx answer is final. Returns (response, None, status) on success, with
    the response still to be read, or (None, reason, status) once the attempts are spent."""
    reason, status = None, None
    for attempt in range(attempts):
        response, info = fetch_url(module, url, timeout=module.params['timeout'])
        status = info.get('status')
        # A file: URL has no status code.
        if response is not None and status in (200, None):
            return response, None, status
        reason = info.get('msg') or 'HTTP %s' % status
        if status is not None and 400 <= status < 500:
            break
        if attempt + 1 < attempts:
            sleep(2 ** attempt)
    return None, reason, status
