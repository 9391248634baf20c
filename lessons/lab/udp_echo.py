"""The lab's UDP echo, and what keeps it from looping or amplifying.

An echo service that answers another echo service answers its answer, forever.  So the
UDP echo never answers a port below 1024, nor a lab's echo port, nor a peer that just sent
back exactly what we sent it; each source address has a token bucket; and a reply is never
larger than the request (it is the request).
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Dict, Set, Tuple

from lessons.lab.clients import client_key

UDP_RATE_PER_SOURCE = 20.0      # datagrams per second one address may have answered ...
UDP_BURST_PER_SOURCE = 40.0     # ... after a burst of this many
UDP_RATE_TOTAL = 2000.0         # and the whole lab at most this many replies per second
UDP_LOOP_WINDOW = 0.5           # our own reply coming back this soon ...
UDP_LOOP_STRIKES = 3            # ... this many times in a row means an echo-like peer: stop answering it
UDP_TRACKED_SOURCES = 4096      # memory bound for the per-source tables


# --- UDP echo ------------------------------------------------------------------------------------

# Every UDP echo endpoint of every lab in this process: a lab never answers another lab.
_ECHO_ENDPOINTS: Set[Tuple[str, int]] = set()
_ECHO_ENDPOINTS_LOCK = threading.Lock()


def register_echo_endpoint(address: Tuple[str, int], present: bool) -> None:
    with _ECHO_ENDPOINTS_LOCK:
        (_ECHO_ENDPOINTS.add if present else _ECHO_ENDPOINTS.discard)(address)


class TokenBucket:
    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate, self.burst, self.tokens, self.stamp = rate, burst, burst, now

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class UdpGuard:
    """Decides whether a datagram may be answered (one per lab, used from the loop's thread)."""

    def __init__(self, own_echo_ports: Set[int]) -> None:
        self.own_echo_ports = own_echo_ports          # our echo port numbers, on any address
        self.buckets: Dict[str, TokenBucket] = {}
        self.total = TokenBucket(UDP_RATE_TOTAL, UDP_RATE_TOTAL, time.monotonic())
        self.last_reply: Dict[Tuple[str, int], Tuple[float, bytes, int]] = {}   # time, bytes, strikes
        self.dropped = 0
        self.strikes = 0      # of the datagram being decided on

    def allow(self, data: bytes, sender: tuple) -> bool:
        now = time.monotonic()
        host, port = sender[0], sender[1]
        with _ECHO_ENDPOINTS_LOCK:
            a_lab = (host, port) in _ECHO_ENDPOINTS
        # A scanner may send the same probe twice; only a peer that keeps sending back
        # exactly what we just sent it is another echo.
        last = self.last_reply.get((host, port))
        echoed_back = last is not None and now - last[0] < UDP_LOOP_WINDOW and last[1] == data
        self.strikes = last[2] + 1 if echoed_back else 0
        if port < 1024 or a_lab or port in self.own_echo_ports or self.strikes >= UDP_LOOP_STRIKES:
            self.dropped += 1
            return False
        if len(self.buckets) > UDP_TRACKED_SOURCES:
            self.buckets.clear()
        source = client_key(host)   # one IPv6 machine may send from every address of its /64
        bucket = self.buckets.get(source)
        if bucket is None:
            bucket = self.buckets[source] = TokenBucket(UDP_RATE_PER_SOURCE, UDP_BURST_PER_SOURCE, now)
        if not bucket.take(now) or not self.total.take(now):
            self.dropped += 1
            return False
        return True

    def replied(self, data: bytes, sender: tuple) -> None:
        if len(self.last_reply) > UDP_TRACKED_SOURCES:
            self.last_reply.clear()
        self.last_reply[(sender[0], sender[1])] = (time.monotonic(), data, self.strikes)


class UdpEchoService(asyncio.DatagramProtocol):
    """Sends a datagram back to its sender, when the guard allows it: the same bytes, never more."""

    def __init__(self, hub, sock) -> None:
        self.hub = hub
        self.sock = sock          # asyncio's sendto() skips empty datagrams, which are echoed too
        self.transport = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, sender) -> None:
        self.hub.udp_received += 1
        if not self.hub.udp_guard.allow(data, sender):
            return
        if data:
            self.transport.sendto(data, sender)
        else:
            try:
                self.sock.sendto(data, sender)
            except OSError:
                pass
        self.hub.udp_replies += 1
        self.hub.udp_guard.replied(data, sender)

    def error_received(self, exc) -> None:
        pass   # an ICMP error for an earlier reply: nothing to do
