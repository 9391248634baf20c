"""Scan reports as data other tools can read: JSON and CSV, written atomically.

The JSON layout is a contract: scripts and lab write-ups read it, so fields are only
ever added, never renamed.  ``ports`` lists every port that is not closed (every port
with ``include_closed``); closed ports are summed up in ``counts``.

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
file behind.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import contextlib
import errno
import os
import signal
import stat
import tempfile
import threading

from scanner.errors import InputError
from scanner.inputs import parse_timeout
from scanner.results import PortState, ScanReport
from scanner.version import __version__

CSV_COLUMNS = ("port", "protocol", "state", "reason", "service", "banner", "tries")


def listed_results(report: ScanReport, include_closed: bool = False) -> list:
    return [r for r in report.results if include_closed or r.state is not PortState.CLOSED]


def port_row(result) -> dict:
    return {"port": result.port, "protocol": result.protocol, "state": result.state.value,
            "reason": result.reason.value, "service": result.service, "banner": result.banner,
            "tries": result.tries}


# A spreadsheet runs a cell that starts with one of these as a formula.  Banners come from
# whoever runs the server, so a CSV cell must never start with one ("=HYPERLINK(...)").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _spreadsheet_safe(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def timeout_fields(timeout: str) -> dict:
    """``timeout`` is the setting as typed ("0.5" or "auto"); scripts also get it as a number.

    ``timeout_seconds`` is the per-port timeout a scan starts with (auto starts at 1 s and
    adapts: ``final_timeout`` says where it ended); ``timeout_mode`` is "fixed" or "auto"."""
    try:
        setting = parse_timeout(timeout)
    except InputError:   # never expected: reports are built from a parsed setting
        return {"timeout_seconds": None, "timeout_mode": "fixed"}
    return {"timeout_seconds": setting.seconds, "timeout_mode": "auto" if setting.auto else "fixed"}


def to_dict(report: ScanReport, include_closed: bool = False) -> dict:
    counts = report.counts()
    return {
        "target": report.target.text,
        "address": report.target.address,
        "family": report.target.family_name,
        "protocol": report.protocol,
        "ports_scanned": report.ports_scanned,
        "ports_requested": len(report.ports_requested),
        "timeout": report.timeout,
        **timeout_fields(report.timeout),                       # timeout_seconds, timeout_mode
        "final_timeout": report.final_timeout,
        "workers": report.workers,
        "started": report.started,
        "elapsed_seconds": report.elapsed_seconds,
        "banner_seconds": report.banner_seconds,
        "complete": report.complete,
        "interrupted": report.interrupted,
        "self_connects_retried": report.retried_self_connects,
        "retried": report.retried,                              # ports that answered only on a retry
        "rate_limit_per_second": report.rate_limit_per_second,  # answer ceiling the scan slowed to, or null
        "consent": report.consent,
        "counts": counts,
        "ports": [port_row(r) for r in listed_results(report, include_closed)],
        "version": __version__,                                 # the portscan-lab that wrote the report
    }


def to_json(report: ScanReport, include_closed: bool = False) -> str:
    return json.dumps(to_dict(report, include_closed), indent=2, ensure_ascii=False) + "\n"


def to_csv(report: ScanReport, include_closed: bool = False) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for result in listed_results(report, include_closed):
        writer.writerow({key: _spreadsheet_safe(value) for key, value in port_row(result).items()})
    return buffer.getvalue()


def with_banners(report: ScanReport, banners: dict) -> ScanReport:
    """A copy of ``report`` whose results carry the grabbed banners."""
    results = [dataclasses.replace(r, banner=banners[r.port]) if r.port in banners else r for r in report.results]
    return dataclasses.replace(report, results=results)


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


# --- networks ----------------------------------------------------------------------------
# A target that names more than one address gets its own shape: the scan's settings once,
# then a ``hosts`` list (every address, up or down, with the reason) and ``totals``.  A
# single address keeps the shape above, so scripts written for it never break.

NETWORK_CSV_COLUMNS = ("host",) + CSV_COLUMNS
NO_COUNTS = {state.value: 0 for state in PortState if state is not PortState.OPEN_FILTERED}


def host_to_dict(host, include_closed: bool = False) -> dict:
    """One host of a ``scanner.network.NetworkReport``: target, address, state, reason, ports, counts."""
    report = host.report
    entry = {"target": host.target.text, "address": host.address, "family": host.target.family_name,
             "state": host.state.value, "reason": host.reason, "reason_port": host.reason_port,
             "scanned": report is not None,
             "ports": [port_row(r) for r in listed_results(report, include_closed)] if report else [],
             "counts": report.counts() if report else dict(NO_COUNTS)}
    if report is not None:
        entry.update(complete=report.complete, elapsed_seconds=report.elapsed_seconds,
                     final_timeout=report.final_timeout, banner_seconds=report.banner_seconds)
    return entry


def network_to_dict(network, include_closed: bool = False) -> dict:
    return {
        "target": network.spec,
        "protocol": network.protocol,
        "ports_requested": len(network.ports_requested),
        "timeout": network.timeout,
        **timeout_fields(network.timeout),
        "workers": network.workers,
        "started": network.started,
        "elapsed_seconds": network.elapsed_seconds,
        "complete": network.complete,
        "interrupted": network.interrupted,
        "discovery": {"ping": network.ping, "ports": list(network.discovery_ports) if network.ping else []},
        "consent": network.consent,
        "totals": network.totals(),
        "hosts": [host_to_dict(host, include_closed) for host in network.hosts],
        "version": __version__,
    }


def network_to_json(network, include_closed: bool = False) -> str:
    return json.dumps(network_to_dict(network, include_closed), indent=2, ensure_ascii=False) + "\n"


def network_to_csv(network, include_closed: bool = False) -> str:
    """One row per listed port, with the host's address first (down hosts have no ports)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=NETWORK_CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for host in network.hosts:
        if host.report is None:
            continue
        for result in listed_results(host.report, include_closed):
            row = {"host": host.address, **port_row(result)}
            writer.writerow({key: _spreadsheet_safe(value) for key, value in row.items()})
    return buffer.getvalue()
