"""One scan, asked for once: a ``ScanRequest`` in, a ``ScanOutcome`` out, by one route.

Whoever wants a scan (the command line, the guided walk, the practice lab's screen)
fills in one ``ScanRequest`` — the targets, the ports, how long to wait, how often to
retry, how many probes at once, TCP or UDP, whether to read banners, and the consent
the report will carry — and hands it to ``run(request, progress)``.  ``run`` decides the
rest the same way every time:

* one host goes straight to the engine (``scanner.engine.scan``, or ``scanner.udp.scan_udp``);
  a network (``request.is_network``) first runs host discovery (``scanner.network``);
* UDP answers are rate-limited by the target, so UDP never has more than
  ``DEFAULT_UDP_WORKERS`` probes in flight, host or network;
* banners are read in a second pass over the open ports of complete scans, with one
  deadline for the whole pass (``banner_timeout`` per port, ``pass_budget`` in all);
* Ctrl+C keeps what was found: the outcome says it was interrupted;
* running out of threads, memory or files (``scanner.errors.is_out_of_resources``) after
  the port scan is one outcome, *out of resources*, that still carries the partial results.

``progress`` is told how far the scan and the banner pass are (see ``Progress``); the
library prints nothing itself.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import List, Optional, Tuple, Union

from scanner import banners as banner_pass
from scanner.engine import DEFAULT_WORKERS, scan
from scanner.errors import is_out_of_resources
from scanner.inputs import TargetSet, TimeoutSetting
from scanner.network import NetworkReport, scan_network
from scanner.report import with_banners
from scanner.results import PortState, ScanReport, Target
from scanner.udp import DEFAULT_UDP_WORKERS, scan_udp

BANNER_TIMEOUT_FACTOR = 4     # a service greets within a few round trips of the scan's own timeout
BANNER_TIMEOUT_RANGE = (1.0, 3.0)


@dataclass(frozen=True)
class ScanRequest:
    """Everything one scan needs to know, typed; built by the command line and by the walk alike."""

    targets: TargetSet
    ports: tuple
    timeout: TimeoutSetting = TimeoutSetting(1.0)
    retries: Optional[int] = None           # None: the engine decides
    workers: int = DEFAULT_WORKERS
    protocol: str = "tcp"                   # "tcp" or "udp"
    banners: bool = False                   # read what open TCP ports say first (a second pass)
    consent: Optional[dict] = None          # stored in the report: who agreed to what, and when
    ping: bool = True                       # a network: discover hosts first (``--no-ping`` says no)

    @property
    def is_network(self) -> bool:
        """More than one address: discovery first, then a report per host."""
        return self.targets.is_network

    @property
    def target(self) -> Target:
        """The one host (for a network: its first address)."""
        return self.targets.targets[0]

    @property
    def udp(self) -> bool:
        return self.protocol == "udp"


@dataclass
class ScanOutcome:
    """What ``run`` found: a ``ScanReport`` (one host) or a ``NetworkReport`` (a network).

    ``out_of_resources`` is the error that stopped the work early for lack of threads,
    memory or files; the report still holds everything found before it."""

    report: Union[ScanReport, NetworkReport]
    out_of_resources: Optional[BaseException] = None

    @property
    def interrupted(self) -> bool:
        return bool(self.report.interrupted)


class Progress:
    """How far a scan is; ``run`` calls these from the calling thread.  The defaults do nothing."""

    def ports(self, done: int, total: int, found: int) -> None:
        """Port probes: ``done`` of ``total`` answered or timed out, ``found`` of them open."""

    def ports_done(self) -> None:
        """The port scan is over (also after Ctrl+C or an error)."""

    def banners_begin(self, open_ports: int) -> None:
        """The banner pass starts over ``open_ports`` open ports."""

    def banners(self, done: int, total: int, found: int) -> None:
        """Banner pass: ``done`` of ``total`` ports asked, ``found`` of them said something."""

    def banners_done(self) -> None:
        """The banner pass is over."""


def banner_timeout(report: ScanReport) -> float:
    """Seconds to wait for one port's banner: a few of the scan's round trips, within 1-3 s."""
    low, high = BANNER_TIMEOUT_RANGE
    return max(low, min(high, report.final_timeout * BANNER_TIMEOUT_FACTOR))


def scan_udp_host(target: Target, ports, timeout: TimeoutSetting, *, workers: int = DEFAULT_UDP_WORKERS,
                  stop=None, progress=None, retries: Optional[int] = None) -> ScanReport:
    """The UDP scanner in the engine's shape (for ``scan_network`` too), never more than
    ``DEFAULT_UDP_WORKERS`` in flight: a target rate-limits its answers, so more only loses replies."""
    return scan_udp(target, ports, timeout, stop=stop, progress=progress, workers=min(workers, DEFAULT_UDP_WORKERS),
                    retries=retries)


def run(request: ScanRequest, progress: Optional[Progress] = None) -> ScanOutcome:
    """Scan what ``request`` asks for; see the module's docstring for the rules."""
    progress = progress or Progress()
    if request.is_network:
        return _run_network(request, progress)
    return _run_host(request, progress)


