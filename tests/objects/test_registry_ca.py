"""The docker role's registry CA certificates (docker_registry_ca_certs, entry point registry_ca) on a real node:
a bad entry is refused by name before anything is written (the good entry next to it included), --check predicts
without writing, the first run writes /etc/docker/certs.d/<registry>/ca.crt (0644, directories 0755), a re-run
changes nothing and its plan finds the file current (no write task runs). (The suite's own setup installs the
test bed registry's CA this way, and every pull from the registry depends on it.)"""

from conftest import CACHE, trust_registry_play

OTHER = 'obj-other.example:5443'
DIRECTORY = '/etc/docker/certs.d/' + OTHER


def test_registry_ca_refused_by_name_then_written_once(lab):
    node = lab.nodes['obj-w1']
    node.sh("rm -rf '%s'" % DIRECTORY)
    ca = (CACHE / 'registry' / 'ca.crt').read_text()
    good = [{'registry': OTHER, 'content': ca}]

    bad = lab.playbook(None, plays=[trust_registry_play(good + [{'registry': '../../../etc/ssl', 'content': ca}],
                                                        hosts='obj-w1')])
    assert bad.rc != 0
    assert "docker_registry_ca_certs[1].registry must be host or host:port" in bad.output, bad.output[-3000:]
    assert node.sh("test -e '%s'" % DIRECTORY, check=False).returncode != 0, 'written before refusing'

    predicted = lab.playbook(None, plays=[trust_registry_play(good, check=True, hosts='obj-w1')])
    assert predicted.rc == 0 and predicted.changed() > 0, predicted.output[-3000:]
    assert node.sh("test -e '%s'" % DIRECTORY, check=False).returncode != 0, 'check mode wrote'

    run = lab.playbook(None, plays=[trust_registry_play(good, hosts='obj-w1'), trust_registry_play(good, hosts='obj-w1')])
    assert run.rc == 0 and run.changed(0) == predicted.changed() and run.changed(1) == 0, run.output[-3000:]
    # ... and the re-run's plan itself found the file current (the one read covers the CA files): no write task
    again = [result for task in run.plays[1] for result in task.values()]
    assert not any('registry_ca_apply' in str(result.get('include', '')) for result in again), run.output[-3000:]
    assert any('registry_ca_apply' in str(result.get('include', ''))
               for task in run.plays[0] for result in task.values()), 'the first run wrote without the include'
    assert node.sh("cat '%s/ca.crt'" % DIRECTORY).stdout.split() == ca.split()
    assert node.sh("stat -c '%%a %%U %%G' '%s' '%s/ca.crt'" % (DIRECTORY, DIRECTORY)).stdout.split() == \
        ['755', 'root', 'root', '644', 'root', 'root']
    node.sh("rm -rf '%s'" % DIRECTORY)
