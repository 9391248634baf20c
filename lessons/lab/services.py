"""The lab's services: one small asyncio ``Protocol`` class per service, and fair sharing.

``asyncio`` calls a protocol object when something happens on its connection:
``connection_made`` (a client arrived), ``data_received`` (bytes came in),
``eof_received`` (the client closed its side) and ``connection_lost`` (the connection is
gone).  Each service below only says what *it* does at those moments; the event loop does
all the waiting, for every connection at once, in one thread.

**Fair under a class.**  Forty students scanning one lab at once must all be served, and
one of them holding hundreds of connections open must not lock the others out:

* a cap per client (an IPv4 address or an IPv6 /64: ``PER_CLIENT``) well below the total (``MAX_CONNECTIONS``),
  and a cap per service (``PER_SERVICE``);
* when the lab or a service is full, a newcomer is still let in and the *greediest*
  client (the one holding the most connections) loses its oldest one instead;
* every connection has an absolute lifetime (``LIFETIME_SECONDS``): bytes trickled in
  reset the idle timer, never the lifetime.

**Loopback has no faces.**  Every local program is 127.0.0.1, so on loopback the per-client
cap cannot tell one student's 400 trickling connections from another's one request.  At a
loopback client's cap, and whenever no other client is clearly greedier, the connection that
has been *idle longest* is shed instead of refusing the newcomer: a client that is still
talking keeps its place, a held-open one gives it up.

**Bounded buffers.**  Each echo connection stops reading at ``ECHO_BUFFER_LIMIT`` unsent
bytes, and a service as a whole holds at most ``SERVICE_BUFFER_LIMIT``: past that, the
connection that has not read for longest is closed, so 200 clients that send without
reading cannot starve an honest one.  (The UDP echo's own guards are in ``udp_echo``.)
"""

from __future__ import annotations

import asyncio
import email.utils
import re
import time
from typing import Dict, Optional, Tuple

from lessons.lab.clients import client_key, is_loopback_key
from lessons.lab.udp_echo import (UDP_BURST_PER_SOURCE, UDP_LOOP_STRIKES, UDP_RATE_PER_SOURCE,  # noqa: F401
                                  TokenBucket, UdpEchoService, UdpGuard, register_echo_endpoint)

MAX_CONNECTIONS = 400           # the whole lab at once
PER_SERVICE = 200               # one service at once
PER_CLIENT = 100                # one client address at once: a quarter of the total
IDLE_SECONDS = 10.0             # a connection that says nothing this long is closed
LIFETIME_SECONDS = 20.0         # no connection lives longer, however it trickles bytes in
BANNER_WAIT_SECONDS = 5.0       # how long a banner service waits for the client (FTP: for QUIT)
LINGER_SECONDS = 2.0            # after our last byte, how long we wait for the client to close
ECHO_BUFFER_LIMIT = 64 * 1024   # echo stops reading while this much is still unsent
SERVICE_BUFFER_LIMIT = 2 * 1024 * 1024   # what one service may hold unsent, all its connections together
HTTP_MAX_REQUEST = 8192
LINE_MAX = 512
BANNER_INPUT_LIMIT = 4096       # a banner service hangs up on a client that sends more than this

FTP_BANNER = b"220 portscan-lab practice FTP ready\r\n"
FTP_GOODBYE = b"221 Goodbye.\r\n"
SSH_BANNER = b"SSH-2.0-portscan_lab_practice\r\n"
DB_BANNER = b"+OK portscan-lab practice database ready\r\n"
HTTP_SERVER_NAME = "portscan-lab"
HTTP_PATHS = ("/", "/index.html")
HTTP_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
HTTP_VERSION = re.compile(r"HTTP/1\.[01]")


# --- sharing the lab fairly ------------------------------------------------------------------

