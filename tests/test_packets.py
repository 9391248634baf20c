"""Watching the wire: decoding headers, capturing our own probes (root), degrading without it."""

import os
import re
import shutil
import socket
import struct
import subprocess
import sys

import pytest

from lessons import catalog
from lessons.ui.i18n import LANGUAGES, Translator
from lessons.ui.wire import parse_packet_count, start_capture
from scanner import packets
from scanner.packets import (ACK, ETH_P_IP, ETH_P_IPV6, FIN, PSH, RST, SYN, Capture, CaptureUnavailable,
                             capture_probe, decode_tcp, flag_name)
from tests.conftest import ROOT, program_env
from tests.servers import ClosedPort, FilteredPort, Listener, free_port

MAIN = os.path.join(ROOT, "main.py")


def tcp_header(sport, dport, flags, seq=1, ack=0):
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)


def test_flags_are_named_the_way_people_say_them():
    assert [flag_name(bits) for bits in (SYN, SYN | ACK, ACK, RST, RST | ACK, FIN | ACK, PSH | ACK)] == \
        ["SYN", "SYN-ACK", "ACK", "RST", "RST-ACK", "FIN", "PSH-ACK"]


def test_ipv4_and_ipv6_headers_are_decoded_with_struct():
    ipv4 = bytes([0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0]) + socket.inet_aton("127.0.0.1") + \
        socket.inet_aton("127.0.0.2") + tcp_header(40000, 22, SYN, seq=7)
    assert decode_tcp(ipv4, ETH_P_IP) == ("ipv4", socket.inet_aton("127.0.0.1"), socket.inet_aton("127.0.0.2"),
                                          40000, 22, 7, 0, SYN)
    ipv6 = bytes([0x60, 0, 0, 0, 0, 20, 6, 64]) + socket.inet_pton(socket.AF_INET6, "::1") * 2 + \
        tcp_header(22, 40000, RST | ACK, seq=0, ack=8)
    assert decode_tcp(ipv6, ETH_P_IPV6)[3:] == (22, 40000, 0, 8, RST | ACK)
    udp = ipv4[:9] + bytes([17]) + ipv4[10:]
    assert decode_tcp(udp, ETH_P_IP) is None and decode_tcp(ipv4[:30], ETH_P_IP) is None


def test_packet_count_option():
    assert parse_packet_count(None) is None and parse_packet_count("") is None
    assert parse_packet_count("50") == 50
    for bad in ("0", "x", "-1", "9" * 50):
        with pytest.raises(ValueError):
            parse_packet_count(bad)


# --- degrading without the capability ----------------------------------------------------------

def _refuse(_interface):
    raise PermissionError(1, "Operation not permitted")


@pytest.mark.parametrize("language", LANGUAGES)
def test_without_the_capability_one_line_says_what_is_needed_and_why(language):
    capture, problem = start_capture(["127.0.0.1"], [22], Translator(language), opener=_refuse)
    assert capture is None and "CAP_NET_RAW" in problem and "PF_PACKET" in problem and "\n" not in problem


def test_off_linux_one_line_names_linux(monkeypatch):
    monkeypatch.delattr(socket, "AF_PACKET", raising=False)
    capture, problem = start_capture(["127.0.0.1"], [22], Translator("en"))
    assert capture is None and "Linux" in problem


def _without_net_raw():
    """A command prefix that drops CAP_NET_RAW, or None when this system cannot."""
    if os.geteuid() != 0:
        return ()  # not root: the capability is already missing
    if shutil.which("capsh"):
        return ("capsh", "--drop=cap_net_raw", "--", "-c", '"$0" "$@"')
    if shutil.which("setpriv"):
        return ("setpriv", "--bounding-set=-net_raw", "--inh-caps=-net_raw", "--")
    return None


