"""Real TCP services on loopback for the tests, in the style of requests' ``tests/testserver``.

Each helper binds ``127.0.0.1`` (or ``::1``) on port 0 — the kernel picks a free port, so
tests never collide — signals readiness with an ``Event`` and is a context manager that
closes every socket it opened.
"""

from __future__ import annotations

import selectors
import socket
import struct
import threading
from typing import Optional


class _ServedInThread:
    """``_serve`` runs in a thread: started (and ready) on enter, stopped and sockets closed on exit."""

    def _prepare_thread(self) -> None:
        self.ready = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _sockets(self) -> list:
        raise NotImplementedError

    def _accept_each(self, sock: socket.socket, handle) -> None:
        """Ready, then ``handle(conn)`` for every connection ``sock`` accepts until stopped or closed."""
        sock.settimeout(0.05)
        self.ready.set()
        while not self._stop.is_set():
            try:
                conn, _ = sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            handle(conn)

    def __enter__(self):
        self._thread.start()
        self.ready.wait(5)
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)
        for sock in self._sockets():
            sock.close()


class Listener(_ServedInThread):
    """A TCP listener that accepts connections (and optionally greets them) until closed."""

    def __init__(self, host: str = "127.0.0.1", greeting: Optional[bytes] = None, backlog: int = 128) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.bind((host, 0))
        self.sock.listen(backlog)
        self.host = host
        self.port = self.sock.getsockname()[1]
        self.greeting = greeting
        self.accepted = 0
        self.received = b""
        self._prepare_thread()

    def _sockets(self) -> list:
        return [self.sock]

    def _serve(self) -> None:
        self._accept_each(self.sock, self._greet)

    def _greet(self, conn: socket.socket) -> None:
        self.accepted += 1
        with conn:
            if self.greeting:
                try:
                    conn.sendall(self.greeting)
                    conn.settimeout(0.3)
                    self.received += conn.recv(4096)
                except OSError:
                    pass


class FilteredPort:
    """A port whose connects time out, made without root: a listen(0) socket with a full queue.

    The first connection fills the accept queue and is never accepted; Linux then drops
    further SYNs to that port, which is exactly what a firewall's DROP rule looks like.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((host, 0))
        self.sock.listen(0)
        self.port = self.sock.getsockname()[1]
        self.fillers: list = []
        self.ready = threading.Event()

    def __enter__(self) -> "FilteredPort":
        for _ in range(2):  # listen(0) admits one; a second in SYN-RECV makes sure
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", self.port))
            self.fillers.append(filler)
        self.ready.set()
        return self

    def __exit__(self, *exc) -> None:
        for filler in self.fillers:
            filler.close()
        self.sock.close()


def free_port(host: str = "127.0.0.1") -> int:
    """A port that nothing listens on (bound briefly, then released)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class ResettingListeners(_ServedInThread):
    """Listeners that complete the handshake and reset at once (SO_LINGER 0, then close).

    A service that does this is open: the handshake finished.  One thread serves them all.
    """

    def __init__(self, count: int) -> None:
        self.socks = []
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sock.listen(128)
            sock.setblocking(False)
            self.socks.append(sock)
        self.ports = sorted(sock.getsockname()[1] for sock in self.socks)
        self._prepare_thread()

    def _sockets(self) -> list:
        return self.socks

    def _serve(self) -> None:
        linger = struct.pack("ii", 1, 0)
        with selectors.DefaultSelector() as selector:
            for sock in self.socks:
                selector.register(sock, selectors.EVENT_READ)
            self.ready.set()
            while not self._stop.is_set():
                for key, _events in selector.select(0.05):
                    try:
                        conn, _ = key.fileobj.accept()
                    except OSError:
                        continue
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                    conn.close()  # RST, not FIN



class SilentHTTPServer:
    """A web server that says nothing until it is asked, on 127.0.0.1 port 0.

    It answers ``HEAD``/``GET`` with ``HTTP/1.0 200 OK`` and a ``Server: {server}``
    header, like a development server on an unusual port.
    """

    def __init__(self, host: str = "127.0.0.1", server: str = "tiny-test/1.0") -> None:
        import http.server

        requests = self.requests = []  # (request line, Host header) for every request served

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def version_string(self) -> str:
                return server

            def do_HEAD(self) -> None:
                requests.append((self.requestline, self.headers.get("Host")))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_HEAD

            def log_message(self, *args) -> None:  # keep test output clean
                pass

        self.httpd = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        self.ready.set()
        self.httpd.serve_forever(poll_interval=0.05)

    def __enter__(self) -> "SilentHTTPServer":
        self._thread.start()
        self.ready.wait(5)
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self._thread.join(5)
        self.httpd.server_close()


