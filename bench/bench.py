#!/usr/bin/env python3
"""Measure the speed targets of bench/README.md on a lab of our own, and print/save the figures."""

import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LAB_ENV = dict(os.environ, LAB_PREFIX='bench-', LAB_NETWORK='swarmops-bench', LAB_SUBNET='10.213.90.0/24')
NODES = ['bench-manager1', 'bench-worker1', 'bench-worker2']
RUNS = int(os.environ.get('BENCH_RUNS', '3'))
MIRROR = 'http://swarmops-mirror/linux/debian'


def sh(command, **kwargs):
    return subprocess.run(command, check=True, cwd=REPO, **kwargs)


def lab(action):
    sh(['bash', 'tests/testbed/lab.sh', action], env=LAB_ENV, stdout=subprocess.DEVNULL)


def playbook(path, extra_vars=None):
    command = ['ansible-playbook', '-i', 'inventories/lab', '-e', 'lab_container_prefix=bench-', path]
    if extra_vars:
        command += ['-e', json.dumps(extra_vars)]
    start = time.monotonic()
    sh(command, stdout=subprocess.DEVNULL, env=dict(os.environ, ANSIBLE_CALLBACKS_ENABLED='ansible.posix.json'))
    return time.monotonic() - start


def timed(function, runs=RUNS):
    return statistics.median(function() for _ in range(runs))


def shell_install():
    script = (REPO / 'bench' / 'cold-install.sh').read_text()

    def one(node):
        subprocess.run(['docker', 'exec', '-i', node, 'sh', '-s', MIRROR], input=script, text=True,
                       check=True, stdout=subprocess.DEVNULL)
    start = time.monotonic()
    with ThreadPoolExecutor(len(NODES)) as pool:
        list(pool.map(one, NODES))
    return time.monotonic() - start


def fresh_lab_then(measure):
    def run():
        lab('down')
        lab('up')
        return measure()
    return run


def services(count):
    return [{'name': 'bench%02d' % index, 'image': 'swarmops/busybox:local', 'command': ['sleep', '86400'],
             'replicas': 1} for index in range(count)]


def main():
    results = {}
    results['cold_install_shell_s'] = timed(fresh_lab_then(shell_install))
    results['cold_install_role_s'] = timed(fresh_lab_then(lambda: playbook('bench/engine.yml')))
    results['cold_install_ratio'] = results['cold_install_role_s'] / results['cold_install_shell_s']

    playbook('site.yml')  # form the cluster on the last fresh lab
    results['one_task_s'] = timed(lambda: playbook('bench/ping.yml'))
    results['rerun_site_s'] = timed(lambda: playbook('site.yml'))
    results['rerun_ratio'] = results['rerun_site_s'] / results['one_task_s']

    playbook('playbooks/deploy_services.yml', {'swarm_services': services(20)})
    with_20 = timed(lambda: playbook('playbooks/deploy_services.yml', {'swarm_services': services(20)}))
    with_0 = timed(lambda: playbook('playbooks/deploy_services.yml', {'swarm_services': []}))
    results['unchanged_service_s'] = max(with_20 - with_0, 0.0) / 20
    lab('down')

    (REPO / 'bench' / 'results.json').write_text(json.dumps(results, indent=2) + '\n')
    width = max(len(key) for key in results)
    for key, value in results.items():
        print('%-*s %8.3f' % (width, key, value))
    return 0


if __name__ == '__main__':
    sys.exit(main())
