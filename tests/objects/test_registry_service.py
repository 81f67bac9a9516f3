"""A replicated service (swarm_service through the swarm_services role, not a stack) whose image comes from the
test bed's authenticated registry: --check predicts it, the role creates it with the image pinned to the registry's
digest (resolve_image asks the private registry with the credentials), the worker it runs on, which had no copy,
pulls it with the credentials that travelled with the service, and a re-run changes nothing. A wrong password
fails before anything changes, naming the registry and the user; no password in any output at -vvv."""

import uuid

from conftest import QUICK, REGISTRY, REGISTRY_IMAGE

WORKER = 'obj-w1'
SERVICE = dict(QUICK, name='obj-pulled', image=REGISTRY_IMAGE, args=['sleep', '3600'], replicas=1,
               resolve_image=True, constraints=['node.hostname==%s' % WORKER])


def play(user, password, check=False):
    """The swarm_services role on the manager, as site.yml runs it (swarm_bootstrap_plan names the manager)."""
    return {'name': 'services%s' % (' (check)' if check else ''), 'hosts': 'obj-m1', 'gather_facts': False,
            'check_mode': check, 'roles': [{'role': 'swarmops.swarm.swarm_services'}],
            'vars': {'swarm_bootstrap_plan': {'manager': 'obj-m1'}, 'swarm_services': [SERVICE],
                     'swarm_services_wait_timeout': 120,
                     'swarm_registry_auth': {'server': REGISTRY, 'username': user, 'password': password}}}


def test_a_service_pulls_from_the_authenticated_registry_and_a_wrong_password_changes_nothing(lab):
    user, password = lab.registry_credentials()
    wrong = 'not-the-password-' + uuid.uuid4().hex[:8]
    lab.secret_values.update([password, wrong])
    worker = lab.nodes[WORKER]
    # An earlier test's task may have pulled it here: the worker must start without a copy.
    worker.sh('docker image rm %s >/dev/null 2>&1 || true' % REGISTRY_IMAGE)
    assert worker.sh('docker image inspect %s' % REGISTRY_IMAGE, check=False).returncode != 0

    refused = lab.playbook(None, plays=[play(user, wrong)], verbosity=3)
    assert refused.rc != 0
    message = 'registry_auth: %s: the registry refused the login of user %s' % (REGISTRY, user)
    assert message in refused.output and '401 Unauthorized' in refused.output, refused.output[-3000:]
    assert lab.manager.sh('docker service inspect obj-pulled', check=False).returncode != 0, 'changed before refusing'

    run = lab.playbook(None, plays=[play(user, password, check=True), play(user, password),
                                    play(user, password)], verbosity=3)
    assert run.rc == 0, run.output[-3000:]
    assert [run.changed(n) for n in range(3)] == [1, 1, 0], run.output[-3000:]
    predicted, created, again = (run.plays[n][-1]['obj-m1']['services'][0] for n in range(3))
    assert predicted['action'] == created['action'] == 'create' and again['action'] == 'none'
    assert created['tasks']['running'] == 1 and not created['tasks']['errors']
    # resolve_image asked the private registry: the service runs the pushed image, pinned to its digest.
    image = lab.manager.sh("docker service inspect obj-pulled --format '{{.Spec.TaskTemplate.ContainerSpec.Image}}'"
                           ).stdout.strip()
    assert image.startswith(REGISTRY_IMAGE + '@sha256:'), image
    assert lab.running_nodes('obj-pulled') == [WORKER]
    assert worker.sh('docker image inspect %s' % image, check=False).returncode == 0
    lab.assert_never_shown(password, wrong)
