"""The UDP scanner: send a datagram, then read the answer — or the silence.

UDP has no handshake, so there is nothing like ``connect_ex`` returning 0 to prove a port
is open.  A UDP probe sends one small datagram and waits:

    a datagram comes back          open           udp-response
    ICMP "port unreachable"        closed         port-unreach
    nothing before the timeout     open|filtered  no-response

The middle line needs a trick.  The simple, portable way to hear an ICMP error is a
*connected* UDP socket: ``connect()`` on a datagram socket sends nothing, it records the
peer, and from then on the kernel reports an ICMP error from that peer as
``ECONNREFUSED`` on the next ``recv()`` (Windows says ``WSAECONNRESET``).  Silence is
ambiguous: the service may be there and ignore a datagram it does not understand (a DNS
server wants a real DNS query, so well-known ports get a protocol-appropriate payload
from ``UDP_PAYLOADS``), or a firewall may have dropped it.

Closed ports are slow to prove because hosts *rate-limit* ICMP errors.  Linux, for
example, answers any one other host with a short burst of "port unreachable" messages
and then about one per second (``net.ipv4.icmp_ratelimit`` = 1000 ms; loopback is
exempt); macOS caps them at 250 per second.  A scanner that sends faster reads the
missing errors as silence.  So this engine paces itself (``rate`` datagrams
per second; ``rate=None`` removes the cap) and asks every silent port again, after the
rest of the queue, when the ICMP budget has had time to refill: at least twice more, and
more while retries keep turning silence into answers (``scanner.timing.RetryPolicy``,
the same rule as the TCP engine).  That is why
UDP scans take so much longer than TCP scans, and why nmap's are famous for it.

Scanning your own machine hides the same trap as for TCP (see ``scanner.probe``): the
kernel may give a probe's socket the very port it probes, and the socket then hears its
own datagram.  Such sockets are thrown away, and on loopback every open port is asked
twice before it is believed.

Like ``scanner.engine``, one thread keeps many non-blocking sockets in flight and a
``selectors`` selector reports which have an answer; a ``stop`` event or Ctrl+C ends the
scan early with ``complete=False`` and the ports finished so far.
"""

from __future__ import annotations

import collections
import datetime
import errno
import selectors
import socket
import struct
import sys
import threading
import time
from typing import Callable, Dict, Iterable, Optional

from scanner.engine import WINDOWS_SELECT_LIMIT, open_file_budget
from scanner.inputs import TimeoutSetting, is_loopback_address
from scanner.probe import MAX_SELF_CONNECT_RETRIES, RESOURCE_CODES, classify, is_self_connected, sockaddr_for
from scanner.results import PortResult, PortState, Reason, ScanReport, Target
from scanner.services import service_name
from scanner.timing import FixedTimeout, Pacer, RetryPolicy, RttEstimator

DEFAULT_UDP_WORKERS = 64         # datagrams waiting for an answer at once
DEFAULT_UDP_RATE = 200.0         # datagrams per second; silent ports are asked again later
BURST = 16                       # datagrams that may go out back to back after a pause

# Port unreachable: ECONNREFUSED on Unix, WSAECONNRESET (10054) on Windows.
PORT_UNREACH_CODES = frozenset(code for code in (getattr(errno, name, None) for name in
                               ("ECONNREFUSED", "WSAECONNREFUSED", "WSAECONNRESET")) if code is not None)

# A DNS query for the root's name servers (". NS IN"), with "recursion desired".
DNS_QUERY = struct.pack(">HHHHHH", 0x7063, 0x0100, 1, 0, 0, 0) + b"\x00" + struct.pack(">HH", 2, 1)
# An NTP version 3 client request: first byte LI=0, VN=3, Mode=3, then 47 zero bytes.
NTP_REQUEST = b"\x1b" + bytes(47)
UDP_PAYLOADS = {53: DNS_QUERY, 123: NTP_REQUEST}

ProgressCallback = Callable[[int, int, int], None]


def udp_payload(port: int) -> bytes:
    """What to send to ``port``: a real request where a service needs one, else nothing."""
    return UDP_PAYLOADS.get(port, b"")


