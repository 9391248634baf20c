"""Networks as targets: parsing blocks, host discovery, per-host results, consent for a block.

Traffic goes only to 127.0.0.0/8 and ::1, or into network namespaces these tests create
(``ip netns``, root only; skipped with a reason otherwise).  192.168.x and TEST-NET
blocks are only *parsed*, or refused before anything is sent, or scanned inside a
namespace of our own that has no route anywhere.
"""

import csv
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import threading

import pytest

from scanner.discovery import HostState, discover
from scanner.errors import NetworkSpecError, TargetError
from scanner.inputs import DEFAULT_MAX_HOSTS, TimeoutSetting, parse_max_hosts, parse_targets
from scanner.network import host_reports_by_address, plan_parallelism, scan_network
from scanner.report import NETWORK_CSV_COLUMNS, network_to_csv, network_to_dict
from scanner.results import PortState
from tests.conftest import ROOT, program_env
from tests.servers import Listener

MAIN = os.path.join(ROOT, "main.py")
FAST = TimeoutSetting(0.3)


def run(home, *args, prefix=(), timeout=60):
    proc = subprocess.run([*prefix, sys.executable, MAIN, *args], cwd=ROOT, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, env=program_env(home), timeout=timeout)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    return proc


# --- parsing (no traffic) -----------------------------------------------------------------

@pytest.mark.parametrize("text, count, first, last", [
    ("127.0.0.0/29", 8, "127.0.0.0", "127.0.0.7"),
    ("127.0.0.5/30", 4, "127.0.0.4", "127.0.0.7"),          # host bits set: its block, like nmap
    ("192.168.56.0/24", 256, "192.168.56.0", "192.168.56.255"),
    ("127.0.0.1-7", 7, "127.0.0.1", "127.0.0.7"),
    ("127.0.0.1-127.0.0.3", 3, "127.0.0.1", "127.0.0.3"),
    ("127.0.0.2,127.0.0.5", 2, "127.0.0.2", "127.0.0.5"),
    ("127.0.0.2, 127.0.0.0/31, 127.0.0.2", 3, "127.0.0.2", "127.0.0.1"),  # duplicates merged, order kept
    ("::1/126", 4, "::", "::3"),
    ("fd00::/120", 256, "fd00::", "fd00::ff"),
    ("127.0.0.1/32", 1, "127.0.0.1", "127.0.0.1"),
])
def test_blocks_ranges_and_lists_name_every_address(text, count, first, last):
    targets = parse_targets(text)
    assert len(targets.targets) == count
    assert targets.addresses[0] == first and targets.addresses[-1] == last
    assert targets.is_network == (count > 1)
    assert targets.text == text


def test_a_name_or_a_single_address_is_still_one_target():
    for text in ("localhost", "127.0.0.1", "[::1]"):
        targets = parse_targets(text)
        assert not targets.is_network and targets.targets[0].is_loopback


@pytest.mark.parametrize("text, code", [
    ("127.0.0.0/33", "network.bad_prefix"),
    ("::1/129", "network.bad_prefix"),
    ("127.0.0.0/", "network.bad_prefix"),
    ("127.0.0.0/x", "network.bad_prefix"),
    ("10.0.0.0/8", "network.too_big"),
    ("fd00::/64", "network.too_big"),
    ("127.0.0.0/19", "network.too_many"),
    ("127.0.0.1-300", "network.bad_range"),
    ("1-300", "network.bad_range"),
    ("127.0.0.9-2", "network.range_reversed"),
    ("127.0.0.1-127.0.1.3", "network.bad_range"),
    ("999.1.1.0/24", "network.bad_block"),
    ("example.com/index.html", "target.url"),
    ("127.0.0.1,,127.0.0.2", "network.empty_item"),
    ("127.0.0.1,", "network.empty_item"),
])
def test_bad_network_specs_get_one_learner_readable_sentence(text, code):
    with pytest.raises(TargetError) as caught:
        parse_targets(text)
    assert caught.value.code == code
    message = str(caught.value)
    assert "\n" not in message and len(message) < 200 and message.endswith((".", "com"))


def test_more_than_the_default_cap_needs_max_hosts():
    with pytest.raises(NetworkSpecError) as caught:
        parse_targets("127.0.0.0/19")
    assert "--max-hosts 8192" in str(caught.value)
    assert len(parse_targets("127.0.0.0/19", max_hosts=parse_max_hosts("8192")).targets) == 8192
    assert parse_max_hosts(None) == DEFAULT_MAX_HOSTS
    for bad in ("0", "x", "65537", "-1"):
        with pytest.raises(NetworkSpecError):
            parse_max_hosts(bad)


