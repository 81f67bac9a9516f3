"""swarm_service's converger: which changes make Docker replace the running tasks (plugins/module_utils/swarm_service.py).

The waiting itself runs against real engines (tests/integration/test_swarm_service.py).
"""

import copy

import pytest

from ansible_collections.swarmops.swarm.plugins.module_utils import swarm_service as sv

SPEC = {'Name': 'web', 'Labels': {},
        'TaskTemplate': {'ContainerSpec': {'Image': 'busybox', 'Args': ['sleep', '1']}, 'ForceUpdate': 0,
                         'Runtime': 'container', 'Placement': {'Constraints': ['node.role==worker']}},
        'Mode': {'Replicated': {'Replicas': 2}},
        'EndpointSpec': {'Mode': 'vip', 'Ports': [{'Protocol': 'tcp', 'TargetPort': 80, 'PublishedPort': 8080,
                                                   'PublishMode': 'ingress'}]}}


def changed(change):
    """A copy of SPEC that CHANGE (a function of the copy) altered."""
    spec = copy.deepcopy(SPEC)
    change(spec)
    return spec


def test_a_new_template_replaces_the_tasks():
    assert sv.rollout_expected(SPEC, changed(lambda s: s['TaskTemplate']['ContainerSpec'].update(Image='busybox:2')))
    assert sv.rollout_expected(SPEC, changed(lambda s: s['TaskTemplate'].update(ForceUpdate=1)))


def test_new_ports_or_endpoint_mode_replace_the_tasks_too():
    ports = [{'Protocol': 'tcp', 'TargetPort': 80, 'PublishedPort': 8081, 'PublishMode': 'ingress'}]
    assert sv.rollout_expected(SPEC, changed(lambda s: s['EndpointSpec'].update(Ports=ports)))
    assert sv.rollout_expected(SPEC, changed(lambda s: s['EndpointSpec'].update(Mode='dnsrr')))


def test_what_leaves_the_tasks_running():
    assert not sv.rollout_expected(SPEC, changed(lambda s: s.update(Mode={'Replicated': {'Replicas': 5}})))
    assert not sv.rollout_expected(SPEC, changed(lambda s: s.update(Labels={'team': 'a'})))
    assert not sv.rollout_expected(SPEC, changed(lambda s: s.update(UpdateConfig={'Parallelism': 2})))
    # the orchestrator keeps a task whose node still matches a changed placement
    assert not sv.rollout_expected(SPEC, changed(lambda s: s['TaskTemplate'].update(Placement={'Constraints': []})))


def test_a_tasks_spec_is_compared_without_runtime_and_placement():
    task_spec = {'ContainerSpec': {'Args': ['sleep', '1'], 'Image': 'busybox'}, 'ForceUpdate': 0}
    assert sv.template_key(task_spec) == sv.template_key(SPEC['TaskTemplate'])


# ---- secret_env values masked before validation, in every shape a user may write them -------------------------

@pytest.mark.parametrize('item, secrets', [
    ({'secret_env': {'DB': 'hunter2', 'N': 1234567}}, {'hunter2', '1234567'}),
    ({'secret_env': ['DB=hunter2', 'TOKEN=a=b', 'BARE']}, {'DB=hunter2', 'hunter2', 'TOKEN=a=b', 'a=b', 'BARE'}),
    ({'secret_env': 'DB=hunter2'}, {'DB=hunter2'}),
    ({'secret_env': {'EMPTY': '', 'NONE': None}}, set()),
    ({'secret_env': None}, set()),
    ({'name': 'web'}, set()),
    ('not a service', set()),
])
def test_secret_env_values_cover_every_shape(item, secrets):
    assert sv.secret_env_values(item) == secrets


def test_mask_secret_env_masks_every_item_even_malformed_ones():
    class Module(object):
        def __init__(self):
            self.no_log_values = set()
    module = Module()
    services = [{'name': 'a', 'secret_env': {'K': 'first-secret'}}, 'junk', None,
                {'name': 'b', 'secret_env': ['K=second-secret']}]
    sv.mask_secret_env(module, services)
    assert module.no_log_values == {'first-secret', 'second-secret', 'K=second-secret'}
    sv.mask_secret_env(module, None)  # no services: nothing to mask, nothing raised
