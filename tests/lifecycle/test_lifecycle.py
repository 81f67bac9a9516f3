"""Day 2 on one real lab, in order: node state from the inventory (labels and placement, drain, promote and
demote), swarm_node's identification and self-demotion, a stale entry pruned, a node removed (the others'
firewalls probed with real traffic), autolock with the key in a vaulted file, rotations, reset and a fresh
swarm. Every step: --check first (predicts, changes nothing), then the run, then a re-run that changes nothing.
"""

import hashlib
import json

from conftest import KEY_FILE, VAULT_PASSWORD_FILE, env, sh, wait_until

NODES = 'tests/lifecycle/playbooks/nodes.yml'
PUBLISHED_CHAIN = 'SWARMOPS-PUBLISHED'
PUBLISHED_UNIT = '/etc/systemd/system/swarmops-docker-user.service'
PUBLISHED_SCRIPT = '/usr/local/sbin/swarmops-docker-user'
UNLOCK = 'tests/lifecycle/playbooks/unlock.yml'
DEPLOY_SERVICES = 'TASK [swarmops.swarm.swarm_services : Deploy the services through the leading manager]'


def spec_of(lab, host):
    entries = lab.node(host)
    assert len(entries) == 1, entries
    return entries[0]['Spec']


def fingerprint(lab):
    """What a --check (or refused) run must leave alone: every node's spec, every service's spec, ufw on each host.
    Specs, not version indexes: the swarm itself rewrites a node's object for a while after a role change (its
    certificate, its status) and a service's after a rollout (its update status), which no run of ours does;
    anything a run could change (labels, availability, role, a service) is in a spec."""
    nodes = sorted((n['ID'], json.dumps(n['Spec'], sort_keys=True)) for n in lab.nodes())
    services = sorted((s['ID'], json.dumps(s['Spec'], sort_keys=True))
                      for s in lab.api(lab.live_manager(), '/services'))
    rules = dict((h, lab.ufw(h)) for h in lab.managers + lab.workers)
    return nodes, services, rules


def differences(before, after):
    """The entries of two fingerprints that differ, for the failure message."""
    return [(sorted(set(b) - set(a)) if isinstance(b, list) else b, sorted(set(a) - set(b)) if isinstance(a, list)
             else a) for b, a in zip(before[:2], after[:2]) if b != a] + \
        [(h, before[2][h], after[2].get(h)) for h in before[2] if before[2][h] != after[2].get(h)]


def check_then_apply(lab, playbook, **kwargs):
    """--check predicts changes and makes none; the run makes them; a re-run makes none."""
    before = fingerprint(lab)
    lab.playbook(playbook, check=True, **kwargs).changed_some()
    after = fingerprint(lab)
    assert after == before, '--check changed the swarm: %s' % differences(before, after)
    run = lab.playbook(playbook, **kwargs).changed_some()
    lab.playbook(playbook, label='again', **kwargs).ok(changed=0)
    return run


def test_site_builds_the_lab(lab):
    lab.site().changed_some()
    assert sorted(n['Description']['Hostname'] for n in lab.nodes()) == ['lc-manager1', 'lc-worker1', 'lc-worker2',
                                                                         'lc-worker3']
    wait_until(lambda: sum(lab.running_tasks('web').values()) == 2, 180, 'web running')


