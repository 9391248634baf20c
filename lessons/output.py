"""Results on screen: an nmap-style table, a port map, and a progress bar.

The table lists the ports that matter (open and filtered) and sums up the rest in one
line, ``Not shown: N closed ports``, exactly like nmap, because a wall of 65,000 "closed"
lines teaches nothing.  The port map draws the whole scanned range as a grid, one cell
per port (or per block of ports for big ranges), so a class can see at a glance where
the open ports are.  Every line fits 80 columns, and nothing depends on colour alone:
each state also has its own character.
"""

from __future__ import annotations

import time
from typing import IO, List, Optional

from lessons.i18n import Translator
from lessons.terminal import Environment
from scanner.errors import clip
from scanner.inputs import describe_ports
from scanner.report import listed_results
from scanner.results import PortState, ScanReport

MAP_COLUMNS = 64
MAP_ROWS_MAX = 16
MAP_SYMBOLS = {PortState.OPEN: "O", PortState.FILTERED: "F", PortState.OPEN_FILTERED: "o", PortState.CLOSED: "."}
MAP_PRIORITY = (PortState.OPEN, PortState.OPEN_FILTERED, PortState.FILTERED, PortState.CLOSED)
NOT_SCANNED = "?"
STALL_SECONDS = 1.0  # no progress for this long: the scan is waiting on silent ports


def results_table(report: ScanReport, env: Environment, tr: Translator, include_closed: bool = False) -> List[str]:
    rows = listed_results(report, include_closed)
    lines = []
    state_width = max([len(tr.t("table.state"))] + [len(tr.state(r.state)) for r in rows]) + 1
    header = (f"{tr.t('table.port'):<11} {tr.t('table.state'):<{state_width}} "
              f"{tr.t('table.service'):<18} {tr.t('table.reason')}")
    if rows:
        lines.append(env.paint(header, "heading"))
    for result in rows:
        port = f"{result.port}/{result.protocol}"
        state = env.paint(f"{tr.state(result.state):<{state_width}}", result.state.value)
        lines.append(f"{port:<11} {state} {(result.service or '-')[:18]:<18} {result.reason.value}")
        if result.banner:
            lines.append(env.paint(f"  | {result.banner}"[: env.width - 1], "hint"))
    counts = report.counts()
    if not rows:
        lines.append(tr.t("table.none_listed"))
    if not include_closed and counts.get("closed"):
        lines.append(tr.count("table.not_shown", counts["closed"]))
    return lines


def short_spec(ports: tuple, limit: int = 40) -> str:
    """A port list as a spec short enough for one screen line: '1-1024,8080' or '1-3,7,...'."""
    return clip(describe_ports(ports), limit)


def summary_line(report: ScanReport, tr: Translator) -> str:
    counts = report.counts()
    text = tr.count("table.summary", report.ports_scanned, scanned=report.ports_scanned,
                    seconds=f"{report.elapsed_seconds:.2f}", open=counts.get("open", 0),
                    filtered=counts.get("filtered", 0), closed=counts.get("closed", 0))
    if counts.get("open|filtered"):  # UDP's silence: neither open nor filtered for sure
        text += " " + tr.t("table.open_filtered", count=counts["open|filtered"])
    if not report.complete:
        text += " " + tr.t("table.incomplete", done=report.ports_scanned, total=len(report.ports_requested))
    return text


def port_map(report: ScanReport, env: Environment, tr: Translator) -> List[str]:
    """A grid of the scanned range, coloured by state; big ranges are grouped into blocks."""
    ports = report.ports_requested
    if not ports:
        return []
    low, high = ports[0], ports[-1]
    span = high - low + 1
    cells_needed = span
    per_cell = 1
    while (cells_needed + MAP_COLUMNS - 1) // MAP_COLUMNS > MAP_ROWS_MAX:
        per_cell *= 2
        cells_needed = (span + per_cell - 1) // per_cell
    states = {r.port: r.state for r in report.results}
    requested = set(ports) if len(ports) != span else None
    lines = [env.paint(tr.t("map.title", low=low, high=high, per_cell=per_cell), "heading")]
    for row_start in range(0, cells_needed, MAP_COLUMNS):
        first_port = low + row_start * per_cell
        cells = []
        for cell in range(row_start, min(row_start + MAP_COLUMNS, cells_needed)):
            block = range(low + cell * per_cell, min(high, low + (cell + 1) * per_cell - 1) + 1)
            found = [states[p] for p in block if p in states]
            if not found:
                asked = requested is None or any(p in requested for p in block)
                cells.append(env.paint(NOT_SCANNED, "hint") if asked else " ")
                continue
            state = next(s for s in MAP_PRIORITY if s in found)
            cells.append(env.paint(MAP_SYMBOLS[state], state.value))
        lines.append(f"{first_port:>6} " + "".join(cells))
    lines.append(env.paint(tr.t("map.legend"), "hint"))
    return lines


class ProgressBar:
    """``[#########.........]  12000/65535  open 3  ETA 2s`` redrawn in place."""

    def __init__(self, stream: IO, tr: Translator, width: int = 80, enabled: bool = True) -> None:
        self.stream, self.tr, self.width, self.enabled = stream, tr, width, enabled
        self.started = time.monotonic()
        self.last_draw = 0.0
        self.drawn = False
        self.last_done, self.last_change = 0, self.started

    def update(self, done: int, total: int, open_found: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if done < total and now - self.last_draw < 0.1:
            return
        self.last_draw = now
        if done != self.last_done:
            self.last_done, self.last_change = done, now
        elapsed = now - self.started
        eta: Optional[float] = (elapsed / done * (total - done)) if done else None
        if done < total and now - self.last_change > STALL_SECONDS:
            # Only silent ports are left: they finish when their timeout runs out, which
            # a rate-based estimate ("0s") would hide.
            eta_text = self.tr.t("progress.waiting")
        else:
            eta_text = self.tr.t("progress.eta", eta=f"{eta:.0f}s" if eta is not None else "?")
        tail = f" {done}/{total}  {self.tr.t('progress.open', count=open_found)}  {eta_text}"
        bar_width = max(10, self.width - len(tail) - 4)
        filled = int(bar_width * done / total) if total else bar_width
        line = "[" + "#" * filled + "." * (bar_width - filled) + "]" + tail
        self.stream.write("\r" + line[: self.width - 1])
        self.stream.flush()
        self.drawn = True

    def finish(self) -> None:
        if self.enabled and self.drawn:
            self.stream.write("\n")
            self.stream.flush()


def text_report(report: ScanReport, tr: Translator, include_closed: bool = False) -> str:
    """A plain-text report for a lab write-up: what was scanned, when, with whose permission."""
    plain = Environment(colour=False)
    lines = [tr.t("report.title"), "=" * len(tr.t("report.title")),
             tr.t("report.target", target=report.target.text, address=report.target.address),
             tr.t("report.started", started=report.started),
             tr.t("report.settings", count=len(report.ports_requested), timeout=report.timeout,
                  workers=report.workers, protocol=report.protocol)]
    if report.consent:
        lines.append(tr.t("report.consent", statement=report.consent["statement"], time=report.consent["time"]))
    lines.append("")
    lines.extend(results_table(report, plain, tr, include_closed))
    lines.append(summary_line(report, tr))
    return "\n".join(lines) + "\n"