def ipv6_loopback_available() -> bool:
    """True when this machine can bind and listen on ::1."""
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
            sock.listen(1)
        return True
    except OSError:
        return False


def loopback_listening_ports() -> set:
    """TCP ports that a connect to 127.0.0.1 finds open right now, from /proc/net/tcp{,6} (Linux).

    Other programs on the machine may listen too (state 0A on 127.0.0.1, 0.0.0.0, :: or
    ::ffff:127.0.0.1); tests use this to tell those apart from false open ports.
    """
    wanted = {"/proc/net/tcp": {"0100007F", "00000000"},
              "/proc/net/tcp6": {"0" * 32, "0000000000000000FFFF00000100007F"}}
    ports = set()
    for path, addresses in wanted.items():
        try:
            with open(path, encoding="ascii") as table:
                next(table, None)
                for line in table:
                    fields = line.split()
                    if len(fields) > 3 and fields[3] == "0A":
                        address, _, port = fields[1].partition(":")
                        if address.upper() in addresses:
                            ports.add(int(port, 16))
        except OSError:
            pass
    return ports


class ProtocolServer(_ServedInThread):
    """A look-alike of one protocol's opening, on 127.0.0.1 port 0, each connection in its own thread.

    It sends ``greeting`` (if any) on connect, then reads what the client sends and answers
    the first request whose start matches a key of ``answers``; with no match it hangs up
    (as PostgreSQL does on a request it cannot parse) or, with ``silent``, keeps listening.
    Every request is kept in ``requests``, in order, so tests can check what a client asked.
    """

    def __init__(self, greeting: bytes = b"", answers: Optional[dict] = None, silent: bool = False) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.greeting, self.answers, self.silent = greeting, answers or {}, silent
        self.requests: list = []
        self.connections = 0
        self._prepare_thread()

    def _sockets(self) -> list:
        return [self.sock]

    def _serve(self) -> None:
        self._accept_each(self.sock, self._start_talking)

    def _start_talking(self, conn: socket.socket) -> None:
        self.connections += 1
        threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    def _talk(self, conn: socket.socket) -> None:
        with conn:
            try:
                if self.greeting:
                    conn.sendall(self.greeting)
                conn.settimeout(0.1)
                request = b""
                for _ in range(50):   # at most 5 s per connection
                    if self._stop.is_set():
                        return
                    try:
                        chunk = conn.recv(4096)
                    except socket.timeout:
                        continue
                    if not chunk:
                        return
                    request += chunk
                    answer = next((reply for start, reply in self.answers.items() if request.startswith(start)), None)
                    if answer is not None:
                        self.requests.append(request)
                        conn.sendall(answer)
                        return
                    if not self.silent and len(request) >= 4:
                        self.requests.append(request)
                        return   # not a request it knows: hang up
            except OSError:
                return


def free_lab_base(addresses=("127.0.0.1", "::1") + tuple(f"127.42.0.{n}" for n in range(8)), block: int = 100,
                  attempts: int = 40) -> int:
    """A lab base port whose whole block is free, TCP and UDP, on every lab address.

    Another lab (another developer's, a class's) may hold the default 8000-8099 block;
    a test that starts the lab with this base does not depend on what else runs here.
    Bases lie below Linux's ephemeral range (32768-60999), where outgoing connections
    take their ports.  Raises OSError when no free block was found.
    """
    import random

    usable = []
    for address in addresses:
        try:
            with socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET) as sock:
                sock.bind((address, 0))
            usable.append(address)
        except OSError:
            continue   # ::1 or 127.42.0.x not here: the lab notes that itself
    for _ in range(attempts):
        base = random.randrange(10000, 32000 - block, block)
        try:
            for address in usable:
                family = socket.AF_INET6 if ":" in address else socket.AF_INET
                for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                    for port in range(base, base + block):
                        with socket.socket(family, kind) as sock:
                            sock.bind((address, port))
        except OSError:
            continue
        return base
    raise OSError("no free block of lab ports found")


class ClosedPort:
    """A port that stays closed while the block runs: bound on 127.0.0.1, never listening.

    ``free_port()`` releases its port, so on a busy machine another program's listener
    may take it before the test connects.  A bound socket keeps the number to itself,
    and with no listener the kernel answers every SYN with an RST: closed, for sure.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((host, 0))
        self.port = self.sock.getsockname()[1]

    def __enter__(self) -> "ClosedPort":
        return self

    def __exit__(self, *exc) -> None:
        self.sock.close()
