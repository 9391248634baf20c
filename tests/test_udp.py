"""The UDP scanner against the practice lab's UDP ports: real datagrams on loopback, no mocks."""

from __future__ import annotations

import socket
import threading

import pytest

from scanner import PortState, Reason, TimeoutSetting, parse_target
from lessons.lab import compare
from scanner.udp import DNS_QUERY, NTP_REQUEST, scan_udp, udp_payload

SHORT = TimeoutSetting(0.3)


@pytest.fixture
def silent_port(host):
    """A UDP port where a socket is bound but never answers: the open|filtered case."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        yield sock.getsockname()[1]


@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_open_closed_and_silent_ports(lab, host, silent_port):
    echo, closed = lab.service("echo", "udp").port, lab.service("closed", "udp").port
    report = scan_udp(parse_target(host), [echo, closed, silent_port], SHORT)
    states = {r.port: (r.state, r.reason) for r in report.results}
    assert states == {echo: (PortState.OPEN, Reason.UDP_RESPONSE),
                      closed: (PortState.CLOSED, Reason.PORT_UNREACH),
                      silent_port: (PortState.OPEN_FILTERED, Reason.NO_RESPONSE)}
    assert all(r.protocol == "udp" for r in report.results)
    assert [r.port for r in report.results] == sorted(states)
    assert report.protocol == "udp" and report.complete and not report.interrupted
    assert report.ports_requested == (echo, closed, silent_port)
    assert report.timeout == "0.3"


def test_a_udp_scan_matches_the_labs_known_answer(lab, host):
    udp_ports = [s.port for s in lab.services if s.protocol == "udp"]
    result = compare(scan_udp(parse_target(host), udp_ports, SHORT), lab)
    assert result.protocol == "udp" and result.all_match, result.verdicts
    assert result.found_open == (lab.service("echo", "udp").port,)


def test_auto_timeout_and_no_rate_cap_work_too(lab):
    echo, closed = lab.service("echo", "udp").port, lab.service("closed", "udp").port
    report = scan_udp(parse_target("127.0.0.1"), [closed, echo], TimeoutSetting(1.0, auto=True), rate=None)
    assert [(r.port, r.state) for r in report.results] == sorted([(echo, PortState.OPEN), (closed, PortState.CLOSED)])
    assert report.timeout == "auto" and report.final_timeout > 0


def test_progress_ends_with_the_full_count(lab):
    echo, closed = lab.service("echo", "udp").port, lab.service("closed", "udp").port
    calls = []
    scan_udp(parse_target("127.0.0.1"), [echo, closed], SHORT, progress=lambda *args: calls.append(args))
    assert calls[-1] == (2, 2, 1)


def test_a_stop_event_ends_the_scan_early():
    # Silent ports need two full timeouts each, so stopping at the first progress call
    # always lands before they finish.
    holders = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(20)]
    try:
        for sock in holders:
            sock.bind(("127.0.0.1", 0))
        ports = [sock.getsockname()[1] for sock in holders]
        stop = threading.Event()
        report = scan_udp(parse_target("127.0.0.1"), ports, TimeoutSetting(5.0), stop=stop,
                          progress=lambda *_: stop.set())
    finally:
        for sock in holders:
            sock.close()
    assert not report.complete and not report.interrupted
    assert len(report.results) < len(ports)


def test_ctrl_c_keeps_the_ports_finished_so_far(lab):
    echo, closed = lab.service("echo", "udp").port, lab.service("closed", "udp").port
    holder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    holder.bind(("127.0.0.1", 0))
    calls = []

    def press_ctrl_c(done, total, open_found):
        calls.append(done)
        if len(calls) == 1:
            raise KeyboardInterrupt   # what Ctrl+C raises in the main thread

    try:
        report = scan_udp(parse_target("127.0.0.1"), [echo, closed, holder.getsockname()[1]],
                          TimeoutSetting(5.0), progress=press_ctrl_c)
    finally:
        holder.close()
    assert report.interrupted and not report.complete
    assert calls[-1] == len(report.results) < 3


def test_a_stop_event_set_before_the_scan_scans_nothing(lab):
    stop = threading.Event()
    stop.set()
    report = scan_udp(parse_target("127.0.0.1"), [lab.service("echo", "udp").port], SHORT, stop=stop)
    assert report.results == [] and not report.complete


def test_well_known_ports_get_a_real_request():
    assert udp_payload(53) == DNS_QUERY and DNS_QUERY[2:4] == b"\x01\x00"   # a standard query, recursion desired
    assert udp_payload(123) == NTP_REQUEST and len(NTP_REQUEST) == 48
    assert udp_payload(8007) == b""


def test_the_echo_port_answers_a_payload_with_the_same_bytes(lab, host):
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5.0)
        sock.connect((host, lab.service("echo", "udp").port))
        sock.send(DNS_QUERY)
        assert sock.recv(2048) == DNS_QUERY


def test_udp_through_the_command_line(lab, isolated_home):
    import json
    import os
    import subprocess
    import sys
    from tests.conftest import ROOT, program_env
    echo, closed = lab.service("echo", "udp").port, lab.service("closed", "udp").port
    result = subprocess.run([sys.executable, os.path.join(ROOT, "main.py"), "scan", "127.0.0.1", "--udp",
                             "-p", f"{echo},{closed}", "--timeout", "1", "--all", "--format", "json"],
                            capture_output=True, text=True, env=program_env(isolated_home), timeout=60)
    assert result.returncode == 0, result.stderr
    states = {row["port"]: (row["protocol"], row["state"]) for row in json.loads(result.stdout)["ports"]}
    assert states == {echo: ("udp", "open"), closed: ("udp", "closed")}
