"""Putting a scan's answers together into one ``ScanReport``, without one object per closed port.

A full range on one host is 65535 answers, and almost all of them say the same thing:
*closed, refused*.  Keeping a ``PortResult`` object for each costs about 20 MB; keeping
one bit per port number costs 8 KB.  So the report's ``results`` is a
``CompactResults``: a read-only sequence that holds the closed ports as bits of a bitmap and
the few other answers (open, filtered, anything found on a retry) as objects, and makes a
``PortResult`` for a closed port only when someone looks at it.  To its readers it behaves
like the sorted list it replaces: ``len``, iteration in port order, indexing, slicing,
``==`` with a list.

``ScanFacts`` carries what the engine knows at the end of a scan, by name, to
``build_report``.
"""

from __future__ import annotations

import collections
import datetime
import itertools
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional, Sequence

from scanner.results import PortResult, PortState, Reason, ScanReport, Target
from scanner.services import service_name

_CLOSED_FIELDS = dict(vars(PortResult(0, PortState.CLOSED, Reason.CONN_REFUSED)))


def _closed_result(port: int) -> PortResult:
    """``PortResult(port, CLOSED, CONN_REFUSED)``, made 3x faster than through the frozen ``__init__``."""
    result = object.__new__(PortResult)
    fields = result.__dict__
    fields.update(_CLOSED_FIELDS)
    fields["port"] = port
    return result


def closed_bitmap(arrays) -> tuple:
    """(bitmap, count): one bit per port number (8 KB for all 65536), set where the port was closed."""
    bitmap = bytearray(8192)
    count = 0
    for ports in arrays:
        for port in ports:
            bitmap[port >> 3] |= 1 << (port & 7)
        count += len(ports)
    return bitmap, count


def _ports_in(bitmap: bytearray) -> Iterator[int]:
    for index, byte in enumerate(bitmap):
        if byte:
            base = index << 3
            for bit in range(8):
                if byte >> bit & 1:
                    yield base + bit


class CompactResults(Sequence):
    """Every final answer of a scan in port order; closed ports are stored as bits of one 8 KB bitmap."""

    __slots__ = ("_closed", "_closed_count", "_others")

    def __init__(self, closed_arrays, others: list) -> None:
        self._closed, self._closed_count = closed_bitmap(closed_arrays)
        self._others = sorted(others, key=lambda result: result.port)

    def count_by_state(self) -> dict:
        """{PortState: how many}, without making an object per closed port (``ScanReport.counts`` uses it)."""
        tally = collections.Counter(result.state for result in self._others)
        if self._closed_count:
            tally[PortState.CLOSED] += self._closed_count
        return tally

    def of_state(self, state: PortState) -> list:
        """The results in ``state``, in port order (``ScanReport.by_state`` uses it)."""
        if state is PortState.CLOSED:
            return [result for result in self if result.state is state]
        return [result for result in self._others if result.state is state]

    def __len__(self) -> int:
        return self._closed_count + len(self._others)

    def __iter__(self) -> Iterator[PortResult]:
        others = iter(self._others)
        waiting = next(others, None)
        for port in _ports_in(self._closed):
            while waiting is not None and waiting.port < port:
                yield waiting
                waiting = next(others, None)
            yield _closed_result(port)
        if waiting is not None:
            yield waiting
            yield from others

    def __getitem__(self, index):
        if isinstance(index, slice):
            return list(self)[index]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("result index out of range")
        return next(itertools.islice(iter(self), index, None))

    def __eq__(self, other) -> bool:
        if isinstance(other, (list, tuple, CompactResults)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    def __repr__(self) -> str:
        return f"CompactResults({self._closed_count} closed, {self._others!r})"

    def __deepcopy__(self, memo) -> list:
        return list(self)  # a deep copy is a plain list (dataclasses.replace keeps the compact one)


@dataclass
class ScanFacts:
    """Everything ``build_report`` needs, by name."""

    target: Target
    ports: tuple                    # as asked for (a port asked twice appears twice)
    unique_count: int               # how many different ports
    timeout: Any                    # the TimeoutSetting the learner chose
    timer: Any                      # RttEstimator or FixedTimeout, for the final timeout
    workers: int
    started_wall: datetime.datetime
    started: float                  # time.monotonic() at the start
    finished: list                  # every worker thread that ran
    silent: list                    # (port, tries) of ports silent at every try: filtered
    self_connects: int = 0
    rate_limit: Optional[int] = None
    retries: str = "auto"
    interrupted: bool = False
    file_cap: Optional[int] = None  # the in-flight cap a low open-file limit forced, if it slowed the scan
    progress: Optional[Callable[[int, int, int], None]] = None


def build_report(facts: ScanFacts) -> ScanReport:
    """Every final answer of a scan, as a ``ScanReport``; ``silent`` ports (silent at every try) are filtered."""
    others: list = []
    for worker in facts.finished:
        others.extend(worker.answers)
    others.extend(PortResult(port, PortState.FILTERED, Reason.NO_RESPONSE, service=service_name(port), tries=tries)
                  for port, tries in dict(facts.silent).items())
    results = CompactResults([worker.closed_ports for worker in facts.finished], others)
    open_found = sum(worker.open_found for worker in facts.finished)
    if facts.progress:
        facts.progress(len(results), facts.unique_count, open_found)
    return ScanReport(
        target=facts.target, ports_requested=facts.ports, results=results, timeout=str(facts.timeout),
        final_timeout=round(facts.timer.timeout, 4), workers=facts.workers,
        started=facts.started_wall.isoformat(timespec="seconds"),
        elapsed_seconds=round(time.monotonic() - facts.started, 3),
        complete=len(results) == facts.unique_count, interrupted=facts.interrupted,
        retried_self_connects=facts.self_connects,
        retried=sum(worker.retried for worker in facts.finished),
        rate_limit_per_second=facts.rate_limit, retries=facts.retries, file_limited_sockets=facts.file_cap,
    )
