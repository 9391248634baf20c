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
see ``scanner.timing.RetryPolicy``; in a network scan, an address that has answered nothing
at all gets one retry until it answers) before it is called *filtered*.  Like TCP, the engine
retransmits after the *learned* timeout (RTO) and doubles the wait for each further try
(up to a second, or the first try's wait if longer);
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
EMFILE error instead of waiting forever.)  When the file limit held the scan to fewer
than ``SLOW_FILE_CAP`` probes in flight, the report says how many
(``file_limited_sockets``), so the front end can say why the scan was slow.

The engine is split by job: ``scanner.worker`` is the event loop of one thread (and its
hot path for ports that refuse at once), ``scanner.inflight`` the bookkeeping of probes in
flight and their deadlines, ``scanner.assembly`` turns the answers into a ``ScanReport``
(closed ports kept as numbers, not objects), ``scanner.group`` is what the hosts of a
network scan share, and ``scanner.limits`` knows the computer's own limits (files,
threads, memory).  This module starts the threads, runs the rounds and hands back the report.

Ctrl+C (``KeyboardInterrupt``) or a ``stop`` event ends a scan at once; every port with a
final answer so far (open ones included) is returned, with ``complete=False``.
"""

from __future__ import annotations

import datetime
import itertools
import sys
import threading
import time
from typing import Callable, Iterable, Optional

from scanner.assembly import ScanFacts, build_report
from scanner.group import ScanGroup
from scanner.inflight import CONFIRM, FIRST, InFlight, ScanState
from scanner.inputs import TimeoutSetting
from scanner.limits import (
    DEFAULT_THREADS,
    WINDOWS_SELECT_LIMIT,
    as_shortage,
    is_shortage,
    open_file_budget,
    threads_that_fit,
)
from scanner.probe import MAX_SELF_CONNECT_RETRIES
from scanner.results import ScanReport, Target
from scanner.timing import FixedTimeout, Pacer, RetryPolicy, RttEstimator
from scanner.worker import Worker

DEFAULT_WORKERS = 1000           # sockets in flight across all threads
WORKER_MEMORY = 2 << 20          # bytes one worker thread may need (stack, selector, sockets' bookkeeping)
QUIET_RETRIES = 1                # in a network scan, for an address that has answered nothing yet
SLOW_FILE_CAP = 64               # fewer probes in flight than this (forced by ulimit -n) makes a scan slow

# Older names, kept for the modules and tests that import them from here.
_ScanState, _Worker = ScanState, Worker
__all__ = ["CONFIRM", "DEFAULT_THREADS", "DEFAULT_WORKERS", "FIRST", "InFlight", "MAX_SELF_CONNECT_RETRIES",
           "ProgressCallback", "ScanGroup", "WINDOWS_SELECT_LIMIT", "open_file_budget", "scan"]

ProgressCallback = Callable[[int, int, int], None]


def scan(target: Target, ports: Iterable[int], timeout: TimeoutSetting = TimeoutSetting(1.0),
         workers: int = DEFAULT_WORKERS, threads: int = DEFAULT_THREADS,
         progress: Optional[ProgressCallback] = None, stop: Optional[threading.Event] = None,
         progress_interval: float = 0.1, *, retries: Optional[int] = None,
         group: Optional[ScanGroup] = None) -> ScanReport:
    """Scan ``ports`` of ``target`` and return a ``ScanReport`` (results sorted by port).

    ``progress(done, total, open_found)`` is called from the calling thread about every
    ``progress_interval`` seconds and once at the end.  Setting ``stop`` — or pressing
    Ctrl+C while this runs in the main thread — ends the scan early; the report then has
    ``complete=False`` and holds every port with a final answer so far.  ``retries`` is
    how many times a silent port is asked again (0-10); None adapts it to the network.
    ``group`` (a ``ScanGroup``) shares sockets and the learned round trip with the other
    hosts of a network scan; ``workers`` then caps this host's share.
    Each call keeps its own state, so scans may run in several threads at once.
    Out of threads or memory in the middle of a scan raises ``MemoryError`` or
    ``RuntimeError("can't start new thread")`` (see ``scanner.limits.is_shortage``).
    """
    ports = tuple(ports)
    # A port asked for twice is scanned once (parse_ports already merges them: no copy then).
    ascending = all(a < b for a, b in zip(ports, itertools.islice(ports, 1, None)))   # (no copy of the tuple)
    unique_ports = ports if ascending else tuple(dict.fromkeys(ports))
    stop = stop or threading.Event()
    if group is not None:
        timer = group.timer_for(timeout)
    else:
        timer = RttEstimator(initial=timeout.seconds) if timeout.auto else FixedTimeout(timeout.seconds)
    # In a network scan the group's pool was sized from the file budget once, for every host.
    files = group.pool.size if group is not None else open_file_budget()
    budget = min(workers, files, max(1, len(unique_ports)))
    thread_count = max(1, min(threads, budget, (len(unique_ports) + 63) // 64))
    thread_count = threads_that_fit(thread_count, WORKER_MEMORY)   # under ulimit -v: fewer threads, same ports
    per_thread = max(1, budget // thread_count)
    if sys.platform == "win32":
        per_thread = min(per_thread, WINDOWS_SELECT_LIMIT)
    policy = RetryPolicy(retries, quiet_retries=QUIET_RETRIES if group is not None else None)
    pacer = Pacer(per_thread * thread_count)
    state = ScanState(target, unique_ports, timer, stop, policy, pacer, thread_count,
                      pool=group.pool if group is not None else None)
    state.short_of_files = (group.file_limited if group is not None else files < min(workers, len(unique_ports)))
    if state.short_of_files:
        state.file_cap = budget

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
            if state.last_resort[0] is not None:
                state.errors.append(state.last_resort[0])
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
            if state.last_resort[0] is not None and not state.errors:
                state.errors.append(state.last_resort[0])
            if state.errors:
                raise as_shortage(state.errors[0])
            # Few files slow a scan only where silence holds sockets (filtered ports, lost packets).
            silence = bool(held_final or state.held) or any(worker.retried for worker in finished)
            file_cap = state.file_cap if silence and state.file_cap is not None and state.file_cap < SLOW_FILE_CAP else None
            return build_report(ScanFacts(
                target=target, ports=ports, unique_count=len(unique_ports), timeout=timeout, timer=timer,
                workers=workers, started_wall=started_wall, started=started, finished=finished,
                silent=held_final + state.held, self_connects=state.self_connects, rate_limit=pacer.rate_limit,
                retries=str(policy), interrupted=interrupted, file_cap=file_cap, progress=progress))
        except KeyboardInterrupt:
            interrupted = True
            stop.set()


def _start_workers(state: ScanState, per_thread: int, count: int) -> list:
    """Start ``count`` worker threads; with fewer threads to be had (a low RLIMIT_NPROC or
    memory limit), scan with those that started: the ports are shared, so none is lost.
    Only when not one thread starts is "can't start new thread" the caller's to report."""
    started: list = []
    for _ in range(count):
        worker = None
        try:
            worker = Worker(state, per_thread)  # a selector and locks: memory too
            worker.start()
        except (MemoryError, RuntimeError) as error:
            if worker is not None:
                worker.selector.close()
            if started:
                break       # go on with the threads that started
            raise as_shortage(error) if is_shortage(error) else error
        started.append(worker)
    return started
