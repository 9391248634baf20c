"""One scan for a person: progress bars while it runs, then the outcome.

The command line and the guided walk both build a ``ScanRequest`` and scan through
``run_scan`` here, so they behave the same: a progress bar while ports are probed, a
line and a second bar while banners are read, partial results kept when the learner
presses Ctrl+C.  The rules of the scan itself (host or network, TCP or UDP, banners,
running out of resources) live in the library: ``scanner/request.py``.
"""

from __future__ import annotations

from typing import IO, Optional

from lessons.ui.i18n import Translator
from lessons.ui.output import BANNER_LABELS, ProgressBar
from scanner.request import Progress, ScanOutcome, ScanRequest, run


class ScreenProgress(Progress):
    """The library's progress, drawn as bars on ``stream`` (a terminal); nothing when ``stream`` is None."""

    def __init__(self, stream: Optional[IO], tr: Translator, width=80) -> None:
        self.stream, self.tr, self.width = stream, tr, width
        self.bar = ProgressBar(stream, tr, width, enabled=stream is not None)
        self.banner_bar: Optional[ProgressBar] = None

    def ports(self, done: int, total: int, found: int) -> None:
        self.bar.update(done, total, found)

    def ports_done(self) -> None:
        self.bar.finish()

    def banners_begin(self, open_ports: int) -> None:
        if self.stream is not None:
            self.stream.write(self.tr.count("scan.reading_banners", open_ports) + "\n")
            self.stream.flush()
        self.banner_bar = ProgressBar(self.stream, self.tr, self.width, enabled=self.stream is not None,
                                      **BANNER_LABELS)

    def banners(self, done: int, total: int, found: int) -> None:
        if self.banner_bar is not None:
            self.banner_bar.update(done, total, found)

    def banners_done(self) -> None:
        if self.banner_bar is not None:
            self.banner_bar.finish()


def run_scan(request: ScanRequest, tr: Translator, *, progress_stream: Optional[IO] = None,
             width=80) -> ScanOutcome:
    """``scanner.request.run`` with progress bars on ``progress_stream`` (None: no bars)."""
    return run(request, ScreenProgress(progress_stream, tr, width))
