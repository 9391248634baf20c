"""The threaded TCP connect scanner.

The slow way to scan is a loop: connect to port 1, wait for the answer, connect to
port 2, wait...  Almost all of that time is spent *waiting on the network*, with the CPU
idle.  Threads fix that because a thread that waits on I/O lets the others run.  But one
thread per port does not scale (65535 threads cost memory and start-up time), so
scanners use a bounded pool.

This engine goes one step further, the way nmap does: each worker thread keeps hundreds
of **non-blocking** sockets in flight at once.  ``connect_ex`` on a non-blocking socket
returns ``EINPROGRESS`` at once; a ``selectors`` selector then tells the thread which
connections have finished, and ``getsockopt(SO_ERROR)`` gives the same answer a blocking
``connect_ex`` would have returned.  A port whose answer has not come back before the
timeout is *filtered*.

Every socket is an open file, and a process may hold only so many (``ulimit -n``; on
Windows ``select`` watches at most 512).  The engine sizes itself under that limit, and if
the system still says ``EMFILE`` (too many open files) it puts the port back in the queue
and waits for sockets to close: running out of files is our problem, never a port state.

Two shortcuts matter on loopback, where most ports refuse at once: the refusal is read
from ``SO_ERROR`` right after ``connect_ex`` (no selector round trip), and on Linux the
refused socket is re-armed for the next port instead of being closed (see
``_Worker._reconnect``): a full 65535-port scan then costs about half the system calls.

Ctrl+C (``KeyboardInterrupt``) or a ``stop`` event ends a scan within about one timeout;
the ports finished so far are returned with ``complete=False``.
"""

from __future__ import annotations

import collections
import datetime
import errno
import os
import selectors
import socket
import sys
import threading
import time
from typing import Callable, Iterable, Optional

from scanner.inputs import TimeoutSetting, is_loopback_address
from scanner.probe import (IN_PROGRESS_CODES, MAX_SELF_CONNECT_RETRIES, REFUSED_CODES, RESOURCE_CODES,
                           classify, is_self_connected)
from scanner.results import PortResult, PortState, Reason, ScanReport, Target
from scanner.services import service_name
from scanner.timing import FixedTimeout, RttEstimator

DEFAULT_WORKERS = 1000           # sockets in flight across all threads
DEFAULT_THREADS = 2
WINDOWS_SELECT_LIMIT = 500       # select() on Windows watches at most 512 sockets
FILE_RESERVE = 48                # files kept free for the rest of the program

# Linux and the BSDs can create a socket already non-blocking: one system call less per port.
_NONBLOCKING_STREAM = socket.SOCK_STREAM | getattr(socket, "SOCK_NONBLOCK", 0)

_SOL_SOCKET, _SO_ERROR = socket.SOL_SOCKET, socket.SO_ERROR
RTT_SAMPLE_EVERY = 8             # auto timeout: one round-trip sample per 8 instant refusals

ProgressCallback = Callable[[int, int, int], None]


def open_file_budget() -> int:
    """How many more sockets this process may open, leaving a reserve."""
    if sys.platform == "win32":
        return WINDOWS_SELECT_LIMIT * DEFAULT_THREADS
    try:
        import resource

        soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (ImportError, OSError, ValueError):
        return 256
    if soft == resource.RLIM_INFINITY:
        soft = 1 << 16
    try:
        in_use = len(os.listdir("/proc/self/fd"))
    except OSError:
        in_use = 32
    return max(1, soft - in_use - FILE_RESERVE)


class _ScanState:
    """What the worker threads share.  Counters are only touched under ``lock``."""

    def __init__(self, target: Target, ports: Iterable[int], timer, stop: threading.Event) -> None:
        self.target = target
        self.pending = collections.deque(ports)
        self.timer = timer
        self.stop = stop
        self.lock = threading.Lock()
        self.self_connects = 0
        self.errors: list = []
        # On loopback our own sockets can meet each other (see _Worker._finish): confirm opens.
        self.confirm_open = is_loopback_address(target.address)

    def give_back(self, port: int) -> None:
        self.pending.appendleft(port)


