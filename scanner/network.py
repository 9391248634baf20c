"""Scanning a network: discover the hosts that answer, then scan their ports, several at once.

A lab network is a block of addresses (a VirtualBox host-only network, a Docker bridge,
the class's subnet).  ``scan_network`` does what nmap does with such a block:

1. **host discovery** (``scanner.discovery``): a few connects per address tell which
   addresses answer at all.  ``ping=False`` (``--no-ping``) skips it and treats every
   address as up.
2. **port scan** of every host that is up, with the ordinary engine.  Several hosts are
   scanned at once, but all of them share one budget of open files (every probe is a
   socket, and ``ulimit -n`` caps them per process): ``workers`` sockets in all, never
   multiplied by the hosts.  They are not split evenly either: the hosts draw from one
   pool as they need them, and learn one round-trip time together (``scanner.group``),
   so a silent address does not sit on sockets a busy neighbour could use.

Setting ``stop`` or pressing Ctrl+C keeps everything found so far: the result then says
``complete=False`` and hosts not scanned yet carry no report.
"""

from __future__ import annotations

import datetime
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Sequence

from scanner.discovery import (DISCOVERY_PORTS, Discovery, HostState, HostStatus, assume_up, discover,
                               is_shortage, run_each)
from scanner.engine import DEFAULT_WORKERS, open_file_budget, scan
from scanner.group import ScanGroup
from scanner.inputs import TargetSet, TimeoutSetting
from scanner.limits import as_shortage, threads_that_fit
from scanner.results import PortState, ScanReport, Target

MAX_HOSTS_AT_ONCE = 8            # more hosts at once only splits the same socket budget thinner
MIN_SOCKETS_PER_HOST = 64
HOST_MEMORY = 5 << 20            # bytes one host's scan may need at once (its threads, queues and report)

ProgressCallback = Callable[[int, int, int], None]


@dataclass
class HostReport:
    """One address of the network: up or down, why, and its port scan when it was up."""

    target: Target
    state: HostState
    reason: str                           # see scanner.discovery.HostStatus.reason
    report: Optional[ScanReport] = None   # None when down, or when the scan stopped first
    reason_port: Optional[int] = None     # the discovery port whose answer showed the host up

    @property
    def address(self) -> str:
        return self.target.address

    @property
    def is_up(self) -> bool:
        return self.state is HostState.UP


@dataclass
class NetworkReport:
    """Everything a network scan found, host by host, in the order of the addresses."""

    spec: str                             # what was typed: "127.0.0.0/29"
    hosts: list                           # HostReport for every address
    ports_requested: tuple
    timeout: str
    workers: int
    started: str                          # ISO 8601 time, UTC
    elapsed_seconds: float
    complete: bool                        # False when stopped before every up host was scanned
    interrupted: bool = False             # Ctrl+C stopped it
    ping: bool = True                     # False with --no-ping
    discovery_ports: tuple = DISCOVERY_PORTS
    protocol: str = "tcp"
    consent: Optional[dict] = None
    hosts_at_once: int = 1
    shortage: Optional[BaseException] = None   # out of threads or memory: hosts left without a report

    @property
    def up(self) -> list:
        return [host for host in self.hosts if host.is_up]

    @property
    def down(self) -> list:
        return [host for host in self.hosts if not host.is_up]

    def totals(self) -> dict:
        """{"addresses", "up", "down", "scanned", "open"}: the summary line's numbers."""
        scanned = [host.report for host in self.hosts if host.report is not None]
        return {"addresses": len(self.hosts), "up": len(self.up), "down": len(self.down),
                "scanned": len(scanned),
                "open": sum(len(report.by_state(PortState.OPEN)) for report in scanned)}


