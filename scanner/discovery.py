"""Host discovery: which addresses of a network answer at all?

Scanning a thousand ports on an address where no machine lives costs a full timeout
per port, so a network scan first asks every address a cheap question, as nmap does.
Without root nmap cannot send ICMP echo ("ping") or hand-made SYNs, so it *connects*
to a few ports that are often open or at least answered: 80, 443, 22 and 445.

Any answer proves a machine is there, whatever it says:

    SYN-ACK (open port)       -> up, reason syn-ack
    RST (closed port)         -> up, reason conn-refused: a closed port still answers

and the lack of one is evidence too:

    ICMP host unreachable     -> down, reason host-unreach (no machine answered ARP)
    ICMP network unreachable  -> down, reason net-unreach (no route to that network)
    silence after the retries -> down, reason no-response

"Down" only means "did not answer these probes": a firewall that drops everything makes
a running machine look down.  ``--no-ping`` (nmap's ``-Pn``) skips discovery and scans
every address.
"""

from __future__ import annotations

import enum
import queue
import threading
import time
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

from scanner.engine import open_file_budget, scan
from scanner.inputs import TimeoutSetting
from scanner.limits import SafeThread, as_shortage, is_shortage, threads_that_fit
from scanner.results import Reason, Target

DISCOVERY_PORTS = (80, 443, 22, 445)
STOP_JOIN_LIMIT = 0.8           # seconds a stop waits for the host threads (SIGTERM must end us within 1 s)
PROBE_MEMORY = 3 << 20           # bytes one host's discovery may need at once (two threads and a small scan)
MAX_HOSTS_AT_ONCE = 64           # each host costs one thread and len(DISCOVERY_PORTS) sockets
UP_REASONS = (Reason.SYN_ACK, Reason.CONN_REFUSED, Reason.SELF_CONNECT)   # the host itself answered
DOWN_REASONS = (Reason.HOST_UNREACH, Reason.NET_UNREACH)                  # most telling first


class HostState(str, enum.Enum):
    UP = "up"
    DOWN = "down"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class HostStatus:
    """What discovery found about one address, and the evidence."""

    target: Target
    state: HostState
    reason: str                      # "syn-ack", "conn-refused", "host-unreach", "net-unreach", "no-response",
                                     # "user-set" (--no-ping), "not-probed" (stopped first)
    port: Optional[int] = None       # the port whose answer decided it, when one did
    rtt: Optional[float] = None

    @property
    def address(self) -> str:
        return self.target.address


@dataclass
class Discovery:
    hosts: list                      # HostStatus for every target, in the order given
    complete: bool                   # False when stopped before every host was probed
    interrupted: bool = False        # Ctrl+C stopped it
    shortage: Optional[BaseException] = None   # out of threads or memory: the hosts left are not-probed

    @property
    def up(self) -> list:
        return [host for host in self.hosts if host.state is HostState.UP]


def run_each(job: Callable, items: Sequence, at_once: int, stop: threading.Event,
             tick: Optional[Callable[[], None]], order: Callable) -> Optional[BaseException]:
    """``run_in_threads``, then the jobs that found no thread or memory once more, one at a
    time with the other threads gone (in ``order``).  Returns the shortage that remained, or
    None; any other error is raised here, never lost."""
    failures = run_in_threads(job, items, at_once, stop, tick)
    for _item, error in failures:
        if not is_shortage(error):
            raise error
    for item, _error in sorted(failures, key=lambda failure: order(failure[0])):
        if stop.is_set():
            break
        try:
            job(item)
        except Exception as error:
            if not is_shortage(error):
                raise
            return error
    return None


