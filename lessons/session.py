"""Running one scan for a person: progress on screen, Ctrl+C kept safe, banners after.

Both the one-line ``scan`` command and the guided menu scan through here, so they behave
the same: a progress bar while ports are probed, partial results kept when the learner
presses Ctrl+C, and the opt-in banner pass over the open ports afterwards.
"""

from __future__ import annotations

import datetime
import errno
import time
from typing import IO, Optional

from lessons.i18n import Translator
from lessons.output import BANNER_LABELS, ProgressBar
from scanner.banners import identify_services
from scanner.engine import DEFAULT_WORKERS, scan
from scanner.inputs import TimeoutSetting
from scanner.report import with_banners
from scanner.results import PortState, ScanReport, Target


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP (raised by the command line's handler): ends a scan the way Ctrl+C does,
    so partial results are kept, but ends the program too, where Ctrl+C may only cancel a step."""


class OutOfResources(Exception):
    """The computer ran out of threads, memory or files after the scan: its results are kept."""

    def __init__(self, cause: BaseException, report: Optional[ScanReport] = None) -> None:
        super().__init__(str(cause))
        self.cause, self.report = cause, report


def is_out_of_resources(error: BaseException) -> bool:
    if isinstance(error, MemoryError):
        return True
    if isinstance(error, RuntimeError):
        return "can't start new thread" in str(error)
    return isinstance(error, OSError) and error.errno in (errno.EMFILE, errno.ENFILE, errno.ENOMEM)


def consent_record(tr: Translator, method: str) -> dict:
    return {"statement": tr.t("consent.statement"), "method": method,
            "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}


def run_scan(target: Target, ports: tuple, timeout: TimeoutSetting, tr: Translator, *,
             workers: int = DEFAULT_WORKERS, banners: bool = False, udp: bool = False, retries: Optional[int] = None,
             progress_stream: Optional[IO] = None, width=80, consent: Optional[dict] = None) -> ScanReport:
    bar = ProgressBar(progress_stream, tr, width, enabled=progress_stream is not None)
    try:
        if udp:
            from scanner.udp import DEFAULT_UDP_WORKERS, scan_udp

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