def plan_parallelism(up_hosts: int, workers: int, ports: int) -> tuple:
    """(hosts at once, sockets per host): one open-file budget shared by every host in flight."""
    budget = max(1, min(workers, open_file_budget()))
    per_host_wanted = max(1, min(ports, budget))
    at_once = max(1, min(up_hosts, MAX_HOSTS_AT_ONCE, budget // min(per_host_wanted, MIN_SOCKETS_PER_HOST)))
    at_once = threads_that_fit(at_once, HOST_MEMORY)   # under ulimit -v: fewer hosts at once, none left out
    return at_once, max(1, budget // at_once)


def scan_network(targets, ports: Sequence[int], timeout: TimeoutSetting = TimeoutSetting(1.0), *,
                 workers: int = DEFAULT_WORKERS, ping: bool = True,
                 discovery_ports: Sequence[int] = DISCOVERY_PORTS, retries: Optional[int] = None,
                 stop: Optional[threading.Event] = None, progress: Optional[ProgressCallback] = None,
                 discovery_progress: Optional[ProgressCallback] = None,
                 scan_host: Optional[Callable[..., ScanReport]] = None) -> NetworkReport:
    """Discover and scan every address of ``targets`` (a ``TargetSet`` or a list of ``Target``).

    ``progress(ports_done, ports_total, open_found)`` covers the port scans of all up hosts
    together (so ``lessons.ui.output.ProgressBar.update`` fits); ``discovery_progress(hosts_done,
    hosts_total, up_found)`` covers discovery.  ``scan_host`` replaces the engine's ``scan``
    (same signature), e.g. for UDP.
    """
    spec = targets.text if isinstance(targets, TargetSet) else ",".join(t.address for t in targets)
    target_list = tuple(targets.targets if isinstance(targets, TargetSet) else targets)
    ports = tuple(ports)
    stop = stop or threading.Event()
    scan_host = scan_host or scan
    started_wall = datetime.datetime.now(datetime.timezone.utc)
    started = time.monotonic()

    found: Discovery = (discover(target_list, timeout, ports=discovery_ports, retries=retries, stop=stop,
                                 progress=discovery_progress) if ping else assume_up(target_list))
    interrupted = found.interrupted
    up_hosts = [status for status in found.up]
    at_once, per_host = plan_parallelism(len(up_hosts), workers, len(ports))
    group = ScanGroup(per_host * at_once, timeout.seconds,
                      file_limited=open_file_budget() < min(workers, len(ports) * max(1, len(up_hosts))))
    if scan_host is scan:
        per_host = min(group.pool.size, max(1, len(ports)))   # a host may use the whole pool while others idle
    reports: dict = {}
    done_by_host: dict = {}
    open_by_host: dict = {}

    def scan_one(status: HostStatus) -> None:
        if stop.is_set():
            return

        def host_progress(done: int, _total: int, open_found: int) -> None:
            done_by_host[status.address] = done
            open_by_host[status.address] = open_found

        # One worker thread per host: the hosts run side by side already (UDP and test doubles: no shared pool).
        extra: Dict[str, Any] = {"group": group, "threads": 1} if scan_host is scan else {}
        reports[status.address] = scan_host(status.target, ports, timeout, workers=per_host, stop=stop,
                                            progress=host_progress, retries=retries, **extra)

    shortage = found.shortage
    if up_hosts and not stop.is_set() and shortage is None:
        total = len(up_hosts) * len(ports)

        def tick() -> None:
            if progress:
                progress(sum(done_by_host.values()), total, sum(open_by_host.values()))

        try:
            # A host whose scan still finds no thread or memory keeps no report, and the
            # shortage is reported with the rest.
            order = {status.address: index for index, status in enumerate(up_hosts)}
            shortage = run_each(scan_one, up_hosts, at_once, stop, tick, order=lambda status: order[status.address])
            shortage = as_shortage(shortage) if shortage is not None else None
            tick()
        except KeyboardInterrupt:  # keep every host finished so far
            interrupted = True
            stop.set()
        except Exception as error:
            if not is_shortage(error):
                raise
            shortage = as_shortage(error)   # not even one thread for the hosts: discovery's answers are kept

    hosts = [HostReport(status.target, status.state, status.reason, reports.get(status.address), status.port)
             for status in found.hosts]
    complete = found.complete and all(host.report is not None and host.report.complete
                                      for host in hosts if host.is_up)
    return NetworkReport(
        spec=spec, hosts=hosts, ports_requested=ports, timeout=str(timeout), workers=workers,
        started=started_wall.isoformat(timespec="seconds"), elapsed_seconds=round(time.monotonic() - started, 3),
        complete=complete, interrupted=interrupted, ping=ping, discovery_ports=tuple(discovery_ports),
        hosts_at_once=at_once, shortage=shortage,
    )


def host_reports_by_address(network: NetworkReport) -> dict:
    """{address: ScanReport or None (down, or not scanned)}: the shape the practice lab's grader reads."""
    return {host.address: host.report if host.is_up else None for host in network.hosts}
