"""Measure the speed figures P1..P4 of bench/README.md on a lab of our own, and print/save them.

Every figure is a ratio of two things measured side by side (interleaved, same machine, same minutes), so a
machine loaded by other work slows both sides alike; the seconds and the load average of every pair are kept
in results.json too.

  P1  site.yml re-run on the formed lab (changes nothing)  /  a one-task playbook on the same hosts
  P2  site.yml on three fresh nodes                        /  bench/cold-install.sh doing the same work by hand
  P3  deploy_services.yml, 200 unchanged services          /  the same with 20 unchanged services
  P4  site.yml joining 8 new workers                       /  the same joining 2
      (with two floors in details: the engine's part of the joins by hand, and in four Ansible round trips)

Environment: BENCH_RUNS (default 3) runs per figure; BENCH_ONLY=P1,P2,P3,P4 to measure a subset;
BENCH_KEEP=1 leaves the lab up at the end (it is always left up after a failure, for a look);
BENCH_RESULTS=path writes the results elsewhere than bench/results.json.
"""

import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NETWORK, SUBNET, BASE = 'swarmops-bench', '10.213.90.0/24', '10.213.90'
LAB_ENV = dict(os.environ, LAB_PREFIX='bench-', LAB_NETWORK=NETWORK, LAB_SUBNET=SUBNET)
LAB = {'manager1': 11, 'worker1': 21, 'worker2': 22}
MANAGER = 'bench-manager1'
RUNS = int(os.environ.get('BENCH_RUNS', '3'))
ONLY = set(filter(None, os.environ.get('BENCH_ONLY', 'P1,P2,P3,P4').split(',')))
RESULTS = Path(os.environ.get('BENCH_RESULTS', str(REPO / 'bench' / 'results.json')))
MIRROR = 'http://swarmops-mirror/linux/debian'
IMAGE_ARCHIVE = 'http://swarmops-mirror/images/busybox.tar'
# P4's new workers start from a node that site.yml prepared (engine and ufw installed; the engine's data,
# swarm membership included, is a volume and not part of the image), so the figure measures joining and the
# per-node checks, not eight apt installs sharing two cores.
GOLDEN_IMAGE = 'swarmops-bench-node:bookworm'
NODE_MEMORY = '768m'
WORK = REPO / '.cache' / 'bench'
PLAYBOOK_ENV = dict(
    os.environ,
    ANSIBLE_CONFIG=str(REPO / 'ansible.cfg'),
    ANSIBLE_COLLECTIONS_PATH=str(REPO / '.cache' / 'collections'),
    ANSIBLE_FORCE_COLOR='0',
    ANSIBLE_NOCOLOR='1',
    # The lab's group_vars find the test bed (the mirror's key fingerprint) relative to the inventory, which
    # P4's copies under .cache/bench are not where the lab's is.
    SWARMOPS_TESTBED_CACHE=str(REPO / '.cache' / 'testbed'),
)
RECAP = re.compile(r'^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)', re.M)
TARGETS = {'P1': 3.0, 'P2': 1.3, 'P3': 2.0, 'P4': 1.5}
TITLES = {
    'P1': 'site.yml re-run / one task',
    'P2': 'cold site.yml / shell script',
    'P3': '200 / 20 unchanged services',
    'P4': 'join 8 / join 2 workers',
}


def log(message):
    print('[bench %s] %s' % (time.strftime('%H:%M:%S'), message), file=sys.stderr, flush=True)


def sh(command, **kwargs):
    return subprocess.run(command, check=True, cwd=REPO, **kwargs)


def load():
    return round(os.getloadavg()[0], 2)


def lab(action, nodes=None):
    env = dict(LAB_ENV, LAB_NODES=' '.join('%s:%d' % (name, octet) for name, octet in (nodes or LAB).items()))
    sh(['bash', 'tests/testbed/lab.sh', action], env=env, stdout=subprocess.DEVNULL)


def fresh_lab():
    lab('down')
    lab('up')  # waits until systemd runs on every node


def ansible_playbook():
    return str(Path(sys.executable).parent / 'ansible-playbook')


# CPU seconds of the last playbook run's process tree on the controller (ansible-playbook, its forks and their
# `docker exec` clients; not the nodes' own work, which runs in the node containers).
LAST_CONTROLLER_CPU = [0.0]


