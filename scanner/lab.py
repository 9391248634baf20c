"""The practice lab: a small, known target on loopback to check a scan against.

A scan is only convincing when you know the right answer in advance.  The lab starts a
handful of real services on ``127.0.0.1`` (and ``::1``) at fixed offsets from a base
port, so a learner can scan them and compare what the scanner says with the truth::

    offset  port (base 8000)  what answers
       7    8007/tcp   open      echo: sends back every byte it gets (RFC 862)
      21    8021/tcp   open      FTP-style banner "220 ...", answers QUIT, then closes
      22    8022/tcp   open      SSH-style banner "SSH-2.0-...", then only listens
      23    8023/tcp   closed    nothing listens: the kernel answers with RST
      80    8080/tcp   open      a tiny web server: GET and HEAD, one HTML page
      99    8099/tcp   filtered  connects time out: SYNs are dropped (see below)
       7    8007/udp   open      UDP echo: sends every datagram back
       9    8009/udp   closed    the kernel answers with ICMP "port unreachable"

How the less obvious ports are made, without root and without a firewall:

* **closed**: the lab *binds* the port but never calls ``listen()``.  A bound socket
  is not a listening one, so a SYN still meets a RST, yet no other program can start
  listening there while the lab runs.  The closed UDP port is a bound socket
  ``connect()``-ed to itself: a connected UDP socket only hears its one peer, so every
  other datagram finds no receiver and the kernel sends ICMP "port unreachable".
* **filtered**: ``listen(0)`` leaves room for one finished handshake in the *accept
  queue* (the backlog).  The lab fills it with one connection of its own and never
  calls ``accept()``.  With the queue full, Linux silently drops every new SYN, which
  is exactly what a firewall's DROP rule looks like from outside.  Other systems may
  answer with RST instead; the lab checks at start and, if the trick fails, says so in
  ``filtered_works`` and a note rather than promising a filtered port.

All services run in **one thread around a ``selectors`` loop** rather than a thread per
connection.  When a whole class scans the lab at once, connections arrive in bursts of
thousands; one thread per connection would start thousands of threads, while a
selector costs one thread and a few bytes per connection, is never held up by a client
that connects and says nothing, and makes ``stop()`` simple: wake one thread, join it,
close the sockets.  It is the same non-blocking idea the scanner engine uses on the
client side.

If a port in the block is taken, the service moves to the next free port of the block
and a ``LabNote("moved", ...)`` says so; with ``base_port=0`` the kernel picks every
port (handy for tests).  The lab refuses to listen on every interface (``0.0.0.0`` or
``::``) unless asked with ``allow_all_interfaces=True``: a practice target belongs on
loopback, where no other computer can reach it.
"""

from __future__ import annotations

import email.utils
import errno
import ipaddress
import os
import re
import selectors
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Dict, List, NamedTuple, Optional, Tuple

from scanner.errors import LabSetupError, NetworkError
from scanner.inputs import LAB_BLOCK_SIZE, is_loopback_address, parse_base_port, parse_bind_address
from scanner.results import PortState, Reason, ScanReport

DEFAULT_BASE_PORT = 8000
LISTEN_BACKLOG = 1024           # a class scanning at once: let handshakes queue, not drop
MAX_CONNECTIONS = 400           # below Windows' 512-socket select() limit, with room for listeners
ACCEPTS_PER_WAKEUP = 64         # then serve the others before accepting more
IDLE_SECONDS = 10.0             # a connection that says nothing this long is closed
BANNER_WAIT_SECONDS = 5.0       # how long a banner service waits for the client (FTP: for QUIT)
LINGER_SECONDS = 2.0            # after our last byte, how long we wait for the client to close
FILTER_CHECK_SECONDS = 0.25     # how long the start-up check waits for a dropped SYN to stay unanswered
ECHO_BUFFER_LIMIT = 64 * 1024   # echo stops reading while this much is still unsent
HTTP_MAX_REQUEST = 8192
FTP_MAX_LINE = 512
BANNER_INPUT_LIMIT = 4096       # a banner service hangs up on a client that sends more than this
COMPANION_ATTEMPTS = 20         # base_port=0: tries to find a port free on both 127.0.0.1 and ::1

