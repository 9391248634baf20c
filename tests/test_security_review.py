"""Findings of the second security review, each pinned by a test that failed before its fix.

Real sockets on loopback only; no test asserts how long anything took.
"""

from __future__ import annotations

import json
import os
import threading

import pytest

import scanner.network as network_module
from scanner.engine import scan as real_scan
from scanner.inputs import parse_targets
from scanner.network import scan_network
from tests.servers import Listener

OUT_OF_THREADS = "can't start new thread"


# --- a network scan out of threads keeps every host it could scan ---------------------------------

def test_hosts_that_find_no_thread_while_others_run_are_scanned_alone_afterwards():
    """ulimit -v 200000: eight engine scans at once cannot all start their threads.  Before,
    one failing host raised and the whole network's results were lost (exit 1, no report)."""
    running, lock = [0], threading.Lock()

    def tight_scan(target, ports, timeout, **options):
        with lock:
            running[0] += 1
            crowded = running[0] > 1
        try:
            if crowded:
                raise RuntimeError(OUT_OF_THREADS)
            return real_scan(target, ports, timeout, **options)
        finally:
            with lock:
                running[0] -= 1

    with Listener() as listener:
        targets = parse_targets("127.0.0.1-6")
        network = scan_network(targets, [listener.port], ping=False, scan_host=tight_scan)
    assert network.shortage is None and network.complete
    assert all(host.report is not None for host in network.hosts)
    assert network.hosts[0].report.results[0].state.value == "open"


def test_a_host_that_never_gets_a_thread_keeps_the_others_and_names_the_shortage():
    with Listener() as listener:
        def scan_but_not_3(target, ports, timeout, **options):
            if target.address == "127.0.0.3":
                raise RuntimeError(OUT_OF_THREADS)
            return real_scan(target, ports, timeout, **options)

        network = scan_network(parse_targets("127.0.0.1-4"), [listener.port], ping=False, scan_host=scan_but_not_3)
    assert isinstance(network.shortage, RuntimeError) and not network.complete
    assert [host.report is not None for host in network.hosts] == [True, True, False, True]


def test_cli_network_scan_out_of_threads_saves_the_report_and_says_one_line(monkeypatch, tmp_path, capsys):
    from lessons.ui.cli import main

    def scan_but_not_2(target, ports, timeout, **options):
        if target.address == "127.0.0.2":
            raise RuntimeError(OUT_OF_THREADS)
        return real_scan(target, ports, timeout, **options)

    monkeypatch.setattr(network_module, "scan", scan_but_not_2)
    report = tmp_path / "net.json"
    with Listener() as listener:
        code = main(["scan", "127.0.0.1-3", "--no-ping", "-p", str(listener.port), "--format", "json",
                     "-o", str(report)])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.err.strip().count("\n") == 0 and OUT_OF_THREADS in captured.err
    saved = json.loads(report.read_text())
    assert [host["scanned"] for host in saved["hosts"]] == [True, False, True]
    assert saved["hosts"][0]["counts"]["open"] == 1
    assert json.loads(captured.out)["totals"]["scanned"] == 2


def test_discovery_out_of_threads_keeps_the_hosts_it_probed(monkeypatch):
    from scanner import discovery

    def probe_but_not_2(target, *args, **kwargs):
        if target.address == "127.0.0.2":
            raise MemoryError()
        return real_probe(target, *args, **kwargs)

    real_probe = discovery.probe_host
    monkeypatch.setattr(discovery, "probe_host", probe_but_not_2)
    with Listener() as listener:
        found = discovery.discover(parse_targets("127.0.0.1-3").targets, ports=(listener.port,))
    assert isinstance(found.shortage, MemoryError)
    assert [host.reason for host in found.hosts] == ["syn-ack", "not-probed", "conn-refused"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="thread limits are POSIX")
def test_run_in_threads_goes_on_with_the_threads_that_started(monkeypatch):
    from scanner.discovery import run_in_threads

    started, real_start = [0], threading.Thread.start

    def start_at_most_two(self):
        if self.name == "scan-host":
            started[0] += 1
            if started[0] > 2:
                raise RuntimeError(OUT_OF_THREADS)
        real_start(self)

    monkeypatch.setattr(threading.Thread, "start", start_at_most_two)
    done = []
    assert run_in_threads(done.append, list(range(20)), 8, threading.Event()) == []
    assert sorted(done) == list(range(20))


# --- the lab: one IPv6 machine with many source addresses is one client ---------------------------

class _Transport:
    def __init__(self, peer):
        self.peer, self.aborted = peer, False

    def get_extra_info(self, name):
        return self.peer if name == "peername" else None

    def set_write_buffer_limits(self, high):
        pass

    def abort(self):
        self.aborted = True

    def is_closing(self):
        return self.aborted


