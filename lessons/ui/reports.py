"""Reports for people and for files: the text, JSON and CSV of a scan, and writing ``-o`` safely.

``report_text(report, tr, file_format)`` is the one place that turns a finished scan, of
one host (``ScanReport``) or of a network (``NetworkReport``), into text, JSON or CSV; the
JSON and CSV shapes themselves are the library's contract (``scanner/report.py``).

A report is written *atomically*: first to a temporary file in the same folder, then
renamed over the real name.  A crash or Ctrl+C in the middle can never leave half a
report behind, because a rename within one file system is all-or-nothing.

A rename replaces *whatever* has that name, so a report only ever goes to a regular file
or a new name: renamed over ``/dev/null``, a report would turn the device into a file
(``not_regular_file`` tells which paths to refuse, before scanning).  A symbolic link
is followed and its target replaced, so the link stays a link; but never a link another
user left in a shared folder such as /tmp (the kernel's ``protected_symlinks`` rule).
While the temporary file exists, Ctrl+C, SIGTERM and SIGHUP are held back (blocked, then
delivered the moment the rename is done), so no signal can leave a ``.portscan-*.tmp``
file behind.  ``output_problem`` finds a bad ``-o`` before a long scan, not after it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import stat
import tempfile
import threading
from typing import NamedTuple, Optional

from lessons.ui.exits import EXIT_UNREACHABLE, EXIT_USAGE, silence_stdout
from lessons.ui.i18n import Translator
from lessons.ui.output import host_lines, results_table, summary_line
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




# --- writing a file safely ------------------------------------------------------------

def _mode_for(path: str) -> int:
    """The replaced file's permissions, or what the umask gives a new file."""
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


class NotRegularFile(OSError):
    """The path names a device, FIFO, socket or folder: a report never replaces one."""

    def __init__(self, path: str) -> None:
        super().__init__(errno.EINVAL, "not a regular file (a device, pipe, socket or folder)", path)


def not_regular_file(path: str) -> bool:
    """True when ``path`` (a link followed) exists and is not a regular file."""
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return False   # a new name (or a link to one): fine
    except (OSError, ValueError):
        return False   # other trouble shows up, with its own words, when writing
    return not stat.S_ISREG(mode)


class OwnOutput(OSError):
    """The path is the file this program's own stdout or stderr already writes to.

    Renamed over it, the report would take the shell's file away from under the printed
    results (``scan -o /dev/stdout > out.txt``): they would go to a file with no name.
    """

    def __init__(self, path: str) -> None:
        super().__init__(errno.EINVAL, "the program's own output already goes there", path)


def is_own_output(path: str) -> bool:
    """True when ``path`` (links followed) is the very file open as stdout or stderr."""
    try:
        target = os.stat(path)
    except (OSError, ValueError):
        return False
    for descriptor in (1, 2):
        try:
            if os.path.samestat(target, os.fstat(descriptor)):
                return True
        except OSError:   # that stream is closed
            continue
    return False


class UnsafeLink(OSError):
    """The path is a symbolic link someone else planted in a shared folder such as /tmp."""

    def __init__(self, path: str) -> None:
        super().__init__(errno.EPERM, "a link another user planted in a shared folder", path)


MAX_LINK_HOPS = 40   # as the kernel: more hops than this is a loop


def is_planted_link(path: str) -> bool:
    """True when following ``path`` passes a link the kernel's ``protected_symlinks`` would refuse.

    In a sticky, world-writable folder (/tmp), a student can leave ``/tmp/report.txt ->
    /etc/shadow`` for root to write through.  The kernel refuses to *open* through such a
    link (unless its owner is the follower or the folder's owner); a rename onto the
    resolved target would bypass that, so the same rule is applied here, hop by hop.
    """
    euid = os.geteuid() if hasattr(os, "geteuid") else None
    if euid is None:
        return False
    # Resolved like realpath(), one name at a time, so that a planted link to a folder
    # (/tmp/scans -> /etc/cron.d) is caught as well as one to a file.
    pending = os.path.abspath(path).split(os.sep)
    resolved, hops = os.sep, 0
    while pending:
        name = pending.pop(0)
        if name in ("", "."):
            continue
        if name == "..":
            resolved = os.path.dirname(resolved)
            continue
        candidate = os.path.join(resolved, name)
        try:
            info = os.lstat(candidate)
            if not stat.S_ISLNK(info.st_mode):
                resolved = candidate
                continue
            folder = os.stat(resolved)
            target = os.readlink(candidate)
        except (OSError, ValueError):
            return False   # a new name from here on: nothing left to follow
        shared = folder.st_mode & stat.S_ISVTX and folder.st_mode & stat.S_IWOTH
        if shared and info.st_uid not in (euid, folder.st_uid):
            return True
        hops += 1
        if hops > MAX_LINK_HOPS:
            return False   # a loop: is_link_loop() says so
        pending = target.split(os.sep) + pending
        if os.path.isabs(target):
            resolved = os.sep
    return False


def is_link_loop(path: str) -> bool:
    """True for a symbolic link that never arrives anywhere (a -> b -> a): renaming onto it would destroy it."""
    try:
        os.stat(path)
    except OSError as error:
        return error.errno == errno.ELOOP
    except ValueError:
        return False
    return False


HELD_SIGNALS = {getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)}


@contextlib.contextmanager
def signals_held():
    """Block Ctrl+C, SIGTERM and SIGHUP for a moment; they arrive when the block ends."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield   # other threads never receive these signals in Python; Windows has no mask
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def write_atomically(path: str, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never half.

    Raises ``NotRegularFile`` for a device, FIFO, socket or folder, ``OwnOutput`` for the
    file stdout or stderr writes to, ``UnsafeLink`` for a link another user planted in a
    shared folder, OSError otherwise (ELOOP for a link loop).
    """
    if is_link_loop(path):   # realpath() gives up on a loop and would name the link itself
        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), path)
    if is_planted_link(path):
        raise UnsafeLink(path)
    destination = os.path.realpath(path)   # through symbolic links: the link stays a link
    if not_regular_file(destination):
        raise NotRegularFile(path)
    if is_own_output(destination):
        raise OwnOutput(path)
    folder = os.path.dirname(destination)
    with signals_held():
        handle, temporary = tempfile.mkstemp(prefix=".portscan-", suffix=".tmp", dir=folder)
        try:
            os.chmod(temporary, _mode_for(destination))  # mkstemp makes 0600; a report is an ordinary file
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
                stream.write(text)
                stream.flush()
                os.fsync(stream.fileno())
            if not_regular_file(destination):   # swapped for a device while we wrote: still refuse
                raise NotRegularFile(path)
            os.replace(temporary, destination)
        except BaseException:
            try:
                os.unlink(temporary)
            except OSError:
                pass
            raise