def test_site_converges_labels_and_availability_in_one_call_and_reports_nodes_outside_the_inventory(lab):
    lab.exec('manager1', 'docker node update --label-add owner=ops lc-worker2')
    lab.set_host_vars('worker2', swarm_node_labels={'zone': 'b'})
    lab.set_host_vars('worker1', swarm_node_labels={'zone': 'a', 'disk': 'ssd'})
    lab.set_host_vars('worker3', swarm_node_availability='pause')
    before = fingerprint(lab)
    check = lab.site(check=True, label='site-labels').changed_some()
    after = fingerprint(lab)
    assert after == before, '--check changed the swarm: %s' % differences(before, after)
    assert "lc-worker1: labels {} -> {'zone': 'a', 'disk': 'ssd'}" in check.stdout, check.describe()
    assert 'lc-worker3: availability active -> pause' in check.stdout, check.describe()
    run = lab.site(label='site-labels').changed_some()
    assert run.stdout.count('TASK [swarmops.swarm.swarm_nodes : Converge every node') == 1
    # the nodes changed in this run: the services step asks the swarm again (and waits), whatever the first read saw
    assert DEPLOY_SERVICES in _ran(run), run.describe()
    assert spec_of(lab, 'worker2')['Labels'] == {'zone': 'b', 'owner': 'ops'}  # merge: the hand-set label stays
    assert spec_of(lab, 'worker1')['Labels'] == {'zone': 'a', 'disk': 'ssd'}
    assert spec_of(lab, 'worker3')['Availability'] == 'pause'
    # the re-run is cheap: no read and no call of the node step
    again = lab.site(label='site-again').ok(changed=0)
    # (the role's argument check, named after the role's description, runs on every run and is not counted)
    assert 'swarm_nodes : Read the node ID of a host' not in _ran(again), again.describe()
    assert "swarm_nodes : Converge every node's role, availability and labels (one call" not in _ran(again), \
        again.describe()
    # nor of the services' module: the first read found them as declared and settled, and nothing changed since
    assert DEPLOY_SERVICES not in _ran(again), again.describe()
    # a service changed by hand in two of its declared options: the first read sees it, the module restores it
    web = lab.api(lab.live_manager(), '/services/web')['Spec']
    lab.exec('manager1', 'docker service update --detach --replicas 3 --constraint-rm node.role==worker web')
    drift = lab.site(label='site-drift').changed_some()
    assert DEPLOY_SERVICES in _ran(drift), drift.describe()
    restored = lab.api(lab.live_manager(), '/services/web')['Spec']
    assert (restored['Mode'], restored['TaskTemplate']['Placement']) == (
        web['Mode'], web['TaskTemplate']['Placement']), restored
    wait_until(lambda: sum(lab.running_tasks('web').values()) == 2, 120, 'web back at 2 replicas')
    # a node that is in the swarm but not in the inventory is reported, and left alone (the firewall of the
    # others shuts it out: that is the run's only change)
    lab.set_groups(['manager1'], ['worker1', 'worker2'])
    try:
        report = lab.site(label='site-outside').ok()
        assert 'WARNING: 1 node(s) of the swarm are not in the inventory: lc-worker3' in report.stdout, \
            report.describe()
        assert [n['Spec']['Availability'] for n in lab.node('worker3')] == ['pause']
    finally:
        lab.set_groups(['manager1'], ['worker1', 'worker2', 'worker3'])
    lab.set_host_vars('worker3', swarm_node_availability='active')
    lab.site(label='site-active').changed_some()
    assert spec_of(lab, 'worker3')['Availability'] == 'active'
    wait_until(lambda: [n['Status']['State'] for n in lab.node('worker3')] == ['ready'], 120, 'worker3 ready')


def _ran(run):
    """The task headers of tasks that did something (ok or changed) on some host."""
    out, header = [], None
    for line in run.stdout.splitlines():
        if line.startswith('TASK ['):
            header = line
        elif header and (line.startswith('ok: ') or line.startswith('changed: ')):
            out.append(header)
            header = None
    return '\n'.join(out)


def test_labels_then_placement_by_label(lab):
    # merge (the default): the label set by hand stays
    assert spec_of(lab, 'worker2')['Labels'] == {'zone': 'b', 'owner': 'ops'}
    assert spec_of(lab, 'worker1')['Labels'] == {'zone': 'a', 'disk': 'ssd'}
    lab.playbook('tests/lifecycle/playbooks/service.yml').changed_some()
    assert lab.running_tasks('zoned') == {'lc-worker2': 1}
    # replace: the inventory owns every label of the node
    lab.set_host_vars('worker2', swarm_node_labels_state='replace')
    check_then_apply(lab, NODES)
    assert spec_of(lab, 'worker2')['Labels'] == {'zone': 'b'}
    assert lab.running_tasks('zoned') == {'lc-worker2': 1}


def test_drain_moves_the_tasks_and_active_takes_them_again(lab):
    before = lab.running_tasks('web')
    assert 'lc-worker1' in before or 'lc-worker3' in before
    drained = 'worker1' if 'lc-worker1' in before else 'worker3'
    lab.set_host_vars(drained, swarm_node_availability='drain')
    check_then_apply(lab, NODES)
    assert spec_of(lab, drained)['Availability'] == 'drain'
    # the module waited: nothing runs there any more, and web is back at 2 replicas on the others
    tasks = lab.running_tasks('web')
    assert lab.container(drained) not in tasks and sum(tasks.values()) == 2, tasks
    lab.set_host_vars(drained, swarm_node_availability='active')
    check_then_apply(lab, NODES)
    assert spec_of(lab, drained)['Availability'] == 'active'


