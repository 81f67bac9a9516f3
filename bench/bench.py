"""Measure the speed targets of bench/README.md on a lab of our own, and print/save the figures.

Every figure is a ratio of two things measured side by side (interleaved, same machine, same minute), so a
machine loaded by other work slows both sides alike; the absolute seconds are kept in results.json too.

Environment: BENCH_RUNS (default 3) runs per figure; BENCH_ONLY=cold,rerun,services to measure a subset;
BENCH_KEEP=1 leaves the lab up at the end (it is always left up after a failure, for a look).
"""

import json
import os
import re
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
ONLY = set(filter(None, os.environ.get('BENCH_ONLY', 'cold,rerun,services').split(',')))
MIRROR = 'http://swarmops-mirror/linux/debian'
PLAYBOOK_ENV = dict(
    os.environ,
    ANSIBLE_CONFIG=str(REPO / 'ansible.cfg'),
    ANSIBLE_COLLECTIONS_PATH=str(REPO / '.cache' / 'collections'),
    ANSIBLE_FORCE_COLOR='0',
    ANSIBLE_NOCOLOR='1',
)
RECAP = re.compile(r'^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)', re.M)


def log(message):
    print('[bench %s] %s' % (time.strftime('%H:%M:%S'), message), file=sys.stderr, flush=True)


def sh(command, **kwargs):
    return subprocess.run(command, check=True, cwd=REPO, **kwargs)


def lab(action):
    sh(['bash', 'tests/testbed/lab.sh', action], env=LAB_ENV, stdout=subprocess.DEVNULL)


def ansible_playbook():
    return str(Path(sys.executable).parent / 'ansible-playbook')


def playbook(path, extra_vars=None, expect_changed=None):
    """Run a playbook against the bench lab; return (seconds, recap). expect_changed=0 asserts idempotence."""
    command = [ansible_playbook(), '-i', 'inventories/lab', '-e', 'lab_container_prefix=bench-', path]
    if extra_vars:
        command += ['-e', json.dumps(extra_vars)]
    start = time.monotonic()
    result = subprocess.run(command, cwd=REPO, env=PLAYBOOK_ENV, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - start
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-6000:] + result.stderr[-3000:])
        raise SystemExit('bench: %s failed (rc %d)' % (path, result.returncode))
    recap = {host: {'ok': int(ok), 'changed': int(changed), 'skipped': int(skipped)}
             for host, ok, changed, _unreachable, _failed, skipped in RECAP.findall(result.stdout)}
    if expect_changed is not None:
        changed = {host: stats['changed'] for host, stats in recap.items() if stats['changed'] != expect_changed}
        if changed:
            raise SystemExit('bench: %s was expected to change nothing, but changed %s' % (path, changed))
    return seconds, recap


def shell_install():
    script = (REPO / 'bench' / 'cold-install.sh').read_text()

    def one(node):
        subprocess.run(['docker', 'exec', '-i', node, 'sh', '-s', MIRROR], input=script, text=True,
                       check=True, stdout=subprocess.DEVNULL)
    start = time.monotonic()
    with ThreadPoolExecutor(len(NODES)) as pool:
        list(pool.map(one, NODES))
    return time.monotonic() - start


def fresh_lab():
    lab('down')
    lab('up')  # waits until systemd runs on every node


def services(count):
    return [{'name': 'bench%02d' % index, 'image': 'swarmops/busybox:local', 'command': ['sleep', '86400'],
             'replicas': 1} for index in range(count)]


def tasks_per_host(recap):
    """Tasks that ran (ok + changed; ok already counts changed) per host: each one is a round trip or a
    controller-side step; skipped tasks cost neither."""
    return {host: stats['ok'] for host, stats in sorted(recap.items())}


