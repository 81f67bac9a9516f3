"""The firewall role, checked with real traffic between real node containers.

Order matters: the port probes (and the reconciliation test, which probes too) run before the
swarm forms, because once it does dockerd itself
listens on 2377/7946 and the kernel's VXLAN device on 4789, and a probe listener could not bind.
Every probe puts a listener on the target port first, so "nothing arrived" can only mean that the
firewall stopped it.
"""

import json
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import testinfra

MANAGER, WORKER, FIREWALLD, OUTSIDER = (
    "mol-fw-manager",
    "mol-fw-worker",
    "mol-fw-firewalld",
    "mol-fw-outsider",
)
IP = {MANAGER: "10.213.30.11", WORKER: "10.213.30.12", FIREWALLD: "10.213.30.13", OUTSIDER: "10.213.30.20"}
UFW_NODES = (MANAGER, WORKER)
MEMBERS = (MANAGER, WORKER, FIREWALLD)

SCENARIO = Path(__file__).resolve().parents[1]
REPO = SCENARIO.parents[1]
ANSIBLE_PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")

LISTENER = textwrap.dedent(
    """
    import os, socket, sys
    proto, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(socket.AF_INET, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    if proto == "tcp":
        s.listen(5)
    s.settimeout(8)
    open(out + ".ready", "w").write(str(os.getpid()))
    try:
        if proto == "tcp":
            conn, peer = s.accept()
        else:
            _, peer = s.recvfrom(64)
        open(out, "w").write(peer[0])
    except socket.timeout:
        pass
    """
)

CLIENT = textwrap.dedent(
    """
    import socket, sys, time
    proto, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if proto == "tcp":
        s = socket.socket()
        s.settimeout(1.5)
        try:
            s.connect((host, port))
            print("connected")
        except OSError as err:
            print("failed", err)
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for _ in range(3):
            s.sendto(b"probe", (host, port))
            time.sleep(0.2)
        print("sent")
    """
)


def node(name):
    return testinfra.get_host(f"docker://{name}")


def probe(src, dst, port, proto="tcp"):
    """True when a packet from src reached a listener on dst:port/proto."""
    out = f"/tmp/probe-{proto}-{port}"
    target = node(dst)
    target.run_test(f"rm -f {out} {out}.ready")
    target.run_test(f"setsid -f python3 -c '{LISTENER}' {proto} {port} {out} >/dev/null 2>&1")
    for _attempt in range(30):
        if target.file(f"{out}.ready").exists:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the probe listener did not start on {dst}:{port}/{proto}")
    node(src).run_test(f"python3 -c '{CLIENT}' {proto} {IP[dst]} {port}")
    for _attempt in range(10):
        got = target.run(f"cat {out}").stdout.strip()
        if got:
            break
        time.sleep(0.1)
    # Let the listener exit (it gives up after 8 s), so the next probe can bind the same port.
    target.run(f"kill $(cat {out}.ready) 2>/dev/null || true")
    return got == IP[src]