def _run_host(request: ScanRequest, progress: Progress) -> ScanOutcome:
    target = request.target
    try:
        if request.udp:
            report = scan_udp_host(target, request.ports, request.timeout, workers=request.workers,
                                   progress=progress.ports, retries=request.retries)
        else:
            report = scan(target, request.ports, request.timeout, workers=request.workers, progress=progress.ports,
                          retries=request.retries)
    finally:
        progress.ports_done()
    report.consent = request.consent
    if not (request.banners and not request.udp and report.complete):
        return ScanOutcome(report)
    (report,), interrupted, shortage = read_banners([(target, report)], progress)
    report.interrupted = report.interrupted or interrupted
    return ScanOutcome(report, shortage)


def _run_network(request: ScanRequest, progress: Progress) -> ScanOutcome:
    try:
        network = scan_network(request.targets, request.ports, request.timeout, workers=request.workers,
                               ping=request.ping, progress=progress.ports, retries=request.retries,
                               scan_host=scan_udp_host if request.udp else None)
    finally:
        progress.ports_done()
    network.consent = request.consent
    if request.udp:
        network.protocol = "udp"
    elif request.banners and not network.interrupted:
        read_network_banners(network, progress)
    return ScanOutcome(network, network.shortage)


def read_network_banners(network: NetworkReport, progress: Optional[Progress] = None) -> None:
    """The banner pass over every complete host of ``network``, in place (see ``read_banners``)."""
    up = [host for host in network.up if host.report is not None and host.report.complete]
    reports, interrupted, shortage = read_banners([(host.target, host.report) for host in up], progress or Progress())
    for host, report in zip(up, reports):
        host.report = report
    network.interrupted = network.interrupted or interrupted
    network.shortage = network.shortage or shortage


def read_banners(hosts: List[Tuple[Target, ScanReport]], progress: Progress) -> tuple:
    """The banner pass over the open ports of ``hosts``, host after host: (reports, interrupted, shortage).

    The whole pass shares one deadline (it grows with the number of open ports and is
    capped), so many hosts with silent open ports cost half a minute, not half a minute
    each.  Ctrl+C or a shortage ends the pass; the scans' results are always kept."""
    reports = [report for _target, report in hosts]
    work = [(index, target, [r.port for r in report.results if r.state is PortState.OPEN])
            for index, (target, report) in enumerate(hosts)]
    work = [(index, target, ports) for index, target, ports in work if ports]
    total = sum(len(ports) for _index, _target, ports in work)
    if not total:
        return reports, False, None
    progress.banners_begin(total)
    budget = banner_pass.pass_budget(total, max(banner_timeout(reports[index]) for index, _t, _p in work))
    stop = threading.Event()
    timer = threading.Timer(budget, stop.set)
    timer.daemon = True
    done_before, found_before = 0, 0
    try:
        timer.start()
        for index, target, open_ports in work:
            if stop.is_set():
                break
            report, started = reports[index], time.monotonic()

            def host_progress(done, _total, found, _base=(done_before, found_before)):
                progress.banners(_base[0] + done, total, _base[1] + found)

            try:
                found = banner_pass.identify_services(target.address, target.family, open_ports,
                                                 timeout=banner_timeout(report), host_header=target.host,
                                                 progress=host_progress, stop=stop)
            except KeyboardInterrupt:   # keep the scan's results; only the banners are lost
                report.banners_skipped = True
                report.banner_seconds = round(time.monotonic() - started, 3)
                return reports, True, None
            except Exception as error:   # no thread for the banner pass: the scan is kept
                if not is_out_of_resources(error):
                    raise
                report.banners_skipped = True
                report.banner_seconds = round(time.monotonic() - started, 3)
                return reports, False, error
            reports[index] = with_banners(report, found)
            reports[index].banner_seconds = round(time.monotonic() - started, 3)
            done_before, found_before = done_before + len(open_ports), found_before + len(found)
    finally:
        timer.cancel()
        progress.banners_done()
    return reports, False, None