def controller_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def playbook(path, extra_vars=None, expect_changed=None, inventory=None):
    """Run a playbook against the bench lab (bench_inventory() unless INVENTORY); return (seconds, recap).
    expect_changed=0 asserts idempotence."""
    command = [ansible_playbook(), '-i', str(inventory or bench_inventory()), path]
    if extra_vars:
        command += ['-e', json.dumps(extra_vars)]
    start, cpu = time.monotonic(), controller_cpu()
    result = subprocess.run(command, cwd=REPO, env=PLAYBOOK_ENV, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - start
    LAST_CONTROLLER_CPU[0] = controller_cpu() - cpu
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-6000:] + result.stderr[-3000:])
        raise SystemExit('bench: %s failed (rc %d)' % (path, result.returncode))
    recap = {host: {'ok': int(ok), 'changed': int(changed), 'skipped': int(skipped)}
             for host, ok, changed, _unreachable, _failed, skipped in RECAP.findall(result.stdout)}
    if expect_changed is not None:
        changed = {host: stats['changed'] for host, stats in recap.items() if stats['changed'] != expect_changed}
        if changed:
            sys.stderr.write(result.stdout[-6000:])
            raise SystemExit('bench: %s was expected to change nothing, but changed %s' % (path, changed))
    return seconds, recap


def docker_exec(node, *argv, stdin=None):
    return subprocess.run(['docker', 'exec', '-i', node] + list(argv), input=stdin, text=True, check=True,
                          capture_output=True).stdout


def shell_converge():
    """bench/cold-install.sh in the playbook's order: prepare every node in parallel, init, join the workers in
    parallel, create the services. The join token passes from one container to the other through this process
    only (a bench, not a test of the collection's secrets)."""
    members = ['%s.%d' % (BASE, octet) for octet in LAB.values()]
    nodes = {'bench-' + name: ('manager' if name.startswith('manager') else 'worker', '%s.%d' % (BASE, octet))
             for name, octet in LAB.items()}
    text = (REPO / 'bench' / 'cold-install.sh').read_text()

    def run(node, args, stdin=''):
        subprocess.run(['docker', 'exec', '-i', node, 'sh', '-c', 'cat >/tmp/cold-install.sh'], input=text,
                       text=True, check=True)
        subprocess.run(['docker', 'exec', '-i', node, 'sh', '/tmp/cold-install.sh'] + args, input=stdin, text=True,
                       check=True, stdout=subprocess.DEVNULL)

    start = time.monotonic()
    with ThreadPoolExecutor(len(nodes)) as pool:
        list(pool.map(lambda item: run(item[0], ['prepare', MIRROR, IMAGE_ARCHIVE, item[1][0]] + members),
                      nodes.items()))
    run(MANAGER, ['init', nodes[MANAGER][1]])
    token = docker_exec(MANAGER, 'docker', 'swarm', 'join-token', '-q', 'worker').strip()
    workers = [node for node, (role, _addr) in nodes.items() if role == 'worker']
    with ThreadPoolExecutor(len(workers)) as pool:
        list(pool.map(lambda node: run(node, ['join', nodes[node][1], nodes[MANAGER][1]], token + '\n'), workers))
    run(MANAGER, ['services'])
    return time.monotonic() - start


def services(count):
    return [{'name': 'bench%03d' % index, 'image': 'swarmops/busybox:local', 'command': ['sleep', '86400'],
             'replicas': 1, 'init': True} for index in range(count)]


def tasks_per_host(recap):
    """Tasks that ran (ok counts changed too) per host: each one is a round trip or a controller-side step;
    skipped tasks cost neither a round trip nor much else."""
    return {host: stats['ok'] for host, stats in sorted(recap.items())}


def pairs(name_a, measure_a, name_b, measure_b, runs=RUNS, figure_of_b=False):
    """Interleave a and b run by run; the ratio of each pair is taken within the same minutes. FIGURE_OF_B: the
    figure is b over a (b must run second), and the log line says so."""
    out = {'a_s': [], 'b_s': [], 'ratios': [], 'load': []}
    for index in range(runs):
        out['load'].append(load())
        seconds_a = measure_a()
        seconds_b = measure_b()
        log('%s %.1f s, %s %.1f s, ratio %.2f, load %.2f (run %d/%d)' % (
            name_a, seconds_a, name_b, seconds_b, seconds_b / seconds_a if figure_of_b else seconds_a / seconds_b,
            out['load'][-1], index + 1, runs))
        out['a_s'].append(round(seconds_a, 2))
        out['b_s'].append(round(seconds_b, 2))
        out['ratios'].append(round(seconds_a / seconds_b, 3))
    return out