FTP_BANNER = b"220 portscan-lab practice FTP ready\r\n"
FTP_GOODBYE = b"221 Goodbye.\r\n"
SSH_BANNER = b"SSH-2.0-portscan_lab_practice\r\n"
HTTP_SERVER_NAME = "portscan-lab"
HTTP_PATHS = ("/", "/index.html")
HTTP_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
HTTP_VERSION = re.compile(r"HTTP/1\.[01]")

_OUT_OF_FILES = {code for code in (getattr(errno, name, None) for name in
                                   ("EMFILE", "ENFILE", "ENOBUFS", "ENOMEM")) if code is not None}
_PORT_BUSY = {code for code in (getattr(errno, name, None) for name in
                                ("EADDRINUSE", "EACCES", "WSAEADDRINUSE", "WSAEACCES")) if code is not None}


# --- what the lab contains ---------------------------------------------------------------

@dataclass(frozen=True)
class LabService:
    """One port of the lab and the state a correct scan reports for it."""

    port: int
    protocol: str                   # "tcp" or "udp"
    expected_state: PortState
    service: str                    # stable name: echo, ftp, ssh, http, filtered, closed
    description: str                # one English sentence; the UI may translate by (service, protocol)
    wanted_port: int = 0            # the documented port (base + offset); 0 when the kernel chose
    addresses: tuple = ()           # where it answers, e.g. ("127.0.0.1", "::1")


@dataclass(frozen=True)
class PlannedService:
    service: str
    protocol: str
    offset: int
    expected_state: PortState
    description: str


LAB_LAYOUT = (
    PlannedService("echo", "tcp", 7, PortState.OPEN, "Echo: sends back every byte it receives (RFC 862)."),
    PlannedService("ftp", "tcp", 21, PortState.OPEN, "FTP-style banner: greets with a 220 line, answers QUIT, then closes."),
    PlannedService("ssh", "tcp", 22, PortState.OPEN, "SSH-style banner: sends its version line, then only listens."),
    PlannedService("closed", "tcp", 23, PortState.CLOSED, "Closed: bound but not listening, so connects are refused (RST)."),
    PlannedService("http", "tcp", 80, PortState.OPEN, "A tiny web server: answers GET and HEAD with one HTML page."),
    PlannedService("filtered", "tcp", 99, PortState.FILTERED,
          "Filtered: the accept queue is kept full, so SYNs are dropped and connects time out."),
    PlannedService("echo", "udp", 7, PortState.OPEN, "UDP echo: sends every datagram back."),
    PlannedService("closed", "udp", 9, PortState.CLOSED, "Closed UDP: datagrams get ICMP port unreachable."),
)


class LabNote(NamedTuple):
    """Something the learner should know about this run of the lab; ``code`` is stable.

    Codes: ``moved`` (service, protocol, wanted, got), ``ipv6_unavailable`` (detail),
    ``ipv6_skipped`` (service, protocol, port, detail), ``filtered_unavailable`` (port,
    observed, platform).
    """

    code: str
    params: dict


class LabStartError(NetworkError):
    """The lab could not open its sockets (no free port in the block, an address not on this machine)."""


# --- small socket helpers ----------------------------------------------------------------

def _family(host: str) -> int:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _local_address(host: str) -> str:
    """Where the lab itself connects to reach ``host`` (the loopback address for a wildcard)."""
    if ipaddress.ip_address(host).is_unspecified:
        return "::1" if _family(host) == socket.AF_INET6 else "127.0.0.1"
    return host


def _listening_socket(host: str, port: int, backlog: int) -> socket.socket:
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        # A server that closes first leaves TIME_WAIT behind: SO_REUSEADDR lets
        # the lab restart at once.  On Windows the same option would let another
        # program steal the port, so there we ask for the port exclusively.
        if os.name == "posix":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        elif hasattr(socket, "SO_EXCLUSIVEADDRUSE"):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    return sock