def run_role(inventory, *args):
    """Run the converge playbook; return the play recap per host ({'changed': n, 'failed': n})."""
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(REPO / ".cache" / "collections"),
        ANSIBLE_FORCE_COLOR="0",
    )
    result = subprocess.run(
        [ANSIBLE_PLAYBOOK, "-i", str(inventory), str(SCENARIO / "converge.yml"), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    recap = re.findall(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)", result.stdout, re.M)
    assert recap, result.stdout[-2000:]
    return {h: {"changed": int(c), "failed": int(f)} for h, c, f in recap}


def write_inventory(path, managers, workers, **host_vars):
    def hosts(names):
        return {n: {"ansible_connection": "community.docker.docker", **host_vars.get(n, {})} for n in names}

    inventory = {
        "swarm": {
            "children": {
                "swarm_managers": {"hosts": hosts(managers)},
                "swarm_workers": {"hosts": hosts(workers)},
            }
        }
    }
    path.write_text(json.dumps(inventory))
    return path


FULL_HOST_VARS = {FIREWALLD: {"swarm_firewall_backend": "firewalld"}}


def full_inventory(tmp_path):
    return write_inventory(tmp_path / "full.json", [MANAGER], [WORKER, FIREWALLD], **FULL_HOST_VARS)


# ---- rules as the firewalls report them --------------------------------------------------------


def ufw_status(name):
    return node(name).check_output("ufw status")


@pytest.mark.parametrize("name", UFW_NODES)
def test_ufw_active_with_default_deny(name):
    verbose = node(name).check_output("ufw status verbose")
    assert "Status: active" in verbose
    assert "deny (incoming)" in verbose


@pytest.mark.parametrize("name", UFW_NODES)
def test_ufw_rules_name_their_purpose(name):
    status = ufw_status(name)
    for member in MEMBERS:
        for port, purpose in (
            ("7946/tcp", "swarm node gossip"),
            ("7946/udp", "swarm node gossip"),
            ("4789/udp", "swarm overlay network traffic (VXLAN)"),
        ):
            line = f"{port:<27}ALLOW       {IP[member]:<27}# swarmops: {purpose} ({port})"
            assert line in status
        assert f"{IP[member]}/esp" in status
    assert "# swarmops: ssh (22/tcp, keeps the operator connected)" in status
    assert IP[OUTSIDER] not in status


def test_cluster_management_port_on_managers_only():
    assert ufw_status(MANAGER).count("# swarmops: swarm cluster management (2377/tcp)") == len(MEMBERS)
    assert "2377" not in ufw_status(WORKER)


def test_firewalld_zone_holds_members_and_swarm_ports():
    info = node(FIREWALLD).check_output("firewall-cmd --info-zone=swarmops")
    fields = dict(line.strip().split(":", 1) for line in info.splitlines()[1:] if ":" in line)
    assert sorted(fields["sources"].split()) == sorted(IP[m] for m in MEMBERS)
    assert sorted(fields["ports"].split()) == ["4789/udp", "7946/tcp", "7946/udp"]
    assert fields["protocols"].split() == ["esp"]


def test_docker_rules_survive_next_to_ufw():
    # ufw adds its chains after Docker's: container traffic is still forwarded by Docker's rules,
    # and Docker's NAT is untouched.
    forward = node(MANAGER).check_output("iptables -S FORWARD").splitlines()
    assert forward.index("-A FORWARD -j DOCKER-USER") < forward.index("-A FORWARD -j ufw-before-forward")
    assert "-N DOCKER" in node(MANAGER).check_output("iptables -t nat -S")


# ---- traffic before the swarm exists -----------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "dst", "port", "proto"),
    [
        (WORKER, MANAGER, 2377, "tcp"),
        (WORKER, MANAGER, 7946, "tcp"),
        (WORKER, MANAGER, 7946, "udp"),
        (WORKER, MANAGER, 4789, "udp"),
        (MANAGER, WORKER, 7946, "tcp"),
        (FIREWALLD, MANAGER, 2377, "tcp"),
        (MANAGER, FIREWALLD, 7946, "tcp"),
        (MANAGER, FIREWALLD, 4789, "udp"),
    ],
)
def test_member_reaches_swarm_port(src, dst, port, proto):
    assert probe(src, dst, port, proto)


@pytest.mark.parametrize(
    ("dst", "port", "proto"),
    [
        (MANAGER, 2377, "tcp"),
        (MANAGER, 7946, "tcp"),
        (MANAGER, 4789, "udp"),
        (MANAGER, 8080, "tcp"),
        (WORKER, 7946, "tcp"),
        (FIREWALLD, 7946, "tcp"),
        (FIREWALLD, 8080, "tcp"),
    ],
)
def test_outsider_is_kept_out(dst, port, proto):
    assert not probe(OUTSIDER, dst, port, proto)


def test_member_cannot_reach_a_port_nobody_opened():
    assert not probe(WORKER, MANAGER, 8080)


@pytest.mark.parametrize("dst", [MANAGER, FIREWALLD])
def test_ssh_port_open_to_anyone_by_default(dst):
    assert probe(OUTSIDER, dst, 22)


# ---- check mode, reconciliation ----------------------------------------------------------------


def test_check_mode_reports_nothing_on_converged_nodes(tmp_path):
    stats = run_role(full_inventory(tmp_path), "--check", "--diff")
    assert {h: s["changed"] for h, s in stats.items()} == {m: 0 for m in MEMBERS}


def test_check_mode_on_a_fresh_host_does_not_fail_or_change(tmp_path):
    inventory = write_inventory(tmp_path / "fresh.json", [], [OUTSIDER])
    stats = run_role(inventory, "--check")
    assert stats[OUTSIDER]["failed"] == 0
    assert stats[OUTSIDER]["changed"] >= 1  # the ufw package it would install
    assert not node(OUTSIDER).exists("ufw")


def test_removed_member_loses_its_rules(tmp_path):
    smaller = write_inventory(tmp_path / "smaller.json", [MANAGER], [FIREWALLD], **FULL_HOST_VARS)
    try:
        stats = run_role(smaller)
        assert stats[MANAGER]["changed"] > 0 and stats[FIREWALLD]["changed"] > 0
        assert IP[WORKER] not in ufw_status(MANAGER)
        assert IP[FIREWALLD] in ufw_status(MANAGER)
        sources = node(FIREWALLD).check_output("firewall-cmd --zone=swarmops --list-sources").split()
        assert sorted(sources) == sorted([IP[MANAGER], IP[FIREWALLD]])
        assert not probe(WORKER, MANAGER, 7946)
        assert not probe(WORKER, FIREWALLD, 7946)
    finally:
        run_role(full_inventory(tmp_path))
    assert f"{IP[WORKER]:<27}# swarmops: swarm node gossip (7946/tcp)" in ufw_status(MANAGER)
    assert IP[WORKER] in node(FIREWALLD).check_output("firewall-cmd --zone=swarmops --list-sources")


# ---- a real swarm across the firewalled nodes --------------------------------------------------


def test_swarm_forms_across_firewalled_nodes():
    manager = node(MANAGER)
    manager.run_test(f"docker swarm init --advertise-addr {IP[MANAGER]}")
    for worker in (WORKER, FIREWALLD):
        # The token stays inside this one shell command: never printed, never in a Python variable.
        join = subprocess.run(
            f'token="$(docker exec {MANAGER} docker swarm join-token -q worker)" && '
            f'docker exec {worker} docker swarm join --advertise-addr {IP[worker]} --token "$token" '
            f"{IP[MANAGER]}:2377 >/dev/null",
            shell=True,
            capture_output=True,
            text=True,
            check=False,
        )
        assert join.returncode == 0, join.stderr
    for _attempt in range(60):
        ready = manager.check_output("docker node ls --format '{{.Hostname}} {{.Status}}'").splitlines()
        if sorted(ready) == sorted(f"{m} Ready" for m in MEMBERS):
            break
        time.sleep(1)
    assert sorted(ready) == sorted(f"{m} Ready" for m in MEMBERS)
