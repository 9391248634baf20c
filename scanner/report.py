"""Scan reports as data other tools can read: JSON and CSV.

The JSON layout is a contract: scripts and lab write-ups read it, so fields are only
ever added, never renamed.  ``ports`` lists every port that is not closed (every port
with ``include_closed``); closed ports are summed up in ``counts``.

Writing a report to a file safely (atomically, never over a device or a planted link) is
the program's job, not the library's: see ``lessons/ui/reports.py``.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json

from scanner.results import PortState, ScanReport

CSV_COLUMNS = ("port", "protocol", "state", "reason", "service", "banner", "tries", "service_source")
PORT_TABLE = "port-table"   # service_source of a name that is only the port table's guess


def listed_results(report: ScanReport, include_closed: bool = False) -> list:
    return [r for r in report.results if include_closed or r.state is not PortState.CLOSED]


def port_row(result) -> dict:
    return {"port": result.port, "protocol": result.protocol, "state": result.state.value,
            "reason": result.reason.value, "service": result.service, "banner": result.banner,
            "tries": result.tries, "service_source": service_source(result)}


def service_source(result) -> str:
    """How the result's service was named: "greeting", "HEAD", "PING"..., "port-table" or ""."""
    return result.service_source or (PORT_TABLE if result.service else "")


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
        "banner_seconds": report.banner_seconds,
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
    """A copy of ``report`` whose results carry the grabbed banners.

    ``banners`` maps a port to its banner text, or to an answer with ``banner``, ``service``
    and ``source`` (``scanner.banners.ServiceAnswer``): a service named from what it said
    replaces the port table's guess.
    """
    def told(result, answer):
        if isinstance(answer, str):
            return dataclasses.replace(result, banner=answer)
        if answer.service:
            return dataclasses.replace(result, banner=answer.banner, service=answer.service,
                                       service_source=answer.source)
        return dataclasses.replace(result, banner=answer.banner)

    results = [told(r, banners[r.port]) if r.port in banners else r for r in report.results]
    return dataclasses.replace(report, results=results)


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
        "workers": network.workers,
        "started": network.started,
        "elapsed_seconds": network.elapsed_seconds,
        "complete": network.complete,
        "interrupted": network.interrupted,
        "discovery": {"ping": network.ping, "ports": list(network.discovery_ports) if network.ping else []},
        "consent": network.consent,
        "totals": network.totals(),
        "hosts": [host_to_dict(host, include_closed) for host in network.hosts],
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