def _open_service_socket(plan: PlannedService, host: str, port: int) -> socket.socket:
    """Bind one socket for ``plan`` on ``host``; raises OSError when the port is taken."""
    if plan.protocol == "tcp" and plan.service == "filtered":
        return _listening_socket(host, port, 0)      # room for one waiting connection
    if plan.protocol == "tcp" and plan.service != "closed":
        return _listening_socket(host, port, LISTEN_BACKLOG)
    kind = socket.SOCK_DGRAM if plan.protocol == "udp" else socket.SOCK_STREAM
    sock = socket.socket(_family(host), kind)
    try:
        # No SO_REUSEADDR here: for UDP it would let another program share the port, and a
        # reserved closed port must stay ours alone.
        sock.bind((host, port))
        if plan.protocol == "udp" and plan.service == "closed":
            own = sock.getsockname()
            sock.connect((_local_address(host),) + tuple(own[1:]))  # hears only itself: everyone else gets ICMP
    except OSError:
        sock.close()
        raise
    return sock


# --- the services: one small protocol object per connection ------------------------------

class _Echo:
    idle_seconds = IDLE_SECONDS

    def on_connect(self, conn: "_Connection") -> None:
        pass

    def on_data(self, conn: "_Connection", data: bytes) -> None:
        conn.write(data)

    def on_eof(self, conn: "_Connection") -> None:
        conn.finish()


class _Banner:
    """Says its banner and nothing else: client input is read and thrown away, never echoed."""

    idle_seconds = BANNER_WAIT_SECONDS
    banner = SSH_BANNER

    def __init__(self) -> None:
        self.heard = 0

    def on_connect(self, conn: "_Connection") -> None:
        conn.write(self.banner)

    def on_data(self, conn: "_Connection", data: bytes) -> None:
        self.heard += len(data)
        if self.heard > BANNER_INPUT_LIMIT:  # a client that only talks cannot keep a slot forever
            conn.finish()

    def on_eof(self, conn: "_Connection") -> None:
        conn.finish()


class _Ftp(_Banner):
    banner = FTP_BANNER

    def __init__(self) -> None:
        super().__init__()
        self.line = b""

    def on_data(self, conn: "_Connection", data: bytes) -> None:
        self.line += data
        if b"\n" in self.line:
            if self.line.split(b"\n", 1)[0].strip().upper() == b"QUIT":
                conn.write(FTP_GOODBYE)
            conn.finish()  # one command is all this practice server takes
        elif len(self.line) > FTP_MAX_LINE:
            conn.finish()


class _Http:
    idle_seconds = IDLE_SECONDS

    def __init__(self, port: int) -> None:
        self.port = port
        self.request = b""

    def on_connect(self, conn: "_Connection") -> None:
        pass

    def on_data(self, conn: "_Connection", data: bytes) -> None:
        self.request += data
        head_end = re.search(rb"\r?\n\r?\n", self.request)
        if head_end:
            conn.write(_http_answer(self.request[:head_end.start()], self.port))
            conn.finish()
        elif len(self.request) > HTTP_MAX_REQUEST:
            conn.write(_http_response("400 Bad Request", b"Bad request.\n", "text/plain"))
            conn.finish()

    def on_eof(self, conn: "_Connection") -> None:
        if self.request.strip():
            conn.write(_http_response("400 Bad Request", b"Bad request.\n", "text/plain"))
        conn.finish()


def _http_page(port: int) -> bytes:
    return (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>portscan-lab practice</title></head>\n"
        "<body><h1>portscan-lab practice web server</h1>\n"
        f"<p>You reached the lab's web server on port {port}. A scanner sees this port as open.</p>\n"
        "</body></html>\n"
    ).encode("ascii")


def _http_response(status: str, body: bytes, content_type: str, include_body: bool = True,
                   extra_headers: Tuple[str, ...] = ()) -> bytes:
    headers = [f"HTTP/1.1 {status}", f"Date: {email.utils.formatdate(usegmt=True)}",
               f"Server: {HTTP_SERVER_NAME}", f"Content-Type: {content_type}",
               f"Content-Length: {len(body)}", "Connection: close", *extra_headers]
    head = ("\r\n".join(headers) + "\r\n\r\n").encode("ascii")
    return head + body if include_body else head


