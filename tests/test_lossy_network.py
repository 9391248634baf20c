"""The scanner on an imperfect network: real packet loss and RST rate limits, made by iptables.

Every test creates its own network namespace (``bench/netns.py``), starts listeners on
127.0.0.1 inside it, breaks the network there with iptables and runs ``main.py scan``
inside it too.  Nothing outside the namespace sees a packet.  The answers must be exact:
no open port missed, no closed port called filtered, no port invented.  Needs root and
iptables; skipped (with the reason shown) where they are missing.
"""

import json
import subprocess
import sys

import pytest

from bench import netns
from tests.conftest import ROOT, program_env

REASON = netns.unavailable()
pytestmark = [pytest.mark.netns, pytest.mark.slow,
              pytest.mark.skipif(REASON is not None, reason=f"no lossy network here: {REASON}")]

LISTENING = [22, 80, 443, 631, 1024, 1500, 1999]


def scan_in(namespace, home, spec, *extra):
    proc = subprocess.run(namespace.command(sys.executable, "main.py", "scan", "127.0.0.1", "-p", spec,
                                            "--format", "json", *extra),
                          cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
                          env=program_env(home))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return json.loads(proc.stdout)


def assert_exact(report, listening, total):
    states = {row["port"]: row["state"] for row in report["ports"]}
    opened = {port for port, state in states.items() if state == "open"}
    assert report["complete"] is True
    assert opened == set(listening), f"missed {set(listening) - opened}, invented {opened - set(listening)}"
    filtered = sorted(port for port, state in states.items() if state == "filtered")
    assert not filtered, f"{len(filtered)} false filtered: {filtered[:10]}"
    assert report["counts"] == {"open": len(listening), "closed": total - len(listening), "filtered": 0}


def test_a_port_whose_first_syn_is_lost_is_open_after_a_retry(isolated_home):
    with netns.Namespace("firstsyn") as namespace:
        namespace.serve(LISTENING)
        namespace.drop_every_other_syn_to(1500)
        report = scan_in(namespace, isolated_home, "1-2000", "--timeout", "auto")
    assert_exact(report, LISTENING, 2000)
    row = next(row for row in report["ports"] if row["port"] == 1500)
    assert row["state"] == "open" and row["reason"] == "syn-ack"
    assert row["tries"] >= 2, "the first SYN was dropped: the answer came on a retry"
    assert report["retried"] >= 1


def test_a_silent_confirmation_is_retried_and_the_port_stays_open(isolated_home):
    """On loopback an open port is probed twice; losing the second SYN must not make it filtered."""
    with netns.Namespace("confirm") as namespace:
        namespace.serve([1500])
        # SYNs 2, 4, 6... vanish: the first probe gets through, the confirmation is lost once.
        namespace.run("iptables", "-A", "OUTPUT", "-p", "tcp", "--dport", "1500", "--tcp-flags", *netns.SYN,
                      "-m", "statistic", "--mode", "nth", "--every", "2", "--packet", "1", "-j", "DROP")
        report = scan_in(namespace, isolated_home, "1490-1510", "--timeout", "auto")
    assert_exact(report, [1500], 21)


@pytest.mark.parametrize("loss", [0.03, 0.06])
def test_random_loss_of_syns_answers_and_resets_gives_exact_answers(isolated_home, loss):
    with netns.Namespace("loss") as namespace:
        namespace.serve(LISTENING)
        namespace.lose(loss)
        report = scan_in(namespace, isolated_home, "1-2000", "--timeout", "auto")
    assert_exact(report, LISTENING, 2000)
    assert report["retried"] > 0, "with this much loss some ports must have answered only on a retry"
    assert max(row["tries"] for row in report["ports"]) >= 1


def test_fixed_retries_zero_calls_a_lost_port_filtered(isolated_home):
    """--retries 0 is the old behaviour: one silence is enough to call a port filtered."""
    with netns.Namespace("noretry") as namespace:
        namespace.serve([1500])
        namespace.drop_every_other_syn_to(1500)
        report = scan_in(namespace, isolated_home, "1495-1505", "--timeout", "0.3", "--retries", "0")
    states = {row["port"]: (row["state"], row["tries"]) for row in report["ports"]}
    assert states[1500] == ("filtered", 1)


