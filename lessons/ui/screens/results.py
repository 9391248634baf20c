"""The results of a walk: the table, then the port map and what it means, and saving a report.

On a terminal the results table and summary fill one screen, the port map and "what this
means" (written from this scan's own numbers) the next, so nothing the learner must read
scrolls away.  Then the learner may save the report as text, JSON or CSV.
"""

from __future__ import annotations

import datetime
import os
from types import SimpleNamespace
from typing import List

from lessons.render import Block
from lessons.ui import pager
from lessons.ui.output import engine_notes, port_map, results_table, summary_line
from lessons.ui.reports import report_text, write_atomically
from scanner.errors import clip
from scanner.results import PortState, ScanReport

PORT_MAP_MINIMUM = 16


def show_results(app, report: ScanReport, teach: bool, pause_first: bool = False,
                 replayed: bool = False) -> None:
    """Results table + summary on one screen; port map and "what this means" on the next."""
    env = app.env
    if env.on_screen and pause_first:
        app.screen_pause("results.press_enter")
    elif env.presenter:
        app.pause()
    # which host these are: on a terminal the "Scanning ..." line is gone by now, and a
    # screenshot for a lab write-up must say what was scanned
    heading = app.tr.t("results.for_host", target=clip(report.target.text, 60), address=report.target.address)
    lines = ["", env.paint(heading, "heading")]
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
    meaning = explain_lines(app, report, teach, lab_hint=not replayed)
    results_pages(app, blocks, map_lines, meaning)


def engine_note_lines(app, reports: list) -> List[str]:
    """What the engine noticed (lost packets, a rate-limited target), as the command line says it."""
    reports = [report for report in reports if report is not None]
    if not reports:
        return []
    limits = [r.rate_limit_per_second for r in reports if getattr(r, "rate_limit_per_second", None)]
    seen = SimpleNamespace(retried=sum(getattr(r, "retried", 0) or 0 for r in reports),
                           rate_limit_per_second=min(limits) if limits else None,
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


def explain_lines(app, report: ScanReport, teach: bool, lab_hint: bool = True) -> List[Block]:
    """The short "what this means" lesson, written from this scan's own numbers."""
    return meaning_lines(app, report.counts(), bool(report.by_state(PortState.OPEN)), teach, lab_hint)


def meaning_lines(app, counts: dict, any_open: bool, teach: bool, lab_hint: bool = True) -> List[Block]:
    """The heading, then one block per sentence: a page break never splits a sentence."""
    wrap, t = app.env.wrap, app.tr.t
    blocks = [Block([""], "blank"), Block([app.env.paint(t("meaning.title"), "heading")], "heading")]
    for state in ("open", "filtered", "closed"):
        if counts.get(state):
            blocks.append(Block(wrap(t(f"meaning.{state}", count=counts[state]), first="- ", rest="  "), "text"))
    if lab_hint and counts.get("closed") and not counts.get("open") and not counts.get("filtered"):
        blocks.append(Block(wrap(t("slow.only_closed"), "hint"), "text"))  # nothing to find: the lab has
    if any_open:
        blocks.append(Block(wrap(t("meaning.next_steps", lesson=app.tr.lesson_title("unexpected-open-port")),
                                 "hint"), "text"))
    if teach:
        blocks.append(Block(wrap(t("meaning.more", first=app.tr.lesson_title("port-states"),
                                   second=app.tr.lesson_title("reading-results")), "hint"), "text"))
    return blocks


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