def _http_answer(request_head: bytes, port: int) -> bytes:
    """The whole response to one request head.  Nothing of the request is ever copied into it."""
    request_line = request_head.split(b"\n", 1)[0].rstrip(b"\r")
    try:
        method, target, version = request_line.decode("ascii").split(" ")
    except (UnicodeDecodeError, ValueError):
        return _http_response("400 Bad Request", b"Bad request.\n", "text/plain")
    if not HTTP_VERSION.fullmatch(version) or not HTTP_TOKEN.fullmatch(method) or not target.startswith("/"):
        return _http_response("400 Bad Request", b"Bad request.\n", "text/plain")
    if method not in ("GET", "HEAD"):
        return _http_response("405 Method Not Allowed", b"Only GET and HEAD are allowed here.\n",
                              "text/plain", extra_headers=("Allow: GET, HEAD",))
    with_body = method == "GET"
    if target.split("?", 1)[0] not in HTTP_PATHS:
        return _http_response("404 Not Found", b"Not found. Try /\n", "text/plain", with_body)
    return _http_response("200 OK", _http_page(port), "text/html; charset=utf-8", with_body)


class _Connection:
    """One accepted client: bytes waiting to be sent, and a polite way to hang up.

    Closing a socket while the client's bytes are still unread makes the kernel send RST
    instead of FIN, so ``finish()`` sends what is left, shuts down our direction, and
    reads (and throws away) until the client closes too or ``LINGER_SECONDS`` pass.
    """

    def __init__(self, loop: "_ServiceLoop", sock: socket.socket, protocol) -> None:
        self.loop = loop
        self.sock = sock
        self.protocol = protocol
        self.outgoing = bytearray()
        self.finishing = False      # no more output will be added
        self.write_shut = False     # our FIN is sent; we only wait for the client's
        self.peer_done = False      # the client sent FIN
        self.closed = False
        self.events = selectors.EVENT_READ
        self.deadline = time.monotonic() + protocol.idle_seconds

    def write(self, data: bytes) -> None:
        if not self.finishing and not self.closed:
            self.outgoing += data
            self._flush()

    def finish(self) -> None:
        if not self.finishing:
            self.finishing = True
            self.deadline = time.monotonic() + LINGER_SECONDS
            self._flush()

    def handle(self, mask: int) -> None:
        if mask & selectors.EVENT_READ and not self.closed:
            self._read()
        if mask & selectors.EVENT_WRITE and not self.closed:
            self._flush()

    def expire(self) -> None:
        if self.finishing:
            self.close()
        else:
            self.finish()

    def _read(self) -> None:
        try:
            data = self.sock.recv(4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:  # reset by the client: nothing more to say
            self.close()
            return
        if not data:
            self.peer_done = True
            if self.finishing:
                self._flush()
            else:
                self.protocol.on_eof(self)
            return
        if self.finishing:
            return  # draining: read and throw away
        self.deadline = time.monotonic() + self.protocol.idle_seconds
        self.protocol.on_data(self, data)

    def _flush(self) -> None:
        while self.outgoing and not self.closed:
            try:
                sent = self.sock.send(self.outgoing)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                self.close()
                return
            del self.outgoing[:sent]
        if self.closed:
            return
        if self.finishing and not self.outgoing:
            if self.peer_done:
                self.close()
                return
            if not self.write_shut:
                self.write_shut = True
                try:
                    self.sock.shutdown(socket.SHUT_WR)
                except OSError:
                    self.close()
                    return
        self._watch()

    def _watch(self) -> None:
        events = 0
        if not self.peer_done and len(self.outgoing) < ECHO_BUFFER_LIMIT:
            events |= selectors.EVENT_READ
        if self.outgoing:
            events |= selectors.EVENT_WRITE
        if events == 0:  # the client is gone and nothing is left to send
            self.close()
            return
        if events != self.events:
            self.events = events
            self.loop.selector.modify(self.sock, events, self)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.loop.forget(self)


class _ServiceLoop(threading.Thread):
    """The one thread that accepts, reads and writes for every lab service."""

    def __init__(self) -> None:
        super().__init__(name="practice-lab", daemon=True)
        self.selector = selectors.DefaultSelector()
        self.connections: Dict[socket.socket, _Connection] = {}
        self.listeners: List[Tuple[socket.socket, object]] = []
        self.stopping = threading.Event()
        self.accept_paused_until = 0.0
        self.failure: Optional[BaseException] = None   # what ended the loop, if not stop()
        self.handler_errors: List[BaseException] = []   # bugs in one connection's handling (first few)
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_reader.setblocking(False)
        self._wake_writer.setblocking(False)
        self.selector.register(self._wake_reader, selectors.EVENT_READ, "wake")

    def add_listener(self, sock: socket.socket, make_protocol) -> None:
        sock.setblocking(False)
        self.listeners.append((sock, make_protocol))
        self.selector.register(sock, selectors.EVENT_READ, ("accept", make_protocol))

    def add_datagram_echo(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self.selector.register(sock, selectors.EVENT_READ, "datagram")

    def stop(self, wait: float = 5.0) -> None:
        self.stopping.set()
        try:
            self._wake_writer.send(b"x")
        except OSError:
            pass
        if self.is_alive():
            self.join(wait)

    def run(self) -> None:
        try:
            next_sweep = time.monotonic()
            while not self.stopping.is_set():
                for key, mask in self.selector.select(timeout=0.25):
                    if key.data == "wake":
                        self._drain_wakeups()
                    elif key.data == "datagram":
                        self._echo_datagrams(key.fileobj)
                    elif isinstance(key.data, tuple):
                        self._accept(key.fileobj, key.data[1])
                    else:
                        self._serve_connection(key.data, mask)
                now = time.monotonic()
                if now >= next_sweep:
                    next_sweep = now + 0.25
                    for conn in [c for c in self.connections.values() if c.deadline <= now]:
                        conn.expire()
                    if self.accept_paused_until and now >= self.accept_paused_until:
                        self._resume_accepting()
        except BaseException as error:  # kept for PracticeLab.failure: the lab must not die silently
            self.failure = error
        finally:
            for conn in list(self.connections.values()):
                conn.close()
            self.selector.close()
            self._wake_reader.close()
            self._wake_writer.close()

    def _serve_connection(self, conn: _Connection, mask: int) -> None:
        try:
            conn.handle(mask)
        except Exception as error:  # one client's trouble must not stop the lab for the class
            if len(self.handler_errors) < 10:
                self.handler_errors.append(error)
            conn.close()

    def _drain_wakeups(self) -> None:
        try:
            while self._wake_reader.recv(64):
                pass
        except OSError:
            pass

    def _accept(self, listener: socket.socket, make_protocol) -> None:
        for _ in range(ACCEPTS_PER_WAKEUP):
            try:
                sock, _address = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as error:
                if error.errno in _OUT_OF_FILES:
                    self._pause_accepting()  # the listener stays readable: do not spin on it
                    return
                continue  # e.g. ECONNABORTED: that client gave up before we accepted
            if len(self.connections) >= MAX_CONNECTIONS:
                sock.close()  # the handshake already finished, so the port still looks open
                continue
            sock.setblocking(False)
            conn = _Connection(self, sock, make_protocol())
            self.connections[sock] = conn
            self.selector.register(sock, selectors.EVENT_READ, conn)
            try:
                conn.protocol.on_connect(conn)
            except Exception as error:
                if len(self.handler_errors) < 10:
                    self.handler_errors.append(error)
                conn.close()

    def _pause_accepting(self) -> None:
        self.accept_paused_until = time.monotonic() + 0.1
        for sock, _make in self.listeners:
            try:
                self.selector.unregister(sock)
            except (KeyError, ValueError):
                pass

    def _resume_accepting(self) -> None:
        self.accept_paused_until = 0.0
        for sock, make_protocol in self.listeners:
            self.selector.register(sock, selectors.EVENT_READ, ("accept", make_protocol))

    def _echo_datagrams(self, sock: socket.socket) -> None:
        own_address = sock.getsockname()
        for _ in range(ACCEPTS_PER_WAKEUP):
            try:
                data, sender = sock.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # Windows reports an earlier ICMP error here (WSAECONNRESET): skip it
                continue
            # Never answer a well-known port or ourselves: two echo services answering each
            # other would loop forever (the classic echo/chargen ping-pong).
            if sender[1] < 1024 or sender[:2] == own_address[:2]:
                continue
            try:
                sock.sendto(data, sender)
            except OSError:
                pass

    def forget(self, conn: _Connection) -> None:
        self.connections.pop(conn.sock, None)
        try:
            self.selector.unregister(conn.sock)
        except (KeyError, ValueError):
            pass
        conn.sock.close()


# --- the lab ------------------------------------------------------------------------------

class PracticeLab:
    """Real services on loopback with a known answer.  Use as ``with PracticeLab() as lab:``."""

    def __init__(self, host: str = "127.0.0.1", base_port: int = DEFAULT_BASE_PORT, also_ipv6: bool = True,
                 *, allow_all_interfaces: bool = False) -> None:
        self.bound_host = parse_bind_address(host)
        if ipaddress.ip_address(self.bound_host).is_unspecified and not allow_all_interfaces:
            raise LabSetupError("lab.bind_all", host=self.bound_host)
        self.base_port = parse_base_port(base_port)
        self.also_ipv6 = also_ipv6
        self.services: List[LabService] = []
        self.notes: List[LabNote] = []
        self.filtered_works: Optional[bool] = None   # known after start()
        self._hosts: Tuple[str, ...] = ()
        self._sockets: List[socket.socket] = []
        self._loop: Optional[_ServiceLoop] = None
        self._last_loop: Optional[_ServiceLoop] = None
        self._lock = threading.Lock()

    # -- facts about the lab ----------------------------------------------------------------
    @property
    def warning_needed(self) -> bool:
        """True when other computers may be able to reach the lab (not bound to loopback)."""
        return not is_loopback_address(self.bound_host)

    @property
    def hosts(self) -> Tuple[str, ...]:
        """Every address the lab answers on, e.g. ("127.0.0.1", "::1")."""
        return self._hosts

    @property
    def running(self) -> bool:
        return self._loop is not None and self._loop.is_alive()

    def service(self, name: str, protocol: str = "tcp") -> LabService:
        for service in self.services:
            if service.service == name and service.protocol == protocol:
                return service
        raise KeyError(f"{name}/{protocol}")

    def known_answer(self) -> Dict[Tuple[int, str], PortState]:
        return {(s.port, s.protocol): s.expected_state for s in self.services}

    # -- start and stop --------------------------------------------------------------------
    def __enter__(self) -> "PracticeLab":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> "PracticeLab":
        with self._lock:
            if self._loop is not None:
                return self
            self.services, self.notes, self._sockets = [], [], []
            self.filtered_works = None
            try:
                registrations = self._open_everything()
            except BaseException:
                self._close_sockets()
                raise
            loop = _ServiceLoop()
            for kind, sock, make_protocol in registrations:
                if kind == "listener":
                    loop.add_listener(sock, make_protocol)
                else:
                    loop.add_datagram_echo(sock)
            self._loop = loop
            loop.start()
        return self

    def stop(self) -> None:
        """Close every socket.  Safe to call twice, or before start()."""
        with self._lock:
            loop, self._loop = self._loop, None
            if loop is not None:
                loop.stop()
                self._last_loop = loop
            self._close_sockets()

    @property
    def failure(self) -> Optional[BaseException]:
        """The error that stopped the service thread early, if any (None in a healthy lab)."""
        loop = self._loop or self._last_loop
        return loop.failure if loop is not None else None

    @property
    def handler_errors(self) -> List[BaseException]:
        """Errors met while serving single connections (each closed that connection only)."""
        loop = self._loop or self._last_loop
        return list(loop.handler_errors) if loop is not None else []

    def _close_sockets(self) -> None:
        for sock in self._sockets:
            try:
                sock.close()
            except OSError:
                pass
        self._sockets = []

    # -- opening the services -------------------------------------------------------------
    def _companion_host(self) -> Optional[str]:
        """::1 next to an IPv4 loopback address, when this machine has IPv6."""
        if not self.also_ipv6 or _family(self.bound_host) != socket.AF_INET or not is_loopback_address(self.bound_host):
            return None
        try:
            with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
                probe.bind(("::1", 0))
        except (OSError, AttributeError) as error:
            self.notes.append(LabNote("ipv6_unavailable", {"detail": str(error)}))
            return None
        return "::1"

    def _open_everything(self) -> list:
        """Bind every service; return what the service loop must watch."""
        companion = self._companion_host()
        taken: Dict[str, set] = {"tcp": set(), "udp": set()}
        placed = []
        for plan in LAB_LAYOUT:
            port, sockets_by_host = self._place(plan, companion, taken[plan.protocol])
            taken[plan.protocol].add(port)
            placed.append((plan, port, sockets_by_host))
        self._hosts = (self.bound_host,) + ((companion,) if companion else ())

        registrations = []
        for plan, port, sockets_by_host in placed:
            expected = plan.expected_state
            if plan.service == "filtered":
                expected = self._fill_accept_queues(port, sockets_by_host)
            for sock in sockets_by_host.values():
                if plan.protocol == "tcp" and plan.service in ("echo", "ftp", "ssh", "http"):
                    registrations.append(("listener", sock, _protocol_factory(plan.service, port)))
                elif plan.protocol == "udp" and plan.service == "echo":
                    registrations.append(("datagram", sock, None))
            wanted = self.base_port + plan.offset if self.base_port else 0
            self.services.append(LabService(port, plan.protocol, expected, plan.service, plan.description,
                                            wanted, tuple(sockets_by_host)))
        self.services.sort(key=lambda s: (s.port, s.protocol))
        return registrations

    def _claim(self, plan: PlannedService, port: int, hosts: Tuple[str, ...]) -> Dict[str, socket.socket]:
        """Bind ``port`` on every host, or on none (raises the first OSError)."""
        claimed: Dict[str, socket.socket] = {}
        try:
            for host in hosts:
                sock = _open_service_socket(plan, host, port)
                claimed[host] = sock
                port = sock.getsockname()[1]  # port 0: the companion takes the kernel's choice
        except OSError:
            for sock in claimed.values():
                sock.close()
            raise
        self._sockets.extend(claimed.values())
        return claimed

    def _place(self, plan: PlannedService, companion: Optional[str], taken: set) -> Tuple[int, Dict[str, socket.socket]]:
        both = (self.bound_host, companion) if companion else (self.bound_host,)
        if self.base_port == 0:
            last_error: Optional[OSError] = None
            for _ in range(COMPANION_ATTEMPTS):
                try:
                    claimed = self._claim(plan, 0, both)
                    return claimed[self.bound_host].getsockname()[1], claimed
                except OSError as error:
                    last_error = error
            try:
                claimed = self._claim(plan, 0, (self.bound_host,))
            except OSError as error:
                raise LabStartError("lab.cannot_bind", host=self.bound_host, detail=str(error)) from None
            port = claimed[self.bound_host].getsockname()[1]
            self.notes.append(LabNote("ipv6_skipped", {"service": plan.service, "protocol": plan.protocol,
                                                       "port": port, "detail": str(last_error)}))
            return port, claimed

        wanted = self.base_port + plan.offset
        candidates = self._candidate_ports(plan, taken)
        for hosts in ((both, (self.bound_host,)) if companion else (both,)):
            for port in candidates:
                try:
                    claimed = self._claim(plan, port, hosts)
                except OSError as error:
                    if error.errno in _PORT_BUSY:
                        continue
                    raise LabStartError("lab.cannot_bind", host=self.bound_host, detail=str(error)) from None
                if port != wanted:
                    self.notes.append(LabNote("moved", {"service": plan.service, "protocol": plan.protocol,
                                                        "wanted": wanted, "got": port}))
                if companion and hosts != both:
                    self.notes.append(LabNote("ipv6_skipped", {"service": plan.service, "protocol": plan.protocol,
                                                               "port": port, "detail": "port taken on ::1"}))
                return port, claimed
        raise LabStartError("lab.block_full", service=plan.service, protocol=plan.protocol,
                            low=self.base_port, high=self.base_port + LAB_BLOCK_SIZE - 1)

    def _candidate_ports(self, plan: PlannedService, taken: set) -> List[int]:
        """The wanted port first, then the rest of the block in order, wrapping around.

        Ports documented for the lab's other services are skipped, so one moved service
        never pushes another away from its own number.
        """
        low, high = self.base_port, self.base_port + LAB_BLOCK_SIZE - 1
        wanted = self.base_port + plan.offset
        documented = {self.base_port + other.offset for other in LAB_LAYOUT
                      if other.protocol == plan.protocol and other is not plan}
        order = list(range(wanted, high + 1)) + list(range(low, wanted))
        return [port for port in order if port not in documented and port not in taken]

    def _fill_accept_queues(self, port: int, listeners: Dict[str, socket.socket]) -> PortState:
        """Fill each filtered listener's accept queue, then check that a new connect goes unanswered."""
        for host in listeners:
            filler = socket.socket(_family(host), socket.SOCK_STREAM)
            self._sockets.append(filler)
            filler.settimeout(1.0)
            filler.connect_ex((_local_address(host), port))  # completes, then waits forever: never accept()ed
        observed = self._observe(_local_address(self.bound_host), port)
        self.filtered_works = observed is PortState.FILTERED
        if not self.filtered_works:
            self.notes.append(LabNote("filtered_unavailable", {"port": port, "observed": observed.value,
                                                               "platform": sys.platform}))
        return observed

    @staticmethod
    def _observe(address: str, port: int) -> PortState:
        with socket.socket(_family(address), socket.SOCK_STREAM) as probe:
            probe.setblocking(False)
            probe.connect_ex((address, port))
            with selectors.DefaultSelector() as selector:
                selector.register(probe, selectors.EVENT_WRITE)
                if not selector.select(FILTER_CHECK_SECONDS):
                    return PortState.FILTERED
            code = probe.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        return PortState.OPEN if code == 0 else PortState.CLOSED

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        ports = ", ".join(f"{s.port}/{s.protocol}" for s in self.services)
        return f"<PracticeLab {self.bound_host} {state} [{ports}]>"


def _protocol_factory(service: str, port: int):
    if service == "echo":
        return _Echo
    if service == "ftp":
        return _Ftp
    if service == "ssh":
        return _Banner
    return lambda: _Http(port)


# --- checking a scan against the lab ------------------------------------------------------

@dataclass(frozen=True)
class ServiceVerdict:
    """What the scan said about one lab port, next to what it should have said."""

    service: LabService
    observed: Optional[PortState]   # None when the scan did not cover this port
    reason: Optional[Reason]

    @property
    def scanned(self) -> bool:
        return self.observed is not None

    @property
    def matches(self) -> bool:
        return self.observed is self.service.expected_state

    @property
    def verdict(self) -> str:
        """"match", "mismatch" or "not_scanned"."""
        if self.observed is None:
            return "not_scanned"
        return "match" if self.matches else "mismatch"


@dataclass(frozen=True)
class LabComparison:
    """A scan report checked against the lab, as data for the UI to put into sentences.

    Only the lab's services of the report's protocol count.  ``unexpected_open`` lists
    every port the scan saw open that the lab does not expect open, including ports
    outside the lab (another program on this machine): worth a look either way.
    """

    protocol: str
    target_is_lab: bool             # the scan was aimed at an address the lab answers on
    complete: bool                  # the scan finished (not stopped early)
    expected_open: tuple            # every lab port that should be open
    found_open: tuple               # ... and the scan saw open
    missed_open: tuple              # ... that was scanned but not seen open
    unexpected_open: tuple          # seen open but not expected open
    filtered_matches: tuple         # lab ports expected filtered and seen filtered
    not_scanned: tuple              # lab ports outside the ports requested (or not finished)
    verdicts: tuple = field(default_factory=tuple)   # ServiceVerdict per lab port, in port order

    @property
    def all_match(self) -> bool:
        return bool(self.verdicts) and all(v.matches for v in self.verdicts) and not self.unexpected_open


def compare(report: ScanReport, lab: PracticeLab) -> LabComparison:
    """Check ``report`` against the lab's known answer."""
    protocol = report.protocol
    seen = {result.port: result for result in report.results}
    services = [s for s in lab.services if s.protocol == protocol]
    verdicts = tuple(ServiceVerdict(s, seen[s.port].state if s.port in seen else None,
                                    seen[s.port].reason if s.port in seen else None) for s in services)
    expected_open = {s.port for s in services if s.expected_state is PortState.OPEN}
    seen_open = {port for port, result in seen.items() if result.state is PortState.OPEN}
    address = report.target.address
    target_is_lab = address in lab.hosts or (
        any(ipaddress.ip_address(host).is_unspecified for host in lab.hosts) and is_loopback_address(address))
    return LabComparison(
        protocol=protocol,
        target_is_lab=target_is_lab,
        complete=report.complete,
        expected_open=tuple(sorted(expected_open)),
        found_open=tuple(sorted(expected_open & seen_open)),
        missed_open=tuple(sorted(port for port in expected_open - seen_open if port in seen)),
        unexpected_open=tuple(sorted(seen_open - expected_open)),
        filtered_matches=tuple(v.service.port for v in verdicts
                               if v.service.expected_state is PortState.FILTERED and v.matches),
        not_scanned=tuple(v.service.port for v in verdicts if not v.scanned),
        verdicts=verdicts,
    )