def test_site_promotes_and_demotes_one_at_a_time_and_refuses_a_change_that_loses_the_quorum(lab):
    # two workers moved to the managers' group: site.yml opens 2377/tcp on them and promotes them. The lab's web
    # service runs one task per worker, on workers only: with one worker left it cannot place its second task,
    # and site.yml would rightly wait for it and fail. These runs are about roles: they leave the services out.
    roles_only = {'swarm_services': []}
    lab.set_groups(['manager1', 'worker1', 'worker2'], ['worker3'])
    check_then_apply(lab, 'site.yml', extra_vars=roles_only)
    statuses = dict((h, (lab.node(h)[0].get('ManagerStatus') or {}).get('Reachability')) for h in lab.managers)
    assert statuses == {'manager1': 'reachable', 'worker1': 'reachable', 'worker2': 'reachable'}, statuses
    assert lab.can_reach('worker3', 'worker1', 2377) and lab.can_reach('worker3', 'worker2', 2377)

    # worker2's engine goes away; demoting worker1 would then leave 1 reachable manager of the 2 that remain:
    # refused in the first play, naming both, with nothing changed
    lab.exec('worker2', 'systemctl stop docker.socket docker')
    try:
        # both marks of a manager gone: unreachable for the raft, then down for the dispatcher (heartbeats)
        wait_until(lambda: [((n.get('ManagerStatus') or {}).get('Reachability'), n['Status']['State'])
                            for n in lab.node('worker2')] == [('unreachable', 'down')], 120,
                   'worker2 unreachable and down')
        lab.set_groups(['manager1', 'worker2'], ['worker1', 'worker3'])
        before = fingerprint(lab)
        lab.site(extra_vars=roles_only, label='site-demotion-without-quorum').refused(
            'demoting worker1 would leave 1 reachable of the 2 remaining managers, below their quorum of 2',
            'unreachable now: worker2', 'Nothing was changed')
        after = fingerprint(lab)
        assert after == before, 'a refused run changed the swarm: %s' % differences(before, after)
    finally:
        lab.exec('worker2', 'systemctl start docker')
    wait_until(lambda: (lab.node('worker2')[0].get('ManagerStatus') or {}).get('Reachability') == 'reachable',
               120, 'worker2 reachable again')

    # swarm_node on a manager demoting itself: the demotion works and so does the task (no read of the node
    # list as a manager afterwards, no silent give-up)
    result = lab.module('worker1', 'swarmops.swarm.swarm_node', {'node': lab.container('worker1'), 'role': 'worker'})
    assert not result.get('failed'), result.get('msg')
    assert result['changed'] and result['node']['role'] == 'worker' and result['node']['manager_status'] is None
    assert not lab.swarm_state('worker1')['ControlAvailable']

    # the inventory follows: worker1 and worker2 back to the workers; worker2 is demoted (2 managers -> 1, both
    # answering: the quorum holds) and 2377/tcp closed on both
    lab.set_groups(['manager1'], ['worker1', 'worker2', 'worker3'])
    check_then_apply(lab, 'site.yml', extra_vars=roles_only)
    assert [h for h in lab.managers + lab.workers if lab.swarm_state(h)['ControlAvailable']] == ['manager1']
    assert not lab.can_reach('worker3', 'worker2', 2377) and not lab.can_reach('worker3', 'worker1', 2377)
    assert lab.can_reach('worker3', 'manager1', 2377)


def test_a_hostname_listed_twice_is_never_resolved_to_the_live_node(lab):
    # worker3 leaves and joins again by hand: the node list then holds a Down entry and a live one
    old_id = lab.node('worker3')[0]['ID']
    lab.exec('worker3', 'docker swarm leave')
    token = lab.exec('manager1', 'docker swarm join-token -q worker').stdout.strip()
    lab.exec('worker3', 'docker swarm join --token %s %s:2377 >/dev/null' % (token, lab.ip('manager1')))
    wait_until(lambda: sorted(n['Status']['State'] for n in lab.node('worker3')) == ['down', 'ready'], 120,
               'worker3 listed twice')
    live_id = [n['ID'] for n in lab.node('worker3') if n['Status']['State'] == 'ready'][0]

    result = lab.module('manager1', 'swarmops.swarm.swarm_node',
                        {'node': lab.container('worker3'), 'state': 'absent', 'force': True})
    assert result.get('failed') and 'names 2 nodes' in result['msg'], result
    assert old_id in result['msg'] and live_id in result['msg']
    assert sorted(n['Status']['State'] for n in lab.node('worker3')) == ['down', 'ready']  # nothing removed

    # the node step prunes the stale entry (same hostname and address as the live one) and nothing else
    check_then_apply(lab, NODES)
    assert [n['ID'] for n in lab.node('worker3')] == [live_id]


