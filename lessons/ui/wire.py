"""``scan ... --packets``: the packets of your own scan, a screenful at a time.

The capture itself is ``scanner.packets``; this module decides what to show.  A scan of
a hundred ports makes hundreds of packets, so by default only a screenful of *probes*
(all packets of one port) is shown, the telling ones first: open ports (the three-way
handshake), then filtered ones (repeated SYNs), then closed ones (SYN, RST).
"""

from __future__ import annotations

import sys
import textwrap
from typing import List, Optional

from lessons.ui.i18n import Translator
from scanner.inputs import whole_number
from scanner.packets import Capture, CaptureUnavailable
from scanner.results import PortState

WIDTH = 79                       # lines fold to fit an 80-column screen
SCREEN_LINES = 20                # a default --packets fills about one 24-line screen
PACKETS_PER_PROBE = 12           # a probe with more (a long banner conversation) is cut, saying so
SHOW_FIRST = (PortState.OPEN, PortState.FILTERED, PortState.OPEN_FILTERED, PortState.CLOSED)


def parse_packet_count(text: Optional[str]) -> Optional[int]:
    """--packets (None: a screenful) or --packets N; raises ValueError for anything else."""
    if text is None or text == "":
        return None
    count = whole_number(text)
    if count is None or count < 1:
        raise ValueError(text)
    return count


def start_capture(addresses, ports, tr: Translator, opener=None):
    """(a running Capture, None) or (None, the one line saying what is needed and why)."""
    try:
        capture = Capture(addresses, ports, **({"opener": opener} if opener else {}))
        return capture.start(), None
    except CaptureUnavailable as problem:
        if problem.code == "needs_linux":
            return None, tr.t("packets.needs_linux", platform=problem.detail or sys.platform)
        if problem.code == "needs_capability":
            return None, tr.t("packets.needs_capability")
        return None, tr.t("packets.failed", detail=problem.detail)


def _fold(text: str) -> List[str]:
    return textwrap.wrap(text, WIDTH, break_on_hyphens=False) or [""]


def results_by_probe(*reports) -> dict:
    """{(address, port): PortResult} of one or more ScanReports (None entries are skipped)."""
    return {(report.target.address, result.port): result
            for report in reports if report is not None for result in report.results}


def packet_lines(capture: Capture, results: dict, tr: Translator, limit: Optional[int] = None) -> List[str]:
    """The captured probes, grouped by port: header line, then one line per packet.

    ``results`` is ``results_by_probe(report, ...)``: it names each probe's verdict.
    """
    probes = capture.probes()
    if not probes:
        return _fold(tr.t("packets.none", interface=capture.interface_name))
    states = results

    def rank(key):
        result = states.get(key)
        return SHOW_FIRST.index(result.state) if result else len(SHOW_FIRST)

    chosen, lines_used = [], 1
    for key in sorted(probes, key=rank):  # sorted() is stable: equal ranks keep their order
        if limit is not None and len(chosen) >= limit:
            break
        shown = min(len(probes[key]), PACKETS_PER_PROBE) + (len(probes[key]) > PACKETS_PER_PROBE)
        if limit is None and chosen and lines_used + 1 + shown > SCREEN_LINES:
            break
        chosen.append(key)
        lines_used += 1 + shown
    lines = _fold(tr.t("packets.title", interface=capture.interface_name, shown=len(chosen), probes=len(probes)))
    for key in [key for key in probes if key in set(chosen)]:  # back in the order they happened
        address, port = key
        result = states.get(key)
        verdict = f"{tr.state(result.state)} ({result.reason.value})" if result else "?"
        lines.append(tr.t("packets.probe", address=address, port=port, state=verdict))
        for record in probes[key][:PACKETS_PER_PROBE]:
            arrow = f"{record.local_port:>5} -> {record.port:<5}" if record.direction == "out" \
                else f"{record.local_port:>5} <- {record.port:<5}"
            lines.append(f"  {record.time * 1000:>9.3f} ms  {arrow}  {record.flags}")
        if len(probes[key]) > PACKETS_PER_PROBE:
            lines.append("  " + tr.t("packets.more_in_probe", count=len(probes[key]) - PACKETS_PER_PROBE))
    if len(chosen) < len(probes):
        lines.extend(_fold(tr.t("packets.more", count=len(probes) - len(chosen), total=len(probes))))
    if capture.kernel_drops or capture.dropped:
        lines.extend(_fold(tr.t("packets.dropped", count=capture.kernel_drops + capture.dropped)))
    return lines


def show_packets(env, lines: List[str], output_format: str = "text") -> None:
    """Print the packet lines: on stdout with a text report, on stderr beside JSON or CSV."""
    if output_format == "text":
        for line in lines:
            env.write(line)
    else:
        env.stderr.write("".join(line + "\n" for line in lines))
        env.stderr.flush()