class _UdpScan:
    """The state of one UDP scan; everything runs in the calling thread."""

    def __init__(self, target: Target, ports: tuple, timer, stop: threading.Event,
                 capacity: int, rate: Optional[float], policy: Optional[RetryPolicy] = None) -> None:
        self.target = target
        self.policy = policy or RetryPolicy()
        self.retried = 0   # ports that answered only on a retry
        self.timer = timer
        self.stop = stop
        self.capacity = max(1, capacity)
        self.interval = 1.0 / rate if rate else 0.0
        # Answers that come only on a retry while many more datagrams go out: the target's
        # ICMP budget is smaller than our rate, so the pacer slows down (see scanner.timing).
        self.pacer = Pacer(self.capacity)
        self.sent = self.answered = self.late = 0
        self.next_send = time.monotonic()
        self.selector = selectors.DefaultSelector()
        # (port, attempt, confirming): attempt counts silent tries, confirming marks a second look at an open port.
        self.pending = collections.deque((port, 0, False) for port in ports)
        self.in_flight: Dict[socket.socket, tuple] = {}  # socket -> (port, attempt, confirming, started)
        self.results: Dict[int, PortResult] = {}
        self.open_found = 0
        self.self_connects = 0
        # On loopback two of our own sockets can hear each other; confirm every open port once.
        self.confirm_open = is_loopback_address(target.address)

    # -- the loop ---------------------------------------------------------------------
    def run(self, progress: Optional[ProgressCallback], total: int, progress_interval: float) -> None:
        next_progress = time.monotonic() + progress_interval
        while (self.pending or self.in_flight) and not self.stop.is_set():
            self._send_some()
            now = time.monotonic()
            wait = 0.05
            if self.in_flight:
                oldest_started = next(iter(self.in_flight.values()))[3]
                wait = min(wait, oldest_started + self.timer.timeout - now)
            if self.pending and len(self.in_flight) < self.capacity:
                wait = min(wait, self.next_send - now)
            if self.in_flight:
                for key, _events in self.selector.select(timeout=max(0.0, wait)):
                    self._answered(key.fileobj)  # type: ignore[arg-type]  # we registered sockets only
            elif wait > 0:
                time.sleep(wait)
            self._expire()
            self.pacer.note(self.sent, self.answered, self.late, cooldown=1.0 + self.timer.timeout)
            self.sent = self.answered = self.late = 0
            if progress and time.monotonic() >= next_progress:
                next_progress = time.monotonic() + progress_interval
                progress(len(self.results), total, self.open_found)

    def close(self) -> None:
        for sock in list(self.in_flight):
            self._forget(sock)
        self.selector.close()

    def _send_some(self) -> None:
        now = time.monotonic()
        interval = max(self.interval, 1.0 / self.pacer.rate if self.pacer.rate else 0.0)
        if interval:
            self.next_send = max(self.next_send, now - BURST * interval)  # no credit for long pauses
        while self.pending and len(self.in_flight) < self.capacity and self.next_send <= now:
            port, attempt, confirming = self.pending.popleft()
            self._send(port, attempt, confirming)
            self.sent += 1
            self.next_send += interval
            if self.stop.is_set():
                return

    # -- one probe ----------------------------------------------------------------------
    def _connected_socket(self, port: int) -> Optional[socket.socket]:
        """A non-blocking UDP socket connected to the port, never to itself; None if out of files."""
        held = []  # self-connected sockets stay open so the kernel picks another source port
        try:
            for _ in range(MAX_SELF_CONNECT_RETRIES + 1):
                try:
                    sock = socket.socket(self.target.family, socket.SOCK_DGRAM)
                except OSError as error:
                    if error.errno in RESOURCE_CODES:
                        return None
                    raise
                sock.setblocking(False)
                try:
                    sock.connect(sockaddr_for(self.target.address, self.target.family, port))
                except OSError:
                    sock.close()
                    raise
                if not is_self_connected(sock):
                    return sock
                self.self_connects += 1
                held.append(sock)
            raise _SelfConnected()
        finally:
            for sock in held:
                sock.close()

    def _send(self, port: int, attempt: int, confirming: bool) -> None:
        started = time.monotonic()
        try:
            sock = self._connected_socket(port)
        except _SelfConnected:  # the kernel keeps handing out this port as a source: nothing else has it
            self._record(PortResult(port, PortState.CLOSED, Reason.SELF_CONNECT, protocol="udp"))
            return
        except OSError as error:
            self._error(port, attempt, confirming, error, time.monotonic() - started)
            return
        if sock is None:  # out of files: wait for answers to free some
            self.pending.appendleft((port, attempt, confirming))
            self.capacity = max(1, len(self.in_flight))
            return
        try:
            sock.send(udp_payload(port))
        except OSError as error:
            sock.close()
            self._error(port, attempt, confirming, error, time.monotonic() - started)
            return
        self.in_flight[sock] = (port, attempt, confirming, started)
        self.selector.register(sock, selectors.EVENT_READ)

    def _answered(self, sock: socket.socket) -> None:
        port, attempt, confirming, started = self.in_flight[sock]
        try:
            sock.recv(65535)
        except (BlockingIOError, InterruptedError):
            return  # a wake-up without a datagram: keep waiting
        except OSError as error:
            self._forget(sock)
            self._error(port, attempt, confirming, error, time.monotonic() - started)
            return
        rtt = time.monotonic() - started
        self._forget(sock)
        self.timer.observe(rtt)
        self._heard(attempt, confirming)
        if self.confirm_open and not confirming:
            self.pending.appendleft((port, attempt, True))
            return
        self._record(PortResult(port, PortState.OPEN, Reason.UDP_RESPONSE, protocol="udp",
                                service=service_name(port, "udp"), rtt=rtt, tries=attempt + 1))

    def _error(self, port: int, attempt: int, confirming: bool, error: OSError, rtt: float) -> None:
        code = error.errno or 0
        if code in PORT_UNREACH_CODES:
            self.timer.observe(rtt)
            self._heard(attempt, confirming)
            self._record(PortResult(port, PortState.CLOSED, Reason.PORT_UNREACH, protocol="udp", rtt=rtt,
                                    tries=attempt + 1))
            return
        verdict = classify(code)
        if verdict is None:  # out of local resources: this port's turn comes again
            self.pending.append((port, attempt, confirming))
            self.capacity = max(1, len(self.in_flight))
            return
        state, reason = verdict
        if state is PortState.OPEN:  # classify(0) cannot happen here; keep UDP's vocabulary anyway
            state, reason = PortState.OPEN_FILTERED, Reason.NO_RESPONSE
        self._record(PortResult(port, state, reason, protocol="udp", service=service_name(port, "udp"),
                                tries=attempt + 1))

    def _heard(self, attempt: int, confirming: bool) -> None:
        """An answer came on try ``attempt + 1``: evidence for the retry policy and the pacer."""
        self.policy.answered_on(attempt + 1)
        self.answered += 1
        if attempt and not confirming:
            self.late += 1

    def _expire(self) -> None:
        now = time.monotonic()
        timeout = self.timer.timeout
        expired = []
        for sock, (port, attempt, confirming, started) in self.in_flight.items():
            if now - started < timeout:
                break  # insertion order is start order: the rest are younger
            expired.append((sock, port, attempt, confirming))
        for sock, port, attempt, confirming in expired:
            self._forget(sock)
            if self.policy.may_retry(attempt + 1):
                self.pending.append((port, attempt + 1, confirming))  # after the others: ICMP budget refills
            elif confirming:  # it sent a datagram back once: open, even if the second look went unanswered
                self._record(PortResult(port, PortState.OPEN, Reason.UDP_RESPONSE, protocol="udp",
                                        service=service_name(port, "udp"), tries=attempt + 1))
            else:
                self._record(PortResult(port, PortState.OPEN_FILTERED, Reason.NO_RESPONSE, protocol="udp",
                                        service=service_name(port, "udp"), tries=attempt + 1))

    def _record(self, result: PortResult) -> None:
        self.results[result.port] = result
        if result.tries > 1 and result.reason is not Reason.NO_RESPONSE:
            self.retried += 1
        if result.state is PortState.OPEN:
            self.open_found += 1

    def _forget(self, sock: socket.socket) -> None:
        self.in_flight.pop(sock, None)
        try:
            self.selector.unregister(sock)
        except (KeyError, ValueError):
            pass
        sock.close()


