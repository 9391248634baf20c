"""One worker thread of the engine: an event loop over hundreds of non-blocking connects.

The loop has three steps, over and over::

    fill      start probes until `capacity` are in flight (or the pacer says "wait")
    wait      sleep in the selector until an answer comes or the next probe times out
    expire    retransmit what has been silent too long; give up on what used every try

**Wait until the next real deadline.**  The selector is told how long it may sleep:
until the earliest moment a probe in flight times out (``FlightBook.next_deadline``), or
a paced probe may go out.  Sleeping less (say, zero because the oldest socket is
"late") turns waiting into spinning: thousands of empty wake-ups a second, a core
burned for nothing.  The sleep is also capped at ``MAX_WAIT`` so a stop request and the
progress bar are never kept waiting long.

**The hot path.**  On loopback most ports refuse at once, so the refusal is read from
``SO_ERROR`` right after ``connect_ex`` (no selector round trip), and on Linux the refused
socket is re-armed for the next port instead of being closed (``_reconnect``).  ``fill``
never runs longer than ``FILL_SLICE`` seconds, so answers are read in time.  Closed ports
are kept as bare numbers in a compact array (2 bytes each): a full range costs 128 KB,
not one object per port.
"""

from __future__ import annotations

import array
import errno
import os
import selectors
import socket
import sys
import time
from typing import Callable, Optional

from scanner.inflight import CONFIRM, FIRST, MAX_WAIT, FlightBook, InFlight, ScanState, sleep_for
from scanner.limits import SafeThread
from scanner.poller import new_poller
from scanner.probe import (
    IN_PROGRESS_CODES,
    MAX_SELF_CONNECT_RETRIES,
    REFUSED_CODES,
    RESOURCE_CODES,
    classify,
    is_self_connected,
)
from scanner.results import PortResult, PortState, Reason
from scanner.services import service_name
from scanner.timing import TokenBucket

FILL_SLICE = 0.02                # seconds the hot loop may run before answers are read
PACE_SLICE = 0.05                # under a send-rate cap, probes go out in bursts this many seconds apart
STOP_GRACE = 0.3                 # seconds a stop waits for open-port confirmations already in flight
STARVE_LIMIT = 1.0               # seconds without a single socket (none of ours open either): give up
RTT_SAMPLE_EVERY = 8             # one round-trip sample per 8 instant refusals (for the retransmission timer)

# Linux and the BSDs can create a socket already non-blocking: one system call less per port.
_NONBLOCKING_STREAM = socket.SOCK_STREAM | getattr(socket, "SOCK_NONBLOCK", 0)
_SOL_SOCKET, _SO_ERROR = socket.SOL_SOCKET, socket.SO_ERROR


