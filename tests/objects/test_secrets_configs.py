"""swarm_secret and swarm_config on a real swarm: readable in the container, a new value rolls the services onto
a new version and prunes the old one, re-runs change nothing, --check/--diff tell the truth, and a secret's value
never appears in any output (-vvv included) or in the secret's labels."""

import hashlib
import uuid

from conftest import QUICK, SERVICE_IMAGE

SECRET = 'swarmops.swarm.swarm_secret'
CONFIG = 'swarmops.swarm.swarm_config'
SERVICE = 'swarmops.swarm.swarm_service'
KEY = 'objects-suite-hash-key-' + uuid.uuid4().hex


def objects(lab, kind):
    return sorted(lab.manager.sh("docker %s ls --format '{{.Name}}'" % kind).stdout.split())


def spec_refs(lab, service, key):
    return lab.manager.json("docker service inspect %s --format '{{json .Spec.TaskTemplate.ContainerSpec.%s}}'"
                            % (service, key))


def test_secret_read_rotated_pruned_and_never_shown(lab):
    first, second = 'first-' + uuid.uuid4().hex[:12], 'second-' + uuid.uuid4().hex[:12]
    lab.secret_values.update([first, second, KEY])

    def args(value):
        return {'secrets': [{'name': 'obj_db', 'data': value}], 'hash_key': KEY}

    reader = dict(QUICK, name='obj-reader', image=SERVICE_IMAGE, args=['sleep', '3600'],
                  constraints=['node.hostname==obj-w2'], secrets=[{'name': 'obj_db_v1', 'target': 'obj_db'}])
    predicted, created, again, checked, served = lab.steps(
        (SECRET, args(first), 'check'), (SECRET, args(first)), (SECRET, args(first)), (SECRET, args(first), 'check'),
        (SERVICE, reader))
    assert predicted['changed'] and predicted['secrets'][0]['current'] == 'obj_db_v1'
    # A real run after the check run still creates v1: check mode created nothing.
    assert created['changed'] and created['secrets'][0]['current'] == 'obj_db_v1', created.get('msg')
    assert created['secrets'][0]['reason'] == 'new'
    assert predicted['diff'] == created['diff']
    assert not again['changed'] and not checked['changed']
    labels = lab.manager.json("docker secret inspect obj_db_v1 --format '{{json .Spec.Labels}}'")
    assert labels['swarmops.swarm.name'] == 'obj_db' and labels['swarmops.swarm.version'] == '1'
    # The label is keyed: a plain or name-salted hash of the value (what a guesser would compute) is not it.
    for guess in (first.encode(), b'obj_db\0' + first.encode()):
        for algorithm in (hashlib.sha256, hashlib.sha224, hashlib.sha1):
            assert algorithm(guess).hexdigest() not in repr(labels)

    assert not served.get('failed'), served.get('msg')
    assert lab.read_in_task('obj-reader', 'cat /run/secrets/obj_db') == first

    # At -vvv: the rotation, predicted then done, a re-run, and the removal refused while the service uses it.
    predicted, rotated, settled, refused = lab.steps(
        (SECRET, args(second), 'check'), (SECRET, args(second)), (SECRET, args(second)),
        (SECRET, {'name': 'obj_db', 'state': 'absent'}), verbosity=3)
    # Had check mode made obj_db_v2, the real run would have found it and reported no new version.
    result = rotated['secrets'][0]
    assert rotated['changed'] and result['current'] == 'obj_db_v2' and result['reason'] == 'value changed'
    assert result['rolled_out'] == [{'service': 'obj-reader', 'from': 'obj_db_v1', 'to': 'obj_db_v2'}]
    assert result['pruned'] == ['obj_db_v1']
    assert predicted['diff'] == rotated['diff'] and predicted['secrets'][0]['pruned'] == ['obj_db_v1']
    assert rotated['diff']['after']['obj_db']['value'].startswith('(hidden')
    assert not settled['changed']
    assert objects(lab, 'secret') == ['obj_db_v2']
    refs = spec_refs(lab, 'obj-reader', 'Secrets')
    assert [(r['SecretName'], r['File']['Name']) for r in refs] == [('obj_db_v2', 'obj_db')]
    lab.wait_for(lambda: lab.read_in_task('obj-reader', 'cat /run/secrets/obj_db') == second,
                 'the new value in the container')

    assert refused.get('failed') and 'service(s) obj-reader (obj_db_v2)' in refused['msg']
    assert objects(lab, 'secret') == ['obj_db_v2']
    lab.assert_never_shown(first, second, KEY)


def test_bad_secret_input_refused_before_any_change(lab):
    value = 'never-shown-' + uuid.uuid4().hex[:12]
    lab.secret_values.add(value)
    no_key, bad_item = lab.steps(
        (SECRET, {'secrets': [{'name': 'obj_a', 'data': value}]}),
        (SECRET, {'secrets': [{'name': 'obj_a', 'data': value}, {'name': 'obj_b', 'data': value, 'keep_versions': 0}],
                  'hash_key': KEY}))
    assert no_key.get('failed') and 'hash_key: required' in no_key['msg']
    assert bad_item.get('failed') and 'secret obj_b: keep_versions' in bad_item['msg']
    assert not any(name.startswith('obj_a') for name in objects(lab, 'secret'))
    lab.assert_never_shown(value)


def test_config_read_rotated_pruned(lab):
    first, second = 'listen 80;\n', 'listen 8080;\n'

    def args(content):
        return {'name': 'obj_conf', 'data': content, 'keep_versions': 1}

    reader = dict(QUICK, name='obj-confreader', image=SERVICE_IMAGE, args=['sleep', '3600'],
                  constraints=['node.hostname==obj-w1'],
                  configs=[{'name': 'obj_conf_v1', 'target': '/etc/app.conf', 'mode': '0440'}])
    predicted, created, again, served = lab.steps((CONFIG, args(first), 'check'), (CONFIG, args(first)),
                                                  (CONFIG, args(first)), (SERVICE, reader))
    assert predicted['changed'] and created['changed'] and created['current'] == 'obj_conf_v1'
    assert created['diff']['after']['data'] == first and not again['changed']
    assert not served.get('failed'), served.get('msg')
    assert lab.read_in_task('obj-confreader', 'cat /etc/app.conf') == first

    predicted, rotated, settled = lab.steps((CONFIG, args(second), 'check'), (CONFIG, args(second)),
                                            (CONFIG, args(second), 'check'))
    assert predicted['diff'] == rotated['diff']
    assert rotated['diff']['before']['data'] == first and rotated['diff']['after']['data'] == second
    assert rotated['rolled_out'] == [{'service': 'obj-confreader', 'from': 'obj_conf_v1', 'to': 'obj_conf_v2'}]
    assert rotated['pruned'] == ['obj_conf_v1'] and not settled['changed']
    assert objects(lab, 'config') == ['obj_conf_v2']
    refs = spec_refs(lab, 'obj-confreader', 'Configs')
    assert [(r['ConfigName'], r['File']['Name'], r['File']['Mode']) for r in refs] == \
        [('obj_conf_v2', '/etc/app.conf', 0o440)]
    lab.wait_for(lambda: lab.read_in_task('obj-confreader', 'cat /etc/app.conf') == second,
                 'the new content in the container')
