"""Engine changes roll over a three-manager swarm one node at a time, and the swarm stays up throughout.

site.yml forms the swarm on bare nodes with a replicated service (3 tasks). Then, with a sampler watching every
node the whole time (engine, swarm role, the service's running containers, read on the nodes themselves, so a
leader election cannot hide anything):
  1. a daemon.json change, with the second node of the roll broken so that its engine cannot start again: the
     first node rolls, the roll stops at the second (named, left drained), the third is not touched;
  2. the broken node repaired and put back in service as the message says, then playbooks/upgrade.yml moves the
     pin to the mirror's lower docker-ce release with the same daemon.json change: --check names every node
     and both versions and changes nothing; the run rolls every node, managers in order, the leader last.
At every sample at least two of the three managers answer as managers and the service has at least 2 of its 3
tasks running.
"""

import json
import re
import threading
import time

from conftest import harness

SERVICE = 'roller'
REPLICAS = 3
SERVICES = [{'name': SERVICE, 'image': 'swarmops/busybox:local', 'command': ['sleep', '86400'],
             'replicas': REPLICAS, 'init': True}]
# The lower release the mirror publishes next to 20.10.24 on bookworm (same payload, re-labelled).
LOWER_PIN = '5:20.10.23'
SAMPLE = ('docker info --format "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}" 2>/dev/null || echo down; '
          'docker ps -q --filter status=running --filter label=com.docker.swarm.service.name=%s 2>/dev/null | wc -l'
          % SERVICE)


class Sampler(threading.Thread):
    """Every second: per node, whether its engine answers as an active manager, and how many of the service's
    containers run there."""

    def __init__(self, cluster):
        super(Sampler, self).__init__(daemon=True)
        self.cluster = cluster
        self.samples = []
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            sample = {}
            for host in self.cluster.managers:
                result = harness.sh('docker', 'exec', self.cluster.container(host), 'sh', '-c', SAMPLE, check=False,
                                    timeout=30)
                lines = result.stdout.split('\n') if result.returncode == 0 else ['down', '0']
                running = int(lines[1]) if len(lines) > 1 and lines[1].strip().isdigit() else 0
                sample[host] = (lines[0].strip() == 'active true', running)
            self.samples.append((time.time(), sample))
            self.done.wait(1)

    def stop(self):
        self.done.set()
        self.join(60)
        return self.samples


def assert_swarm_stayed_up(samples):
    """Every sample: at least 2 of 3 managers answer, at least REPLICAS - 1 tasks run. (That the engines really
    restarted while the sampler ran is proven by their start times, not by catching a restart in a sample: a
    restart can be shorter than the sampling period.)"""
    assert len(samples) >= 10, samples
    for moment, sample in samples:
        managers = [host for host, (manager, _running) in sample.items() if manager]
        running = sum(count for _manager, count in sample.values())
        assert len(managers) >= 2, 'at %s only %s answered as managers: %s' % (moment, managers, sample)
        assert running >= REPLICAS - 1, 'at %s only %d tasks of %s ran: %s' % (moment, running, SERVICE, sample)


def engine_started(cluster, host):
    return cluster.exec(host, 'systemctl show -p ActiveEnterTimestampMonotonic docker').stdout.strip()


def daemon_json(cluster, host):
    text = cluster.exec(host, 'cat /etc/docker/daemon.json 2>/dev/null || true').stdout
    return json.loads(text) if text.strip() else {}


def drained_order(run):
    """The hosts the roll drained, in order (from the play's output)."""
    order, in_task = [], False
    for line in run.stdout.splitlines():
        if line.startswith('TASK ['):
            in_task = 'swarm_rolling : Drain the node' in line
        elif in_task and line.startswith(('changed: [', 'ok: [')):
            order.append(line.split('[', 1)[1].split(' ', 1)[0].rstrip(']'))
    return order


def leader(cluster):
    nodes = cluster.nodes()
    return [host for host in cluster.managers
            if [n for n in nodes if n['Hostname'] == cluster.container(host) and n['ManagerStatus'] == 'Leader']][0]


def installed_version(cluster, host):
    return cluster.exec(host, 'dpkg-query -W -f "\\${Version}" docker-ce').stdout.strip()