class Worker(SafeThread, FlightBook):
    """One thread multiplexing up to ``capacity`` non-blocking connects."""

    def __init__(self, state: ScanState, capacity: int) -> None:
        super().__init__(daemon=True)
        self.state = state
        self.capacity = max(1, capacity)
        self.selector = new_poller()   # epoll on Linux, selectors elsewhere
        self._init_book()
        # Results stay in the thread until the end: no lock on the hot path.  Closed ports,
        # by far the most common answer, are kept as bare numbers (2 bytes each).
        self.closed_ports = array.array("H")
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
        self.bucket = TokenBucket()  # the pacer's send-rate cap, this thread's share
        self.pause = 0.0            # how long until the next token
        self.more_to_send = False   # the latest _fill stopped for its time slice, not for lack of room
        self.out_of_files = False   # the latest _fill could not open a socket (EMFILE or the like)
        self.granted = 0            # sockets taken from the shared pool of a network scan
        self.pool_starved = False
        self.starved_since: Optional[float] = None
        address, family = state.target.address, state.target.family
        # probe.sockaddr_for, decided once per scan instead of once per port
        self.address_for: Callable[[int], tuple] = ((lambda port: (address, port, 0, 0)) if family == socket.AF_INET6
                                                    else (lambda port: (address, port)))

    def run(self) -> None:
        try:
            self._loop()
        except BaseException as error:  # never die silently: the main thread reports it
            self.state.stop.set()
            try:
                with self.state.lock:
                    self.state.errors.append(error)
            except MemoryError:   # no memory even for that: the slot made in advance holds it
                self.state.last_resort[0] = error
        finally:
            for sock in list(self.in_flight):
                self._forget(sock)
            if self.spare is not None:
                self.spare.close()
            self.selector.close()
            self._return_grant(keep=0)

    # -- the event loop --------------------------------------------------------------
    def _loop(self) -> None:
        state = self.state
        stop_deadline = None
        while True:
            now = time.monotonic()
            if state.stop.is_set():
                # Read the answers that are already here (one more pass), and give open ports
                # a moment to be confirmed; every other probe in flight has no answer yet.
                if stop_deadline is None:
                    stop_deadline = now + min(STOP_GRACE, state.timer.timeout)
                elif not self._confirming() or now >= stop_deadline:
                    return
                if not self.in_flight:
                    return
                self.more_to_send, self.pause = False, 0.0
            else:
                self._fill()
                if not self.in_flight:
                    if not state.pending and not state.retry and not self.queued:
                        self._tell_pacer()
                        return
                    if self.out_of_files:
                        self._check_starved()
                    else:
                        self.starved_since = None
                    if self.pool_starved and not self.pause:
                        state.pool.wait(MAX_WAIT)   # until a neighbour gives sockets back
                    else:
                        time.sleep(min(MAX_WAIT, max(0.001, self.pause)))  # pacing, or out of files
                    self._tell_pacer()
                    continue
            self.starved_since = None
            timer = state.timer
            wait = sleep_for(time.monotonic(), self.next_deadline(timer.timeout, timer.retry_timeout),
                             self.pause if (state.pending or state.retry or self.queued) else 0.0,
                             self.more_to_send)
            if stop_deadline is not None:
                wait = min(wait, max(0.0, stop_deadline - time.monotonic()))
            for key, _events in self.selector.select(timeout=wait):
                self._answered(key.fileobj)
            self._expire()
            self._tell_pacer()

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

    def _tell_pacer(self) -> None:
        """Tell the pacer what happened since the last call."""
        closed = len(self.closed_ports)
        answered = self.answered + closed - self._closed_reported
        self._closed_reported = closed
        state = self.state
        state.pacer.note(self.sent, answered, self.late, cooldown=1.0 + state.timer.timeout)
        self.sent = self.answered = self.late = 0

    def _pool_capacity(self, capacity: int) -> int:
        """In a network scan, sockets come from one pool shared by every host: take what is needed now."""
        pool = self.state.pool
        if pool is None:
            return capacity
        needed = capacity - self.granted
        if needed > 0 and (self.state.pending or self.state.retry or self.retry):
            self.granted += pool.take(needed)
        self.pool_starved = self.granted <= len(self.in_flight)
        return min(capacity, self.granted)

    def _return_grant(self, keep: int) -> None:
        pool = self.state.pool
        if pool is not None and self.granted > keep:
            pool.give(self.granted - keep)
            self.granted = keep

    def _fill(self) -> None:
        """Start probes until ``capacity`` are in flight (or the pacer says wait).

        This is the hot loop of a scan (65535 turns for a full range), so the common case —
        a port that refuses at once — is handled right here, with names looked up once.
        It returns after ``FILL_SLICE`` seconds at most, so that answers are read in time.
        """
        state = self.state
        self.out_of_files = self.more_to_send = False
        pending, in_flight, closed_ports = state.pending, self.in_flight, self.closed_ports
        retry, shared_retry, queued = self.retry, state.retry, self.queued
        address_for, stop = self.address_for, state.stop
        monotonic, observe = time.monotonic, state.timer.observe
        capacity = self._pool_capacity(min(self.capacity, max(1, state.pacer.window // state.threads)))
        allowed, self.pause = self.bucket.allowance(state.pacer.rate, state.threads, PACE_SLICE)
        slice_end = monotonic() + FILL_SLICE
        started_here = 0
        while len(in_flight) < capacity and started_here < allowed:
            if started_here & 63 == 63 and (stop.is_set() or monotonic() > slice_end):
                self.more_to_send = not stop.is_set()
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
            code = 0
            if sock is not None:
                reused = self._reconnect(sock, address_for(port))
                if reused is None:  # this system cannot re-use the socket: back to fresh ones
                    sock = None
                else:
                    code = reused
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
                    self._register(sock, InFlight(port, started, 1, FIRST, 0))
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
            self._register(sock, InFlight(port, started, 1, FIRST, 0))
            self._finish(sock, code, registered=False)
        self.sent += started_here
        if allowed and started_here >= allowed and state.pacer.rate is not None:
            self.pause = max(self.pause, self.bucket.refill_time())
        self._return_grant(keep=len(in_flight))

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
            self.out_of_files = True
            self.state.files_ran_short(sum(len(w.in_flight) for w in self.state.workers) or len(self.in_flight))
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
        self._register(sock, InFlight(port, started, tries, purpose, self_connects))
        if code in IN_PROGRESS_CODES:
            self.selector.register(sock, selectors.EVENT_WRITE)
        else:
            self._finish(sock, code, registered=False)
        return True

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
