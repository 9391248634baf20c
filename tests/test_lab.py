"""The practice lab, tested the way a learner uses it: real sockets on loopback, no mocks.

Timeouts below are safety nets so a broken lab fails instead of hanging; no test asserts
how long anything took.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from scanner import InputError, PortState, Reason, ScanReport, TimeoutSetting, parse_target, scan
from lessons.lab import (FTP_BANNER, FTP_GOODBYE, LAB_BLOCK_SIZE, LAB_LAYOUT, SSH_BANNER, LabSetupError,
                         PracticeLab, compare)
from scanner.results import PortResult
from tests.servers import Listener

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IS_LINUX = sys.platform.startswith("linux")
SAFETY_TIMEOUT = 5.0   # seconds a socket waits before a test fails instead of hanging
OPEN_TCP = ("echo", "ftp", "ssh", "http")


def connect(host: str, port: int) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=SAFETY_TIMEOUT)
    sock.settimeout(SAFETY_TIMEOUT)
    return sock


def recv_until_closed(sock: socket.socket) -> bytes:
    chunks = []
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def recv_line(sock: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(1)
        if not chunk:
            break
        data += chunk
    return data


def http_exchange(host: str, port: int, request: bytes) -> tuple:
    """(status line, headers dict with lower-case names, body) of one request."""
    with connect(host, port) as sock:
        sock.sendall(request)
        raw = recv_until_closed(sock)
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("ascii").split("\r\n")
    headers = dict((name.lower(), value.strip()) for name, _, value in (line.partition(":") for line in lines[1:]))
    return lines[0], headers, body


def refused(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(SAFETY_TIMEOUT)
        return sock.connect_ex((host, port)) == errno.ECONNREFUSED


def udp_refused(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.settimeout(SAFETY_TIMEOUT)
        sock.connect((host, port))
        sock.send(b"anyone there?")
        try:
            sock.recv(100)
        except ConnectionRefusedError:
            return True
        return False


def free_block(low: int, high: int) -> int:
    """A base port whose whole block binds on TCP and UDP, 127.0.0.1 and ::1 (checked, then released)."""
    hosts = ["127.0.0.1"] + (["::1"] if socket.has_ipv6 else [])
    for base in range(low, high - LAB_BLOCK_SIZE, LAB_BLOCK_SIZE):
        held = []
        try:
            for port in range(base, base + LAB_BLOCK_SIZE):
                for bind_host in hosts:
                    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                        sock = socket.socket(socket.AF_INET6 if ":" in bind_host else socket.AF_INET, kind)
                        held.append(sock)
                        sock.bind((bind_host, port))
            return base
        except OSError:
            continue
        finally:
            for sock in held:
                sock.close()
    pytest.skip(f"no free block of {LAB_BLOCK_SIZE} ports between {low} and {high}")


# --- what the lab says about itself ---------------------------------------------------------

def test_services_are_listed_in_port_order_with_their_known_answer(lab):
    assert [(s.port, s.protocol) for s in lab.services] == sorted((s.port, s.protocol) for s in lab.services)
    assert {(s.service, s.protocol) for s in lab.services} == {(p.service, p.protocol) for p in LAB_LAYOUT}
    answer = lab.known_answer()
    assert answer[(lab.service("http").port, "tcp")] is PortState.OPEN
    assert answer[(lab.service("closed").port, "tcp")] is PortState.CLOSED
    assert answer[(lab.service("echo", "udp").port, "udp")] is PortState.OPEN
    assert answer[(lab.service("closed", "udp").port, "udp")] is PortState.CLOSED
    assert lab.bound_host == "127.0.0.1" and not lab.warning_needed
    assert lab.running and lab.failure is None


# --- each service answers correctly -----------------------------------------------------------

def test_echo_sends_back_what_it_gets(lab, host):
    with connect(host, lab.service("echo").port) as sock:
        for message in (b"hello lab\n", bytes(range(256)) * 40):
            sock.sendall(message)
            echoed = b""
            while len(echoed) < len(message):
                echoed += sock.recv(65536)
            assert echoed == message


def test_ftp_banner_is_exact_and_quit_is_answered(lab, host):
    with connect(host, lab.service("ftp").port) as sock:
        assert recv_line(sock) == FTP_BANNER == b"220 portscan-lab practice FTP ready\r\n"
        sock.sendall(b"QUIT\r\n")
        assert recv_until_closed(sock) == FTP_GOODBYE


def test_ftp_never_echoes_other_input(lab, host):
    with connect(host, lab.service("ftp").port) as sock:
        sock.sendall(b"USER <script>alert(1)</script>\r\n")
        assert recv_until_closed(sock) == FTP_BANNER


def test_ssh_banner_is_exact_and_input_is_never_echoed(lab, host):
    with connect(host, lab.service("ssh").port) as sock:
        assert recv_line(sock) == SSH_BANNER == b"SSH-2.0-portscan_lab_practice\r\n"
        sock.sendall(b"SSH-2.0-attacker\r\n\x1b[2J" + b"A" * 10000)
        sock.shutdown(socket.SHUT_WR)
        assert recv_until_closed(sock) == b""


def test_http_get_gives_200_with_a_correct_content_length(lab, host):
    port = lab.service("http").port
    status, headers, body = http_exchange(host, port, b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert status == "HTTP/1.1 200 OK"
    assert headers["server"] == "portscan-lab"
    assert headers["content-type"].startswith("text/html")
    assert int(headers["content-length"]) == len(body) > 0
    assert body.startswith(b"<!DOCTYPE html>")


def test_http_head_has_the_same_headers_and_no_body(lab, host):
    port = lab.service("http").port
    _status, get_headers, get_body = http_exchange(host, port, b"GET / HTTP/1.0\r\n\r\n")
    status, headers, body = http_exchange(host, port, b"HEAD / HTTP/1.0\r\n\r\n")
    assert status == "HTTP/1.1 200 OK"
    assert body == b""
    assert int(headers["content-length"]) == len(get_body)
    assert headers["content-type"] == get_headers["content-type"]


def test_http_refuses_other_methods_and_garbage_without_echoing_them(lab):
    port = lab.service("http").port
    status, headers, body = http_exchange("127.0.0.1", port,
                                          b"POST /evil HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello")
    assert status == "HTTP/1.1 405 Method Not Allowed"
    assert headers["allow"] == "GET, HEAD"
    assert int(headers["content-length"]) == len(body)
    assert b"evil" not in body

    status, _headers, body = http_exchange("127.0.0.1", port, b"\x16\x03\x01 not http <b>\r\n\r\n")
    assert status == "HTTP/1.1 400 Bad Request"
    assert b"<b>" not in body


@pytest.mark.skipif(not IS_LINUX, reason="the full-backlog trick makes connects time out on Linux only; "
                                         "elsewhere the lab reports filtered_works=False instead")
@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_filtered_port_times_out(lab, host):
    assert lab.filtered_works is True
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        code = sock.connect_ex((host, lab.service("filtered").port))
    assert code not in (0, errno.ECONNREFUSED)   # no SYN-ACK, no RST: silence, like a firewall's DROP


def test_filtered_port_is_never_promised_where_the_trick_fails(lab):
    service = lab.service("filtered")
    if lab.filtered_works:
        assert service.expected_state is PortState.FILTERED
    else:
        assert service.expected_state is not PortState.FILTERED
        assert any(note.code == "filtered_unavailable" for note in lab.notes)


def test_closed_port_refuses_and_is_reserved(lab, host):
    port = lab.service("closed").port
    assert refused(host, port)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as intruder:
        intruder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        with pytest.raises(OSError):
            intruder.bind((host, port))   # nobody can start listening there while the lab runs


def test_many_quick_connects_all_get_the_banner(lab):
    port = lab.service("ssh").port

    def banner(_):
        with connect("127.0.0.1", port) as sock:
            return recv_line(sock)

    with ThreadPoolExecutor(max_workers=32) as pool:
        banners = list(pool.map(banner, range(300)))
    assert banners == [SSH_BANNER] * 300
    assert lab.running and not lab.handler_errors


# --- checking a scan against the lab ---------------------------------------------------------

@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_a_real_scan_matches_the_known_answer(lab, host):
    tcp_ports = [s.port for s in lab.services if s.protocol == "tcp"]
    report = scan(parse_target(host), tcp_ports, TimeoutSetting(0.5))
    result = compare(report, lab)
    assert result.target_is_lab and result.complete
    assert [v.verdict for v in result.verdicts] == ["match"] * len(tcp_ports), result.verdicts
    assert result.found_open == result.expected_open == tuple(sorted(lab.service(n).port for n in OPEN_TCP))
    assert result.missed_open == result.unexpected_open == result.not_scanned == ()
    assert result.all_match
    if lab.filtered_works:
        assert result.filtered_matches == (lab.service("filtered").port,)
        filtered = next(r for r in report.results if r.port == lab.service("filtered").port)
        assert filtered.reason is Reason.NO_RESPONSE


def test_compare_names_misses_extras_and_unscanned_ports(lab):
    http, echo, closed = lab.service("http").port, lab.service("echo").port, lab.service("closed").port
    with Listener() as stranger:   # a program that is not part of the lab
        report = scan(parse_target("127.0.0.1"), [echo, closed, stranger.port], TimeoutSetting(0.5))
    result = compare(report, lab)
    assert result.found_open == (echo,)
    assert result.unexpected_open == (stranger.port,)
    assert set(result.not_scanned) == {s.port for s in lab.services if s.protocol == "tcp"} - {echo, closed}
    assert not result.all_match

    # A report is plain data: one that says the web server is closed counts it as missed.
    target = parse_target("127.0.0.1")
    wrong = ScanReport(target=target, ports_requested=(http,), results=[PortResult(http, PortState.CLOSED,
                       Reason.CONN_REFUSED)], timeout="1", final_timeout=1.0, workers=1,
                       started="2024-01-01T00:00:00+00:00", elapsed_seconds=0.0, complete=True)
    result = compare(wrong, lab)
    assert result.missed_open == (http,)
    verdict = next(v for v in result.verdicts if v.service.port == http)
    assert (verdict.verdict, verdict.observed, verdict.reason) == ("mismatch", PortState.CLOSED, Reason.CONN_REFUSED)


# --- ports, notes, start and stop --------------------------------------------------------------

def test_fixed_layout_puts_services_at_their_documented_offsets():
    base = free_block(20000, 30000)
    with PracticeLab(base_port=base) as fixed:
        assert not [note for note in fixed.notes if note.code == "moved"], fixed.notes
        for plan in LAB_LAYOUT:
            service = fixed.service(plan.service, plan.protocol)
            assert service.port == service.wanted_port == base + plan.offset


def test_a_taken_port_moves_the_service_and_says_so():
    with Listener() as squatter:   # something already listens where the web server wants to be
        base = squatter.port - 80
        with PracticeLab(base_port=base) as moved:
            http = moved.service("http")
            assert http.port != squatter.port and http.wanted_port == squatter.port
            assert base <= http.port < base + LAB_BLOCK_SIZE
            assert ("moved", {"service": "http", "protocol": "tcp", "wanted": squatter.port,
                              "got": http.port}) in moved.notes
            status, _headers, _body = http_exchange("127.0.0.1", http.port, b"HEAD / HTTP/1.0\r\n\r\n")
            assert status == "HTTP/1.1 200 OK"


@pytest.mark.slow   # over a third of a second: kept out of the quick loop
def test_stop_closes_everything_and_can_be_called_twice():
    lab = PracticeLab(base_port=0).start()
    hosts = lab.hosts
    http_before = lab.service("http").port
    assert not refused("127.0.0.1", http_before)
    lab.stop()
    lab.stop()
    assert not lab.running
    for service in lab.services:
        for host in hosts:
            if service.protocol == "tcp":
                assert refused(host, service.port), (host, service)
            else:
                assert udp_refused(host, service.port), (host, service)
    lab.start()    # and it starts again
    try:
        assert lab.running and not refused("127.0.0.1", lab.service("http").port)
    finally:
        lab.stop()


# --- binding safely ---------------------------------------------------------------------------

@pytest.mark.parametrize("everywhere", ["0.0.0.0", "::", "[::]", "0", "0.0", "0x0", "000.0.0.0", "0::0",
                                        "::ffff:0.0.0.0", "[::ffff:0.0.0.0]", "::FFFF:0:0", " 0 "])
def test_binding_every_interface_needs_explicit_permission(everywhere):
    """Every spelling of "all addresses" is caught (::ffff:0.0.0.0 once skipped the warning)."""
    with pytest.raises(LabSetupError) as caught:
        PracticeLab(host=everywhere)
    assert caught.value.code == "lab.bind_all"
    assert caught.value.params["host"] in ("0.0.0.0", "::")
    assert isinstance(caught.value, InputError)
    allowed = PracticeLab(host=everywhere, allow_all_interfaces=True)   # not started: no traffic anywhere
    assert allowed.warning_needed and not allowed.running


@pytest.mark.parametrize("spelling, canonical", [("127.1", "127.0.0.1"), ("::ffff:127.0.0.1", "127.0.0.1"),
                                                 ("[::1]", "::1"), ("0x7f.1", "127.0.0.1")])
def test_other_spellings_become_one_canonical_address(spelling, canonical):
    assert PracticeLab(host=spelling).bound_host == canonical


@pytest.mark.parametrize("junk", ["0 junk", "1.2.3.4.5", "0x", "256.0.0.0.1", "::ffff:0.0.0.0/8"])
def test_junk_is_still_a_bad_host(junk):
    with pytest.raises(LabSetupError) as caught:
        PracticeLab(host=junk)
    assert caught.value.code == "lab.bad_host"


def test_warning_is_needed_only_off_loopback():
    assert not PracticeLab(host="127.0.0.1").warning_needed
    assert not PracticeLab(host="::1").warning_needed
    assert not PracticeLab(host="localhost").warning_needed
    assert PracticeLab(host="192.0.2.10").warning_needed      # documentation address; never started


@pytest.mark.parametrize("kwargs, code", [({"host": "example.com"}, "lab.bad_host"),
                                          ({"base_port": -1}, "lab.bad_base_port"),
                                          ({"base_port": 65500}, "lab.bad_base_port")])
def test_bad_settings_are_input_errors(kwargs, code):
    with pytest.raises(LabSetupError) as caught:
        PracticeLab(**kwargs)
    assert caught.value.code == code


# --- a whole class scanning at once -------------------------------------------------------------

SCAN_ONE = r"""
import json, sys
from scanner import TimeoutSetting, parse_target, scan
low, high = int(sys.argv[1]), int(sys.argv[2])
report = scan(parse_target("127.0.0.1"), range(low, high + 1), TimeoutSetting(1.0))
print(json.dumps({"open": [r.port for r in report.results if r.state.value == "open"],
                  "complete": report.complete}))
