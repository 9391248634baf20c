"""Banner grabbing: asking an open port what it is.

A service name from the port number is only a guess.  Many servers introduce themselves
as soon as you connect — an SSH server sends ``SSH-2.0-OpenSSH_9.2``, an FTP server
``220 ...``, a mail server ``220 ... ESMTP``.  Others, such as web servers, wait for the
client to speak first, so for HTTP-like ports we send the smallest polite request,
``HEAD / HTTP/1.0``, and read the status line and the ``Server`` header.

A banner is text chosen by whoever runs the server, so it is *untrusted input*.  A
hostile server could send terminal escape sequences (``ESC [ 2 J`` clears the screen,
others retitle windows or worse).  ``clean_banner`` keeps printable characters only and
caps the length before anything reaches the screen or a report.

Banners are an opt-in second pass over the open ports, done by a few threads.  The whole
pass has **one deadline**: it grows with the number of open ports (the time a small pool
needs to ask them all) but is capped (``PASS_CAP_SECONDS``), so 2000 silent ports cost
half a minute at most, not twelve.  ``progress(done, total, found)`` is called about ten
times a second; Ctrl+C (or a ``stop`` event) ends the pass at once: the threads are
daemons that notice the stop within ``STOP_CHECK_SECONDS`` and are never waited for.
"""

from __future__ import annotations

import math
import queue
import socket
import threading
import time
import unicodedata
from typing import Callable, Dict, Iterable, Optional

from scanner.errors import ESCAPE_SEQUENCE
from scanner.probe import sockaddr_for
from scanner.services import HTTP_LIKE_PORTS

MAX_BANNER_LENGTH = 72
BANNER_DEADLINE_FACTOR = 2       # a whole banner conversation takes at most 2 x the timeout
SILENT_PORT_PROBE = b"HEAD / HTTP/1.0\r\n\r\n"
READ_LIMIT = 1024
PASS_CAP_SECONDS = 30.0          # the whole banner pass, however many ports are open
STOP_CHECK_SECONDS = 0.2         # a banner thread notices Ctrl+C this often
DEFAULT_BANNER_THREADS = 16


def clean_banner(raw: bytes, limit: int = MAX_BANNER_LENGTH) -> str:
    """Printable, single-line, length-capped text from untrusted bytes."""
    text = ESCAPE_SEQUENCE.sub("", raw.decode("utf-8", errors="replace"))
    kept = []
    for char in text:
        if char in "\r\n\t":
            kept.append(" ")
        elif unicodedata.category(char)[0] != "C":  # drop control, format and private-use characters
            kept.append(char)
    cleaned = " ".join("".join(kept).split())
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 3] + "..."
    return cleaned


def _summarise_http(raw: bytes) -> bytes:
    lines = raw.split(b"\r\n") if b"\r\n" in raw else raw.split(b"\n")
    status = lines[0] if lines else b""
    server = next((line for line in lines[1:] if line.lower().startswith(b"server:")), b"")
    return status + (b" | " + server if server else b"")


def grab_banner(address: str, family: int, port: int, timeout: float = 1.0, host_header: str = "",
                deadline: Optional[float] = None, stop: Optional[threading.Event] = None) -> str:
    """Connect once and return what the service says ('' when it says nothing).

    ``deadline`` (a ``time.monotonic()`` value) caps the whole conversation; ``stop``
    ends it early.
    """
    # A server that drips one byte at a time must not hold the scan: one deadline
    # covers the whole conversation, whatever the per-read timeout.
    own_deadline = time.monotonic() + BANNER_DEADLINE_FACTOR * timeout
    deadline = own_deadline if deadline is None else min(deadline, own_deadline)
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(max(0.01, min(timeout, deadline - time.monotonic())))
            if sock.connect_ex(sockaddr_for(address, family, port)) != 0:
                return ""
            if port in HTTP_LIKE_PORTS:
                sock.sendall(b"HEAD / HTTP/1.0\r\nHost: " + _host_bytes(host_header or address)
                             + b"\r\nUser-Agent: portscan-lab\r\n\r\n")
                return clean_banner(_summarise_http(_read(sock, deadline, stop, timeout)))
            data = _read(sock, deadline, stop, timeout)
            if data:
                return clean_banner(data.split(b"\n")[0])
            if stop is not None and stop.is_set():
                return ""
            # Silent so far: maybe a web server on an unusual port.
            sock.sendall(SILENT_PORT_PROBE)
            data = _read(sock, deadline, stop, timeout)
            if data.startswith(SILENT_PORT_PROBE.strip()):
                return ""  # an echo service repeats our own request: that is not a banner
            return clean_banner(_summarise_http(data) if data.startswith(b"HTTP/") else data.split(b"\n")[0])
    except (OSError, ValueError):
        return ""


