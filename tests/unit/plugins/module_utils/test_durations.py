"""The one duration reader (plugins/module_utils/_durations.py) that services and the swarm's settings share."""

import pytest

from ansible_collections.swarmops.swarm.plugins.module_utils import _durations
from ansible_collections.swarmops.swarm.plugins.module_utils import swarm_cluster, swarm_spec

SECOND = 10 ** 9


class FieldError(ValueError):
    pass


@pytest.mark.parametrize('value, ns', [
    ('10s', 10 * SECOND), ('1m30s', 90 * SECOND), ('500ms', SECOND // 2), ('1h', 3600 * SECOND),
    ('2160h', 2160 * 3600 * SECOND), ('1h30m', 5400 * SECOND), ('1.5h', 5400 * SECOND), ('100us', 100000),
    ('100µs', 100000), ('7ns', 7), (5, 5 * SECOND), ('2', 2 * SECOND), (0.5, SECOND // 2), (0, 0),
    ('7776000', 7776000 * SECOND), (' 10s ', 10 * SECOND),
])
def test_durations(value, ns):
    assert _durations.parse_duration(value, 'x') == ns


@pytest.mark.parametrize('value', ['10x', 's', '', '1m 30s', True, False, -1, -0.5, '-5', '10 seconds', '90 days',
                                   '1h30', 'h'])
def test_refusals_name_the_field_and_use_the_callers_error(value):
    with pytest.raises(FieldError) as err:
        _durations.parse_duration(value, 'update_config.delay', FieldError)
    assert str(err.value).startswith('update_config.delay: ')


def test_none_is_not_set():
    assert _durations.parse_duration(None, 'x') is None


@pytest.mark.parametrize('value', ['1m30s', '2160h', 90, '0.25', '1h0m0.5s'])
def test_services_and_swarm_settings_read_durations_the_same_way(value):
    assert swarm_spec.parse_duration(value, 'x') == swarm_cluster.duration_ns(value, 'x') \
        == _durations.parse_duration(value, 'x')


def test_each_module_keeps_its_own_error_type():
    with pytest.raises(swarm_spec.SpecError):
        swarm_spec.parse_duration('soon', 'stop_grace_period')
    with pytest.raises(swarm_cluster.SwarmInputError):
        swarm_cluster.duration_ns('soon', 'cert_expiry')


@pytest.mark.parametrize('ns, text', [
    (7776000 * SECOND, '2160h0m0s'), (5 * SECOND, '0h0m5s'), (90 * SECOND + 5, '0h1m30s+5ns'), (None, None),
])
def test_format_duration(ns, text):
    assert _durations.format_duration(ns) == text


def test_format_then_parse_round_trips_whole_seconds():
    for seconds in (0, 1, 59, 61, 3599, 3601, 7776000):
        assert _durations.parse_duration(_durations.format_duration(seconds * SECOND), 'x') == seconds * SECOND
