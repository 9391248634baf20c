"""Grading a saved scan report against a challenge's hidden truth, port by port and host by host.

A learner who scanned with ``scan ... -o scan.json`` (or any tool that writes the same JSON)
hands the file in.  Each port and host the truth names gets a verdict:

    right    the report says what the truth is
    missed   the report does not have it, or calls it something weaker, and why:
             ``range``    the port was not in the scanned range (open and filtered ports
                          are always listed, so an absent one was never probed)
             ``timeout``  it answered, but later than the scan waited: it looked filtered
             ``block``    the host's address was outside the scanned block
             ``discovery`` host discovery found no answer on its four ports (a firewall):
                          ``--no-ping`` scans it anyway
             ``interrupted`` the scan was stopped before it got there
    wrong    the report says something the truth contradicts (an invented open port, a
             down host reported up, a closed port reported filtered)

The report shapes are the README's: one host (``address``, ``ports``) or a network
(``hosts``: each with ``address``, ``state``, ``ports``).  Only the protocol the report
scanned is graded.  Pure: takes the parsed JSON, returns ``ReportGrade``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

from lessons.lab.challenges.plan import HostPlan, PortPlan, TargetPlan
from scanner.errors import clip

STATES = ("open", "closed", "filtered", "open|filtered", "up", "down")
LONGEST_WAIT = 3600.0        # a report's timeout beyond this (or not a number) is not believed

# Wait at least this long (seconds) for a namespace target with loss: shorter looks filtered.
SHORT_TIMEOUT = 0.3
# A connect scan almost never calls a port open that is not: more such claims than this is a
# report written by hand to learn the answer, and it gets no verdict port by port.
MOST_FALSE_OPEN = 2


@dataclass
class ItemGrade:
    verdict: str              # right, missed, wrong
    address: str
    port: int = 0             # 0: the host itself
    protocol: str = "tcp"
    expected: str = ""
    reported: str = ""        # "" when the report does not have it
    reason: str = ""          # range, timeout, block, discovery, interrupted, invented, ...
    values: dict = field(default_factory=dict)


@dataclass
class ReportGrade:
    items: List[ItemGrade]
    problem: str = ""         # a report that cannot be graded: not_a_report, wrong_target, invented

    def count(self, verdict: str) -> int:
        return sum(1 for item in self.items if item.verdict == verdict)

    @property
    def missed(self) -> List[ItemGrade]:
        return [item for item in self.items if item.verdict != "right"]


def clean_report(data):
    """The parsed JSON with only what grading reads, each value of the type it expects.

    A handed-in file is untrusted: any field may be missing, of the wrong type, NaN, huge,
    or a string full of terminal escapes.  Returns None when ``data`` is no report at all."""
    if not isinstance(data, dict) or not ("hosts" in data or "ports" in data):
        return None
    report = {"protocol": data.get("protocol") if data.get("protocol") in ("tcp", "udp") else "tcp",
              "complete": data.get("complete") if isinstance(data.get("complete"), bool) else None,
              "final_timeout": _seconds(data.get("final_timeout"))}
    if "hosts" in data:
        if not isinstance(data["hosts"], list):
            return None
        report["hosts"] = [_clean_host(h) for h in data["hosts"] if isinstance(h, dict)]
    else:
        report.update(_clean_host(data), state="up")
        report.pop("scanned", None)
    return report


def _clean_host(entry: dict) -> dict:
    host = {"address": _text(entry.get("address")), "state": _state(entry.get("state"), "up"),
            "final_timeout": _seconds(entry.get("final_timeout")), "ports": []}
    if entry.get("scanned") is False:
        host["scanned"] = False
    rows = entry.get("ports") if isinstance(entry.get("ports"), list) else []
    for row in rows:
        port = row.get("port") if isinstance(row, dict) else None
        if isinstance(port, int) and not isinstance(port, bool) and 1 <= port <= 65535:
            host["ports"].append({"port": port, "protocol": row.get("protocol") if row.get("protocol") in
                                  ("tcp", "udp") else "tcp", "state": _state(row.get("state"), "?")})
    return host


def _text(value) -> str:
    return clip(value, 60) if isinstance(value, str) else ""


def _state(value, otherwise: str) -> str:
    if value is None:
        return otherwise
    return value if value in STATES else (clip(value, 20) if isinstance(value, str) else "?")


def _seconds(value) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) \
            and 0 <= value <= LONGEST_WAIT:
        return float(value)
    return 0.0


def _rows(entry: dict) -> Dict[tuple, dict]:
    rows = {}
    for row in entry.get("ports") or []:
        if isinstance(row, dict) and isinstance(row.get("port"), int):
            rows[(row["port"], str(row.get("protocol", "tcp")))] = row
    return rows


def grade_report(data, plan: TargetPlan, address_of: Callable[[int], str]) -> ReportGrade:
    """Every host and named port of ``plan`` against the report ``data`` (parsed JSON, any shape)."""
    data = clean_report(data)
    if data is None:
        return ReportGrade([], "not_a_report")
    protocol = str(data.get("protocol", "tcp"))
    interrupted = data.get("complete") is False
    if "hosts" in data:
        entries = {h["address"]: h for h in data["hosts"]}
    else:
        entries = {str(data.get("address")): dict(data, state="up")}
    known = {address_of(h.number) for h in plan.hosts}
    if not known & set(entries):
        return ReportGrade([], "wrong_target")
    items: List[ItemGrade] = []
    single = "hosts" not in data
    for host in plan.hosts:
        address = address_of(host.number)
        entry = entries.get(address)
        if single and entry is None:
            continue   # a one-host report grades that host only
        items.extend(_grade_host(host, address, entry, protocol, interrupted,
                                 data["final_timeout"] or (entry or {}).get("final_timeout") or 0.0))
    for address, entry in entries.items():
        if address not in known and entry.get("state") == "up" and plan.network:
            items.append(ItemGrade("wrong", address, expected="down", reported="up", reason="no_machine"))
    if sum(1 for item in items if item.verdict == "wrong" and item.reported == "open") > MOST_FALSE_OPEN:
        return ReportGrade([], "invented")   # graded port by port, "everything open" would reveal the key
    return ReportGrade(items)


def _grade_host(host: HostPlan, address: str, entry: Optional[dict], protocol: str, interrupted: bool,
                waited: float) -> List[ItemGrade]:
    expected_up = "down" if host.role == "down" else "up"
    if entry is None:
        reason = "interrupted" if interrupted else "block"
        verdict = "right" if expected_up == "down" else "missed"
        return [ItemGrade(verdict, address, expected=expected_up, reported="", reason="" if verdict == "right"
                          else reason)]
    reported_up = str(entry.get("state", "up"))
    if expected_up == "down":
        verdict = "right" if reported_up == "down" else "wrong"
        return [ItemGrade(verdict, address, expected="down", reported=reported_up,
                          reason="" if verdict == "right" else "no_machine")]
    if reported_up != "up" or entry.get("scanned") is False:
        opened = [p.port for p in host.ports if p.state == "open"]
        return [ItemGrade("missed", address, expected="up", reported=reported_up,
                          reason="discovery" if host.role == "filtered" else "timeout",
                          values={"port": opened[0] if opened else "", "timeout": waited})]
    items = [ItemGrade("right", address, expected="up", reported="up")]
    rows = _rows(entry)
    waited = float(entry.get("final_timeout") or waited or 0)
    for port in host.ports:
        if port.protocol == protocol:
            items.append(_grade_port(port, address, rows.get((port.port, port.protocol)), interrupted, waited))
    named = {(p.port, p.protocol) for p in host.ports}
    for (number, row_protocol), row in rows.items():
        if (number, row_protocol) not in named and row.get("state") == "open" and row_protocol == protocol:
            items.append(ItemGrade("wrong", address, number, row_protocol, host.state_of(number, row_protocol),
                                   "open", "invented"))
    return items


def _grade_port(port: PortPlan, address: str, row: Optional[dict], interrupted: bool, waited: float) -> ItemGrade:
    reported = str(row.get("state")) if row else ""
    expected = port.state
    item = ItemGrade("right", address, port.port, port.protocol, expected, reported,
                     values={"timeout": waited, "how": port.how})
    absent_means_closed = expected == "closed"
    if reported == expected or (absent_means_closed and not reported):
        return item
    if not reported:
        item.verdict, item.reason = "missed", "interrupted" if interrupted else "range"
    elif expected == "open" and reported in ("filtered", "open|filtered"):
        item.verdict, item.reason = "missed", "timeout"
    elif expected == "closed" and reported in ("filtered", "open|filtered"):
        item.verdict, item.reason = "wrong", "timeout" if port.protocol == "tcp" else "icmp_limit"
    else:
        item.verdict, item.reason = "wrong", "contradicts"
    return item