class _Hub:
    def __init__(self):
        from lessons.lab.services import Fairness

        self.fairness, self.connections = Fairness(), set()


def _connect(hub, address):
    from lessons.lab.services import LabStream

    conn = LabStream(hub, "echo")
    conn.connection_made(_Transport((address, 40000, 0, 0) if ":" in address else (address, 40000)))
    return conn


def test_one_ipv6_64_with_a_new_source_address_per_connection_cannot_lock_the_lab_out():
    """Before, the per-client cap counted IPv6 addresses one by one: 400 addresses of one
    /64 with one connection each filled the lab, nobody was 'greediest', and every other
    student was refused."""
    from lessons.lab.services import MAX_CONNECTIONS, PER_CLIENT

    hub = _Hub()
    admitted = sum(_connect(hub, f"fd00:42::{index:x}").admitted for index in range(1, MAX_CONNECTIONS + 1))
    assert admitted == PER_CLIENT
    assert _connect(hub, "fd00:99::1").admitted       # another machine
    assert _connect(hub, "192.0.2.7").admitted


def test_ipv4_mapped_addresses_count_as_their_ipv4_client():
    from lessons.lab.services import PER_CLIENT, client_key

    assert client_key("::ffff:192.0.2.7") == "192.0.2.7" and client_key("fe80::1%eth0") == "fe80::/64"
    hub = _Hub()
    for index in range(PER_CLIENT):
        assert _connect(hub, "192.0.2.7" if index % 2 else "::ffff:192.0.2.7").admitted
    assert not _connect(hub, "::ffff:192.0.2.7").admitted


def test_udp_rate_limit_counts_an_ipv6_64_as_one_source():
    from lessons.lab.services import UDP_BURST_PER_SOURCE, UdpGuard

    guard = UdpGuard({7})
    answered = sum(guard.allow(b"x", (f"fd00:42::{index:x}", 40000, 0, 0)) for index in range(1, 500))
    assert answered <= UDP_BURST_PER_SOURCE + 5   # before: 499, one burst per address


# --- progress: a link at the lock's name creates nothing -------------------------------------------

@pytest.mark.skipif(not hasattr(os, "O_NOFOLLOW"), reason="O_NOFOLLOW is POSIX")
def test_a_symbolic_link_at_the_progress_lock_creates_no_file(tmp_path):
    from lessons.ui.progress import ProgressStore

    folder = tmp_path / "home"
    folder.mkdir()
    elsewhere = tmp_path / "elsewhere"
    os.symlink(elsewhere, folder / "progress.json.lock")
    store = ProgressStore(str(folder / "progress.json"))
    store.mark_lesson_read("intro")
    assert not os.path.exists(elsewhere)   # before: created (empty, 0600) through the link
    assert "intro" in ProgressStore(str(folder / "progress.json")).lessons_read()


# --- -o never writes through a link another user planted in /tmp ----------------------------------

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.mark.skipif(not IS_ROOT, reason="giving a link to another owner (os.lchown) needs root")
def test_o_refuses_a_link_another_user_planted_in_a_sticky_shared_folder(isolated_home, tmp_path):
    """A student leaves /tmp/report.txt -> /etc/shadow; root runs scan -o /tmp/report.txt.
    Before, realpath() + rename replaced the victim (bypassing the kernel's protected_symlinks)."""
    import subprocess
    import sys

    from lessons.ui.reports import write_atomically
    from tests.conftest import ROOT, program_env

    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    planted = shared / "report.txt"
    os.symlink(victim, planted)
    os.lchown(planted, 65534, 65534)
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "main.py"), "scan", "127.0.0.1", "-p", "1", "-o",
                           str(planted)], cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          env=program_env(isolated_home), timeout=60)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "shared folder" in proc.stderr
    with pytest.raises(OSError):
        write_atomically(str(planted), "report\n")
    assert victim.read_text() == "precious\n" and os.path.islink(planted)
    folder_link = shared / "scans"   # a planted link to a folder: /tmp/scans -> /etc/cron.d
    os.symlink(tmp_path, folder_link)
    os.lchown(folder_link, 65534, 65534)
    with pytest.raises(OSError):
        write_atomically(str(folder_link / "victim"), "report\n")
    assert victim.read_text() == "precious\n"
    os.lchown(planted, 0, 0)   # the follower's own link: followed, as before
    write_atomically(str(planted), "report\n")
    assert victim.read_text() == "report\n" and os.path.islink(planted)


# --- --banners over a network: one deadline for the whole pass --------------------------------------