@pytest.mark.parametrize("timeout", ["auto", "1"])
def test_a_target_that_rate_limits_its_rsts_gets_every_answer(isolated_home, timeout):
    """With a fixed timeout, retransmissions run beside first tries: both may answer at once."""
    with netns.Namespace("rstlimit") as namespace:
        namespace.serve(LISTENING)
        namespace.limit_rsts(500)
        report = scan_in(namespace, isolated_home, "1-2000", "--timeout", timeout)
    assert_exact(report, LISTENING, 2000)
    assert report["retried"] > 0
    # The scan noticed the ceiling; its estimate is in the report (not checked for speed).
    assert report["rate_limit_per_second"] is None or report["rate_limit_per_second"] > 0


def test_udp_against_a_target_that_rate_limits_its_icmp_errors(isolated_home):
    """Hosts send few ICMP "port unreachable" errors a second; silence must be asked again, slower."""
    with netns.Namespace("udplimit") as namespace:
        namespace.limit_port_unreachables(50)
        proc = subprocess.run(namespace.command(sys.executable, "main.py", "scan", "127.0.0.1", "--udp", "-p", "1-300",
                                                "--timeout", "auto", "--format", "json"),
                              cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
                              env=program_env(isolated_home))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["protocol"] == "udp" and report["complete"] is True
    assert report["counts"].get("closed") == 300, report["counts"]
    assert report["retried"] > 0


@pytest.fixture(scope="module")
def nfqdelay(tmp_path_factory):
    if REASON is not None:
        pytest.skip(REASON)
    binary = netns.build_nfqdelay(str(tmp_path_factory.mktemp("nfqdelay")))
    if binary is None:
        pytest.skip("nfqdelay could not be built here (needs cc and libnetfilter-queue-dev)")
    return binary


@pytest.mark.parametrize("timeout", ["auto", "1"])
def test_a_slow_jittery_network_gives_exact_answers(isolated_home, nfqdelay, timeout):
    """300 ms round trip +/- 25%: the timeout keeps a margin over the round trip, retries cover the rest."""
    with netns.Namespace("slow") as namespace:
        namespace.serve([22, 80, 250])
        namespace.delay(nfqdelay, 300, 37.5, 0)  # two draws of +/-37.5 ms: +/-75 ms in all
        report = scan_in(namespace, isolated_home, "1-300", "--timeout", timeout)
    assert_exact(report, [22, 80, 250], 300)


def test_a_long_fixed_timeout_still_retransmits_a_lost_probe(isolated_home):
    """--timeout 5: the first try may wait 5 s, but its lost SYN is sent again after the learned timeout."""
    with netns.Namespace("longwait") as namespace:
        namespace.serve([1500])
        namespace.drop_every_other_syn_to(1500)
        report = scan_in(namespace, isolated_home, "1400-1600", "--timeout", "5")
    assert_exact(report, [1500], 201)
    row = next(row for row in report["ports"] if row["port"] == 1500)
    assert row["tries"] >= 2 and row["reason"] == "syn-ack"


def test_a_low_file_limit_on_a_lossy_network_gives_exact_answers_in_bounded_time(isolated_home):
    """ulimit -n 64 and 2% loss, default timeout: few sockets, many retransmissions; never EMFILE as a state."""
    import resource

    def low_limit():
        _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard))

    with netns.Namespace("nofile") as namespace:
        namespace.serve(LISTENING)
        namespace.lose(0.02)
        proc = subprocess.run(namespace.command(sys.executable, "main.py", "scan", "127.0.0.1", "-p", "1-2000",
                                                "--format", "json"),
                              cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
                              env=program_env(isolated_home), preexec_fn=low_limit)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert_exact(json.loads(proc.stdout), LISTENING, 2000)


def test_host_discovery_and_network_scan_survive_loss(isolated_home):
    """A /29 with four machines, one that drops everything and one address with no machine, at 3% loss."""
    with netns.Namespace("lan") as namespace:
        namespace.network("10.77.0.1/29", ["10.77.0.2", "10.77.0.3", "10.77.0.4", "10.77.0.5"])
        namespace.serve([22, 80, 1500], address="0.0.0.0")
        namespace.drop_host("10.77.0.5")
        namespace.lose(0.03)
        proc = subprocess.run(namespace.command(sys.executable, "main.py", "scan", "10.77.0.0/29", "-p", "1-2000",
                                                "--format", "json", "--yes"),
                              cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
                              env=program_env(isolated_home))
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    hosts = {host["address"]: host for host in json.loads(proc.stdout)["hosts"]}
    up = sorted(address for address, host in hosts.items() if host["state"] == "up")
    assert up == ["10.77.0.1", "10.77.0.2", "10.77.0.3", "10.77.0.4"]
    for address in ("10.77.0.5", "10.77.0.6"):
        assert hosts[address]["state"] == "down", address
    for address in up:
        assert_exact(hosts[address], [22, 80, 1500], 2000)