def figure(measured, a, b):
    return {'median': round(statistics.median(measured['ratios']), 3), 'runs': measured['ratios'],
            'load': measured['load'], a: {'median': round(statistics.median(measured['a_s']), 2),
                                          'runs': measured['a_s']},
            b: {'median': round(statistics.median(measured['b_s']), 2), 'runs': measured['b_s']}}


# ---- the inventory: the lab's, as a real cluster's inventory looks -------------------------------------

def new_workers(count):
    return {'new%02d' % index: 30 + index for index in range(1, count + 1)}


LAB_HOST = re.compile(r'"\{\{ lab_container_prefix \| default\(\'\'\) \}\}([\w-]+)"')
LAB_FINGERPRINT = re.compile(r"^docker_apt_gpg_fingerprint: .*$", re.M)
LAB_CACHE = re.compile(r"^swarmops_testbed_cache: .*\n", re.M)


def bench_inventory(workers=()):
    """The lab's inventory (hosts.yml and group_vars), plus WORKERS in the workers' group, as a copy under
    .cache/bench whose values are written out: the bench's container names in ansible_host, the mirror's key
    fingerprint in docker_apt_gpg_fingerprint. The lab's own inventory templates them (a prefix given with -e, a
    file lookup), so that tests can point it at their copies of the lab; a real inventory states them. Templated,
    they are compiled again in every task's worker for every host (165 compiles in an unchanged site.yml run),
    which no real cluster pays and which would be counted against the roles."""
    directory = WORK / ('inventory-%d' % len(workers))
    shutil.rmtree(str(directory), ignore_errors=True)
    directory.mkdir(parents=True)
    shutil.copytree(str(REPO / 'inventories' / 'lab' / 'group_vars'), str(directory / 'group_vars'))
    engine = directory / 'group_vars' / 'swarm' / 'engine.yml'
    fingerprint = (REPO / '.cache' / 'testbed' / 'mirror' / 'fingerprint').read_text().strip()
    text, found = LAB_FINGERPRINT.subn('docker_apt_gpg_fingerprint: %s' % fingerprint, engine.read_text())
    assert found == 1, 'inventories/lab/group_vars/swarm/engine.yml changed shape'
    engine.write_text(LAB_CACHE.sub('', text))
    text = (REPO / 'inventories' / 'lab' / 'hosts.yml').read_text()
    extra = ''.join('        %s:\n          ansible_host: "{{ lab_container_prefix | default(\'\') }}%s"\n'
                    % (name, name) for name in workers)
    marker = '    swarm_workers:\n      hosts:\n'
    assert marker in text, 'inventories/lab/hosts.yml changed shape'
    text, found = LAB_HOST.subn(r'bench-\1', text.replace(marker, marker + extra))
    assert found == 3 + len(workers) and 'lab_container_prefix' not in text.split('swarm:', 1)[1], \
        'inventories/lab/hosts.yml changed shape'
    (directory / 'hosts.yml').write_text(text)
    return directory


def nodes_sh(*args):
    sh(['bash', 'bench/nodes.sh'] + list(args), stdout=subprocess.DEVNULL)


def build_golden_image():
    log('building %s (a node prepared by site.yml, then saved)' % GOLDEN_IMAGE)
    golden = {'golden': 30}
    nodes_sh('up', 'swarmops-node:bookworm', NETWORK, NODE_MEMORY, 'bench-golden:%s.30' % BASE)
    playbook('site.yml', inventory=bench_inventory(golden))
    nodes_sh('commit', 'bench-golden', GOLDEN_IMAGE)
    nodes_sh('down', 'bench-golden')
    forget_workers(golden)


def forget_workers(workers):
    """Remove WORKERS' containers and nodes, then converge the lab alone (the others drop their firewall rules):
    the state every P4 run starts from."""
    nodes_sh('down', *['bench-' + name for name in workers])
    for name in workers:
        subprocess.run(['docker', 'exec', MANAGER, 'docker', 'node', 'rm', '--force', 'bench-' + name],
                       capture_output=True, check=False)
    playbook('site.yml')


JOIN_CONTROLLER_CPU = {}