def test_the_real_program_scans_as_usual_without_the_capability(isolated_home):
    prefix = _without_net_raw()
    if prefix is None:
        pytest.skip("neither capsh nor setpriv is available to drop CAP_NET_RAW")
    with Listener() as listener:
        proc = subprocess.run([*prefix, sys.executable, MAIN, "scan", "127.0.0.1", "-p", str(listener.port),
                               "--packets"], cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              env=program_env(isolated_home), timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert [line for line in proc.stderr.splitlines() if line.strip()] == [proc.stderr.strip()]
    assert "CAP_NET_RAW" in proc.stderr
    assert f"{listener.port}/tcp" in proc.stdout and "SYN" not in proc.stdout


# --- capturing our own probes (root) -------------------------------------------------------------

@pytest.fixture
def can_capture():
    try:
        Capture(["127.0.0.1"], [1]).start().stop(linger=0)
    except CaptureUnavailable as problem:
        pytest.skip(f"cannot open a PF_PACKET socket here ({problem}): needs Linux and root or CAP_NET_RAW")


def flags_of(records, port):
    return [record.flags for record in records if record.port == port]


def test_open_port_shows_the_handshake(can_capture):
    with Listener() as listener:
        records = capture_probe("127.0.0.1", listener.port, 0.5)
    flags = flags_of(records, listener.port)
    assert flags[:3] == ["SYN", "SYN-ACK", "ACK"], flags
    assert [r.direction for r in records[:3]] == ["out", "in", "out"]
    assert records[0].time == 0.0 and all(r.time >= 0 for r in records)


def test_closed_port_answers_with_a_reset(can_capture):
    # A port held closed (bound, not listening): no other program's listener can take it meanwhile, and
    # other programs' SYNs to it carry no mark of ours, so the capture lists only this probe.
    with ClosedPort() as closed:
        flags = flags_of(capture_probe("127.0.0.1", closed.port, 0.5), closed.port)
    assert flags[0] == "SYN" and flags[1].startswith("RST"), flags


def test_ipv6_probe_is_captured_too(can_capture):
    try:
        listener = Listener("::1")
    except OSError:
        pytest.skip("no ::1 here")
    with listener:
        assert flags_of(capture_probe("::1", listener.port, 0.5), listener.port)[:2] == ["SYN", "SYN-ACK"]


@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_filtered_port_shows_the_syn_sent_again(can_capture):
    with FilteredPort() as filtered:
        records = capture_probe("127.0.0.1", filtered.port, 1.6)   # Linux resends a lost SYN after 1 s
    assert flags_of(records, filtered.port).count("SYN") >= 2


@pytest.mark.slow   # over a third of a second: kept out of the quick loop
def test_scan_with_packets_shows_syn_ack_for_open_and_rst_for_closed(isolated_home, can_capture):
    with ClosedPort() as held, Listener() as listener:
        closed = held.port
        proc = subprocess.run([sys.executable, MAIN, "scan", "127.0.0.1", "-p", f"{closed},{listener.port}",
                               "--packets"], cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              env=program_env(isolated_home), timeout=60)
    assert proc.returncode == 0 and not proc.stderr, proc.stderr
    blocks = proc.stdout.split("127.0.0.1 port ")
    open_block = next(b for b in blocks if b.startswith(f"{listener.port}:"))
    closed_block = next(b for b in blocks if b.startswith(f"{closed}:"))
    assert re.search(r"-> \d+\s+SYN\n", open_block) and re.search(r"<- \d+\s+SYN-ACK\n", open_block)
    assert re.search(r"-> \d+\s+SYN\n", closed_block) and re.search(r"<- \d+\s+RST", closed_block)
    assert all(len(line) <= 80 for line in proc.stdout.splitlines())


# --- the lesson shows the code the tool runs ------------------------------------------------------

@pytest.mark.parametrize("language", LANGUAGES)
def test_the_lesson_shows_the_real_capture_code(language):
    assert "packet-capture" in catalog.lesson_ids(language)
    body = catalog.load_lesson("packet-capture", language).body
    blocks = re.findall(r"```python\n(.*?)```", body, re.S)
    assert blocks
    with open(packets.__file__, encoding="utf-8") as stream:
        source = [line.strip() for line in stream]
    for block in blocks:
        compile(block, "lesson", "exec")
        lines = [line.strip() for line in block.strip().splitlines()
                 if not line.strip().startswith("#")]  # "# fragment: ..." marks (tests/test_lesson_code_runs.py)
        assert any(source[i:i + len(lines)] == lines for i in range(len(source))), block


def test_the_kernel_filter_keeps_other_ports_out(can_capture):
    other = free_port()
    with Listener() as listener:
        with Capture(["127.0.0.1"], [listener.port]) as capture:
            for port in (other, listener.port):
                with socket.socket() as probe:
                    probe.connect_ex(("127.0.0.1", port))
    ports = {header[3] for _time, header in capture.raw} | {header[4] for _time, header in capture.raw}
    assert listener.port in ports and other not in ports