class _Worker(threading.Thread):
    """One thread multiplexing up to ``capacity`` non-blocking connects."""

    def __init__(self, state: _ScanState, capacity: int) -> None:
        super().__init__(daemon=True)
        self.state = state
        self.capacity = max(1, capacity)
        self.selector = selectors.DefaultSelector()
        self.in_flight: dict = {}  # socket -> (port, started, attempt); insertion order = start order
        # Results stay in the thread until the end: no lock on the hot path.  Closed ports,
        # by far the most common answer, are kept as bare numbers.
        self.closed_ports: list = []
        self.reuse_sockets = sys.platform.startswith("linux")
        self.spare: Optional[socket.socket] = None  # a refused socket waiting to be re-used
        self.answers: list = []     # PortResult for every port that is not plainly closed
        self.open_found = 0
        address, family = state.target.address, state.target.family
        # probe.sockaddr_for, decided once per scan instead of once per port
        if family == socket.AF_INET6:
            self.address_for = lambda port: (address, port, 0, 0)
        else:
            self.address_for = lambda port: (address, port)

    def run(self) -> None:
        try:
            self._loop()
        except BaseException as error:  # never die silently: the main thread reports it
            with self.state.lock:
                self.state.errors.append(error)
            self.state.stop.set()
        finally:
            for sock in list(self.in_flight):
                self._forget(sock)
            if self.spare is not None:
                self.spare.close()
            self.selector.close()

    # -- the event loop --------------------------------------------------------------
    def _loop(self) -> None:
        state = self.state
        while not state.stop.is_set():
            self._fill()
            if not self.in_flight:
                if not state.pending:
                    return
                time.sleep(0.01)  # out of files: let other threads close some
                continue
            oldest_started = next(iter(self.in_flight.values()))[1]
            wait = oldest_started + state.timer.timeout - time.monotonic()
            for key, _events in self.selector.select(timeout=min(0.05, max(0.0, wait))):
                self._answered(key.fileobj)
            self._expire()

    def _fill(self) -> None:
        """Start probes until ``capacity`` are in flight.

        This is the hot loop of a scan (65535 turns for a full range), so the common case —
        a port that refuses at once — is handled right here, with names looked up once.
        """
        state = self.state
        pending, in_flight, closed_ports = state.pending, self.in_flight, self.closed_ports
        address_for = self.address_for
        monotonic, learning = time.monotonic, isinstance(state.timer, RttEstimator)
        while len(in_flight) < self.capacity and not state.stop.is_set():
            try:
                port = pending.popleft()
            except IndexError:
                return
            sock, self.spare = self.spare, None
            started = monotonic()
            if sock is not None:
                code = self._reconnect(sock, address_for(port))
                if code is None:  # this system cannot re-use the socket: back to fresh ones
                    sock = None
            if sock is None:
                sock = self._open_socket(port)
                if sock is None:  # out of files: the port went back in the queue
                    return
                started = monotonic()
                code = sock.connect_ex(address_for(port))
            if code in IN_PROGRESS_CODES:
                # On loopback the answer often arrives inside connect() itself: a refusal
                # is already waiting in SO_ERROR, and the selector round trip can be skipped.
                code = sock.getsockopt(_SOL_SOCKET, _SO_ERROR)
                if code == 0:  # still waiting (or just connected): let the selector tell us
                    in_flight[sock] = (port, started, 0)
                    self.selector.register(sock, selectors.EVENT_WRITE)
                    continue
            if code in REFUSED_CODES:  # the common case, kept short: a closed port
                if self.reuse_sockets:
                    self.spare = sock  # the next port gets this socket (see _reconnect)
                else:
                    sock.close()
                closed_ports.append(port)
                if learning and not len(closed_ports) % RTT_SAMPLE_EVERY:
                    state.timer.observe(monotonic() - started)
                continue
            in_flight[sock] = (port, started, 0)
            self._finish(sock, code, registered=False)

    def _reconnect(self, sock: socket.socket, address: tuple) -> Optional[int]:
        """Connect a socket whose last connect was refused to ``address``; None if not possible.

        Creating and closing a socket costs two system calls and most of a probe's time.
        Linux lets a socket whose connect failed be used again: the first new connect()
        answers ECONNABORTED and resets it, the next one starts a fresh handshake from a
        fresh source port.  Systems that refuse this (the BSDs, Windows) answer otherwise;
        then the socket is closed and this worker goes back to one socket per probe.
        """
        code = sock.connect_ex(address)
        if code == errno.ECONNABORTED:
            return sock.connect_ex(address)
        sock.close()
        self.reuse_sockets = False
        return None

    def _open_socket(self, port: int) -> Optional[socket.socket]:
        """A new non-blocking socket for probing ``port``, or None when we are out of files.

        Out of files (EMFILE and friends) is our problem, not the port's: the port goes back
        in the queue, and this worker holds fewer sockets from now on.
        """
        try:
            sock = socket.socket(self.state.target.family, _NONBLOCKING_STREAM)
        except OSError as error:
            if error.errno not in RESOURCE_CODES:
                raise
            self.state.give_back(port)
            self.capacity = max(1, len(self.in_flight))  # the ones in flight will free files
            return None
        if _NONBLOCKING_STREAM == socket.SOCK_STREAM:
            sock.setblocking(False)
        return sock

    @property
    def done(self) -> int:
        return len(self.closed_ports) + len(self.answers)

    def _start(self, port: int, target: Target, attempt: int) -> None:
        """Probe ``port`` again (after a self-connect, or to confirm an open port)."""
        sock = self._open_socket(port)
        if sock is None:
            return
        started = time.monotonic()
        code = sock.connect_ex(self.address_for(port))
        self.in_flight[sock] = (port, started, attempt)
        if code in IN_PROGRESS_CODES:
            self.selector.register(sock, selectors.EVENT_WRITE)
        else:
            self._finish(sock, code, registered=False)

    def _answered(self, sock: socket.socket) -> None:
        code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        self._finish(sock, code, registered=True)

    def _finish(self, sock: socket.socket, code: int, registered: bool = True) -> None:
        state = self.state
        port, started, attempt = self.in_flight[sock]
        rtt = time.monotonic() - started
        if code == 0:
            if is_self_connected(sock):
                with state.lock:
                    state.self_connects += 1
                self._forget(sock, registered)
                if attempt < MAX_SELF_CONNECT_RETRIES:
                    self._start(port, state.target, attempt + 1)
                else:  # the kernel gave us that port as a source port, so nothing listens on it
                    self._record(PortResult(port, PortState.CLOSED, Reason.SELF_CONNECT, rtt=rtt))
                return
            if state.confirm_open and attempt == 0:
                # Two of our own sockets can also meet each other ("simultaneous open":
                # A goes from port X to port Y while B goes from Y to X).  That cannot
                # happen twice by chance, so on loopback an open port is probed once more.
                self._forget(sock, registered)
                self._start(port, state.target, attempt + 1)
                return
        verdict = classify(code)
        self._forget(sock, registered)
        if verdict is None:  # out of local resources: try this port again later
            state.give_back(port)
            self.capacity = max(1, len(self.in_flight))
            return
        port_state, reason = verdict
        if port_state is not PortState.FILTERED:
            state.timer.observe(rtt)
        if reason is Reason.CONN_REFUSED:
            self.closed_ports.append(port)
        else:
            self._record(PortResult(port, port_state, reason, rtt=rtt if reason is not Reason.NO_RESPONSE else None,
                                    service=service_name(port) if port_state is not PortState.CLOSED else ""))

    def _record(self, result: PortResult) -> None:
        self.answers.append(result)
        if result.state is PortState.OPEN:
            self.open_found += 1

    def _expire(self) -> None:
        now = time.monotonic()
        timeout = self.state.timer.timeout
        expired = []
        for sock, (port, started, _attempt) in self.in_flight.items():
            if now - started < timeout:
                break  # insertion order is start order: the rest are younger
            expired.append((sock, port))
        for sock, port in expired:
            self._forget(sock)
            self._record(PortResult(port, PortState.FILTERED, Reason.NO_RESPONSE, service=service_name(port)))

    def _forget(self, sock: socket.socket, registered: bool = True) -> None:
        self.in_flight.pop(sock, None)
        if registered:
            try:
                self.selector.unregister(sock)
            except (KeyError, ValueError):
                pass
        sock.close()