def join(count):
    workers = new_workers(count)
    inventory = bench_inventory(workers)
    nodes_sh('up', GOLDEN_IMAGE, NETWORK, NODE_MEMORY, *['bench-%s:%s.%d' % (n, BASE, o) for n, o in workers.items()])
    seconds, _recap = playbook('site.yml', inventory=inventory)
    JOIN_CONTROLLER_CPU.setdefault(count, []).append(round(LAST_CONTROLLER_CPU[0], 2))
    ready = docker_exec(MANAGER, 'docker', 'node', 'ls', '--format', '{{.Hostname}} {{.Status}}').split('\n')
    missing = [n for n in workers if 'bench-%s Ready' % n not in ready]
    if missing:
        raise SystemExit('bench: %s did not join: %s' % (missing, ready))
    forget_workers(workers)
    return seconds


# P4's references, the same new nodes doing only the engine's part of a join (the image loaded, `docker swarm join`),
# all at once: by hand, and as an Ansible playbook of four round trips per node (bench/join-floor.yml: two module
# runs standing in for the read and the firewall's apply, then the load and the join). No firewall: ufw is off on
# the manager and the new nodes, and every engine answers, before the clock starts; they are floors, not rivals.
def join_reference(count, how):
    workers = new_workers(count)
    nodes_sh('up', GOLDEN_IMAGE, NETWORK, NODE_MEMORY, *['bench-%s:%s.%d' % (n, BASE, o) for n, o in workers.items()])
    token = docker_exec(MANAGER, 'docker', 'swarm', 'join-token', '-q', 'worker').strip()
    nodes = ['bench-' + name for name in workers]
    for node in [MANAGER] + nodes:
        docker_exec(node, 'ufw', 'disable')
    for node in nodes:
        docker_exec(node, 'sh', '-c', 'until docker info >/dev/null 2>&1; do sleep 0.2; done')
    start = time.monotonic()
    # The token, a secret, goes on stdin or in the environment: never into a file or a host's process list.
    if how == 'script':
        command = ('curl -fsSL %s | docker load -q >/dev/null && read -r token && docker swarm join --advertise-addr '
                   '%s.%%d --token "$token" %s.11:2377 >/dev/null' % (IMAGE_ARCHIVE, BASE, BASE))
        with ThreadPoolExecutor(max_workers=count) as pool:
            list(pool.map(lambda item: docker_exec('bench-' + item[0], 'sh', '-c', command % item[1],
                                                   stdin=token + '\n'), workers.items()))
    else:
        inventory = WORK / 'join-floor-inventory.json'
        inventory.write_text(json.dumps({'new': {
            'hosts': {name: {'ansible_host': 'bench-' + name, 'join_address': '%s.%d' % (BASE, octet)}
                      for name, octet in workers.items()},
            'vars': {'ansible_connection': 'community.docker.docker', 'ansible_python_interpreter': '/usr/bin/python3',
                     'join_manager': '%s.11:2377' % BASE, 'image_archive': IMAGE_ARCHIVE}}}))
        sh([ansible_playbook(), '-i', str(inventory), 'bench/join-floor.yml'],
           env=dict(PLAYBOOK_ENV, SWARMOPS_BENCH_JOIN_TOKEN=token), stdout=subprocess.DEVNULL)
    seconds = time.monotonic() - start
    docker_exec(MANAGER, 'ufw', '--force', 'enable')
    forget_workers(workers)
    return seconds


def per_added_node(measured):
    """Seconds each node beyond the second adds: (join 8 - join 2) / 6, the median over the runs."""
    return round(statistics.median((a - b) / 6 for a, b in zip(measured['a_s'], measured['b_s'])), 2)


