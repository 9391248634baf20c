"""Running one scan for a person: progress on screen, Ctrl+C kept safe, banners after.

Both the one-line ``scan`` command and the guided menu scan through here, so they behave
the same: a progress bar while ports are probed, partial results kept when the learner
presses Ctrl+C, and the opt-in banner pass over the open ports afterwards.
"""

from __future__ import annotations

import threading
import time
from typing import IO, Optional

from lessons.ui.exits import is_out_of_resources
from lessons.ui.i18n import Translator
from lessons.ui.output import BANNER_LABELS, ProgressBar
from scanner import banners as banner_pass
from scanner.banners import identify_services
from scanner.discovery import is_shortage
from scanner.network import NetworkReport
from scanner.engine import DEFAULT_WORKERS, scan
from scanner.inputs import TimeoutSetting
from scanner.report import with_banners
from scanner.results import PortState, ScanReport, Target
from scanner.udp import DEFAULT_UDP_WORKERS, scan_udp


class OutOfResources(Exception):
    """The computer ran out of threads, memory or files after the scan: its results are kept."""

    def __init__(self, cause: BaseException, report: Optional[ScanReport] = None) -> None:
        super().__init__(str(cause))
        self.cause, self.report = cause, report


def run_scan(target: Target, ports: tuple, timeout: TimeoutSetting, tr: Translator, *,
             workers: int = DEFAULT_WORKERS, banners: bool = False, udp: bool = False, retries: Optional[int] = None,
             progress_stream: Optional[IO] = None, width=80, consent: Optional[dict] = None) -> ScanReport:
    bar = ProgressBar(progress_stream, tr, width, enabled=progress_stream is not None)
    try:
        if udp:
            # UDP answers are rate-limited by the target, so more in flight only loses replies.
            report = scan_udp(target, ports, timeout, progress=bar.update, workers=min(workers, DEFAULT_UDP_WORKERS),
                              retries=retries)
        else:
            report = scan(target, ports, timeout, workers=workers, progress=bar.update, retries=retries)
    finally:
        bar.finish()
    report.consent = consent
    if banners and not udp and report.complete:
        open_ports = [r.port for r in report.results if r.state is PortState.OPEN]
        if open_ports and progress_stream is not None:
            progress_stream.write(tr.count("scan.reading_banners", len(open_ports)) + "\n")
            progress_stream.flush()
        banner_bar = ProgressBar(progress_stream, tr, width, enabled=progress_stream is not None, **BANNER_LABELS)
        started = time.monotonic()
        try:
            found = identify_services(target.address, target.family, open_ports,
                                 timeout=max(1.0, min(3.0, report.final_timeout * 4)), host_header=target.host,
                                 progress=banner_bar.update)
        except KeyboardInterrupt:  # keep the scan's results; only the banners are lost
            report.interrupted = report.banners_skipped = True
            report.banner_seconds = round(time.monotonic() - started, 3)
            return report
        except Exception as error:
            if not is_out_of_resources(error):
                raise
            report.banners_skipped = True
            report.banner_seconds = round(time.monotonic() - started, 3)
            raise OutOfResources(error, report) from None
        finally:
            banner_bar.finish()
        report = with_banners(report, found)
        report.banner_seconds = round(time.monotonic() - started, 3)
    return report


def scan_udp_host(target, ports, timeout, *, workers, stop, progress, retries=None):
    """The UDP scanner in the engine's shape, for ``scan_network`` (discovery stays TCP)."""
    return scan_udp(target, ports, timeout, stop=stop, progress=progress, workers=min(workers, DEFAULT_UDP_WORKERS),
                    retries=retries)


def read_network_banners(network: NetworkReport, progress=None) -> None:
    """--banners on a network: the same second pass as for one host, host after host.

    The whole pass shares one deadline (as for one host: it grows with the number of open
    ports and is capped), so many hosts with silent open ports cost half a minute, not
    half a minute each.  ``progress(done, total, found)`` covers every host together.
    """
    work = []
    for host in network.up:
        report = host.report
        open_ports = [r.port for r in report.results if r.state is PortState.OPEN] if report else []
        if open_ports and report.complete:
            work.append((host, open_ports, max(1.0, min(3.0, report.final_timeout * 4))))
    total = sum(len(ports) for _host, ports, _timeout in work)
    if not total:
        return
    budget = banner_pass.pass_budget(total, max(timeout for _host, _ports, timeout in work))
    expired, current = threading.Event(), {"stop": None}

    def expire() -> None:
        expired.set()
        if current["stop"] is not None:
            current["stop"].set()

    timer = threading.Timer(budget, expire)
    timer.daemon = True
    done_before, found_before = 0, 0
    try:
        timer.start()
        for host, open_ports, timeout in work:
            stop = current["stop"] = threading.Event()
            if expired.is_set():
                break

            def host_progress(done, _total, found, _base=(done_before, found_before)):
                if progress:
                    progress(_base[0] + done, total, _base[1] + found)

            report, started = host.report, time.monotonic()
            try:
                found = banner_pass.identify_services(host.address, host.target.family, open_ports, timeout=timeout,
                                             host_header=host.address, progress=host_progress, stop=stop)
            except KeyboardInterrupt:  # keep the scan's results; only the banners are lost
                network.interrupted = True
                report.banners_skipped = True
                return
            except (RuntimeError, MemoryError) as error:   # no thread for the banner pass: the scan is kept
                if not is_shortage(error):
                    raise
                network.shortage = network.shortage or error
                return
            host.report = with_banners(report, found)
            host.report.banner_seconds = round(time.monotonic() - started, 3)
            done_before, found_before = done_before + len(open_ports), found_before + len(found)
    finally:
        timer.cancel()
