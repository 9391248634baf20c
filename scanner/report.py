"""Scan reports as data other tools can read: JSON and CSV, written atomically.

The JSON layout is a contract: scripts and lab write-ups read it, so fields are only
ever added, never renamed.  ``ports`` lists every port that is not closed (every port
with ``include_closed``); closed ports are summed up in ``counts``.

A report is written *atomically*: first to a temporary file in the same folder, then
renamed over the real name.  A crash or Ctrl+C in the middle can never leave half a
report behind, because a rename within one file system is all-or-nothing.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import tempfile

from scanner.results import PortState, ScanReport

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
        "final_timeout": report.final_timeout,
        "workers": report.workers,
        "started": report.started,
        "elapsed_seconds": report.elapsed_seconds,
        "complete": report.complete,
        "interrupted": report.interrupted,
        "self_connects_retried": report.retried_self_connects,
        "retried": report.retried,                              # ports that answered only on a retry
        "rate_limit_per_second": report.rate_limit_per_second,  # answer ceiling the scan slowed to, or null
        "consent": report.consent,
        "counts": counts,
        "ports": [port_row(r) for r in listed_results(report, include_closed)],
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


def write_atomically(path: str, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never half."""
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".portscan-", suffix=".tmp", dir=folder)
    try:
        os.chmod(temporary, _mode_for(path))  # mkstemp makes 0600; a report is an ordinary file
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise
