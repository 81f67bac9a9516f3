# -*- coding: utf-8 -*-
# Copyright: swarmops.swarm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Durations as the Engine API stores them (nanoseconds), read from what users write.

Private to the collection (the leading underscore): the swarm modules' spec logic (swarm_spec for
services, swarm_cluster for the swarm's settings) both read durations through here, so `1m30s`
means the same everywhere. Unit-tested in tests/unit/plugins/module_utils/test_durations.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

SECOND = 10 ** 9
_UNITS = {'ns': 1, 'us': 10 ** 3, 'µs': 10 ** 3, 'ms': 10 ** 6, 's': SECOND, 'm': 60 * SECOND,
          'h': 3600 * SECOND}
_PART = re.compile(r'([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)')
_NUMBER = re.compile(r'^[0-9]+(?:\.[0-9]+)?$')


def parse_duration(value, field, error=ValueError):
    """Nanoseconds (int) of a Go-style duration ('1m30s', '500ms', '2160h') or a number of seconds.

    None stays None (not set). Anything else raises ERROR (a ValueError subclass of the caller's, so
    each module keeps its own exception type) with a message that starts with FIELD.
    """
    if value is None:
        return None
    expected = ('%s: expected a duration such as "10s", "1m30s", "500ms" or "2160h" (units ns, us, ms, s, m, h) '
                'or a number of seconds, got %r' % (field, value))
    if isinstance(value, bool):
        raise error(expected)
    if isinstance(value, (int, float)):
        if value < 0:
            raise error('%s: a duration cannot be negative, got %r' % (field, value))
        return int(round(value * SECOND))
    text = str(value).strip()
    if _NUMBER.match(text):
        return int(round(float(text) * SECOND))
    parts = _PART.findall(text)
    if not text or ''.join(number + unit for number, unit in parts) != text:
        raise error(expected)
    return int(round(sum(float(number) * _UNITS[unit] for number, unit in parts)))


def format_duration(ns):
    """'2160h0m0s'-style text (as docker prints a duration) for diffs; None stays None."""
    if ns is None:
        return None
    total = int(ns) // SECOND
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    text = '%dh%dm%ds' % (hours, minutes, seconds)
    return text if int(ns) % SECOND == 0 else '%s+%dns' % (text, int(ns) % SECOND)
