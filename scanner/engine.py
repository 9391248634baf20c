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
``connect_ex`` would have returned.

**Silence is asked again.**  Real networks lose packets: a lost SYN, or a lost answer,
looks exactly like a firewall.  So a port with no answer is probed again with a new
connect (at least twice more, and more while retries keep turning silence into answers;
see ``scanner.timing.RetryPolicy``) before it is called *filtered*.  Like TCP, the engine
retransmits after the *learned* timeout (RTO) and doubles the wait for each further try;
a longer timeout chosen by the learner still applies to the first try, which keeps
listening beside its retransmissions.  Every port remembers which try brought its
answer.  A port that completed the handshake once is open, whatever happens next (an
immediate reset included).

**Slowing down when the target cannot keep up.**  Many hosts answer only a few hundred
RSTs a second.  When answers keep coming only on retries while far more probes go out
than answers come back, ``scanner.timing.Pacer`` caps the send rate near the answer rate
and holds fewer probes in flight, then speeds up again once the drops stop.

Every socket is an open file, and a process may hold only so many (``ulimit -n``; on
Windows ``select`` watches at most 512).  The engine sizes itself under that limit, and if
the system still says ``EMFILE`` (too many open files) it puts the port back in the queue
and waits for sockets to close: running out of files is our problem, never a port state.
(Under such a low limit a retransmitted first try gives its socket to the next port, and
if not one socket can be opened while none of ours is open, the scan stops with one
EMFILE error instead of waiting forever.)

Two shortcuts matter on loopback, where most ports refuse at once: the refusal is read
from ``SO_ERROR`` right after ``connect_ex`` (no selector round trip), and on Linux the
refused socket is re-armed for the next port instead of being closed (see
``_Worker._reconnect``): a full 65535-port scan then costs about half the system calls.
That loop never runs for more than ``FILL_SLICE`` seconds at a time, so answers in flight,
confirmations, retries, the progress bar and a stop request are never kept waiting.

Ctrl+C (``KeyboardInterrupt``) or a ``stop`` event ends a scan at once; every port with a
final answer so far (open ones included) is returned, with ``complete=False``.
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
from scanner.timing import FixedTimeout, Pacer, RetryPolicy, RttEstimator

DEFAULT_WORKERS = 1000           # sockets in flight across all threads
DEFAULT_THREADS = 2
WINDOWS_SELECT_LIMIT = 500       # select() on Windows watches at most 512 sockets
FILE_RESERVE = 48                # files kept free for the rest of the program
FILL_SLICE = 0.02                # seconds the hot loop may run before answers are read
STOP_GRACE = 0.3                 # seconds a stop waits for open-port confirmations already in flight
RETRY_TIMEOUT_CAP = 3.0          # the doubling wait of later tries stops growing here
STARVE_LIMIT = 1.0               # seconds without a single socket (none of ours open either): give up

# Linux and the BSDs can create a socket already non-blocking: one system call less per port.
_NONBLOCKING_STREAM = socket.SOCK_STREAM | getattr(socket, "SOCK_NONBLOCK", 0)

_SOL_SOCKET, _SO_ERROR = socket.SOL_SOCKET, socket.SO_ERROR
RTT_SAMPLE_EVERY = 8             # one round-trip sample per 8 instant refusals (for the retransmission timer)