class Fairness:
    """Who holds which connections, and who gives one up when the lab is full.

    Used from the event loop's thread only, so it needs no lock.
    """

    def __init__(self, total: Optional[int] = None, per_service: Optional[int] = None,
                 per_client: Optional[int] = None) -> None:
        self.total = total or MAX_CONNECTIONS
        self.per_service = per_service or PER_SERVICE
        self.per_client = per_client or PER_CLIENT
        self.by_client: Dict[str, Dict["LabStream", None]] = {}   # dicts keep arrival order
        self.by_service: Dict[str, Dict["LabStream", None]] = {}
        self.count = 0
        self.refused = 0      # newcomers turned away (their own client was over its cap)
        self.shed = 0         # older connections closed to make room for someone else

    def admit(self, conn: "LabStream") -> bool:
        mine = self.by_client.get(conn.client, {})
        if len(mine) >= self.per_client and not (is_loopback_key(conn.client) and self._shed_idlest(mine)):
            self.refused += 1   # a remote client over its own cap: its newcomer waits, nobody else pays
            return False
        service = self.by_service.get(conn.service_key, {})
        if len(service) >= self.per_service and not (self._shed_for(conn, service) or self._shed_idlest(service)):
            self.refused += 1
            return False
        everyone = self.by_service_all()
        if self.count >= self.total and not (self._shed_for(conn, None) or self._shed_idlest(everyone)):
            self.refused += 1
            return False
        self.by_client.setdefault(conn.client, {})[conn] = None
        self.by_service.setdefault(conn.service_key, {})[conn] = None
        self.count += 1
        return True

    def by_service_all(self) -> Dict["LabStream", None]:
        every: Dict["LabStream", None] = {}
        for held in self.by_client.values():
            every.update(held)
        return every

    def _shed_for(self, newcomer: "LabStream", within: Optional[dict]) -> bool:
        """Close the oldest connection of the greediest other client (within one service)."""
        if within is None:
            holders = {client: conns for client, conns in self.by_client.items()}
        else:
            holders = {}
            for conn in within:
                holders.setdefault(conn.client, {})[conn] = None
        mine = len(holders.get(newcomer.client, ()))
        greedy = max((c for c in holders if c != newcomer.client), key=lambda c: len(holders[c]), default=None)
        if greedy is None or len(holders[greedy]) <= mine + 1:
            return False   # nobody holds clearly more than the newcomer would
        victim = next(iter(holders[greedy]))
        self.shed += 1
        victim.drop()
        return True

    def _shed_idlest(self, within: dict) -> bool:
        """Close the connection of ``within`` that has been idle longest (nothing heard, nothing read)."""
        if not within:
            return False
        victim = min(within, key=lambda conn: conn.last_active)
        self.shed += 1
        victim.drop()
        return True

    def relieve_buffers(self, service_key: str) -> None:
        """Called when a connection stops reading: keep the service's unsent bytes under its limit."""
        held = self.by_service.get(service_key, {})
        waiting = {conn: conn.unsent() for conn in held}
        total = sum(waiting.values())
        for conn in sorted((c for c in waiting if waiting[c]), key=lambda c: c.last_active):
            if total <= SERVICE_BUFFER_LIMIT:
                break
            total -= waiting[conn]
            self.shed += 1
            conn.drop()

    def release(self, conn: "LabStream") -> None:
        for table, key in ((self.by_client, conn.client), (self.by_service, conn.service_key)):
            held = table.get(key)
            if held is not None and conn in held:
                del held[conn]
                if not held:
                    del table[key]
                if table is self.by_client:
                    self.count -= 1


# --- TCP services --------------------------------------------------------------------------------

class LabStream(asyncio.Protocol):
    """What every TCP service shares: fair admission, the two clocks, and a polite hang-up.

    Closing a socket while the client's bytes are still unread makes the kernel send RST
    instead of FIN, so ``finish()`` sends what is left, then FIN (``write_eof``), and
    reads (and throws away) until the client closes too or ``LINGER_SECONDS`` pass.
    """

    idle_seconds = IDLE_SECONDS

    def __init__(self, hub, service_key: str, port: int = 0) -> None:
        self.hub = hub
        self.service_key = service_key
        self.port = port
        self.client = "?"
        self.transport: Optional[asyncio.Transport] = None
        self.admitted = False
        self.finishing = False
        self.deadline = 0.0
        self.lifetime_end = 0.0
        self.last_active = 0.0     # when the client last sent bytes or read ours: who is shed first

    # asyncio's calls ------------------------------------------------------------------
    def connection_made(self, transport) -> None:
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.client = client_key(peer[0]) if peer else "?"
        log = getattr(self.hub, "on_connection", None)
        if log is not None and peer:
            log(self.service_key, peer[0])
        now = self.last_active = time.monotonic()
        self.lifetime_end = now + LIFETIME_SECONDS
        self.deadline = min(now + self.idle_seconds, self.lifetime_end)
        if not self.hub.fairness.admit(self):
            transport.abort()   # the handshake already finished, so the port still looks open
            return
        self.admitted = True
        self.hub.connections.add(self)
        transport.set_write_buffer_limits(high=ECHO_BUFFER_LIMIT)
        self.on_connect()

    def data_received(self, data: bytes) -> None:
        if self.finishing:
            return   # draining: read and throw away
        self.last_active = time.monotonic()
        self.deadline = min(self.last_active + self.idle_seconds, self.lifetime_end)
        self.on_data(data)

    def eof_received(self):
        if not self.finishing:
            self.on_eof()
        return None   # asyncio closes the transport once what we wrote is sent

    def connection_lost(self, exc) -> None:
        if self.admitted:
            self.admitted = False
            self.hub.fairness.release(self)
            self.hub.connections.discard(self)

    def pause_writing(self) -> None:   # the client reads slower than it sends: stop reading
        self.transport.pause_reading()
        self.hub.fairness.relieve_buffers(self.service_key)

    def resume_writing(self) -> None:
        self.last_active = time.monotonic()   # the client read what we sent
        if not self.transport.is_closing():
            self.transport.resume_reading()

    def unsent(self) -> int:
        """Bytes written but not yet taken by the client (asyncio's buffer)."""
        if self.transport is None or self.transport.is_closing():
            return 0
        return self.transport.get_write_buffer_size()

    # what services use ------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        if not self.finishing and not self.transport.is_closing():
            self.transport.write(data)

    def finish(self) -> None:
        if self.finishing:
            return
        self.finishing = True
        self.deadline = time.monotonic() + LINGER_SECONDS
        if self.transport.is_closing():
            return
        if self.transport.can_write_eof():
            self.transport.write_eof()   # FIN after the bytes still queued
        else:
            self.transport.close()

    def expire(self) -> None:
        """Called by the sweep when a clock ran out."""
        if self.finishing:
            self.drop()
        else:
            self.finish()

    def drop(self) -> None:
        """Hang up at once (the lab is full, or the client did not close in time)."""
        self.finishing = True
        self.connection_lost(None)   # give the place back now, not when asyncio gets round to it
        if self.transport is not None:
            self.transport.abort()

    # what each service overrides ---------------------------------------------------------
    def on_connect(self) -> None:
        pass

    def on_data(self, data: bytes) -> None:
        pass

    def on_eof(self) -> None:
        self.finish()


