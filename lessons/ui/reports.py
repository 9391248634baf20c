"""Reports for people and for files: the text, JSON and CSV of a scan, and checking ``-o`` first.

``report_text(report, tr, file_format)`` is the one place that turns a finished scan, of
one host (``ScanReport``) or of a network (``NetworkReport``), into text, JSON or CSV; the
JSON and CSV shapes themselves are the library's contract (``scanner/report.py``).

``output_problem`` finds a bad ``-o`` (no folder, a device, a planted link, a name too long)
before a long scan, not after it; ``save_report_first`` writes the file before anything is
printed, through ``safe_files.write_atomically`` (all or nothing, never over a device).
"""

from __future__ import annotations

import errno
import os
import stat
from typing import NamedTuple, Optional

from lessons.ui.exits import EXIT_UNREACHABLE, EXIT_USAGE, silence_stdout
from lessons.ui.i18n import Translator
from lessons.ui.output import host_lines, results_table, summary_line
from lessons.ui.safe_files import (is_link_loop, is_own_output, is_planted_link, not_regular_file, signals_held,
                                   write_atomically)
from lessons.ui.terminal import Environment
from scanner.errors import clip
from scanner.network import NetworkReport
from scanner.report import network_to_csv, network_to_json, to_csv, to_json
from scanner.results import ScanReport

PATH_ECHO_LIMIT = 200   # a file path is echoed longer than other input, but still clipped and stripped
FORMATS = ("text", "json", "csv")


def report_text(report, tr: Translator, file_format: str, include_closed: bool = False) -> str:
    """A host's or a network's report as text, JSON or CSV: the one switch between the formats."""
    network = isinstance(report, NetworkReport)
    if file_format == "json":
        return network_to_json(report, include_closed) if network else to_json(report, include_closed)
    if file_format == "csv":
        return network_to_csv(report, include_closed) if network else to_csv(report, include_closed)
    return network_text_report(report, tr, include_closed) if network else text_report(report, tr, include_closed)


def text_report(report: ScanReport, tr: Translator, include_closed: bool = False) -> str:
    """A plain-text report for a lab write-up: what was scanned, when, with whose permission."""
    plain = Environment(colour=False)
    lines = [tr.t("report.title"), "=" * len(tr.t("report.title")),
             tr.t("report.target", target=report.target.text, address=report.target.address),
             tr.t("report.started", started=report.started),
             tr.t("report.settings", count=len(report.ports_requested), timeout=tr.decimal(str(report.timeout)),
                  workers=report.workers, protocol=report.protocol)]
    if report.consent:
        lines.append(tr.t("report.consent", statement=report.consent["statement"], time=report.consent["time"]))
    lines.append("")
    lines.extend(results_table(report, plain, tr, include_closed))
    lines.append(summary_line(report, tr))
    return "\n".join(lines) + "\n"


def network_text_report(network: NetworkReport, tr: Translator, include_closed: bool = False) -> str:
    """A plain-text report for a lab write-up, with the consent that covered the block."""
    plain = Environment(colour=False)
    lines = [tr.t("report.title"), "=" * len(tr.t("report.title")),
             tr.t("net.report_target", target=network.spec, count=len(network.hosts)),
             tr.t("report.started", started=network.started),
             tr.t("report.settings", count=len(network.ports_requested), timeout=network.timeout,
                  workers=network.workers, protocol=network.protocol)]
    if network.consent:
        lines.append(tr.t("report.consent", statement=network.consent["statement"], time=network.consent["time"]))
    lines.append("")
    lines.extend(host_lines(network, plain, tr, include_closed))
    return "\n".join(lines) + "\n"


def output_problem(path: str) -> Optional[tuple]:
    """Why a report cannot be written to ``path``, as (ui.json key, folder); None when it can."""
    if not path.strip() or "\x00" in path:
        return "report.no_name", ""
    path = os.path.expanduser(path)
    try:
        os.lstat(path)
    except OSError as error:   # found now, not after a long scan
        if error.errno == errno.ENAMETOOLONG:
            return "report.name_too_long", ""
    if is_link_loop(path):   # a -> b -> a: there is no file to write, and the link must not be replaced
        return "report.link_loop", ""
    if is_planted_link(path):   # /tmp/report.txt -> /etc/shadow, left there by someone else
        return "report.unsafe_link", ""
    folder = os.path.dirname(os.path.realpath(path))   # a link's target folder gets the file
    if not os.path.isdir(folder):
        return "report.no_folder", folder
    if os.path.isdir(path):
        return "report.is_folder", folder
    if not_regular_file(path):   # /dev/null, a FIFO, a socket: a report never replaces one
        return "report.not_regular", folder
    if is_own_output(path):   # -o /dev/stdout > out.txt: the printed results would lose their file
        return "report.own_output", folder
    if is_read_only_file(path):   # renaming over it would work (even for root): its 0444 says keep it
        return "report.read_only", folder
    if not os.access(folder, os.W_OK):
        return "report.no_permission", folder
    return None


def format_mismatch(path: str, chosen: str) -> bool:
    """--format json or csv with a file name whose ending says something else (.csv, .txt)."""
    named = file_format(path, "text")
    return chosen != "text" and named != chosen and (named != "text" or path.lower().endswith((".txt", ".text")))


def file_format(path: str, chosen: str) -> str:
    """--format json/csv decide; with text, the file name's ending does (.json, .csv, else text)."""
    if chosen != "text":
        return chosen
    ending = path.lower().rsplit(".", 1)[-1]
    return ending if ending in ("json", "csv") else "text"


def is_read_only_file(path: str) -> bool:
    """True for an existing regular file that nobody may write (0444), or that we may not write."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return False
    return stat.S_ISREG(mode) and (mode & 0o222 == 0 or not os.access(path, os.W_OK))


# Writing failed because the computer ran out of room, not because of what was typed: exit 1, as for
# running out of memory or files (2 is for usage errors).
OUT_OF_ROOM = {code for code in (getattr(errno, name, None) for name in ("ENOSPC", "EDQUOT", "EFBIG"))
               if code is not None}


class WriteFailure(NamedTuple):
    """A report that could not be written: the one line to print, and the exit code."""

    message: str
    code: int   # 1 when the disk was full (the computer ran out of room), else 2


def save_report_first(args, tr: Translator, text_for) -> Optional[WriteFailure]:
    """Write ``-o``'s file before anything is printed; what went wrong, or None.

    Signals are held until the file is in place, so a closed or broken stdout, or SIGTERM
    while printing, can no longer cost the report.  ``text_for(file_format)`` makes its text.
    """
    if not args.output or args.output == "-":
        return None
    with signals_held():
        try:
            write_atomically(os.path.expanduser(args.output), text_for(file_format(args.output, args.format)))
        except OSError as error:
            message = tr.t("report.write_failed", path=clip(args.output, PATH_ECHO_LIMIT),
                           detail=error.strerror or error)
            return WriteFailure(message, EXIT_UNREACHABLE if error.errno in OUT_OF_ROOM else EXIT_USAGE)
    return None


def write_or_silence(env: Environment, write) -> bool:
    """Run ``write`` (printing to stdout); a reader that is already gone (``| head``, ``| true``)
    or a closed stdout costs the screen output, never the scan or its report file.  False when
    stdout is gone."""
    try:
        write()
        return True
    except (BrokenPipeError, ValueError):   # ValueError: a closed stream
        silence_stdout()
        return False