def pairs(name_a, measure_a, name_b, measure_b, runs=RUNS):
    """Interleave a and b run by run; the ratio of each pair is taken within the same minute."""
    a, b, ratios = [], [], []
    for index in range(runs):
        seconds_a = measure_a()
        seconds_b = measure_b()
        log('%s %.1f s, %s %.1f s (run %d/%d)' % (name_a, seconds_a, name_b, seconds_b, index + 1, runs))
        a.append(seconds_a)
        b.append(seconds_b)
        ratios.append(seconds_a / seconds_b)
    return a, b, ratios


def summary(values):
    return {'median': round(statistics.median(values), 3), 'runs': [round(v, 3) for v in values]}


def main():
    results = {'started': time.strftime('%Y-%m-%dT%H:%M:%S%z'), 'runs': RUNS, 'cpus': os.cpu_count(),
               'load_before': [round(x, 2) for x in os.getloadavg()], 'figures': {}, 'details': {}}
    figures, details = results['figures'], results['details']
    formed = False

    if 'cold' in ONLY:
        recaps = []

        def role():
            fresh_lab()
            seconds, recap = playbook('bench/engine.yml')
            recaps.append(recap)
            return seconds

        def shell():
            fresh_lab()
            return shell_install()

        role_s, shell_s, ratios = pairs('cold role', role, 'cold shell', shell)
        figures['cold_install_ratio'] = summary(ratios)
        details['cold_install_role_s'] = summary(role_s)
        details['cold_install_shell_s'] = summary(shell_s)
        details['cold_install_tasks_per_host'] = tasks_per_host(recaps[-1])

    if 'rerun' in ONLY or 'services' in ONLY:
        fresh_lab()
        log('forming the cluster (site.yml on fresh nodes)')
        seconds, _recap = playbook('site.yml')
        details['cold_site_s'] = round(seconds, 3)
        formed = True

    if 'rerun' in ONLY:
        recaps = []

        def rerun():
            seconds, recap = playbook('site.yml', expect_changed=0)
            recaps.append(recap)
            return seconds

        site_s, ping_s, ratios = pairs('site.yml re-run', rerun, 'one task', lambda: playbook('bench/ping.yml')[0])
        figures['rerun_ratio'] = summary(ratios)
        details['rerun_site_s'] = summary(site_s)
        details['one_task_s'] = summary(ping_s)
        details['rerun_tasks_per_host'] = tasks_per_host(recaps[-1])

    if 'services' in ONLY:
        playbook('playbooks/deploy_services.yml', {'swarm_services': services(20)})
        with_20, with_0, _ratios = pairs(
            '20 unchanged services',
            lambda: playbook('playbooks/deploy_services.yml', {'swarm_services': services(20)}, expect_changed=0)[0],
            'no services', lambda: playbook('playbooks/deploy_services.yml', {'swarm_services': []})[0])
        per_service = [max(a - b, 0.0) / 20 for a, b in zip(with_20, with_0)]
        figures['unchanged_service_s'] = summary(per_service)
        details['deploy_20_unchanged_s'] = summary(with_20)
        details['deploy_0_s'] = summary(with_0)

    results['load_after'] = [round(x, 2) for x in os.getloadavg()]
    results['finished'] = time.strftime('%Y-%m-%dT%H:%M:%S%z')
    if formed and not os.environ.get('BENCH_KEEP'):
        lab('down')

    (REPO / 'bench' / 'results.json').write_text(json.dumps(results, indent=2) + '\n')
    targets = {'cold_install_ratio': '<= 1.3 (usual stack 2.7)', 'rerun_ratio': '<= 3 (usual stack 15)',
               'unchanged_service_s': '<< 0.85 s (usual stack)'}
    print('%-22s %8s   %-28s %s' % ('figure', 'median', 'target', 'runs'))
    for key, value in figures.items():
        print('%-22s %8.3f   %-28s %s' % (key, value['median'], targets[key], value['runs']))
    print('load average %s before, %s after, %d CPUs' % (results['load_before'], results['load_after'], results['cpus']))
    return 0


if __name__ == '__main__':
    sys.exit(main())