class EchoService(LabStream):
    def on_data(self, data: bytes) -> None:
        self.write(data)


class SshBannerService(LabStream):
    """Says its banner and nothing else: client input is read and thrown away, never echoed."""

    idle_seconds = BANNER_WAIT_SECONDS
    banner = SSH_BANNER

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.heard = 0

    def on_connect(self) -> None:
        self.write(self.banner)

    def on_data(self, data: bytes) -> None:
        self.heard += len(data)
        if self.heard > BANNER_INPUT_LIMIT:   # a client that only talks cannot keep a slot
            self.finish()


class LineCommandService(SshBannerService):
    """A banner, then exactly one command line answered from a fixed table, then goodbye."""

    answers: Dict[bytes, bytes] = {}
    otherwise = b""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.line = b""

    def on_data(self, data: bytes) -> None:
        self.line += data
        if b"\n" in self.line:
            command = self.line.split(b"\n", 1)[0].strip().upper()
            self.write(self.answers.get(command, self.otherwise))   # never a copy of the input
            self.finish()
        elif len(self.line) > LINE_MAX:
            self.finish()


class FtpService(LineCommandService):
    banner = FTP_BANNER
    answers = {b"QUIT": FTP_GOODBYE}


class DatabaseService(LineCommandService):
    """The practice network's database: a Redis-like greeting, PING and QUIT."""

    banner = DB_BANNER
    answers = {b"PING": b"+PONG\r\n", b"QUIT": b"+BYE\r\n"}
    otherwise = b"-ERR this practice database knows PING and QUIT\r\n"


class HttpService(LabStream):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.request = b""

    def on_data(self, data: bytes) -> None:
        self.request += data
        head_end = re.search(rb"\r?\n\r?\n", self.request)
        if head_end:
            self.write(http_answer(self.request[:head_end.start()], self.port))
            self.finish()
        elif len(self.request) > HTTP_MAX_REQUEST:
            self.write(http_response("400 Bad Request", b"Bad request.\n", "text/plain"))
            self.finish()

    def on_eof(self) -> None:
        if self.request.strip():
            self.write(http_response("400 Bad Request", b"Bad request.\n", "text/plain"))
        self.finish()


def http_page(port: int) -> bytes:
    return (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>portscan-lab practice</title></head>\n"
        "<body><h1>portscan-lab practice web server</h1>\n"
        f"<p>You reached the lab's web server on port {port}. A scanner sees this port as open.</p>\n"
        "</body></html>\n"
    ).encode("ascii")


def http_response(status: str, body: bytes, content_type: str, include_body: bool = True,
                  extra_headers: Tuple[str, ...] = ()) -> bytes:
    headers = [f"HTTP/1.1 {status}", f"Date: {email.utils.formatdate(usegmt=True)}",
               f"Server: {HTTP_SERVER_NAME}", f"Content-Type: {content_type}",
               f"Content-Length: {len(body)}", "Connection: close", *extra_headers]
    head = ("\r\n".join(headers) + "\r\n\r\n").encode("ascii")
    return head + body if include_body else head


def http_answer(request_head: bytes, port: int) -> bytes:
    """The whole response to one request head.  Nothing of the request is ever copied into it."""
    request_line = request_head.split(b"\n", 1)[0].rstrip(b"\r")
    try:
        method, target, version = request_line.decode("ascii").split(" ")
    except (UnicodeDecodeError, ValueError):
        return http_response("400 Bad Request", b"Bad request.\n", "text/plain")
    if not HTTP_VERSION.fullmatch(version) or not HTTP_TOKEN.fullmatch(method) or not target.startswith("/"):
        return http_response("400 Bad Request", b"Bad request.\n", "text/plain")
    if method not in ("GET", "HEAD"):
        return http_response("405 Method Not Allowed", b"Only GET and HEAD are allowed here.\n",
                             "text/plain", extra_headers=("Allow: GET, HEAD",))
    with_body = method == "GET"
    if target.split("?", 1)[0] not in HTTP_PATHS:
        return http_response("404 Not Found", b"Not found. Try /\n", "text/plain", with_body)
    return http_response("200 OK", http_page(port), "text/html; charset=utf-8", with_body)


TCP_SERVICES = {"echo": EchoService, "ftp": FtpService, "ssh": SshBannerService, "http": HttpService,
                "db": DatabaseService}