def test_network_banner_pass_shares_one_deadline_across_hosts(monkeypatch):
    """Before, each host got its own capped pass, one after another: 4096 hosts with silent
    open ports could cost 30 s each.  Now one deadline covers them all and stops the host
    being read when it passes; later hosts are not started."""
    from scanner import banners
    from lessons.ui.session import read_network_banners as _read_banners

    calls = []

    def silent_service(address, family, ports, timeout=1.0, host_header="", progress=None, stop=None, **_):
        calls.append(address)
        stopped = stop.wait(10)   # a silent port: only the deadline ends it (10 s: a safety bound)
        calls.append(stopped)
        return {}

    monkeypatch.setattr(banners, "identify_services", silent_service)
    monkeypatch.setattr(banners, "PASS_CAP_SECONDS", 0.2)
    with Listener() as first, Listener(host="127.0.0.2") as second:
        network = scan_network(parse_targets("127.0.0.1-2"), sorted({first.port, second.port}), ping=False)
    _read_banners(network)
    assert calls == ["127.0.0.1", True]   # stopped by the shared deadline; 127.0.0.2 never started
    assert not network.interrupted and all(host.report is not None for host in network.hosts)


# --- a list of blocks over the limit names the list and its total ---------------------------------

@pytest.mark.parametrize("spec, max_hosts, words", [
    ("127.0.0.0/24,127.0.1.0/20", None, ["4,352 addresses", "more than 4,096", "--max-hosts 4352"]),
    ("127.0.0.0/16,127.1.0.0/16", 65536, ["131,072 addresses", "at most 65,536"]),
    ("127.0.0.0/24,127.0.1.1-20", 256, ["276 addresses", "more than 256", "--max-hosts 276"]),
])
def test_a_list_over_the_host_limit_gets_a_true_message(spec, max_hosts, words):
    """Before: 'has 65,536 addresses; more than 0 needs --max-hosts 65536' (already given)."""
    from scanner.errors import NetworkSpecError

    with pytest.raises(NetworkSpecError) as caught:
        parse_targets(spec, **({"max_hosts": max_hosts} if max_hosts else {}))
    message = str(caught.value)
    assert all(word in message for word in words), message
    assert "more than 0 " not in message


# --- -o echoes: the folder is clipped and cleaned; a too-long name is found before scanning ------

def _scan_o(home, output):
    import subprocess
    import sys

    from tests.conftest import ROOT, program_env

    return subprocess.run([sys.executable, os.path.join(ROOT, "main.py"), "scan", "127.0.0.1", "-p", "1", "-o",
                           output], cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          env=program_env(home), timeout=60)


def test_o_missing_folder_with_escapes_is_echoed_clean_and_clipped(isolated_home, tmp_path):
    """Before: 'the folder .../a\\x1b]52;c;...\\x07 does not exist' reached the terminal raw (OSC 52
    writes the clipboard), and a 5000-character folder came back whole."""
    proc = _scan_o(isolated_home, str(tmp_path / ("a\x1b]52;c;aGk=\x07b\x1b[2J" + "z" * 5000) / "x"))
    assert proc.returncode == 2
    assert "\x1b" not in proc.stderr and "\x07" not in proc.stderr
    assert len(proc.stderr) < 600 and len(proc.stderr.strip().splitlines()) == 1


def test_o_name_too_long_is_refused_before_scanning(isolated_home, tmp_path):
    proc = _scan_o(isolated_home, str(tmp_path / ("n" * 300)))
    assert proc.returncode == 2 and "too long" in proc.stderr
    assert "Scanning" not in proc.stdout   # before: scanned first, then 'File name too long'


def test_echo_of_a_non_utf8_file_name_never_names_another_file():
    from scanner.errors import clip

    undecodable = b"r\xff.txt".decode("utf-8", "surrogateescape")
    assert clip(undecodable) != "r.txt" and clip(undecodable).startswith("r") and "\ufffd" in clip(undecodable)
    assert clip("a\x1b[2Jb\x07c") == "abc"


# --- stdout's reader gone before the first line: the scan still runs and its report is saved -------

@pytest.mark.skipif(not hasattr(os, "pipe"), reason="needs os.pipe")
@pytest.mark.parametrize("target", ["127.0.0.1", "127.0.0.1-2"])
def test_report_is_saved_when_stdouts_reader_is_gone_before_the_first_line(isolated_home, tmp_path, target):
    """scan ... -o r.txt | true: before, the first line's EPIPE ended the program with exit 0
    before scanning, and no report was written."""
    import subprocess
    import sys

    from tests.conftest import ROOT, program_env

    report = tmp_path / "r.json"
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        with Listener() as listener:
            proc = subprocess.run([sys.executable, os.path.join(ROOT, "main.py"), "scan", target, "-p",
                                   str(listener.port), "-o", str(report)], cwd=ROOT, stdin=subprocess.DEVNULL,
                                  stdout=write_end, stderr=subprocess.PIPE, text=True, env=program_env(isolated_home),
                                  timeout=60)
    finally:
        os.close(write_end)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    saved = json.loads(report.read_text())
    ports = saved["ports"] if "ports" in saved else saved["hosts"][0]["ports"]
    assert ports[0]["state"] == "open"