def test_remove_node_drains_leaves_and_closes_the_firewall(lab):
    assert lab.can_reach('worker3', 'manager1', 2377) and lab.can_reach('worker3', 'worker1', 7946)
    wait_until(lambda: sum(lab.running_tasks('web').values()) == 2, 120, 'web running')
    args = ('-e', 'node=worker3')
    before = fingerprint(lab)
    lab.playbook('playbooks/remove_node.yml', *args, check=True).changed_some()
    after = fingerprint(lab)
    assert after == before, '--check changed the swarm: %s' % differences(before, after)
    lab.playbook('playbooks/remove_node.yml', *args).changed_some()
    assert lab.node('worker3') == []
    assert lab.swarm_state('worker3')['LocalNodeState'] == 'inactive'
    tasks = lab.running_tasks('web')
    assert sum(tasks.values()) == 2 and 'lc-worker3' not in tasks, tasks
    # the others' firewalls no longer let it in; the members still reach each other
    assert lab.ip('worker3') not in lab.ufw('manager1') and lab.ip('worker3') not in lab.ufw('worker1')
    assert not lab.can_reach('worker3', 'manager1', 2377)
    assert not lab.can_reach('worker3', 'worker1', 7946)
    assert lab.can_reach('worker2', 'manager1', 2377) and lab.can_reach('worker2', 'worker1', 7946)
    lab.playbook('playbooks/remove_node.yml', *args, label='again').ok(changed=0)
    # out of the inventory for good
    lab.set_groups(['manager1'], ['worker1', 'worker2'])


def test_removal_of_the_last_manager_is_refused_before_anything(lab):
    before = fingerprint(lab)
    lab.playbook('playbooks/remove_node.yml', '-e', 'node=manager1').refused('is the last manager of the swarm')
    assert fingerprint(lab) == before


def key_file_store():
    """The decrypted key file, parsed (the test reads it; it never prints it)."""
    text = sh('ansible-vault', 'view', '--vault-password-file', str(VAULT_PASSWORD_FILE), str(KEY_FILE),
              env=env()).stdout
    return json.loads('\n'.join(line for line in text.splitlines() if not line.startswith('#')))


def sha(text):
    return hashlib.sha256(text.strip().encode()).hexdigest()


def test_autolock_key_kept_in_a_vaulted_file_and_a_restarted_manager_unlocked(lab):
    lab.group_vars.update(swarm_bootstrap_autolock=True, swarm_bootstrap_cert_expiry='480h')
    lab.write_inventory()
    lab.site(label='site-autolock').changed_some()
    assert not KEY_FILE.exists()
    check_then_apply(lab, UNLOCK)
    assert oct(KEY_FILE.stat().st_mode & 0o777) == '0o600'
    assert KEY_FILE.read_text().startswith('$ANSIBLE_VAULT;')
    store = key_file_store()
    current = lab.exec('manager1', 'docker swarm unlock-key -q').stdout
    assert sha(store['unlock_key']) == sha(current) and store['previous_unlock_keys'] == []

    lab.exec('manager1', 'systemctl restart docker')
    wait_until(lambda: lab.swarm_state('manager1').get('LocalNodeState') == 'locked', 60, 'manager1 locked')
    before = fingerprint_locked(lab)
    lab.playbook(UNLOCK, check=True).changed_some()
    assert lab.swarm_state('manager1')['LocalNodeState'] == 'locked' and fingerprint_locked(lab) == before
    lab.playbook(UNLOCK).changed_some()
    assert lab.swarm_state('manager1')['LocalNodeState'] == 'active'
    lab.playbook(UNLOCK, label='again').ok(changed=0)
    wait_until(lambda: sum(lab.running_tasks('web').values()) == 2, 180, 'web running after the restart')


def fingerprint_locked(lab):
    return sorted((h, lab.swarm_state(h).get('LocalNodeState')) for h in lab.managers + lab.workers)


def root_ca(lab):
    return lab.api('manager1', '/swarm')['TLSInfo']['TrustRoot']


