"""Out of threads, memory or files: every host that could be scanned is kept, and one line says why."""

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
