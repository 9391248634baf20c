"""Results on screen: an nmap-style table, a port map, a progress bar, and a network host by host.

The table lists the ports that matter (open and filtered) and sums up the rest in one
line, ``Not shown: N closed ports``, exactly like nmap, because a wall of 65,000 "closed"
lines teaches nothing.  The port map draws the whole scanned range as a grid, one cell
per port (or per block of ports for big ranges), so a class can see at a glance where
the open ports are.  Every line fits 80 columns, and nothing depends on colour alone:
each state also has its own character.
"""

from __future__ import annotations

import bisect
import collections
import math
import time
from typing import IO, TYPE_CHECKING, List

from lessons.render import fold_preformatted
from lessons.ui.i18n import Translator
from lessons.ui.terminal import Environment
from scanner.errors import clip
from scanner.inputs import describe_ports
from scanner.report import listed_results
from scanner.results import PortState, ScanReport

if TYPE_CHECKING:   # for the annotations only: a plain scan need not load the network scanner
    from scanner.network import NetworkReport

MAP_COLUMNS = 50       # cells per row: with round cell sizes, every row starts at a round number
CELL_SIZES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000)
MAP_ROWS_MAX = 12      # the map and "what this means" share one 24-line screen
MAP_SYMBOLS = {PortState.OPEN: "O", PortState.FILTERED: "F", PortState.OPEN_FILTERED: "o", PortState.CLOSED: "."}
MAP_PRIORITY = (PortState.OPEN, PortState.OPEN_FILTERED, PortState.FILTERED, PortState.CLOSED)
OPEN_AND_FILTERED = "*"
NOT_SCANNED = "?"
STALL_SECONDS = 1.0  # no progress for this long: the scan is waiting on silent ports
ETA_AFTER = 1.0      # an estimate from the first few milliseconds would only be noise
MIN_BAR = 5


def results_table(report: ScanReport, env: Environment, tr: Translator, include_closed: bool = False) -> List[str]:
    rows = listed_results(report, include_closed)
    lines = []
    state_width = max([len(tr.t("table.state"))] + [len(tr.state(r.state)) for r in rows]) + 1
    header = (f"{tr.t('table.port'):<11} {tr.t('table.state'):<{state_width}} "
              f"{tr.t('table.service'):<18} {tr.t('table.reason')}")
    width = max(30, env.width - 1)   # a narrow window: rows fold at a word boundary, under their column
    if rows:
        lines += [env.paint(piece, "heading") for piece in fold_preformatted(header, width)]
    for result in rows:
        port = f"{result.port}/{result.protocol}"
        word = tr.state(result.state)
        row = fold_preformatted(f"{port:<11} {word:<{state_width}} {(result.service or '-')[:18]:<18} "
                                f"{tr.reason(result.reason)}", width)
        # only the state word is painted (reverse video must not run on into its padding)
        row[0] = row[0][:12] + env.paint(word, result.state.value) + row[0][12 + len(word):]
        lines += row
        if result.banner or result.service_source:
            how = f"({how_named(result, tr)})"
            room = max(10, env.width - 6 - len(how))   # the banner is cut, never the note
            banner = result.banner if len(result.banner) <= room else result.banner[: room - 3] + "..."
            lines.append(env.paint(f"  | {banner} {how}".replace("|  (", "| (")[: env.width - 1], "hint"))
    counts = report.counts()
    if not rows:
        lines.append(tr.t("table.none_listed"))
    if not include_closed and counts.get("closed"):
        lines.append(tr.count("table.not_shown", counts["closed"]))
    return lines


def how_named(result, tr: Translator) -> str:
    """Where a service's name came from: its greeting, its answer to a request, or the port table."""
    if result.service_source == "greeting":
        return tr.t("service_source.greeting")
    if result.service_source:
        return tr.t("service_source.answer", request=result.service_source)
    return tr.t("service_source.port_table")


def short_spec(ports: tuple, limit: int = 40) -> str:
    """A port list as a spec short enough for one screen line: '1-1024,8080' or '1-3,7,...'."""
    return clip(describe_ports(ports), limit)


def summary_line(report: ScanReport, tr: Translator) -> str:
    counts = report.counts()
    text = tr.count("table.summary", report.ports_scanned, scanned=report.ports_scanned,
                    seconds=tr.decimal(report.elapsed_seconds, 2), open=counts.get("open", 0),
                    filtered=counts.get("filtered", 0), closed=counts.get("closed", 0))
    if counts.get("open|filtered"):  # UDP's silence: neither open nor filtered for sure
        text += " " + tr.t("table.open_filtered", count=counts["open|filtered"])
    if not report.complete:
        text += " " + tr.t("table.incomplete", done=report.ports_scanned, total=len(report.ports_requested))
    return text


