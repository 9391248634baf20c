"""Bookkeeping for probes in flight: which socket asks which port, since when, and when to give up.

A worker thread of the engine (``scanner.worker``) holds hundreds of half-open
connections at once.  For each one it must remember an ``InFlight`` entry: the port, when
the probe started, which try it is (1 = the first look, 2 = the first retransmission...),
what it is for (a first look, or a second look that confirms an open port) and how often
the socket met itself.  From those entries it answers three questions quickly:

* **Which probes have waited long enough?**  Each try number has one timeout (see
  ``try_timeout``), so the sockets are also kept per try number, in start order: the
  search stops at the first one that is still young.
* **When must the thread wake up next?**  ``next_deadline`` is the earliest moment one
  of those timeouts runs out.  A thread that waits for the *oldest* socket instead would
  wake up again and again for a first try whose retransmission already went out (it
  keeps listening beside it), and burn a whole core doing nothing.
* **Does this port already have an answer, or another try on its way?**  A retransmission
  may run beside the first try (``siblings``); the first answer settles the port and the
  other tries are dropped.

``ScanState`` is what all worker threads of one scan share: the queue of ports never
probed, ports given another round, and the silent ones held until the end.
"""

from __future__ import annotations

import collections
import operator
import socket
import threading
import time
from typing import Any, Iterable, NamedTuple, Optional

from scanner.results import PortResult, PortState, Reason, Target, is_loopback_address
from scanner.services import service_name
from scanner.timing import Pacer, RetryPolicy

# What a probe is for: the first look at a port, or (on loopback) a second look at an open one.
FIRST, CONFIRM = 0, 1

RETRY_TIMEOUT_CAP = 3.0          # the doubling wait of later tries stops growing here
BACKOFF_ROOM = 1.0               # ... and may grow to this (or the first try's wait, if longer)
MAX_WAIT = 0.05                  # the longest sleep of a worker: stop requests and progress stay prompt
RTO_LOOK_AHEAD = 64              # answered first tries next_deadline skips before it settles for an early wake-up


class InFlight(NamedTuple):
    """One probe in flight."""

    port: int
    started: float               # time.monotonic() when connect() was called
    tries: int                   # 1 for the first look at the port, 2 for the first retransmission, ...
    purpose: int                 # FIRST or CONFIRM
    self_connects: int           # how many earlier probes of this port connected to themselves


def try_timeout(tries: int, first_timeout: float, retry_timeout: float) -> float:
    """How long try number ``tries`` waits for its answer.

    The first try waits the scan's timeout.  Later tries start from the learned timeout
    (TCP's RTO) and double each time, like TCP's backoff: a target that drops answers
    because it is overwhelmed (a limit on RSTs a second) gets more time to recover with
    every try, so a port's tries are spread over a second or more instead of a few tenths.
    The doubling stops at the first try's wait or ``BACKOFF_ROOM``, whichever is longer.
    """
    if tries <= 1:
        return first_timeout
    return min(RETRY_TIMEOUT_CAP, max(first_timeout, BACKOFF_ROOM), retry_timeout * 2 ** (tries - 1))


def sleep_for(now: float, deadline: Optional[float], pause: float = 0.0, more_to_send: bool = False,
              cap: float = MAX_WAIT) -> float:
    """How long the loop may sleep in the selector: until ``deadline`` (None: nothing times out),
    or until the pacer lets the next probe out (``pause``), at most ``cap``; 0 when ``fill``
    stopped only because its time slice ran out."""
    if more_to_send:
        return 0.0
    wait = cap if deadline is None else min(cap, max(0.0, deadline - now))
    if pause:
        wait = min(wait, pause)
    return wait


class PortQueue:
    """The ports never probed: a cursor over the scan's own tuple (no copy), plus ports given back.

    Worker threads take from it at once; ``next()`` on a tuple's iterator is one step under
    the GIL, so no port is handed out twice and none is lost.
    """

    def __init__(self, ports: Iterable[int]) -> None:
        self._rest = iter(ports if isinstance(ports, (tuple, list, range)) else tuple(ports))
        self._back: collections.deque = collections.deque()

    def popleft(self) -> int:
        if self._back:
            try:
                return self._back.popleft()
            except IndexError:  # another thread took it meanwhile
                pass
        try:
            return next(self._rest)
        except StopIteration:
            raise IndexError("no port left") from None

    def appendleft(self, port: int) -> None:
        self._back.appendleft(port)

    def __len__(self) -> int:
        return len(self._back) + operator.length_hint(self._rest)

    def __bool__(self) -> bool:
        return bool(self._back) or operator.length_hint(self._rest) > 0


