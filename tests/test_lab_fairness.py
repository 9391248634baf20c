"""The lab under a mischievous class: fair sharing of connections and no UDP loops.

Every test here is bounded in count and has safety timeouts; none asserts how long
anything took.  The "other client" uses a second loopback address (127.0.0.2), which
Linux routes to this machine like 127.0.0.1.
"""

from __future__ import annotations

import os
import resource
import socket
import struct
import subprocess
import sys
import time

import pytest

from lessons.lab import SSH_BANNER, PracticeLab
from lessons.lab import services as lab_services
from tests.conftest import ROOT

SAFETY_TIMEOUT = 5.0
IS_LINUX = sys.platform.startswith("linux")
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def second_loopback_works() -> bool:
    try:
        with socket.socket() as probe:
            probe.bind(("127.0.0.2", 0))
        return True
    except OSError:
        return False


needs_second_address = pytest.mark.skipif(not second_loopback_works(),
                                          reason="127.0.0.2 is not a local address here (e.g. macOS without an alias)")


def connect_from(source: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(SAFETY_TIMEOUT)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", port))
    return sock


def read_line(sock: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        try:
            chunk = sock.recv(100)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return data


@needs_second_address
@pytest.mark.parametrize("service", ["ssh", "echo"])
@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_one_client_holding_400_trickling_connections_does_not_lock_out_another(service):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if min(soft, hard) < 1200:
        pytest.skip(f"RLIMIT_NOFILE {soft} is too low to hold 400 connections on both ends")
    with PracticeLab(base_port=0, also_ipv6=False) as lab:
        port = lab.service(service).port
        greedy = []
        try:
            for _ in range(400):   # one student: 400 connections, each trickling a byte now and then
                sock = connect_from("127.0.0.2", port)
                greedy.append(sock)
            for sock in greedy:
                try:
                    sock.send(b"x")
                except OSError:
                    pass   # the lab already turned this one away
            others = [service for service in ("ssh", "ftp", "http", "echo")]
            for name in others:   # another student, on every service, while the first one holds on
                with connect_from("127.0.0.1", lab.service(name).port) as sock:
                    if name == "ssh":
                        assert read_line(sock) == SSH_BANNER
                    elif name == "ftp":
                        assert read_line(sock).startswith(b"220 ")
                    elif name == "http":
                        sock.sendall(b"HEAD / HTTP/1.0\r\n\r\n")
                        assert read_line(sock).startswith(b"HTTP/1.1 200")
                    else:
                        sock.sendall(b"still served\n")
                        assert read_line(sock) == b"still served\n"
            stats = lab.stats
            assert stats["refused"] + stats["shed"] >= 400 - lab_services.PER_CLIENT
            assert lab.running and not lab.handler_errors
        finally:
            for sock in greedy:
                sock.close()


@needs_second_address
def test_a_full_lab_sheds_the_greediest_client_for_a_newcomer(monkeypatch):
    monkeypatch.setattr(lab_services, "PER_CLIENT", 6)
    monkeypatch.setattr(lab_services, "PER_SERVICE", 8)
    with PracticeLab(base_port=0, also_ipv6=False) as lab:
        port = lab.service("ssh").port
        held = []
        try:
            for source in ["127.0.0.2"] * 6 + ["127.0.0.3"] * 2:   # the service is full: 6 + 2
                held.append(connect_from(source, port))
                assert read_line(held[-1]) == SSH_BANNER
            with connect_from("127.0.0.1", port) as newcomer:      # still served: the greediest gives way
                assert read_line(newcomer) == SSH_BANNER
            assert lab.stats["shed"] >= 1
            assert read_line(held[0]) == b""                        # the oldest of the greediest was closed
        finally:
            for sock in held:
                sock.close()


@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_trickled_bytes_do_not_extend_a_connections_lifetime(monkeypatch):
    monkeypatch.setattr(lab_services, "LIFETIME_SECONDS", 1.0)
    with PracticeLab(base_port=0, also_ipv6=False) as lab:
        with socket.create_connection(("127.0.0.1", lab.service("echo").port), timeout=SAFETY_TIMEOUT) as sock:
            sock.settimeout(0.5)
            ended = False
            for _ in range(40):   # a byte every 0.25 s resets the idle timer, never the lifetime
                try:
                    sock.send(b"x")
                    data = sock.recv(10)
                    if not data:
                        ended = True
                        break
                except OSError:
                    ended = True
                    break
                time.sleep(0.25)
            assert ended


# --- UDP: no loops, no amplification --------------------------------------------------------------

@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_an_echo_like_peer_gets_only_a_few_replies_then_silence():
    """A plain socket that echoes everything back plays "another echo service" (no root needed)."""
    with PracticeLab(base_port=0, also_ipv6=False) as lab:
        echo = ("127.0.0.1", lab.service("echo", "udp").port)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
            peer.bind(("127.0.0.1", 0))
            peer.settimeout(0.5)
            peer.sendto(b"ping-pong", echo)
            heard = 0
            for _ in range(2000):   # bounded: without the guard this would go on forever
                try:
                    data, sender = peer.recvfrom(100)
                except socket.timeout:
                    break
                heard += 1
                peer.sendto(data, sender)
        assert heard <= lab_services.UDP_LOOP_STRIKES + 1, heard
        assert lab.stats["udp_dropped"] >= 1


@pytest.mark.slow   # over a third of a second: kept out of the quick loop
def test_replies_are_never_larger_than_the_request_and_rate_is_limited():
    with PracticeLab(base_port=0, also_ipv6=False) as lab:
        echo = ("127.0.0.1", lab.service("echo", "udp").port)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            client.settimeout(0.3)
            sent = 300
            for number in range(sent):
                client.sendto(b"%d" % number, echo)
            replies = []
            for _ in range(sent):
                try:
                    data, _sender = client.recvfrom(2000)
                except socket.timeout:
                    break
                replies.append(data)
        assert all(len(reply) <= len(str(sent)) for reply in replies)
        assert 0 < len(replies) < sent      # the token bucket answered a burst, not all 300


def spoofed_udp(source: tuple, destination: tuple, payload: bytes) -> bytes:
    """An IPv4 + UDP packet with any source address (the kernel fills in the IP checksum)."""
    udp = struct.pack("!HHHH", source[1], destination[1], 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0x4242, 0, 64, socket.IPPROTO_UDP, 0,
                     socket.inet_aton(source[0]), socket.inet_aton(destination[0]))
    return ip + udp


@pytest.mark.slow   # a few seconds: left out of the quick loop
@pytest.mark.skipif(not (IS_LINUX and IS_ROOT), reason="spoofing a source address needs a raw socket (root, Linux)")
@needs_second_address
def test_one_spoofed_datagram_does_not_set_two_labs_echoing_forever():
    with PracticeLab(host="127.0.0.1", base_port=0, also_ipv6=False) as lab_a, \
            PracticeLab(host="127.0.0.2", base_port=0, also_ipv6=False) as lab_b:
        a = ("127.0.0.1", lab_a.service("echo", "udp").port)
        b = ("127.0.0.2", lab_b.service("echo", "udp").port)
        with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW) as raw:
            raw.sendto(spoofed_udp(b, a, b"loop me"), (a[0], 0))
            raw.sendto(spoofed_udp(("127.0.0.2", 7), a, b"from a low port"), (a[0], 0))
        time.sleep(2.0)   # count what happens in 2 s (a count, not a timing assertion)
        datagrams = lab_a.stats["udp_received"] + lab_b.stats["udp_received"]
        replies = lab_a.stats["udp_replies"] + lab_b.stats["udp_replies"]
    assert datagrams <= 10 and replies <= 5, (lab_a.stats, lab_b.stats)


LAB_B = r"""
import json, sys, time
from lessons.lab import PracticeLab
with PracticeLab(host="127.0.0.2", base_port=0, also_ipv6=False) as lab:
    print(lab.service("echo", "udp").port, flush=True)
    sys.stdin.readline()
    print(json.dumps(lab.stats), flush=True)
"""


@pytest.mark.slow   # a few seconds: left out of the quick loop
@pytest.mark.skipif(not (IS_LINUX and IS_ROOT), reason="spoofing a source address needs a raw socket (root, Linux)")
@needs_second_address
def test_two_labs_in_two_processes_stop_echoing_each_other():
    env = dict(os.environ, PYTHONPATH=ROOT)
    other = subprocess.Popen([sys.executable, "-c", LAB_B], cwd=ROOT, env=env, text=True,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        b_port = int(other.stdout.readline())
        with PracticeLab(host="127.0.0.1", base_port=0, also_ipv6=False) as lab_a:
            a = ("127.0.0.1", lab_a.service("echo", "udp").port)
            with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW) as raw:
                raw.sendto(spoofed_udp(("127.0.0.2", b_port), a, b"loop me"), (a[0], 0))
            time.sleep(2.0)
            a_replies = lab_a.stats["udp_replies"]
        other.stdin.write("\n")
        other.stdin.flush()
        import json
        b_stats = json.loads(other.stdout.readline())
    finally:
        if other.poll() is None:
            other.kill()
        other.wait(10)
    assert a_replies + b_stats["udp_replies"] <= 2 * (lab_services.UDP_LOOP_STRIKES + 1), (a_replies, b_stats)
