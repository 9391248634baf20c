"""Banner grabbing: asking an open port what it is, and naming it from the answer.

A service name from the port number is only a guess.  Many servers introduce themselves
as soon as you connect — an SSH server sends ``SSH-2.0-OpenSSH_9.2``, an FTP server
``220 ...``, a mail server ``220 ... ESMTP``.  Others, such as web servers, wait for the
client to speak first.  ``identify_service`` holds one short conversation per port:

1. **Listen** (at most ``GREETING_WAIT_SECONDS``): whatever a server says unasked is its
   greeting, and ``scanner.fingerprints`` names it ("named from its greeting").
2. **Ask once**, in the smallest harmless request: ``HEAD / HTTP/1.0`` by default; where
   the port table says Redis, ``PING`` first, and for PostgreSQL its ``SSLRequest``, so
   a service is first asked in its own language (Redis hangs up on HTTP headers).
   Where the port table expects a web server, step 1 is skipped: a server that greets
   still greets before it reads, so nothing is lost and a second is saved.
3. Only when the server hung up without a word is the next request tried, on a new
   connection.  Silence ends the conversation: asking again would only cost time.

Every conversation reads at most ``READ_LIMIT`` bytes and ends by its deadline.  What
the port said is a ``ServiceAnswer``: the cleaned banner, the name, and how it was found.

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
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, Optional, Tuple

from scanner.errors import ESCAPE_SEQUENCE
from scanner.fingerprints import (
    HTTP_HEAD,
    POSTGRES_SSL_REQUEST,
    REDIS_PING,
    REDIS_PING_REQUEST,
    complete,
    first_line,
    recognise,
)
from scanner.probe import sockaddr_for
from scanner.services import probe_plan

MAX_BANNER_LENGTH = 72
BANNER_DEADLINE_FACTOR = 2       # a whole banner conversation takes at most 2 x the timeout
READ_LIMIT = 1024                # bytes read from one connection, at most
GREETING_WAIT_SECONDS = 1.0      # a server that greets does so at once; a late greeting still comes first
BARE_HEAD = b"HEAD / HTTP/1.0\r\n\r\n"
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


@dataclass(frozen=True)
class ServiceAnswer:
    """What one open port said: its cleaned banner, and the name it earned, if any.

    ``source`` says how the name was earned: ``GREETING`` (it spoke first), the request it
    answered (``"HEAD"``, ``"PING"``, ``"SSLRequest"``), or ``""`` when it said nothing we
    recognise, so the port table's guess stays.
    """

    banner: str = ""
    service: str = ""
    source: str = ""


GREETING = "greeting"
PORT_TABLE = "port-table"


def _request(name: str, host: Optional[str]) -> bytes:
    """The bytes of request ``name``.  HEAD names the host only where a web server is
    expected: Redis hangs up, without answering, on a line starting ``Host:``."""
    if name == HTTP_HEAD:
        if host is None:
            return BARE_HEAD
        return b"HEAD / HTTP/1.0\r\nHost: " + _host_bytes(host) + b"\r\nUser-Agent: portscan-lab\r\n\r\n"
    return REDIS_PING_REQUEST if name == REDIS_PING else POSTGRES_SSL_REQUEST


def _answer(data: bytes, sent: Optional[str], payload: bytes) -> ServiceAnswer:
    found = recognise(data, sent, payload)
    if found is None:
        return ServiceAnswer(clean_banner(first_line(data)))
    source = GREETING if found.greeting else (sent or GREETING)
    return ServiceAnswer(clean_banner(found.summary), found.name, source)


def identify_service(address: str, family: int, port: int, timeout: float = 1.0, host_header: str = "",
                     deadline: Optional[float] = None, stop: Optional[threading.Event] = None) -> ServiceAnswer:
    """Listen, then ask as little as possible, and name the service on ``port`` from what it says.

    At most two connections and ``BANNER_DEADLINE_FACTOR * timeout`` seconds in all (less
    when ``deadline``, a ``time.monotonic()`` value, comes first); ``stop`` ends it early.
    Each connection reads at most ``READ_LIMIT`` bytes.
    """
    own_deadline = time.monotonic() + BANNER_DEADLINE_FACTOR * timeout
    deadline = own_deadline if deadline is None else min(deadline, own_deadline)
    listen_first, requests = probe_plan(port)
    web_expected = not listen_first and requests[0] == HTTP_HEAD
    host = (host_header or address) if web_expected else None
    try:
        for attempt, request in enumerate(requests):
            if time.monotonic() >= deadline or (stop is not None and stop.is_set()):
                break
            with socket.socket(family, socket.SOCK_STREAM) as sock:
                sock.settimeout(max(0.01, min(timeout, deadline - time.monotonic())))
                if sock.connect_ex(sockaddr_for(address, family, port)) != 0:
                    break
                if attempt == 0 and listen_first:
                    data, closed = _read(sock, deadline, stop, min(timeout, GREETING_WAIT_SECONDS), None)
                    if data:   # it spoke first: a greeting, recognised or not, is all we take
                        return _answer(data, None, b"")
                    if closed or (stop is not None and stop.is_set()):
                        break
                payload = _request(request, host)
                sock.sendall(payload)
                data, closed = _read(sock, deadline, stop, timeout, request)
            if data:
                return _answer(data, request, payload)
            if not closed:
                break   # silence is an answer too: asking again would only cost time
    except (OSError, ValueError):
        pass
    return ServiceAnswer()


def grab_banner(address: str, family: int, port: int, timeout: float = 1.0, host_header: str = "",
                deadline: Optional[float] = None, stop: Optional[threading.Event] = None) -> str:
    """Connect and return what the service says, cleaned ('' when it says nothing)."""
    return identify_service(address, family, port, timeout, host_header, deadline, stop).banner


def _host_bytes(host: str) -> bytes:
    """The Host header value (the idna codec only allows errors="strict")."""
    try:
        return host.encode("idna")
    except UnicodeError:
        return host.encode("ascii", "replace")


def _read(sock: socket.socket, deadline: float, stop: Optional[threading.Event] = None,
          patience: float = 1.0, sent: Optional[str] = None) -> Tuple[bytes, bool]:
    """(what came, whether the server hung up): read until the answer is complete,
    ``patience`` seconds pass in silence, the deadline passes or ``stop`` is set."""
    chunks, size, closed = [], 0, False
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
            closed = True   # reset: the server hung up on us
            break
        if not chunk:
            closed = True
            break
        chunks.append(chunk)
        size += len(chunk)
        quiet_until = time.monotonic() + patience
        if complete(b"".join(chunks), sent):
            break
    return b"".join(chunks), closed


def pass_budget(open_ports: int, timeout: float, threads: int = DEFAULT_BANNER_THREADS) -> float:
    """Seconds the whole banner pass may take: what ``threads`` need for every port, capped."""
    rounds = math.ceil(open_ports / max(1, threads)) if open_ports else 0
    return min(PASS_CAP_SECONDS, rounds * BANNER_DEADLINE_FACTOR * timeout)


ProgressCallback = Callable[[int, int, int], None]


def identify_services(address: str, family: int, ports: Iterable[int], timeout: float = 1.0,
                      host_header: str = "", max_threads: int = DEFAULT_BANNER_THREADS,
                      progress: Optional[ProgressCallback] = None, stop: Optional[threading.Event] = None,
                      progress_interval: float = 0.1) -> Dict[int, ServiceAnswer]:
    """``identify_service`` for many open ports at once: {port: ServiceAnswer} for the ports
    that said something (silent ones are left out).

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
    found: Dict[int, ServiceAnswer] = {}
    done = [0]
    lock = threading.Lock()

    def worker() -> None:
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                port = work.get_nowait()
            except queue.Empty:
                return
            answer = identify_service(address, family, port, timeout, host_header, deadline, stop)
            with lock:
                done[0] += 1
                if answer.banner or answer.service:
                    found[port] = answer

    pool: "list[threading.Thread]" = []
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


def grab_banners(address: str, family: int, ports: Iterable[int], timeout: float = 1.0, **options) -> Dict[int, str]:
    """Just the banners: {port: banner} for the ports that said something printable."""
    found = identify_services(address, family, ports, timeout, **options)
    return {port: answer.banner for port, answer in found.items() if answer.banner}