def test_engine_changes_roll_one_node_at_a_time_and_the_swarm_stays_up(rolling):
    run = rolling.site(extra_vars={'swarm_services': SERVICES}, label='up')
    run.assert_ok(hosts=rolling.hosts)
    rolling.assert_whole()
    first_leader = leader(rolling)
    order = [host for host in rolling.managers if host != first_leader] + [first_leader]

    # ---- 1. daemon.json changes; the second node of the roll cannot start its engine again -------------------
    broken = order[1]
    rolling.exec(broken, 'mkdir -p /etc/systemd/system/docker.service.d && printf "[Service]\\nExecStartPre=/bin/false\\n"'
                         ' > /etc/systemd/system/docker.service.d/zz-broken.conf && systemctl daemon-reload')
    started = dict((host, engine_started(rolling, host)) for host in rolling.hosts)
    options = {'swarm_services': SERVICES, 'docker_daemon_options': {'max-concurrent-downloads': 5}}
    sampler = Sampler(rolling)
    sampler.start()
    run = rolling.site(extra_vars=options, label='roll-daemon-json-broken-node')
    samples = sampler.stop()
    assert run.rc == 2 and run.failed_hosts() == [broken], run.describe()
    message = run.messages(broken)
    for fragment in ('The roll stopped at %s' % broken, 'Not touched by the roll: %s' % order[2],
                     '%s is left drained' % broken, 'docker node update --availability active'):
        assert fragment in message, run.describe()
    assert drained_order(run) == order[:2], run.describe()
    assert daemon_json(rolling, order[0]).get('max-concurrent-downloads') == 5
    assert engine_started(rolling, order[0]) != started[order[0]]
    # the node after the failed one: not drained, not changed, not restarted
    assert 'max-concurrent-downloads' not in daemon_json(rolling, order[2])
    assert engine_started(rolling, order[2]) == started[order[2]]
    assert [n['Availability'] for n in rolling.nodes(via=order[2]) if n['Hostname'] == rolling.container(order[2])] \
        == ['Active']
    assert_swarm_stayed_up(samples)

    # ---- 2. repaired as the message says; then the pin moves down a release: every node rolls --------------
    rolling.exec(broken, 'rm /etc/systemd/system/docker.service.d/zz-broken.conf && systemctl daemon-reload && '
                         'systemctl reset-failed docker.service docker.socket; systemctl start docker')
    harness.wait_until(lambda: rolling.local_state(broken)[0] == 'active', 120, what='%s back' % broken)
    rolling.exec(order[2], 'docker node update --availability active %s' % rolling.container(broken))
    started = dict((host, engine_started(rolling, host)) for host in rolling.hosts)
    versions = dict((host, installed_version(rolling, host)) for host in rolling.hosts)
    upgrade = dict(options, docker_version=LOWER_PIN)
    # playbooks/upgrade.yml --check: the plan names every node, from which version to which; nothing changes
    run = rolling.playbook('playbooks/upgrade.yml', '--check', extra_vars=upgrade, label='upgrade-check')
    run.assert_ok(hosts=rolling.hosts)
    for host in rolling.hosts:
        plan = re.search(r'ok: \[%s\] => \{\s*"msg": "engine (\S+) -> (\S+): rolls, one node at a time' % host,
                         run.stdout)
        assert plan and plan.group(1) != plan.group(2) and plan.group(2).startswith(LOWER_PIN), run.describe()
        assert installed_version(rolling, host) == versions[host] and engine_started(rolling, host) == started[host]
    assert all(n['Availability'] == 'Active' for n in rolling.nodes())
    sampler = Sampler(rolling)
    sampler.start()
    run = rolling.playbook('playbooks/upgrade.yml', extra_vars=upgrade, label='upgrade-roll-pin')
    samples = sampler.stop()
    run.assert_ok(hosts=rolling.hosts)
    assert drained_order(run) == order, run.describe()  # managers one at a time, the leader last
    for host in rolling.hosts:
        assert installed_version(rolling, host).startswith(LOWER_PIN), host
        assert 'max-concurrent-downloads' in daemon_json(rolling, host), host
        assert engine_started(rolling, host) != started[host], '%s was not restarted' % host
    assert_swarm_stayed_up(samples)
    services = rolling.assert_whole()  # every node Ready and Active again, every manager Reachable
    assert services[SERVICE] == (REPLICAS, REPLICAS)
    assert all(n['Availability'] == 'Active' for n in rolling.nodes())
