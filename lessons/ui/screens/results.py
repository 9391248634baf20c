"""The results of a walk: the table, then the port map and what it means, and saving a report.

On a terminal the results table and summary fill one screen, the port map and "what this
means" (written from this scan's own numbers) the next, so nothing the learner must read
scrolls away.  Then the learner may save the report as text, JSON or CSV.
"""

from __future__ import annotations

import datetime
import os
import re
from types import SimpleNamespace
from typing import List, Optional

from lessons.render import Block
from lessons.ui import pager
from lessons.ui.output import engine_notes, port_map, results_table, short_spec, summary_line
from lessons.ui.reports import report_text, write_atomically
from scanner.errors import clip
from scanner.results import PortState, ScanReport

PORT_MAP_MINIMUM = 16
LONGER_TIMEOUT = 2.0    # seconds suggested for a second look at a filtered port (at least 4x the first)
LISTED_PORTS = 3        # ports named in the advice; the rest are counted
COMMAND = re.compile(r"`([^`]+)`")
NUMBER_AND_UNIT = re.compile(r"(\d) (?=(?:s|ms|detik)\b)")
GLUE = "\x00"            # stands for a space inside a command while a sentence is folded


def show_results(app, report: ScanReport, teach: bool, pause_first: bool = False,
                 replayed: bool = False) -> None:
    """Results table + summary on one screen; port map and "what this means" on the next."""
    env = app.env
    if env.on_screen and pause_first:
        app.screen_pause("results.press_enter")
    elif env.presenter:
        app.pause()
    lines = [""] + scanned_lines(app, report.target.text, report.target.address, report.ports_requested,
                                 report.timeout, report.final_timeout, report.elapsed_seconds)
    if report.banners_skipped:
        lines += app.env.wrap(app.tr.t("results.banners_skipped"), "warning")
    elif report.interrupted:
        lines += app.env.wrap(app.tr.t("results.partial", done=report.ports_scanned,
                                         total=len(report.ports_requested)), "warning")
    table = results_table(report, env, app.tr)
    blocks = pager.line_blocks(lines) + pager.line_blocks(table) + \
        pager.line_blocks(app.env.wrap(summary_line(report, app.tr))) + \
        pager.line_blocks(engine_note_lines(app, [report]))
    map_lines = port_map(report, env, app.tr) if len(report.ports_requested) >= PORT_MAP_MINIMUM else []
    meaning = explain_lines(app, report, teach)
    results_pages(app, blocks, map_lines, meaning)


def engine_note_lines(app, reports: list) -> List[str]:
    """What the engine noticed (lost packets, a rate-limited target, few files), as the command line says it."""
    reports = [report for report in reports if report is not None]
    if not reports:
        return []
    limits = [r.rate_limit_per_second for r in reports if getattr(r, "rate_limit_per_second", None)]
    capped = [r.file_limited_sockets for r in reports if getattr(r, "file_limited_sockets", None)]
    seen = SimpleNamespace(retried=sum(getattr(r, "retried", 0) or 0 for r in reports),
                           rate_limit_per_second=min(limits) if limits else None,
                           file_limited_sockets=min(capped) if capped else None,
                           protocol=getattr(reports[0], "protocol", "tcp"))
    return [line for note in engine_notes(seen, app.tr) for line in app.env.wrap(note, "hint")]


def results_pages(app, blocks: list, map_lines: List[str], meaning: List[Block]) -> None:
    """The results on one screen; the port map and "what this means" on the next (presenter: one each)."""
    env = app.env
    if env.on_screen and not map_lines and not env.presenter:  # a short scan: results and meaning together
        app.page(blocks + meaning, finish=False, reserve=2)
        return
    if env.on_screen:
        app.page(blocks, finish=False, reserve=1)
        app.screen_pause("results.next_page" if map_lines else "results.next_meaning")
        rest = pager.line_blocks(map_lines, keep_together=True)
        if map_lines and env.presenter:
            app.page(rest, finish=False, reserve=1)
            app.screen_pause()
            rest = []
        app.page(rest + meaning, finish=False, reserve=2)
        return
    app.page(blocks)
    if map_lines:
        app.pause()
        app.env.write("")
        app.page(pager.line_blocks(map_lines, keep_together=True))
    app.pause()
    app.page(meaning)


def scanned_lines(app, target: str, address: str, ports: tuple, timeout: str, final_timeout: float,
                  seconds: float, addresses: int = 0) -> List[str]:
    """What was scanned, first on the results page: target (and how many addresses a network
    holds), range, timeout and the time it took."""
    tr = app.tr
    name = target if target == address else f"{target} ({address})"
    wait = (tr.t("results.timeout_auto", seconds=tr.decimal(final_timeout)) if timeout == "auto"
            else tr.t("results.timeout_seconds", seconds=tr.decimal(str(timeout))))
    key = "results.scanned_network" if addresses else "results.scanned"
    text = tr.count(key, len(ports), target=clip(name, 60), spec=short_spec(ports), timeout=wait,
                    seconds=tr.decimal(seconds, 2), addresses=addresses)
    glued = NUMBER_AND_UNIT.sub("\\1" + GLUE, text)   # "0.5 s" never folds between the number and its unit
    return [line.replace(GLUE, " ") for line in app.env.wrap(glued, "heading")]