def main():
    results = {'started': time.strftime('%Y-%m-%dT%H:%M:%S%z'), 'runs': RUNS, 'cpus': os.cpu_count(),
               'commit': subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=REPO, capture_output=True,
                                        text=True, check=False).stdout.strip(),
               'load_before': [round(x, 2) for x in os.getloadavg()], 'figures': {}, 'details': {}}
    figures, details = results['figures'], results['details']
    WORK.mkdir(parents=True, exist_ok=True)

    if 'P2' in ONLY:
        recaps = []

        def cold_site():
            fresh_lab()
            seconds, recap = playbook('site.yml')
            recaps.append(recap)
            return seconds

        def cold_shell():
            fresh_lab()
            return shell_converge()

        # the script first in each pair, so the lab ends formed by site.yml for the figures below
        measured = pairs('cold shell', cold_shell, 'cold site.yml', cold_site, figure_of_b=True)
        measured = {'a_s': measured['b_s'], 'b_s': measured['a_s'], 'load': measured['load'],
                    'ratios': [round(a / b, 3) for a, b in zip(measured['b_s'], measured['a_s'])]}
        figures['P2'] = figure(measured, 'site_s', 'script_s')
        details['P2_site_tasks_per_host'] = tasks_per_host(recaps[-1])
    elif ONLY & {'P1', 'P3', 'P4'}:
        fresh_lab()
        log('forming the cluster (site.yml on fresh nodes)')
        details['cold_site_s'] = round(playbook('site.yml')[0], 2)

    if 'P1' in ONLY:
        recaps = []

        def rerun():
            seconds, recap = playbook('site.yml', expect_changed=0)
            recaps.append(recap)
            return seconds

        rerun()  # the first run after the cold one may still find the services converging
        figures['P1'] = figure(pairs('site.yml re-run', rerun, 'one task', lambda: playbook('bench/ping.yml')[0]),
                               'site_s', 'one_task_s')
        details['P1_tasks_per_host'] = tasks_per_host(recaps[-1])

    if 'P4' in ONLY:
        build_golden_image()
        measured = pairs('join 8', lambda: join(8), 'join 2', lambda: join(2))
        figures['P4'] = figure(measured, 'join_8_s', 'join_2_s')
        floors = {'script': pairs('join 8 by hand', lambda: join_reference(8, 'script'),
                                  'join 2 by hand', lambda: join_reference(2, 'script')),
                  'four_round_trips': pairs('join 8 in four round trips', lambda: join_reference(8, 'playbook'),
                                            'join 2 in four round trips', lambda: join_reference(2, 'playbook'))}
        # What one more node costs, site.yml and its floors: with a fixed part F and a cost c per node, the figure is
        # (F + 8c) / (F + 2c), so a target of 1.5x needs c <= F / 10 (see bench/README.md).
        details['P4_seconds_per_added_node'] = dict(
            {'site_yml': per_added_node(measured)}, **{name: per_added_node(m) for name, m in floors.items()})
        details['P4_floors'] = {name: figure(m, 'join_8_s', 'join_2_s') for name, m in floors.items()}
        # What scales on hosts with CPUs of their own: the controller's share. Here the nodes share its two cores.
        details['P4_controller_cpu_s'] = {
            'join_8': JOIN_CONTROLLER_CPU[8], 'join_2': JOIN_CONTROLLER_CPU[2],
            'ratios': [round(a / b, 3) for a, b in zip(JOIN_CONTROLLER_CPU[8], JOIN_CONTROLLER_CPU[2])]}

    if 'P3' in ONLY:
        log('creating 200 services')
        playbook('playbooks/deploy_services.yml', {'swarm_services': services(200)})
        figures['P3'] = figure(pairs(
            '200 unchanged services',
            lambda: playbook('playbooks/deploy_services.yml', {'swarm_services': services(200)}, expect_changed=0)[0],
            '20 unchanged services',
            lambda: playbook('playbooks/deploy_services.yml', {'swarm_services': services(20)}, expect_changed=0)[0]),
            'services_200_s', 'services_20_s')

    results['load_after'] = [round(x, 2) for x in os.getloadavg()]
    results['finished'] = time.strftime('%Y-%m-%dT%H:%M:%S%z')
    if not os.environ.get('BENCH_KEEP'):
        lab('down')
    RESULTS.write_text(json.dumps(results, indent=2) + '\n')
    print('%-4s %-30s %7s %7s   %-26s %s' % ('', 'figure', 'median', 'target', 'runs', 'load (1 min) per run'))
    for key in sorted(figures):
        value = figures[key]
        print('%-4s %-30s %7.2f %7s   %-26s %s' % (key, TITLES[key], value['median'], '<= %.1f' % TARGETS[key],
                                                   ', '.join('%.2f' % r for r in value['runs']),
                                                   ', '.join('%.1f' % x for x in value['load'])))
    print('load average %s before, %s after, %d CPUs'
          % (results['load_before'], results['load_after'], results['cpus']))
    return 0


if __name__ == '__main__':
    sys.exit(main())