def port_map(report: ScanReport, env: Environment, tr: Translator) -> List[str]:
    """A grid of the scanned range, one symbol per cell; big ranges are grouped into blocks.

    Rows start at round numbers (0, 100, 200 ... or 0, 5000, 10000 ...), so a row label
    is something a class can read aloud.  Rows holding no requested port are left out
    (a ``...`` line marks the gap), so ``1-1024,36405`` is drawn as its two parts.
    """
    ports = report.ports_requested
    if not ports:
        return []
    columns = MAP_COLUMNS if env.width >= MAP_COLUMNS + 10 else MAP_COLUMNS // 2
    for per_cell in CELL_SIZES:
        span = columns * per_cell
        rows = sorted({port // span for port in ports})
        gaps = sum(1 for before, after in zip(rows, rows[1:]) if after != before + 1)
        if len(rows) + gaps <= MAP_ROWS_MAX:
            break
    states = {r.port: r.state for r in report.results}
    title = tr.count("map.title", per_cell, low=ports[0], high=ports[-1], per_cell=per_cell)
    lines = [env.paint(title, "heading")]
    label_width = max(5, len(str(rows[-1] * span)))
    previous = None
    for row in rows:
        if previous is not None and row != previous + 1:
            lines.append(f"{'...':>{label_width}}")
        previous = row
        cells = []
        for cell in range(columns):
            low = row * span + cell * per_cell
            asked = ports[bisect.bisect_left(ports, low):bisect.bisect_left(ports, low + per_cell)]
            cells.append(map_cell(asked, states, env))
        lines.append(f"{row * span:>{label_width}} " + "".join(cells).rstrip())
    lines.extend(env.paint(line, "hint") for line in map_legend(tr.t("map.legend"), env.width - 1))
    return lines


def map_legend(text: str, width: int) -> List[str]:
    """The legend folded between its entries ("O open", "? not scanned"), never inside one."""
    lines: List[str] = []
    for entry in (part.strip() for part in text.split("   ") if part.strip()):
        if lines and len(lines[-1]) + 3 + len(entry) <= width:
            lines[-1] += "   " + entry
        else:
            lines.append(entry)
    return lines


def map_cell(asked, states: dict, env: Environment) -> str:
    if not asked:
        return " "  # not asked for
    found = {states[port] for port in asked if port in states}
    if not found:
        return NOT_SCANNED
    if PortState.OPEN in found and PortState.FILTERED in found:
        return env.paint(OPEN_AND_FILTERED, "open")  # neither may hide the other
    state = next(s for s in MAP_PRIORITY if s in found)
    return env.paint(MAP_SYMBOLS[state], state.value)


class ProgressBar:
    """``[#########.........]  12000/65535  open 3  ETA 2s`` redrawn in place.

    The line keeps one width from the first frame to the last (parts that do not fit a
    narrow window are left out, down to a bar and the count at 20 columns), so it never
    wraps and never jumps.  No estimate is shown until there is something to base it on.
    """

    def __init__(self, stream: IO, tr: Translator, width=80, enabled: bool = True, *,
                 found_key: str = "progress.open", waiting_key: str = "progress.waiting") -> None:
        # The keys say what this pass counts: open ports in a scan, banners read in a banner pass.
        self.stream, self.tr, self.width, self.enabled = stream, tr, width, enabled
        self.found_key, self.waiting_key = found_key, waiting_key
        self.started = time.monotonic()
        self.last_draw = 0.0
        self.drawn = False
        self.last_done, self.last_change = 0, self.started

    def columns(self) -> int:
        width = self.width() if callable(self.width) else self.width
        return max(12, min(80, width))

    def line(self, done: int, total: int, open_found: int, now: float) -> str:
        # Three columns stay free: the last one (writing there wraps on many terminals) and two for
        # the "^C" the terminal echoes at the cursor on Ctrl+C, so it stays on the bar's line and
        # finish()'s newline starts what follows on a fresh one (a very narrow window keeps only one).
        width = self.columns() - (3 if self.columns() >= 40 else 1)
        elapsed = now - self.started
        waiting = self.tr.t(self.waiting_key)
        if done < total and now - self.last_change > STALL_SECONDS:
            # Only silent ports are left: they finish when their timeout runs out, which
            # a rate-based estimate ("0s") would hide.
            note = waiting
        elif done and done < total and elapsed >= ETA_AFTER:
            note = self.tr.t("progress.eta", eta=_short_duration(elapsed / done * (total - done)))
        else:
            note = ""
        digits = len(str(total))
        count = f"{done:>{digits}}/{total}"
        found = self.tr.t(self.found_key, count=open_found)
        found_slot = len(self.tr.t(self.found_key, count=9 * 10 ** (digits - 1)))
        note_slot = max(len(waiting), len(self.tr.t("progress.eta", eta="59m59s")))
        for parts in ((count, found.ljust(found_slot), note.ljust(note_slot)), (count, found.ljust(found_slot)),
                      (count,), ()):
            tail = "  ".join(parts)
            bar_width = width - len(tail) - (3 if tail else 2)
            if bar_width >= MIN_BAR or not parts:
                break
        bar_width = max(1, bar_width)
        filled = int(bar_width * done / total) if total else bar_width
        return ("[" + "#" * filled + "." * (bar_width - filled) + "]" + (" " + tail if tail else ""))[:width]

    def update(self, done: int, total: int, open_found: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if done < total and now - self.last_draw < 0.1:
            return
        self.last_draw = now
        if done != self.last_done:
            self.last_done, self.last_change = done, now
        self.stream.write("\r" + self.line(done, total, open_found, now))
        self.stream.flush()
        self.drawn = True

    def finish(self) -> None:
        if self.enabled and self.drawn:
            self.stream.write("\n")
            self.stream.flush()


BANNER_LABELS = {"found_key": "progress.banners", "waiting_key": "progress.banners_waiting"}


def _short_duration(seconds: float) -> str:
    seconds = max(1, math.ceil(seconds))
    return f"{seconds}s" if seconds < 100 else f"{seconds // 60}m{seconds % 60:02d}s"


def engine_notes(report, tr: Translator) -> List[str]:
    """What the engine noticed: lost packets, a rate-limited target, a file limit that slowed the scan."""
    notes = []
    if getattr(report, "retried", 0):
        notes.append(tr.count("scan.note_retried", report.retried))
    if getattr(report, "rate_limit_per_second", None):
        key = "scan.note_rate_limit_udp" if report.protocol == "udp" else "scan.note_rate_limit"
        notes.append(tr.t(key, rate=report.rate_limit_per_second))
    if getattr(report, "file_limited_sockets", None):
        notes.append(tr.count("scan.note_few_files", report.file_limited_sockets))
    return notes


# --- a network: a block per host ---------------------------------------------------------
DOWN_LISTED_MAX = 8     # more hosts down than this are summed up by reason, not listed


def host_lines(network: NetworkReport, env: Environment, tr: Translator, include_closed: bool = False) -> List[str]:
    """A block per host that is up, then the hosts that are down, then the totals."""
    lines: List[str] = []
    for host in network.up:
        name = host.address if host.target.text == host.address else f"{host.target.text} ({host.address})"
        reason = tr.reason(host.reason)   # glossed where the language needs it (ditolak, tanpa jawaban)
        reason = reason if host.reason_port is None else tr.t("net.reason_port", reason=reason, port=host.reason_port)
        report = host.report
        if report is not None and report.complete and not listed_results(report, include_closed):
            # Nothing to list: one line, so a /24 of quiet hosts still fits a screen or two.
            lines.append(tr.count("net.host_up_quiet", report.counts()["closed"], host=name, reason=reason))
            continue
        lines.append(env.paint(tr.t("net.host_up", host=name, reason=reason), "heading"))
        if report is None:
            lines.append(tr.t("net.not_scanned"))
        else:
            lines.extend(results_table(report, env, tr, include_closed))
            if not report.complete:
                lines.append(summary_line(report, tr))
        lines.append("")
    lines.extend(down_lines(network, tr))
    lines.append(network_summary(network, tr))
    return lines


def down_lines(network: NetworkReport, tr: Translator) -> List[str]:
    down = network.down
    if not down:
        return []
    if len(down) <= DOWN_LISTED_MAX:
        return [tr.t("net.host_down", host=host.address, reason=tr.reason(host.reason)) for host in down]
    reasons = collections.Counter(host.reason for host in down)
    detail = ", ".join(f"{reason} {count}" for reason, count in reasons.most_common())
    return [tr.t("net.hosts_down", count=len(down), reasons=detail)]


def network_port_map(network: NetworkReport, env: Environment, tr: Translator, max_rows: int = 16) -> List[str]:
    """The port map of a network: one row per host, one cell per port (or group of ports).

    For the guided walk: columns follow the requested ports in order, so the same port
    is in the same column on every row and a class can compare hosts at a glance.
    """
    ports = network.ports_requested
    if not ports:
        return []
    label = max(len(host.address) for host in network.hosts[:max_rows])
    columns = max(8, min(64, env.width - 2 - label))
    per_cell = -(-len(ports) // columns)
    cells_wanted = -(-len(ports) // per_cell)
    lines = [env.paint(tr.count("map.network_title", per_cell, low=ports[0], high=ports[-1], per_cell=per_cell), "heading")]
    for host in network.hosts[:max_rows]:
        if host.report is None:
            lines.append(f"{host.address:<{label}} " + env.paint(f"{host.state.value} ({host.reason})", "hint"))
            continue
        states = {r.port: r.state for r in host.report.results}
        cells = [map_cell(ports[cell * per_cell:(cell + 1) * per_cell], states, env) for cell in range(cells_wanted)]
        lines.append(f"{host.address:<{label}} " + "".join(cells))
    if len(network.hosts) > max_rows:
        lines.append(tr.t("map.more_hosts", count=len(network.hosts) - max_rows))
    lines.extend(env.paint(line, "hint") for line in map_legend(tr.t("map.legend"), env.width - 1))
    return lines


def network_summary(network: NetworkReport, tr: Translator) -> str:
    totals = network.totals()
    text = tr.count("net.summary", totals["up"], down=totals["down"], seconds=tr.decimal(network.elapsed_seconds, 2))
    if not network.complete:
        finished = sum(1 for host in network.up if host.report is not None and host.report.complete)
        text += " " + tr.t("net.incomplete", done=finished, total=totals["up"])
    if network.ping and not totals["up"]:
        text += " " + tr.t("net.none_up")
    return text