class ScanState:
    """What the worker threads of one scan share (each scan has its own: scans may run in parallel).

    ``pending`` holds ports never probed; ``retry`` holds ports given another round, as
    ``(port, tries, purpose, self_connects)`` (each worker retransmits its own ports);
    ``held`` holds ports that stayed silent for every try allowed so far (they become
    filtered at the end, unless the allowance grows).
    Counters are only touched under ``lock``.
    """

    def __init__(self, target: Target, ports: Iterable[int], timer, stop: threading.Event,
                 policy: Optional[RetryPolicy] = None, pacer: Optional[Pacer] = None, threads: int = 1,
                 pool=None) -> None:
        self.target = target
        self.pending = PortQueue(ports)
        self.retry: collections.deque = collections.deque()
        self.held: list = []
        self.timer = timer
        self.stop = stop
        self.policy = policy or RetryPolicy()
        self.pacer = pacer or Pacer(1000)
        self.threads = max(1, threads)
        self.pool = pool            # a SocketPool shared with other scans of a network, or None
        self.lock = threading.Lock()
        self.self_connects = 0
        self.errors: list = []
        self.last_resort: list = [None]   # an error that came when not even a list could grow
        self.short_of_files = False  # ulimit -n, not the learner's choice, sets how many sockets fly
        self.file_cap: Optional[int] = None   # the most sockets in flight the file limit allowed
        self.workers: list = []     # this round's threads (to tell "waiting for files" from "no file at all")
        # On loopback our own sockets can meet each other (see Worker._finish): confirm opens.
        self.confirm_open = is_loopback_address(target.address)

    def give_back(self, port: int) -> None:
        self.pending.appendleft(port)

    def files_ran_short(self, in_flight: int) -> None:
        """EMFILE with ``in_flight`` sockets open: remember the smallest cap it forced."""
        cap = max(1, in_flight)
        self.short_of_files = True
        if self.file_cap is None or cap < self.file_cap:
            self.file_cap = cap


class FlightBook:
    """The in-flight bookkeeping of one worker thread (mixed into ``scanner.worker.Worker``)."""

    state: ScanState
    selector: Any
    pool_starved: bool

    def _record(self, result: PortResult) -> None:
        raise NotImplementedError  # the worker keeps the results

    def _init_book(self) -> None:
        self.in_flight: dict = {}   # socket -> InFlight; insertion order = start order
        # The same sockets by try number -> {socket: started}, each in start order, so expiry
        # stops at the first young one (each try number has one timeout; see try_timeout).
        self.waiting: dict = {}
        self.siblings: dict = {}    # port -> its sockets in flight (a retransmission may run beside the first try)
        self.newest: dict = {}      # port -> the highest try started or queued, while the port has no answer
        self.retry: collections.deque = collections.deque()  # this thread's retransmissions
        self.queued: dict = {}      # port -> the try waiting in self.retry
        self.rto_watch: collections.deque = collections.deque()  # (started, socket) of first tries

    def _register(self, sock: socket.socket, entry: InFlight) -> None:
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

    def _confirming(self) -> bool:
        return any(entry[3] == CONFIRM for entry in self.in_flight.values())

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

    def next_deadline(self, first_timeout: float, retry_timeout: float) -> Optional[float]:
        """The earliest ``time.monotonic()`` at which a probe in flight times out or is due a retransmission.

        None when nothing waits.  For each try number only its oldest socket matters (they
        share one timeout); a first try already retransmitted is not a deadline until its
        own, longer timeout runs out.  Entries of ``rto_watch`` that were answered meanwhile
        may make this a little early: one extra wake-up, never a missed one.
        """
        deadlines = []
        for tries, waiting in self.waiting.items():
            for started in waiting.values():  # start order: the first is the oldest
                deadlines.append(started + try_timeout(tries, first_timeout, retry_timeout))
                break
        if retry_timeout < first_timeout:
            for looked, (started, sock) in enumerate(self.rto_watch):
                entry = self.in_flight.get(sock)
                if (entry is not None and entry[1] == started) or looked == RTO_LOOK_AHEAD:
                    deadlines.append(started + retry_timeout)  # (after many stale ones: wake early, stay cheap)
                    break
        return min(deadlines) if deadlines else None

    def _expired(self, now: float, first_timeout: float, retry_timeout: float) -> list:
        """The sockets whose try has waited its full timeout, oldest first within a try number."""
        expired = []
        for tries, waiting in self.waiting.items():
            timeout = try_timeout(tries, first_timeout, retry_timeout)
            for sock, started in waiting.items():
                if now - started < timeout:
                    break  # start order: the rest are younger
                expired.append(sock)
        return expired

    def _expire(self) -> None:
        """Retransmit what has been silent too long; give up on what used every try.

        A try is sent again after the learned timeout (``retry_timeout``, TCP's RTO), and
        each further try waits twice as long as the one before (see
        ``scanner.inflight.try_timeout``).  When the learner chose a longer fixed timeout,
        the first try keeps waiting for its answer that long beside the retransmissions, so
        the chosen timeout is honoured and a lost packet still costs only a round trip or two.
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
                    if self.state.short_of_files or self.pool_starved:
                        # Few sockets to go round: the socket is worth more to the next port than to a
                        # late answer that the retransmission will bring too (10x faster at 2% loss).
                        self._forget(sock)
        else:
            watch.clear()
        for sock in self._expired(now, first_timeout, retry_timeout):
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