"""


def class_of_scanners(lab: PracticeLab, students: int, low: int, high: int) -> None:
    """``students`` separate processes each scan low-high at the same time, like a lab session."""
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    processes = [subprocess.Popen([sys.executable, "-c", SCAN_ONE, str(low), str(high)], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(students)]
    outcomes = []
    try:
        for process in processes:
            out, err = process.communicate(timeout=300)   # a hang fails the test instead of blocking it
            assert process.returncode == 0, err.decode(errors="replace")
            outcomes.append(json.loads(out))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    expected_open = {s.port for s in lab.services if s.protocol == "tcp" and s.expected_state is PortState.OPEN}
    for outcome in outcomes:
        assert outcome["complete"]
        assert expected_open <= set(outcome["open"])
        assert lab.service("filtered").port not in outcome["open"]
    assert lab.running and lab.failure is None and not lab.handler_errors
    with connect("127.0.0.1", lab.service("echo").port) as sock:   # still serving afterwards
        sock.sendall(b"still here\n")
        assert recv_line(sock) == b"still here\n"


@pytest.mark.slow   # ~15 s: thirty whole scans at once
def test_thirty_concurrent_scans_all_see_every_open_port():
    base = free_block(3000, 9900)
    with PracticeLab(base_port=base) as class_lab:
        class_of_scanners(class_lab, 30, 1, 10000)


@pytest.mark.slow   # ~25 s on 2 cores; deselect with -m "not slow" (the test above covers the same ground)
def test_thirty_concurrent_full_range_scans_all_see_every_open_port(lab):
    class_of_scanners(lab, 30, 1, 65535)