def findings(report: ScanReport) -> dict:
    """The ports of each state one host showed, for the advice on what to do next."""
    return {state.value: [str(r.port) for r in report.by_state(state)] for state in PortState}


def explain_lines(app, report: ScanReport, teach: bool) -> List[Block]:
    """The short "what this means" lesson, written from this scan's own numbers."""
    return meaning_lines(app, report.counts(), teach, found=findings(report), timeout=report.final_timeout,
                         here=report.target.is_loopback)


def meaning_lines(app, counts: dict, teach: bool, *, found: Optional[dict] = None, timeout: float = 0.5,
                  here: bool = True) -> List[Block]:
    """The heading, then one block per sentence: a page break never splits a sentence.

    After what each state means comes what to do next with these results, which the counts
    cannot say: find the program behind an unexpected open port, tell a firewall from a
    short timeout, or go where there is something to find."""
    wrap, t = app.env.wrap, app.tr.t
    blocks = [Block([""], "blank"), Block([app.env.paint(t("meaning.title"), "heading")], "heading")]
    for state in ("open", "filtered", "closed"):
        if counts.get(state):
            blocks.append(Block(wrap(t(f"meaning.{state}", count=counts[state]), first="- ", rest="  "), "text"))
    blocks += next_steps(app, counts, found or {}, timeout, here)
    if teach:   # an open port: its own lesson first
        first = "unexpected-open-port" if counts.get("open") else "port-states"
        blocks.append(Block(wrap(t("meaning.more", first=app.tr.lesson_title(first),
                                   second=app.tr.lesson_title("reading-results")), "hint"), "text"))
    return blocks


def next_steps(app, counts: dict, found: dict, timeout: float, here: bool) -> List[Block]:
    """What the learner should do next, one sentence per thing this scan found."""
    t, tr = app.tr.t, app.tr
    steps = []
    if counts.get("open"):
        steps.append(t("next.open", ports=listed(found.get("open"), counts["open"], tr),
                       where=t("next.here" if here else "next.there")))
    if counts.get("filtered"):
        steps.append(t("next.filtered", ports=listed(found.get("filtered"), counts["filtered"], tr),
                       longer=tr.decimal(max(LONGER_TIMEOUT, timeout * 4))))
    if counts.get("open|filtered"):
        steps.append(t("next.open_filtered", ports=listed(found.get("open|filtered"), counts["open|filtered"], tr)))
    if counts.get("closed") and not (counts.get("open") or counts.get("filtered") or counts.get("open|filtered")):
        steps.append(t("next.all_closed"))
    if not steps:
        return []
    blocks = [Block([app.env.paint(t("next.title"), "heading")], "heading")]   # right below "what this means"
    return blocks + [Block(wrap_commands(app, step), "text") for step in steps]


def wrap_commands(app, text: str) -> List[str]:
    """A bullet folded to the screen with every `command` kept on one line and its backticks dropped
    (a learner copies ``sudo nft list ruleset`` whole, never half of it from one line)."""
    glued = COMMAND.sub(lambda match: match.group(1).replace(" ", GLUE), text)
    return [line.replace(GLUE, " ") for line in app.env.wrap(glued, first="- ", rest="  ")]


def listed(ports: Optional[list], count: int, tr) -> str:
    """A few of the ports (or host:port pairs) by name, and how many more."""
    ports = list(ports or [])
    shown = ", ".join(ports[:LISTED_PORTS])
    if len(ports) > LISTED_PORTS:
        shown += " " + tr.t("next.more", count=len(ports) - LISTED_PORTS)
    return shown or str(count)


def offer_save(app, report) -> None:
    """Save a ``ScanReport`` or a ``NetworkReport`` as text, JSON or CSV."""
    formats = {"t": ("text", "txt"), "j": ("json", "json"), "c": ("csv", "csv")}
    while True:
        typed = app.ask(app.tr.t("save.question"))
        choice = typed.lower()
        if choice in ("", "n", "no", "tidak"):
            return
        if choice not in formats:
            app.say("save.unknown", "error", choice=clip(typed))   # what was typed, not its lower case
            continue
        file_format, ending = formats[choice]
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        default = f"portscan-report-{stamp}.{ending}"
        path = app.ask(app.tr.t("save.path", default=default)) or default
        try:
            write_atomically(os.path.expanduser(path), report_text(report, app.tr, file_format))
        except ValueError:  # a NUL byte in the name
            app.say("report.write_failed", "error", path=clip(path.replace("\x00", "")),
                     detail=app.tr.t("report.bad_name"))
            continue
        except OSError as error:
            app.say("report.write_failed", "error", path=clip(path), detail=error.strerror or error)
            continue
        app.say("report.saved", "ok", path=clip(os.path.abspath(os.path.expanduser(path)), 200))
        return
