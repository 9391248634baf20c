"""``--packets`` shows the scan's own connections only, even while another program connects to the same port.

Another client (a separate process, as another program would be) keeps connecting to
the scanned port during the capture.  A packet socket sees all of it; only the SYNs that
carry this process's mark (scanner/own_traffic.py) start connections that are listed.
Needs a PF_PACKET socket (root or CAP_NET_RAW): skips, saying so, without one.
"""

import os
import re
import socket
import subprocess
import sys
import time

import pytest

from scanner import own_traffic
from scanner.engine import scan
from scanner.inputs import TimeoutSetting, parse_target
from scanner.packets import Capture, CaptureUnavailable
from tests.conftest import ROOT, program_env
from tests.servers import Listener, free_port

MAIN = os.path.join(ROOT, "main.py")
# Connects to PORT over and over (at most 5000 times, at most SECONDS), printing one line once it has started.
OTHER_CLIENT = """
import socket, sys, time
port, seconds = int(sys.argv[1]), float(sys.argv[2])
end = time.monotonic() + seconds
for count in range(5000):
    if time.monotonic() > end:
        break
    with socket.socket() as sock:
        sock.connect_ex(("127.0.0.1", port))
    if count == 20:
        print("busy", flush=True)
    time.sleep(0.002)
"""


@pytest.fixture
def can_capture():
    try:
        Capture(["127.0.0.1"], [1]).start().stop(linger=0)
    except CaptureUnavailable as problem:
        pytest.skip(f"cannot open a PF_PACKET socket here ({problem}): needs Linux and root or CAP_NET_RAW")


class OtherClient:
    """Another program hammering ``port`` for ``seconds``, started and ended by pid."""

    def __init__(self, port: int, seconds: float = 8.0) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", OTHER_CLIENT, str(port), str(seconds)],
                                        stdout=subprocess.PIPE, text=True)

    def __enter__(self):
        assert self.process.stdout.readline().strip() == "busy"
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(10)


@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_another_clients_connections_to_the_scanned_port_are_not_ours(can_capture):
    with Listener() as listener, OtherClient(listener.port):
        with Capture(["127.0.0.1"], [listener.port]) as capture:
            report = scan(parse_target("127.0.0.1"), [listener.port], TimeoutSetting(1.0))
            time.sleep(0.3)   # the other client goes on connecting while we still capture
    ours = {record.local_port for record in capture.records()}
    everyone = {header[3] for _time, header in capture.raw if header[4] == listener.port}
    assert report.results[0].state.value == "open"
    assert len(everyone) > 10, "the other client's connections were not even seen: the test proves nothing"
    assert 1 <= len(ours) <= 2, ours   # the probe, and the engine's confirming connect of an open port
    flags = [record.flags for record in capture.records()]
    assert flags[:3] == ["SYN", "SYN-ACK", "ACK"], flags


@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_the_scan_command_lists_only_its_own_connections_while_another_program_connects(isolated_home,
                                                                                    can_capture):
    closed = free_port()
    with Listener() as listener, OtherClient(listener.port):
        proc = subprocess.run([sys.executable, MAIN, "scan", "127.0.0.1", "-p", f"{closed},{listener.port}",
                               "--packets"], cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              env=program_env(isolated_home), timeout=60)
    assert proc.returncode == 0, proc.stderr
    block = proc.stdout.split(f"127.0.0.1 port {listener.port}:", 1)[1].split("127.0.0.1 port", 1)[0]
    assert 1 <= len(re.findall(rf"-> {listener.port}\s+SYN\n", block)) <= 2, block   # the probe (+ its confirmation)
    assert "more packets of this probe" not in block


@pytest.mark.slow   # over a third of a second: kept out of the quick loop
def test_packets_n_prints_n_probes(isolated_home, can_capture):
    with Listener() as first, Listener() as second:
        proc = subprocess.run([sys.executable, MAIN, "scan", "127.0.0.1", "-p", f"{first.port},{second.port}",
                               "--packets", "1"], cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              env=program_env(isolated_home), timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "(1 of 2 probes)" in proc.stdout and proc.stdout.count("127.0.0.1 port ") == 1
    assert "1 more probes not shown: --packets 2" in proc.stdout


def test_the_mark_is_set_only_for_watched_addresses_and_ports():
    with Listener() as watched, Listener() as other:
        own_traffic.watch(12345, frozenset({socket.inet_aton("127.0.0.1")}), frozenset({watched.port}))
        try:
            with socket.socket() as marked, socket.socket() as unmarked:
                marked.connect(("127.0.0.1", watched.port))
                unmarked.connect(("127.0.0.1", other.port))
                assert marked.getsockopt(socket.IPPROTO_IP, socket.IP_TTL) == own_traffic.own_hop_limit()
                assert unmarked.getsockopt(socket.IPPROTO_IP, socket.IP_TTL) != own_traffic.own_hop_limit()
        finally:
            own_traffic.unwatch(12345)
        with socket.socket() as after:
            after.connect(("127.0.0.1", watched.port))
            assert after.getsockopt(socket.IPPROTO_IP, socket.IP_TTL) != own_traffic.own_hop_limit()