def scan(target: Target, ports: Iterable[int], timeout: TimeoutSetting = TimeoutSetting(1.0),
         workers: int = DEFAULT_WORKERS, threads: int = DEFAULT_THREADS,
         progress: Optional[ProgressCallback] = None, stop: Optional[threading.Event] = None,
         progress_interval: float = 0.1) -> ScanReport:
    """Scan ``ports`` of ``target`` and return a ``ScanReport`` (results sorted by port).

    ``progress(done, total, open_found)`` is called from the calling thread about every
    ``progress_interval`` seconds and once at the end.  Setting ``stop`` — or pressing
    Ctrl+C while this runs in the main thread — ends the scan early; the report then has
    ``complete=False`` and holds every port finished so far.
    """
    ports = tuple(ports)
    stop = stop or threading.Event()
    timer = RttEstimator(initial=timeout.seconds) if timeout.auto else FixedTimeout(timeout.seconds)
    state = _ScanState(target, ports, timer, stop)
    budget = min(workers, open_file_budget(), max(1, len(ports)))
    thread_count = max(1, min(threads, budget, (len(ports) + 63) // 64))
    per_thread = max(1, budget // thread_count)
    if sys.platform == "win32":
        per_thread = min(per_thread, WINDOWS_SELECT_LIMIT)

    started_wall = datetime.datetime.now(datetime.timezone.utc)
    started = time.monotonic()
    pool = [_Worker(state, per_thread) for _ in range(thread_count)]
    interrupted = False
    try:
        for worker in pool:
            worker.start()
        while any(worker.is_alive() for worker in pool):
            deadline = time.monotonic() + progress_interval
            for worker in pool:  # returns as soon as every worker is done
                worker.join(max(0.0, deadline - time.monotonic()))
            if progress:
                progress(sum(w.done for w in pool), len(ports), sum(w.open_found for w in pool))
    except KeyboardInterrupt:
        interrupted = True
        stop.set()
    for worker in pool:
        worker.join()
    if state.errors:
        raise state.errors[0]
    results = [PortResult(port, PortState.CLOSED, Reason.CONN_REFUSED)
               for worker in pool for port in worker.closed_ports]
    results.extend(answer for worker in pool for answer in worker.answers)
    results.sort(key=lambda r: r.port)
    open_found = sum(worker.open_found for worker in pool)
    if progress:
        progress(len(results), len(ports), open_found)
    return ScanReport(
        target=target, ports_requested=ports, results=results, timeout=str(timeout),
        final_timeout=round(timer.timeout, 4), workers=workers,
        started=started_wall.isoformat(timespec="seconds"),
        elapsed_seconds=round(time.monotonic() - started, 3),
        complete=len(results) == len(ports), interrupted=interrupted,
        retried_self_connects=state.self_connects,
    )
