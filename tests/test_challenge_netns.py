"""Challenge targets in a network namespace look like a real network, and leave nothing behind.

As root the target runs in a namespace this program creates (a veth cable, addresses in a
private /24, iptables rules): a DROP rule is a filtered port (no-response), REJECT with ICMP
and REJECT with tcp-reset are closed ports, an address nobody holds is a down host.  The
namespace is removed when the challenge ends, on Ctrl+C and on SIGTERM.  Skipped, with the
reason, without root or iptables.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from lessons.lab import netns
from lessons.lab.challenges import draw
from lessons.lab.challenges.target import ChallengeTarget
from tests.conftest import ROOT, program_env

REASON = netns.unavailable()
pytestmark = [pytest.mark.netns,
              pytest.mark.skipif(REASON is not None, reason=f"no network namespace here: {REASON}")]
SEED = 7


def scan(home, target, ports, *extra):
    proc = subprocess.run([sys.executable, "main.py", "scan", target, "-p", ports, "--yes", "--format", "json",
                           "--all", "--timeout", "1", *extra], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL, env=program_env(home))
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    return json.loads(proc.stdout)


def ours(pid):
    return [name for name in netns.list_namespaces() if name.startswith(f"{netns.PREFIX}challenge-{pid}-")]


def test_drop_is_filtered_reject_is_closed_and_an_empty_address_is_down(isolated_home):
    with ChallengeTarget(draw(2, SEED)) as target:
        assert target.mode == "namespace"
        name = target.namespace.name
        host = target.truth.hosts[0]
        by_how = {p.how: p.port for p in host.ports}
        wanted = [by_how["drop"], by_how["reject-icmp"], by_how["reject-rst"], by_how["service"]]
        report = scan(isolated_home, target.scan_block, ",".join(map(str, wanted)))
        states = {row["port"]: (row["state"], row["reason"]) for row in report["ports"]}
        assert states[by_how["drop"]] == ("filtered", "no-response")
        assert states[by_how["reject-icmp"]][0] == "closed"
        assert states[by_how["reject-rst"]] == ("closed", "conn-refused")
        assert states[by_how["service"]] == ("open", "syn-ack")
    assert name not in netns.list_namespaces()


def test_a_down_host_is_down_and_the_walled_host_hides_from_discovery(isolated_home):
    with ChallengeTarget(draw(6, SEED)) as target:
        plan = target.truth
        report = scan(isolated_home, target.scan_block, f"{plan.low}-{plan.high}")
        states = {host["address"]: host["state"] for host in report["hosts"]}
        for host in plan.hosts:
            expected = "up" if host.role == "up" else "down"   # the firewall drops discovery's probes too
            assert states[target.address(host.number)] == expected, host
        walled = next(h for h in plan.hosts if h.role == "filtered")
        direct = scan(isolated_home, target.address(walled.number), f"{plan.low}-{plan.high}", "--no-ping")
        assert [row["port"] for row in direct["ports"] if row["state"] == "open"] == \
            [p.port for p in walled.ports if p.state == "open"]


def test_nothing_outside_the_host_side_reaches_the_namespace():
    with ChallengeTarget(draw(1, SEED)) as target:
        rules = target.namespace.run("iptables", "-S", "INPUT").stdout
        host_side = target.address(1)
        assert f"! -s {host_side}/32 -i lab1 -j DROP" in rules
        routes = target.namespace.run("ip", "route").stdout
        assert "default" not in routes


@pytest.mark.parametrize("signum,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_the_namespace_is_gone_after_ctrl_c_and_sigterm(isolated_home, signum, code):
    proc = subprocess.Popen([sys.executable, "main.py", "challenge", "2", "--seed", str(SEED)], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=program_env(isolated_home))
    try:
        line = ""
        deadline = time.monotonic() + 30
        while "Your target" not in line and time.monotonic() < deadline:
            line = proc.stdout.readline()
        assert "Your target" in line
        assert ours(proc.pid), "the challenge made its namespace"
        proc.send_signal(signum)
        proc.wait(20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == code
    assert "Traceback" not in proc.stderr.read()
    assert not ours(proc.pid)


def test_a_namespace_left_by_a_killed_process_is_cleaned():
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    name = f"{netns.PREFIX}challenge-{dead.pid}-stale-0"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        assert name in netns.clean_stale()
        assert name not in netns.list_namespaces()
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)
    assert f"{netns.PREFIX}engine-{os.getpid()}-" not in " ".join(netns.clean_stale()), "a live process keeps its own"


def test_the_practice_network_in_a_namespace_has_a_real_firewall_and_a_real_down_host(isolated_home):
    import ipaddress

    from lessons.lab import PracticeLab, compare_network
    from scanner import TimeoutSetting, parse_target
    from scanner import scan as scan_host

    with PracticeLab(base_port=0, also_ipv6=False, network=True, network_namespace=True) as lab:
        network = lab.network
        name = network.namespace.name
        assert network.block.startswith("10.213.") and any(not h.expected_up for h in network.hosts)
        ports = sorted({s.port for h in network.hosts for s in h.services})
        report = scan(isolated_home, network.block, ",".join(map(str, ports)))
        states = {host["address"]: host for host in report["hosts"]}
        for address in map(str, ipaddress.ip_network(network.block)):
            known = next((h for h in network.hosts if h.address == address), None)
            assert states[address]["state"] == ("up" if known and known.expected_up else "down"), address
        db = next(h for h in network.hosts if h.name == "db")
        rows = {row["port"]: (row["state"], row["reason"]) for row in states[db.address]["ports"]}
        for service in db.services:
            wanted = {"filtered": ("filtered", "no-response"), "db": ("open", "syn-ack")}[service.service]
            assert rows[service.port] == wanted
        reports = {h.address: scan_host(parse_target(h.address), sorted(s.port for s in h.services),
                                        TimeoutSetting(1.0)) if h.expected_up else None for h in network.hosts}
        result = compare_network(reports, lab)
        assert result.all_match, result.hosts
        assert [h.why for h in result.hosts if not h.expected_up] == ["no_machine"]
    assert name not in netns.list_namespaces()