# What a probe is for: the first look at a port, or (on loopback) a second look at an open one.
FIRST, CONFIRM = 0, 1

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
    """What the worker threads of one scan share (each scan has its own: scans may run in parallel).

    ``pending`` holds ports never probed; ``retry`` holds ports given another round, as
    ``(port, tries, purpose, self_connects)`` (each worker retransmits its own ports);
    ``held`` holds ports that stayed silent for every try allowed so far (they become
    filtered at the end, unless the allowance grows).
    Counters are only touched under ``lock``.
    """

    def __init__(self, target: Target, ports: Iterable[int], timer, stop: threading.Event,
                 policy: Optional[RetryPolicy] = None, pacer: Optional[Pacer] = None, threads: int = 1) -> None:
        self.target = target
        self.pending = collections.deque(ports)
        self.retry: collections.deque = collections.deque()
        self.held: list = []
        self.timer = timer
        self.stop = stop
        self.policy = policy or RetryPolicy()
        self.pacer = pacer or Pacer(DEFAULT_WORKERS)
        self.threads = max(1, threads)
        self.lock = threading.Lock()
        self.self_connects = 0
        self.errors: list = []
        self.short_of_files = False  # ulimit -n, not the learner's choice, sets how many sockets fly
        self.workers: list = []     # this round's threads (to tell "waiting for files" from "no file at all")
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
        # socket -> (port, started, tries, purpose, self_connects); insertion order = start order
        self.in_flight: dict = {}
        # The same sockets by try number -> {socket: started}, each in start order, so expiry
        # stops at the first young one (each try number has one timeout; see _timeout_for).
        self.waiting: dict = {}
        self.siblings: dict = {}    # port -> its sockets in flight (a retransmission may run beside the first try)
        self.newest: dict = {}      # port -> the highest try started or queued, while the port has no answer
        self.retry: collections.deque = collections.deque()  # this thread's retransmissions
        self.queued: dict = {}      # port -> the try waiting in self.retry
        self.rto_watch: collections.deque = collections.deque()  # (started, socket) of first tries
        # Results stay in the thread until the end: no lock on the hot path.  Closed ports,
        # by far the most common answer, are kept as bare numbers.
        self.closed_ports: list = []
        self.reuse_sockets = sys.platform.startswith("linux")
        self.spare: Optional[socket.socket] = None  # a refused socket waiting to be re-used
        self.answers: list = []     # PortResult for every port that is not plainly closed at the first try
        self.open_found = 0
        self.retried = 0            # ports whose final answer came only on a retry
        # Evidence for the pacer, counted since the last report to it.
        self.sent = 0
        self.answered = 0
        self.late = 0
        self._closed_reported = 0
        self.tokens = 0.0           # send-rate cap: probes this thread may send now
        self.token_time = time.monotonic()
        self.pause = 0.0            # how long until the next token
        self.out_of_files = False   # the latest _fill could not open a socket (EMFILE or the like)
        self.starved_since: Optional[float] = None
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
        stop_deadline = None
        while True:
            if state.stop.is_set():
                # Read the answers that are already here (one more pass), and give open ports
                # a moment to be confirmed; every other probe in flight has no answer yet.
                if stop_deadline is None:
                    stop_deadline = time.monotonic() + min(STOP_GRACE, state.timer.timeout)
                elif not self._confirming() or time.monotonic() >= stop_deadline:
                    return
                if not self.in_flight:
                    return
            else:
                self._fill()
                if not self.in_flight:
                    if not state.pending and not state.retry and not self.queued:
                        self._report()
                        return
                    if self.out_of_files:
                        self._check_starved()
                    else:
                        self.starved_since = None
                    time.sleep(min(0.05, max(0.001, self.pause)))  # pacing, or out of files
                    self._report()
                    continue
            self.starved_since = None
            oldest_started = next(iter(self.in_flight.values()))[1]
            soonest = min(state.timer.timeout, state.timer.retry_timeout)
            wait = min(0.05, max(0.0, oldest_started + soonest - time.monotonic()))
            if self.pause and (state.pending or state.retry or self.queued):
                wait = min(wait, self.pause)
            for key, _events in self.selector.select(timeout=wait):
                self._answered(key.fileobj)
            self._expire()
            self._report()

    def _check_starved(self) -> None:
        """Waiting for files is fine while our own sockets will free some; with none open it never ends.

        When no thread of this scan holds a socket and still none can be opened (``ulimit -n``
        smaller than what Python itself needs), say so once instead of trying forever.
        """
        now = time.monotonic()
        if self.starved_since is None:
            self.starved_since = now
        elif now - self.starved_since >= STARVE_LIMIT and not any(w.in_flight for w in self.state.workers):
            raise OSError(errno.EMFILE, os.strerror(errno.EMFILE))

    def _confirming(self) -> bool:
        return any(entry[3] == CONFIRM for entry in self.in_flight.values())

    def _report(self) -> None:
        """Tell the pacer what happened since the last call."""
        closed = len(self.closed_ports)
        answered = self.answered + closed - self._closed_reported
        self._closed_reported = closed
        state = self.state
        state.pacer.note(self.sent, answered, self.late, cooldown=1.0 + state.timer.timeout)
        self.sent = self.answered = self.late = 0

    def _allowance(self, rate: Optional[float]) -> int:
        """How many probes the send-rate cap lets this thread start now (a token bucket)."""
        now = time.monotonic()
        if rate is None:
            self.pause = 0.0
            self.token_time = now
            return 1 << 30
        per_thread = rate / self.state.threads
        burst = max(1.0, per_thread * FILL_SLICE)
        self.tokens = min(burst, self.tokens + (now - self.token_time) * per_thread)
        self.token_time = now
        allowed = int(self.tokens)
        self.tokens -= allowed
        self.pause = 0.0 if allowed else (1.0 - self.tokens) / per_thread
        return allowed

    def _fill(self) -> None:
        """Start probes until ``capacity`` are in flight (or the pacer says wait).

        This is the hot loop of a scan (65535 turns for a full range), so the common case —
        a port that refuses at once — is handled right here, with names looked up once.
        It returns after ``FILL_SLICE`` seconds at most, so that answers are read in time.
        """
        state = self.state
        self.out_of_files = False
        pending, in_flight, closed_ports = state.pending, self.in_flight, self.closed_ports
        retry, shared_retry, queued = self.retry, state.retry, self.queued
        address_for, stop = self.address_for, state.stop
        monotonic, observe = time.monotonic, state.timer.observe
        capacity = min(self.capacity, max(1, state.pacer.window // state.threads))
        allowed = self._allowance(state.pacer.rate)
        slice_end = monotonic() + FILL_SLICE
        started_here = 0
        while len(in_flight) < capacity and started_here < allowed:
            if started_here & 63 == 63 and (stop.is_set() or monotonic() > slice_end):
                break  # back to the selector: answers, retries, progress and stop come first
            if retry:  # retransmissions go first, as in TCP and nmap
                entry = retry.popleft()
                if queued.get(entry[0]) != entry[1]:
                    continue  # the port got its answer meanwhile
                del queued[entry[0]]
                started_here += 1
                if not self._start(*entry):
                    break
                continue
            if shared_retry:  # ports given another round (see scan)
                try:
                    entry = shared_retry.popleft()
                except IndexError:
                    continue
                started_here += 1
                if not self._start(*entry):
                    break
                continue
            try:
                port = pending.popleft()
            except IndexError:
                break
            started_here += 1
            sock, self.spare = self.spare, None
            started = monotonic()
            if sock is not None:
                code = self._reconnect(sock, address_for(port))
                if code is None:  # this system cannot re-use the socket: back to fresh ones
                    sock = None
            if sock is None:
                sock = self._open_socket()
                if sock is None:  # out of files: the port goes back in the queue
                    state.give_back(port)
                    started_here -= 1
                    break
                started = monotonic()
                code = sock.connect_ex(address_for(port))
            if code in IN_PROGRESS_CODES:
                # On loopback the answer often arrives inside connect() itself: a refusal
                # is already waiting in SO_ERROR, and the selector round trip can be skipped.
                code = sock.getsockopt(_SOL_SOCKET, _SO_ERROR)
                if code == 0:  # still waiting (or just connected): let the selector tell us
                    self._register(sock, (port, started, 1, FIRST, 0))
                    self.selector.register(sock, selectors.EVENT_WRITE)
                    continue
            if code in REFUSED_CODES:  # the common case, kept short: a closed port
                if self.reuse_sockets:
                    self.spare = sock  # the next port gets this socket (see _reconnect)
                else:
                    sock.close()
                closed_ports.append(port)
                if len(closed_ports) % RTT_SAMPLE_EVERY == 1:  # the 1st, 9th, 17th...: learn the round trip
                    observe(monotonic() - started)
                continue
            self._register(sock, (port, started, 1, FIRST, 0))
            self._finish(sock, code, registered=False)
        self.sent += started_here
        if allowed and started_here >= allowed and state.pacer.rate is not None:
            self.pause = max(self.pause, 1.0 / (state.pacer.rate / state.threads))

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

    def _open_socket(self) -> Optional[socket.socket]:
        """A new non-blocking socket, or None when we are out of files.

        Out of files (EMFILE and friends) is our problem, not the port's: the caller puts
        the port back in the queue, and this worker holds fewer sockets from now on.
        """
        try:
            sock = socket.socket(self.state.target.family, _NONBLOCKING_STREAM)
        except OSError as error:
            if error.errno not in RESOURCE_CODES:
                raise
            self.capacity = max(1, len(self.in_flight))  # the ones in flight will free files
            self.out_of_files = self.state.short_of_files = True
            return None
        if _NONBLOCKING_STREAM == socket.SOCK_STREAM:
            sock.setblocking(False)
        return sock

    @property
    def done(self) -> int:
        return len(self.closed_ports) + len(self.answers)

    def _start(self, port: int, tries: int, purpose: int, self_connects: int) -> bool:
        """Probe ``port`` again (a retry, a confirmation, or after a self-connect); False if out of files."""
        if self.state.stop.is_set() and purpose != CONFIRM:
            return True  # no new probes once stopping, but a port that answered may be confirmed
        sock = self._open_socket()
        if sock is None:
            self._queue(port, tries, purpose, self_connects, front=True)
            return False
        started = time.monotonic()
        code = sock.connect_ex(self.address_for(port))
        self._register(sock, (port, started, tries, purpose, self_connects))
        if code in IN_PROGRESS_CODES:
            self.selector.register(sock, selectors.EVENT_WRITE)
        else:
            self._finish(sock, code, registered=False)
        return True

    def _register(self, sock: socket.socket, entry: tuple) -> None:
        port, started, tries = entry[0], entry[1], entry[2]
        self.in_flight[sock] = entry
        waiting = self.waiting.get(tries)
        if waiting is None:
            waiting = self.waiting[tries] = {}
        waiting[sock] = started
        if tries == 1:
            self.rto_watch.append((started, sock))
        self.siblings.setdefault(port, []).append(sock)
        if tries > self.newest.get(port, 0):
            self.newest[port] = tries

    def _queue(self, port: int, tries: int, purpose: int, self_connects: int = 0, front: bool = False) -> None:
        """Send try ``tries`` of ``port`` soon (this thread's queue, ahead of new ports)."""
        self.queued[port] = tries
        if tries > self.newest.get(port, 0):
            self.newest[port] = tries
        entry = (port, tries, purpose, self_connects)
        self.retry.appendleft(entry) if front else self.retry.append(entry)

    def _busy(self, port: int) -> bool:
        """Another try of ``port`` is in flight or waiting to be sent."""
        return bool(self.siblings.get(port)) or port in self.queued

    def _settle(self, port: int) -> None:
        """``port`` has its final answer: drop its other tries."""
        for sock in list(self.siblings.get(port, ())):
            self._forget(sock)
        self.newest.pop(port, None)
        self.queued.pop(port, None)

    def _answered(self, sock: socket.socket) -> None:
        if sock not in self.in_flight:
            return  # closed while this batch of events was handled: another try of its port answered
        code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        self._finish(sock, code, registered=True)

    def _finish(self, sock: socket.socket, code: int, registered: bool = True) -> None:
        state = self.state
        port, started, tries, purpose, self_connects = self.in_flight[sock]
        rtt = time.monotonic() - started
        if code == 0 and is_self_connected(sock):
            with state.lock:
                state.self_connects += 1
            self._forget(sock, registered)
            if self._busy(port):
                return  # another try of this port is still on its way
            if self_connects < MAX_SELF_CONNECT_RETRIES:
                self._start(port, tries, purpose, self_connects + 1)
            else:  # the kernel gave us that port as a source port, so nothing listens on it
                self._settle(port)
                self._record(PortResult(port, PortState.CLOSED, Reason.SELF_CONNECT, rtt=rtt, tries=tries))
            return
        verdict = classify(code)
        self._forget(sock, registered)
        if verdict is None:  # out of local resources: try this port again later
            if not self._busy(port):
                self._queue(port, tries, purpose, self_connects)
            self.capacity = max(1, len(self.in_flight))
            return
        port_state, reason = verdict
        if port_state is PortState.FILTERED and reason is not Reason.NO_RESPONSE and purpose == CONFIRM:
            port_state, reason = PortState.OPEN, Reason.SYN_ACK  # it answered SYN-ACK once: never filtered
        if port_state is not PortState.FILTERED:
            state.timer.observe(rtt)
            state.policy.answered_on(tries)
            self.answered += 1
            if tries > 1 and purpose == FIRST:
                self.late += 1  # evidence for the pacer: this answer came only on a retry
        self._settle(port)  # a final answer: any other try of this port is dropped
        if port_state is PortState.OPEN and state.confirm_open and purpose == FIRST:
            # Two of our own sockets can also meet each other ("simultaneous open": A goes
            # from port X to port Y while B goes from Y to X).  That cannot happen twice by
            # chance, so on loopback an open port is probed once more.  (A completed
            # handshake that was reset at once, ECONNRESET, is open too: see probe.classify.)
            self.answered -= 1  # the confirmation's answer is the one that counts
            self._start(port, tries, CONFIRM, 0)
            return
        if reason is Reason.CONN_REFUSED and tries == 1:
            self.closed_ports.append(port)
            self._closed_reported += 1  # already counted in self.answered
            return
        self._record(PortResult(port, port_state, reason, tries=tries,
                                rtt=rtt if reason is not Reason.NO_RESPONSE else None,
                                service=service_name(port) if port_state is not PortState.CLOSED else ""))

    def _record(self, result: PortResult) -> None:
        self.answers.append(result)
        if result.tries > 1 and result.reason is not Reason.NO_RESPONSE:
            self.retried += 1
        if result.state is PortState.OPEN:
            self.open_found += 1

    def _expire(self) -> None:
        """Retransmit what has been silent too long; give up on what used every try.

        A try is sent again after the learned timeout (``retry_timeout``, TCP's RTO), and
        each further try waits twice as long as the one before, up to the first try's wait
        (TCP's backoff: a target that drops answers because it is overwhelmed gets time to
        recover).  When the learner
        chose a longer fixed timeout, the first try keeps waiting for its answer that long
        beside the retransmissions, so the chosen timeout is honoured and a lost packet
        still costs only a round trip or two.
        """
        now = time.monotonic()
        timer, stopping = self.state.timer, self.state.stop.is_set()
        first_timeout, retry_timeout = timer.timeout, timer.retry_timeout
        policy, in_flight, newest = self.state.policy, self.in_flight, self.newest
        watch = self.rto_watch
        if retry_timeout < first_timeout and not stopping:
            while watch and now - watch[0][0] >= retry_timeout:
                started, sock = watch.popleft()
                entry = in_flight.get(sock)
                if entry is None or entry[1] != started:
                    continue  # answered already
                port, _started, tries, purpose, _self_connects = entry
                if newest.get(port) == tries and policy.may_retry(tries):
                    self._queue(port, tries + 1, purpose)
                    if self.state.short_of_files:
                        # A low ulimit -n: the socket is worth more to the next port than to a
                        # late answer that the retransmission will bring too (10x faster at 2% loss).
                        self._forget(sock)
        else:
            watch.clear()
        expired = []
        for tries, waiting in self.waiting.items():
            timeout = (first_timeout if tries == 1 else  # later tries: doubling, but never above the first
                       min(RETRY_TIMEOUT_CAP, max(first_timeout, retry_timeout), retry_timeout * 2 ** (tries - 2)))
            for sock, started in waiting.items():
                if now - started < timeout:
                    break  # start order: the rest are younger
                expired.append(sock)
        for sock in expired:
            entry = in_flight.get(sock)
            if entry is None:
                continue
            self._forget(sock)
            if stopping:
                continue
            port, _started, tries, purpose, _self_connects = entry
            highest = newest.get(port, tries)
            if tries == highest and policy.may_retry(tries):
                self._queue(port, tries + 1, purpose)
            elif self._busy(port):
                continue  # an older or newer try of this port is still on its way
            elif policy.may_retry(highest):  # the allowance grew meanwhile
                self._queue(port, highest + 1, purpose)
            elif purpose == CONFIRM:  # it answered SYN-ACK once: a silent confirmation keeps it open
                self._settle(port)
                self._record(PortResult(port, PortState.OPEN, Reason.SYN_ACK, tries=highest,
                                        service=service_name(port)))
            else:
                self._settle(port)
                with self.state.lock:
                    self.state.held.append((port, highest))

    def _forget(self, sock: socket.socket, registered: bool = True) -> None:
        entry = self.in_flight.pop(sock, None)
        if entry is not None:
            self.waiting.get(entry[2], {}).pop(sock, None)
            others = self.siblings.get(entry[0])
            if others is not None:
                try:
                    others.remove(sock)
                except ValueError:
                    pass
                if not others:
                    del self.siblings[entry[0]]
        if registered:
            try:
                self.selector.unregister(sock)
            except (KeyError, ValueError):
                pass
        sock.close()


def scan(target: Target, ports: Iterable[int], timeout: TimeoutSetting = TimeoutSetting(1.0),
         workers: int = DEFAULT_WORKERS, threads: int = DEFAULT_THREADS,
         progress: Optional[ProgressCallback] = None, stop: Optional[threading.Event] = None,
         progress_interval: float = 0.1, *, retries: Optional[int] = None) -> ScanReport:
    """Scan ``ports`` of ``target`` and return a ``ScanReport`` (results sorted by port).

    ``progress(done, total, open_found)`` is called from the calling thread about every
    ``progress_interval`` seconds and once at the end.  Setting ``stop`` — or pressing
    Ctrl+C while this runs in the main thread — ends the scan early; the report then has
    ``complete=False`` and holds every port with a final answer so far.  ``retries`` is
    how many times a silent port is asked again (0-10); None adapts it to the network.
    Each call keeps its own state, so scans may run in several threads at once.
    """
    ports = tuple(ports)
    # A port asked for twice is scanned once (parse_ports already merges them: no copy then).
    unique_ports = ports if all(a < b for a, b in zip(ports, ports[1:])) else tuple(dict.fromkeys(ports))
    stop = stop or threading.Event()
    timer = RttEstimator(initial=timeout.seconds) if timeout.auto else FixedTimeout(timeout.seconds)
    files = open_file_budget()
    budget = min(workers, files, max(1, len(unique_ports)))
    thread_count = max(1, min(threads, budget, (len(unique_ports) + 63) // 64))
    per_thread = max(1, budget // thread_count)
    if sys.platform == "win32":
        per_thread = min(per_thread, WINDOWS_SELECT_LIMIT)
    policy, pacer = RetryPolicy(retries), Pacer(per_thread * thread_count)
    state = _ScanState(target, unique_ports, timer, stop, policy, pacer, thread_count)
    state.short_of_files = files < min(workers, len(unique_ports))

    started_wall = datetime.datetime.now(datetime.timezone.utc)
    started = time.monotonic()
    finished: list = []   # workers of earlier rounds
    held_final: list = []
    interrupted = False

    def counts() -> tuple:
        everyone = finished + pool
        return (sum(w.done for w in everyone) + len(held_final), sum(w.open_found for w in everyone))

    pool: list = []
    try:
        while True:
            # One round: the workers run until every port has an answer or used up its tries.
            pool = state.workers = _start_workers(state, per_thread, thread_count)
            while any(worker.is_alive() for worker in pool):
                deadline = time.monotonic() + progress_interval
                for worker in pool:  # returns as soon as every worker is done
                    worker.join(max(0.0, deadline - time.monotonic()))
                if progress:
                    done, open_found = counts()
                    progress(done, len(unique_ports), open_found)
            finished.extend(pool)
            pool = []
            if stop.is_set() or state.errors:
                break
            # A port that answered on a late try may have raised the allowance after other
            # ports had used theirs up: those get another round.
            again = [(port, tries) for port, tries in state.held if policy.may_retry(tries)]
            held_final.extend(item for item in state.held if not policy.may_retry(item[1]))
            state.held = []
            if not again:
                break
            state.retry.extend((port, tries + 1, FIRST, 0) for port, tries in again)
    except KeyboardInterrupt:
        interrupted = True
        stop.set()
    finished = list(dict.fromkeys(finished + pool))  # a Ctrl+C may have come between two steps above
    while True:
        # Ctrl+C while the results are put together must not lose them: note it, build again.
        try:
            for worker in finished:
                worker.join()
            if state.errors:
                raise state.errors[0]
            return _report(target, ports, len(unique_ports), timeout, timer, workers, started_wall, started, finished,
                           held_final + state.held, state, pacer, policy, interrupted, progress)
        except KeyboardInterrupt:
            interrupted = True
            stop.set()


def _start_workers(state: _ScanState, per_thread: int, count: int) -> list:
    """Start ``count`` worker threads; with fewer threads to be had (a low RLIMIT_NPROC or
    memory limit), scan with those that started: the ports are shared, so none is lost.
    Only when not one thread starts is "can't start new thread" the caller's to report."""
    started: list = []
    for _ in range(count):
        worker = _Worker(state, per_thread)
        try:
            worker.start()
        except RuntimeError:
            worker.selector.close()
            if not started:
                raise
            break
        started.append(worker)
    return started


def _report(target, ports, unique_count, timeout, timer, workers, started_wall, started, finished, silent, state, pacer,
            policy, interrupted, progress) -> ScanReport:
    """Every final answer of a scan, as a ``ScanReport``; ``silent`` ports (silent at every try) are filtered."""
    results = [PortResult(port, PortState.CLOSED, Reason.CONN_REFUSED)
               for worker in finished for port in worker.closed_ports]
    results.extend(answer for worker in finished for answer in worker.answers)
    results.extend(PortResult(port, PortState.FILTERED, Reason.NO_RESPONSE, service=service_name(port), tries=tries)
                   for port, tries in dict(silent).items())
    results.sort(key=lambda r: r.port)
    open_found = sum(worker.open_found for worker in finished)
    if progress:
        progress(len(results), unique_count, open_found)
    return ScanReport(
        target=target, ports_requested=ports, results=results, timeout=str(timeout),
        final_timeout=round(timer.timeout, 4), workers=workers,
        started=started_wall.isoformat(timespec="seconds"),
        elapsed_seconds=round(time.monotonic() - started, 3),
        complete=len(results) == unique_count, interrupted=interrupted,
        retried_self_connects=state.self_connects,
        retried=sum(worker.retried for worker in finished),
        rate_limit_per_second=pacer.rate_limit, retries=str(policy),
    )