def test_rotate_tokens_root_ca_and_unlock_key(lab):
    tokens = lab.exec('manager1', 'docker swarm join-token -q worker; docker swarm join-token -q manager').stdout
    key = lab.exec('manager1', 'docker swarm unlock-key -q').stdout
    root = root_ca(lab)
    rotate_all = {'swarm_rotate_ca': True, 'swarm_unlock_key_rotate': True}
    run = lab.playbook('playbooks/rotate.yml', extra_vars=rotate_all, check=True).changed_some()
    assert sha(lab.exec('manager1', 'docker swarm join-token -q worker; docker swarm join-token -q manager')
               .stdout) == sha(tokens)
    assert root_ca(lab) == root and sha(lab.exec('manager1', 'docker swarm unlock-key -q').stdout) == sha(key)

    run = lab.playbook('playbooks/rotate.yml', extra_vars=rotate_all).changed_some()
    new_tokens = lab.exec('manager1', 'docker swarm join-token -q worker; docker swarm join-token -q manager').stdout
    assert all(sha(a) != sha(b) for a, b in zip(tokens.split(), new_tokens.split()))
    assert root_ca(lab) != root
    # every node has a certificate from the new root and trusts it (the playbook waited for it)
    swarm = lab.api('manager1', '/swarm')
    for node in lab.nodes():
        assert node['Description']['TLSInfo'] == swarm['TLSInfo'], node['Description']['Hostname']
    # the new unlock key is in the file, the old one kept as the previous
    store = key_file_store()
    assert sha(store['unlock_key']) == sha(lab.exec('manager1', 'docker swarm unlock-key -q').stdout)
    assert [sha(k) for k in store['previous_unlock_keys']] == [sha(key)]
    # certificates re-issued under swarm_bootstrap_cert_expiry=480h: 20 days, inside the 30-day warning
    assert run.stdout.count('WARNING: the ') == len(lab.managers + lab.workers), run.describe()
    assert '(19.9 days' in run.stdout or '(20.0 days' in run.stdout, run.describe()
    nothing = {'swarm_rotate_worker_token': False, 'swarm_rotate_manager_token': False}
    lab.playbook('playbooks/rotate.yml', extra_vars=nothing, label='rotate-nothing').ok(changed=0)


def test_reset_refuses_without_the_name_then_tears_down_and_site_builds_a_fresh_swarm(lab):
    before = fingerprint(lab)
    lab.playbook('playbooks/reset.yml').refused('-e confirm_reset=lifecycle')
    lab.playbook('playbooks/reset.yml', '-e', 'confirm_reset=prod').refused('-e confirm_reset=lifecycle')
    assert fingerprint(lab) == before
    cluster = lab.api('manager1', '/swarm')['ID']
    # what the firewall role wrote besides its ufw rules: the published port's DOCKER-USER chain and its unit
    for host in lab.managers + lab.workers:
        assert lab.exec(host, 'iptables -w -S %s' % PUBLISHED_CHAIN, check=False).returncode == 0, host
        assert lab.exec(host, 'test -f %s' % PUBLISHED_UNIT, check=False).returncode == 0, host
        assert '8080/tcp' in lab.ufw(host), host
    # the engine of one node is purged too
    lab.set_host_vars('worker2', swarm_reset_purge_engine=True)
    confirm = ('-e', 'confirm_reset=lifecycle')
    lab.playbook('playbooks/reset.yml', *confirm, check=True).changed_some()
    assert fingerprint(lab) == before
    lab.playbook('playbooks/reset.yml', *confirm).changed_some()
    for host in lab.managers + lab.workers:
        if host != 'worker2':
            assert lab.swarm_state(host)['LocalNodeState'] == 'inactive', host
            assert lab.exec(host, 'docker ps -q').stdout.strip() == '', host
        rules = lab.ufw(host)
        assert '2377' not in rules and '7946' not in rules and '4789' not in rules and '8080' not in rules, rules
        assert '22/tcp' in rules and 'Status: active' in rules, rules  # the operator keeps SSH
        assert lab.exec(host, 'iptables -w -S %s' % PUBLISHED_CHAIN, check=False).returncode != 0, host
        assert 'SWARMOPS' not in lab.exec(host, 'iptables -w -S', check=False).stdout, host
        left = lab.exec(host, 'for f in %s %s /etc/swarmops/firewall; do test -e $f && echo $f; done; true'
                        % (PUBLISHED_UNIT, PUBLISHED_SCRIPT)).stdout.split()
        assert left == [], (host, left)
    packages = lab.exec('worker2', 'dpkg-query -W -f "${Package} ${Status}\\n" docker-ce containerd.io 2>&1 || true').stdout
    assert 'install ok installed' not in packages, packages
    for directory in ('/var/lib/docker', '/etc/apt/sources.list.d', '/etc/apt/keyrings'):
        assert lab.exec('worker2', 'ls -A %s' % directory).stdout.split() == [], directory
    lab.playbook('playbooks/reset.yml', *confirm, label='again').ok(changed=0)

    lab.set_host_vars('worker2', swarm_reset_purge_engine=None)
    lab.group_vars.pop('swarm_bootstrap_autolock', None)
    lab.write_inventory()
    lab.site(label='site-fresh').changed_some()
    assert lab.api('manager1', '/swarm')['ID'] != cluster
    wait_until(lambda: sum(lab.running_tasks('web').values()) == 2, 180, 'web running in the fresh swarm')