def test_one_open_file_budget_is_shared_by_the_hosts_in_flight():
    at_once, per_host = plan_parallelism(up_hosts=100, workers=1000, ports=1000)
    assert 1 < at_once <= 8 and at_once * per_host <= 1000
    assert plan_parallelism(up_hosts=1, workers=1000, ports=10)[0] == 1


# --- bad specs through the real program ------------------------------------------------------

@pytest.mark.parametrize("args", [["127.0.0.0/33"], ["10.0.0.0/8"], ["127.0.0.1-300"], ["1-300"],
                                  ["127.0.0.1", "--max-hosts", "0"], ["127.0.0.1", "--packets", "x"],
                                  ["192.168.56.0/24"]])
@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_bad_network_specs_exit_2_with_one_line(isolated_home, args):
    proc = run(isolated_home, "scan", *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    assert len(lines) == 1, lines


def test_a_block_beyond_loopback_asks_consent_for_every_address(isolated_home):
    proc = run(isolated_home, "scan", "192.0.2.0/24")   # TEST-NET-1: refused before anything is sent
    assert proc.returncode == 2
    assert "256 addresses" in proc.stderr and "--yes" in proc.stderr


def test_indonesian_network_messages(isolated_home):
    proc = run(isolated_home, "--lang", "id", "scan", "127.0.0.0/33")
    assert proc.returncode == 2 and "angka setelah /" in proc.stderr


# --- scanning loopback addresses (no root needed on Linux) ----------------------------------

def test_scan_network_reports_every_host_with_its_ports(second_loopback):
    with Listener("127.0.0.1") as first:
        ports = (first.port, second_loopback.port)
        network = scan_network(parse_targets("127.0.0.1-3"), ports, FAST)
    assert network.complete and not network.interrupted
    assert [host.address for host in network.hosts] == ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
    assert all(host.state is HostState.UP for host in network.hosts)
    assert all(host.reason in ("syn-ack", "conn-refused") for host in network.hosts)
    open_ports = {host.address: [r.port for r in host.report.by_state(PortState.OPEN)] for host in network.hosts}
    assert open_ports == {"127.0.0.1": [first.port], "127.0.0.2": [second_loopback.port], "127.0.0.3": []}
    assert network.totals() == {"addresses": 3, "up": 3, "down": 0, "scanned": 3, "open": 2}
    graded = host_reports_by_address(network)
    assert set(graded) == {"127.0.0.1", "127.0.0.2", "127.0.0.3"} and all(graded.values())


def test_network_json_and_csv_shapes(second_loopback):
    network = scan_network(parse_targets("127.0.0.1,127.0.0.2"), (second_loopback.port,), FAST)
    data = json.loads(json.dumps(network_to_dict(network)))
    assert data["totals"]["up"] == 2 and len(data["hosts"]) == 2
    for host in data["hosts"]:
        assert {"target", "address", "state", "reason", "ports", "counts"} <= set(host)
    second = data["hosts"][1]
    assert second["ports"][0]["port"] == second_loopback.port and second["ports"][0]["state"] == "open"
    rows = list(csv.DictReader(io.StringIO(network_to_csv(network))))
    assert tuple(rows[0]) == NETWORK_CSV_COLUMNS
    assert [(row["host"], row["state"]) for row in rows] == [("127.0.0.2", "open")]


def test_a_single_address_keeps_todays_json_shape(isolated_home):
    data = json.loads(run(isolated_home, "scan", "127.0.0.1/32", "-p", "1", "--format", "json").stdout)
    assert "hosts" not in data and data["address"] == "127.0.0.1"


@pytest.mark.slow   # over a third of a second: kept out of the quick loop
def test_command_line_network_scan_text_and_json(isolated_home, second_loopback):
    proc = run(isolated_home, "scan", "127.0.0.1-3", "-p", str(second_loopback.port), "--timeout", "0.3")
    assert proc.returncode == 0, proc.stderr
    assert "Host 127.0.0.2 is up" in proc.stdout and f"{second_loopback.port}/tcp" in proc.stdout
    assert "3 hosts up, 0 down, in" in proc.stdout
    assert all(len(line) <= 80 for line in proc.stdout.splitlines())
    proc = run(isolated_home, "scan", "127.0.0.1-3", "-p", str(second_loopback.port), "--format", "csv")
    assert proc.stdout.splitlines()[0].startswith("host,port,")


def test_a_stopped_network_scan_keeps_what_it_has():
    stop = threading.Event()
    stop.set()
    network = scan_network(parse_targets("127.0.0.1-4"), (1, 2), FAST, stop=stop)
    assert not network.complete and len(network.hosts) == 4
    assert all(host.report is None for host in network.hosts)


def test_no_ping_scans_every_address_without_discovery():
    network = scan_network(parse_targets("127.0.0.1-2"), (1,), FAST, ping=False)
    assert [host.reason for host in network.hosts] == ["user-set", "user-set"]
    assert all(host.report is not None for host in network.hosts)


def test_discovery_finds_ipv6_loopback_up():
    if not socket.has_ipv6:
        pytest.skip("this Python has no IPv6")
    found = discover(parse_targets("::1").targets, FAST)
    assert found.complete and found.hosts[0].state is HostState.UP


# --- a network in a namespace of our own (root) ------------------------------------------------

LISTENERS = textwrap.dedent("""
    import socket, sys, time
    opened = []
    for address, port in ((a.split(":")[0], int(a.split(":")[1])) for a in sys.argv[1:]):
        s = socket.socket()
        s.bind((address, port))
        s.listen(16)
        opened.append(s)
    print("ready", flush=True)
    sys.stdin.read()   # until the test closes our stdin
""")


def _can_make_namespaces():
    if os.geteuid() != 0:
        return "needs root to create a network namespace"
    for tool in ("ip", "iptables"):
        if shutil.which(tool) is None:
            return f"needs the {tool} command"
    return None


@pytest.fixture
def namespace():
    """A fresh network namespace with only loopback up; deleted afterwards."""
    problem = _can_make_namespaces()
    if problem:
        pytest.skip(problem)
    name = f"psl-network-{os.getpid()}-{threading.get_ident() % 10000}"
    made = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot create a network namespace here: {made.stderr.strip()}")
    try:
        subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"], check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


def _inside(name):
    return ("ip", "netns", "exec", name)


@pytest.fixture
def lab_network(namespace):
    """In the namespace: 127.0.0.1:22, 127.0.0.2:80 and :8080, 127.0.0.5:8080 listen; 127.0.0.3 drops all."""
    rule = subprocess.run([*_inside(namespace), "iptables", "-A", "INPUT", "-d", "127.0.0.3", "-j", "DROP"],
                          capture_output=True, text=True)
    if rule.returncode != 0:
        pytest.skip(f"iptables does not work here: {rule.stderr.strip()}")
    server = subprocess.Popen([*_inside(namespace), sys.executable, "-c", LISTENERS, "127.0.0.1:22", "127.0.0.2:80",
                               "127.0.0.2:8080", "127.0.0.5:8080"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout.readline().strip() == "ready"
        yield namespace
    finally:
        server.stdin.close()
        server.wait(10)


@pytest.mark.slow   # a few seconds: left out of the quick loop
def test_cidr_scan_finds_hosts_states_reasons_and_ports(isolated_home, lab_network):
    proc = run(isolated_home, "scan", "127.0.0.0/29", "-p", "22,80,8080", "--timeout", "0.3", "--format", "json",
               prefix=_inside(lab_network))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    hosts = {host["address"]: host for host in data["hosts"]}
    assert list(hosts) == [f"127.0.0.{n}" for n in range(8)]
    assert (hosts["127.0.0.3"]["state"], hosts["127.0.0.3"]["reason"]) == ("down", "no-response")
    assert hosts["127.0.0.3"]["ports"] == [] and hosts["127.0.0.3"]["scanned"] is False
    for address, host in hosts.items():
        if address != "127.0.0.3":
            assert host["state"] == "up" and host["reason"] in ("syn-ack", "conn-refused"), host
    opened = {address: sorted(p["port"] for p in host["ports"] if p["state"] == "open")
              for address, host in hosts.items()}
    assert opened == {"127.0.0.0": [], "127.0.0.1": [22], "127.0.0.2": [80, 8080], "127.0.0.3": [],
                      "127.0.0.4": [], "127.0.0.5": [8080], "127.0.0.6": [], "127.0.0.7": []}
    assert hosts["127.0.0.2"]["reason"] == "syn-ack"         # port 80 answered the discovery connect
    assert data["totals"] == {"addresses": 8, "up": 7, "down": 1, "scanned": 7, "open": 4}

    text = run(isolated_home, "scan", "127.0.0.0/29", "-p", "22,80,8080", "--timeout", "0.3",
               prefix=_inside(lab_network)).stdout
    assert "Host 127.0.0.3 is down (no-response)" in text
    assert "7 hosts up, 1 down, in" in text


@pytest.mark.slow   # over a third of a second: kept out of the quick loop
def test_no_ping_scans_the_silent_host_and_finds_its_ports_filtered(isolated_home, lab_network):
    proc = run(isolated_home, "scan", "127.0.0.2-3", "-p", "80", "--timeout", "0.3", "--no-ping", "--format", "json",
               prefix=_inside(lab_network))
    hosts = {host["address"]: host for host in json.loads(proc.stdout)["hosts"]}
    assert hosts["127.0.0.3"]["state"] == "up" and hosts["127.0.0.3"]["reason"] == "user-set"
    assert hosts["127.0.0.3"]["ports"][0]["state"] == "filtered"


def test_consent_names_the_block_and_is_recorded(isolated_home, namespace):
    # The namespace has no route beyond loopback: nothing can leave it, every address is unreachable.
    proc = run(isolated_home, "scan", "192.0.2.0/30", "-p", "80", "--timeout", "0.3", "--yes", "--format", "json",
               prefix=_inside(namespace))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["consent"]["block"] == "192.0.2.0/30" and data["consent"]["addresses"] == 4
    assert "these 4 addresses (192.0.2.0/30)" in data["consent"]["statement"]
    assert {(host["state"], host["reason"]) for host in data["hosts"]} == {("down", "net-unreach")}


def test_ctrl_c_during_the_port_scans_keeps_what_was_found():
    from scanner.engine import scan

    def scan_host(target, ports, timeout, **options):
        if target.address == "127.0.0.2":
            raise KeyboardInterrupt   # as if the learner pressed Ctrl+C while this host was scanned
        return scan(target, ports, timeout, **options)

    network = scan_network(parse_targets("127.0.0.1-2"), (1,), FAST, scan_host=scan_host)
    assert network.interrupted and not network.complete
    assert network.hosts[1].report is None and network.hosts[1].is_up
    assert network.hosts[0].report is None or network.hosts[0].report.results


def test_the_host_that_answered_discovery_names_its_port(second_loopback):
    network = scan_network(parse_targets("127.0.0.1-2"), (1,), FAST, discovery_ports=(second_loopback.port,))
    second = network.hosts[1]
    assert (second.reason, second.reason_port) == ("syn-ack", second_loopback.port)
    assert network_to_dict(network)["hosts"][1]["reason_port"] == second_loopback.port


@pytest.mark.slow   # over a third of a second: kept out of the quick loop
def test_network_report_file_records_the_block(isolated_home, tmp_path, second_loopback):
    path = tmp_path / "net.json"
    proc = run(isolated_home, "scan", "127.0.0.1-2", "-p", str(second_loopback.port), "--yes", "-o", str(path))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(path.read_text())
    assert data["consent"]["block"] == "127.0.0.1-2" and data["consent"]["addresses"] == 2
    assert [host["address"] for host in data["hosts"]] == ["127.0.0.1", "127.0.0.2"]
    text_path = tmp_path / "net.txt"
    run(isolated_home, "scan", "127.0.0.1-2", "-p", str(second_loopback.port), "-o", str(text_path))
    assert "2 hosts up, 0 down" in text_path.read_text()


def test_network_port_map_has_one_row_per_host(second_loopback):
    from lessons.ui.i18n import Translator
    from lessons.ui.output import network_port_map
    from lessons.ui.terminal import Environment

    network = scan_network(parse_targets("127.0.0.1-3"), (1, 2, second_loopback.port), FAST)
    lines = network_port_map(network, Environment(width=80), Translator("en"))
    rows = {line.split()[0]: line.split()[1] for line in lines[1:4]}
    assert rows == {"127.0.0.1": "...", "127.0.0.2": "..O", "127.0.0.3": "..."}
    assert all(len(line) <= 80 for line in lines)


def test_retries_reach_the_udp_scan_of_every_host():
    from scanner.request import scan_udp_host as _scan_udp_host

    network = scan_network(parse_targets("127.0.0.1-2"), (9,), FAST, ping=False, retries=0, scan_host=_scan_udp_host)
    assert [host.report.retries for host in network.hosts] == ["0", "0"]