def _host_bytes(host: str) -> bytes:
    """The Host header value (the idna codec only allows errors="strict")."""
    try:
        return host.encode("idna")
    except UnicodeError:
        return host.encode("ascii", "replace")


def _read(sock: socket.socket, deadline: float, stop: Optional[threading.Event] = None,
          patience: float = 1.0) -> bytes:
    """Read until a line (or HTTP head) is complete, ``patience`` seconds pass in silence,
    the deadline passes or ``stop`` is set."""
    chunks, size = [], 0
    quiet_until = time.monotonic() + patience
    while size < READ_LIMIT:
        remaining = min(deadline, quiet_until) - time.monotonic()
        if remaining <= 0 or (stop is not None and stop.is_set()):
            break
        sock.settimeout(min(remaining, STOP_CHECK_SECONDS))
        try:
            chunk = sock.recv(READ_LIMIT - size)
        except socket.timeout:
            continue   # look at the clock and the stop flag, then wait again
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        quiet_until = time.monotonic() + patience
        if b"\n" in chunk and not chunks[0].startswith(b"HTTP/"):
            break  # a banner line is enough
        if b"\r\n\r\n" in b"".join(chunks):
            break  # the end of the HTTP headers
    return b"".join(chunks)


def pass_budget(open_ports: int, timeout: float, threads: int = DEFAULT_BANNER_THREADS) -> float:
    """Seconds the whole banner pass may take: what ``threads`` need for every port, capped."""
    rounds = math.ceil(open_ports / max(1, threads)) if open_ports else 0
    return min(PASS_CAP_SECONDS, rounds * BANNER_DEADLINE_FACTOR * timeout)


ProgressCallback = Callable[[int, int, int], None]


def grab_banners(address: str, family: int, ports: Iterable[int], timeout: float = 1.0,
                 host_header: str = "", max_threads: int = DEFAULT_BANNER_THREADS,
                 progress: Optional[ProgressCallback] = None, stop: Optional[threading.Event] = None,
                 progress_interval: float = 0.1) -> Dict[int, str]:
    """Banners for many open ports at once: {port: banner} (ports that said nothing are left out).

    Raises RuntimeError("can't start new thread") only when not even one thread could
    start; KeyboardInterrupt ends the pass at once (the threads stop on their own).
    """
    ports = list(ports)
    if not ports:
        return {}
    stop = stop or threading.Event()
    threads = min(max_threads, len(ports))
    deadline = time.monotonic() + pass_budget(len(ports), timeout, threads)
    work: "queue.SimpleQueue[int]" = queue.SimpleQueue()
    for port in ports:
        work.put(port)
    found: Dict[int, str] = {}
    done = [0]
    lock = threading.Lock()

    def worker() -> None:
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                port = work.get_nowait()
            except queue.Empty:
                return
            banner = grab_banner(address, family, port, timeout, host_header, deadline, stop)
            with lock:
                done[0] += 1
                if banner:
                    found[port] = banner

    pool = []
    for _ in range(threads):
        thread = threading.Thread(target=worker, name="banner", daemon=True)   # never waited for at exit
        try:
            thread.start()
        except RuntimeError:   # out of threads: go on with those that started
            if not pool:
                raise
            break
        pool.append(thread)
    try:
        while any(thread.is_alive() for thread in pool):
            for thread in pool:
                thread.join(progress_interval / len(pool))
            if progress:
                with lock:
                    progress(done[0], len(ports), len(found))
            if time.monotonic() > deadline + STOP_CHECK_SECONDS:
                break   # the pass is over: a thread still stuck in connect() is left behind
    finally:
        stop.set()   # on Ctrl+C too: every thread ends by itself within STOP_CHECK_SECONDS
    with lock:
        if progress:
            progress(len(ports), len(ports), len(found))
        return dict(found)