class _SelfConnected(Exception):
    pass


def scan_udp(target: Target, ports: Iterable[int], timeout: TimeoutSetting = TimeoutSetting(1.0),
             stop: Optional[threading.Event] = None, progress: Optional[ProgressCallback] = None, *,
             workers: int = DEFAULT_UDP_WORKERS, rate: Optional[float] = DEFAULT_UDP_RATE,
             progress_interval: float = 0.1, retries: Optional[int] = None) -> ScanReport:
    """UDP-scan ``ports`` of ``target``; returns a ``ScanReport`` with ``protocol="udp"``.

    ``progress(done, total, open_found)`` is called about every ``progress_interval``
    seconds and once at the end.  ``rate`` caps datagrams per second (None: no cap).
    ``retries`` is how often a silent port is asked again (0-10); None adapts it, as in
    ``scanner.engine.scan``.
    Setting ``stop`` or pressing Ctrl+C ends the scan early with ``complete=False``.
    """
    ports = tuple(ports)
    unique_ports = tuple(dict.fromkeys(ports))
    stop = stop or threading.Event()
    timer = RttEstimator(initial=timeout.seconds) if timeout.auto else FixedTimeout(timeout.seconds)
    capacity = min(workers, open_file_budget(), max(1, len(unique_ports)))
    if sys.platform == "win32":
        capacity = min(capacity, WINDOWS_SELECT_LIMIT)
    policy = RetryPolicy(retries)
    state = _UdpScan(target, unique_ports, timer, stop, capacity, rate, policy)

    started_wall = datetime.datetime.now(datetime.timezone.utc)
    started = time.monotonic()
    interrupted = False
    try:
        state.run(progress, len(unique_ports), progress_interval)
    except KeyboardInterrupt:
        interrupted = True
        stop.set()
    finally:
        state.close()
    results = sorted(state.results.values(), key=lambda r: r.port)
    if progress:
        progress(len(results), len(unique_ports), state.open_found)
    return ScanReport(
        target=target, ports_requested=ports, results=results, timeout=str(timeout),
        final_timeout=round(timer.timeout, 4), workers=workers,
        started=started_wall.isoformat(timespec="seconds"),
        elapsed_seconds=round(time.monotonic() - started, 3),
        complete=len(results) == len(unique_ports) and not interrupted, interrupted=interrupted,
        protocol="udp", retried_self_connects=state.self_connects,
        retried=state.retried, retries=str(policy), rate_limit_per_second=state.pacer.rate_limit,
    )