def run_in_threads(job: Callable, items: Sequence, at_once: int, stop: threading.Event,
                   tick: Optional[Callable[[], None]] = None, tick_seconds: float = 0.1) -> list:
    """``job(item)`` for every item on up to ``at_once`` threads: as many as the computer gives.

    Returns ``[(item, error)]`` for the jobs that raised (nothing is lost silently).  When
    fewer threads start than asked (``ulimit -v``, RLIMIT_NPROC) the ones that did start do
    all the work; only when not even one starts is the shortage raised.  Ctrl+C sets
    ``stop``, waits for the threads (each job watches ``stop``) and is raised again.
    """
    work: "queue.SimpleQueue" = queue.SimpleQueue()
    for item in items:
        work.put(item)
    failures: list = []
    last_resort: list = [None]

    def worker() -> None:
        while not stop.is_set():
            try:
                item = work.get_nowait()
            except queue.Empty:
                return
            try:
                job(item)
            except BaseException as error:   # kept for the caller: raised or reported there
                try:
                    failures.append((item, error))
                except MemoryError:   # not even room for that: the slot made in advance keeps it
                    last_resort[0] = (item, error)
                    return
                if not isinstance(error, Exception):   # e.g. KeyboardInterrupt: this thread ends,
                    return                             # the others finish their host first

    threads = []
    for _ in range(max(1, min(at_once, len(items)))):
        thread = SafeThread(target=worker, name="scan-host", daemon=True)
        try:
            thread.start()
        except (RuntimeError, MemoryError) as error:
            if not threads:   # not even one: nothing could ever do the work
                raise as_shortage(error) from None
            break             # go on with the threads that started
        threads.append(thread)
    try:
        while True:
            alive = [thread for thread in threads if thread.is_alive()]
            if not alive:
                break
            alive[0].join(tick_seconds)
            if tick:
                tick()
    except KeyboardInterrupt:
        stop.set()
        give_up = time.monotonic() + STOP_JOIN_LIMIT   # each job ends within a moment of stop; never wait forever
        for thread in threads:
            thread.join(max(0.0, give_up - time.monotonic()))
        raise
    if last_resort[0] is not None:
        failures.append(last_resort[0])
    return failures


def judge(target: Target, results: Sequence) -> HostStatus:
    """Up or down from one host's discovery probes (a list of ``PortResult``)."""
    answered = [r for r in results if r.reason in UP_REASONS]
    if answered:
        best = min(answered, key=lambda r: (r.reason is not Reason.SYN_ACK, r.rtt or 0.0))
        return HostStatus(target, HostState.UP, best.reason.value, best.port, best.rtt)
    for reason in DOWN_REASONS:
        if any(r.reason is reason for r in results):
            return HostStatus(target, HostState.DOWN, reason.value)
    return HostStatus(target, HostState.DOWN, Reason.NO_RESPONSE.value)


def probe_host(target: Target, timeout: TimeoutSetting, ports: Sequence[int] = DISCOVERY_PORTS,
               retries: Optional[int] = None, stop: Optional[threading.Event] = None) -> HostStatus:
    """Discover one host with a few TCP connects through the engine."""
    report = scan(target, ports, timeout, workers=len(ports), threads=1, stop=stop, retries=retries)
    if not report.complete and not any(r.reason in UP_REASONS for r in report.results):
        return HostStatus(target, HostState.DOWN, "not-probed")
    return judge(target, report.results)


def discover(targets: Sequence[Target], timeout: TimeoutSetting = TimeoutSetting(1.0), *,
             ports: Sequence[int] = DISCOVERY_PORTS, retries: Optional[int] = None,
             stop: Optional[threading.Event] = None,
             progress: Optional[Callable[[int, int, int], None]] = None) -> "Discovery":
    """A ``Discovery``: ``HostStatus`` for every target, in order; several hosts are probed at once.

    ``progress(done, total, up_found)`` is called as hosts finish.  Setting ``stop`` (or
    Ctrl+C in the calling thread) ends discovery early: hosts not probed yet come back as
    down with reason ``not-probed``.
    """
    stop = stop or threading.Event()
    at_once = max(1, min(len(targets), MAX_HOSTS_AT_ONCE, open_file_budget() // max(1, len(ports))))
    at_once = threads_that_fit(at_once, PROBE_MEMORY)   # under ulimit -v: fewer at once, every host probed
    statuses: dict = {}
    interrupted, shortage = False, None

    def one(item) -> None:
        index, target = item
        if stop.is_set():
            return
        statuses[index] = probe_host(target, timeout, ports, retries, stop)

    def tick() -> None:
        if progress:
            progress(len(statuses), len(targets), sum(s.state is HostState.UP for s in statuses.values()))

    try:
        # A host whose probe still finds no thread or memory stays "not-probed" and is reported.
        shortage = run_each(one, list(enumerate(targets)), at_once, stop, tick, order=lambda item: item[0])
        tick()
    except KeyboardInterrupt:  # keep what was found: the caller reports it as partial
        interrupted = True
        stop.set()
    except Exception as error:
        if not is_shortage(error) or not statuses:
            raise
        shortage = error   # not even one thread: keep what was found, say why the rest is missing
    hosts = [statuses.get(index) or HostStatus(target, HostState.DOWN, "not-probed")
             for index, target in enumerate(targets)]
    return Discovery(hosts, complete=all(h.reason != "not-probed" for h in hosts), interrupted=interrupted,
                     shortage=shortage)


def assume_up(targets: Sequence[Target]) -> Discovery:
    """``--no-ping``: every address is treated as up and scanned (nmap's -Pn)."""
    return Discovery([HostStatus(target, HostState.UP, "user-set") for target in targets], complete=True)
