"""Checking a scan against the lab's known answer, port by port and host by host.

The result is data, not sentences: the screen (``lessons.ui.screens.lab``) turns it into words
in the learner's language, with the reason for each answer.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Mapping, Optional

from lessons.lab.layout import LabService
from scanner.inputs import is_loopback_address
from scanner.results import PortState, Reason, ScanReport


@dataclass(frozen=True)
class ServiceVerdict:
    """What the scan said about one lab port, next to what it should have said."""

    service: LabService
    observed: Optional[PortState]   # None when the scan did not cover this port
    reason: Optional[Reason]

    @property
    def scanned(self) -> bool:
        return self.observed is not None

    @property
    def matches(self) -> bool:
        return self.observed is self.service.expected_state

    @property
    def verdict(self) -> str:
        """"match", "mismatch" or "not_scanned"."""
        if self.observed is None:
            return "not_scanned"
        return "match" if self.matches else "mismatch"


@dataclass(frozen=True)
class LabComparison:
    """A scan report checked against the lab, as data for the UI to put into sentences.

    Only the lab's services of the report's protocol count.  ``unexpected_open`` lists
    every port the scan saw open that the lab does not expect open, including ports
    outside the lab (another program on this machine): worth a look either way.
    """

    protocol: str
    target_is_lab: bool             # the scan was aimed at an address the lab answers on
    complete: bool                  # the scan finished (not stopped early)
    expected_open: tuple            # every lab port that should be open
    found_open: tuple               # ... and the scan saw open
    missed_open: tuple              # ... that was scanned but not seen open
    unexpected_open: tuple          # seen open but not expected open
    filtered_matches: tuple         # lab ports expected filtered and seen filtered
    not_scanned: tuple              # lab ports outside the ports requested (or not finished)
    verdicts: tuple = field(default_factory=tuple)   # ServiceVerdict per lab port, in port order

    @property
    def all_match(self) -> bool:
        return bool(self.verdicts) and all(v.matches for v in self.verdicts) and not self.unexpected_open


def compare_services(report: ScanReport, services, hosts) -> LabComparison:
    """Check ``report`` against ``services`` (LabService), which answer on ``hosts``."""
    protocol = report.protocol
    seen = {result.port: result for result in report.results}
    services = [s for s in services if s.protocol == protocol]
    verdicts = tuple(ServiceVerdict(s, seen[s.port].state if s.port in seen else None,
                                    seen[s.port].reason if s.port in seen else None) for s in services)
    expected_open = {s.port for s in services if s.expected_state is PortState.OPEN}
    seen_open = {port for port, result in seen.items() if result.state is PortState.OPEN}
    address = report.target.address
    target_is_lab = address in hosts or (
        any(ipaddress.ip_address(host).is_unspecified for host in hosts) and is_loopback_address(address))
    return LabComparison(
        protocol=protocol,
        target_is_lab=target_is_lab,
        complete=report.complete,
        expected_open=tuple(sorted(expected_open)),
        found_open=tuple(sorted(expected_open & seen_open)),
        missed_open=tuple(sorted(port for port in expected_open - seen_open if port in seen)),
        unexpected_open=tuple(sorted(seen_open - expected_open)),
        filtered_matches=tuple(v.service.port for v in verdicts
                               if v.service.expected_state is PortState.FILTERED and v.matches),
        not_scanned=tuple(v.service.port for v in verdicts if not v.scanned),
        verdicts=verdicts,
    )


def compare(report: ScanReport, lab) -> LabComparison:
    """Check ``report`` against the lab's known answer (its 127.0.0.1 / ::1 services)."""
    return compare_services(report, lab.services, lab.hosts)


# --- the practice network ----------------------------------------------------------------------

@dataclass(frozen=True)
class HostVerdict:
    """One address of the practice network: up or down as expected, and its ports.

    ``why`` is a stable code for the screen's sentence:
    ``answers``       up, as every loopback address is (SYN-ACK or RST came back);
    ``looked_down``   reported down, yet loopback always answers: only packet filtering
                      (root, e.g. an iptables DROP rule) or a scan problem can do that;
    ``not_scanned``   the scan did not cover this address;
    ``no_machine``    down, rightly: in a namespace nothing holds this address (ARP gets no answer);
    ``looked_up``     reported up, yet no machine holds this address.
    """

    address: str
    name: str                       # web, db, odd, quiet; "spare" for another address of the block
    expected_up: bool
    observed_up: Optional[bool]     # None when not scanned
    ports: Optional[LabComparison]  # None when down or not scanned
    why: str

    @property
    def verdict(self) -> str:
        if self.observed_up is None:
            return "not_scanned"
        if self.observed_up != self.expected_up:
            return "mismatch"
        if self.ports is not None and not all(v.matches for v in self.ports.verdicts):
            return "mismatch"
        # Ports open but not in the answer (``ports.unexpected_open``) are worth a look, not wrong:
        # a program listening on every address (0.0.0.0) answers on every 127.x.x.x host too.
        return "match"


@dataclass(frozen=True)
class NetworkComparison:
    block: str
    hosts: tuple                    # HostVerdict per address, named hosts first, then spare ones
    outside_block: tuple = ()       # addresses reported that are not in the block at all

    @property
    def all_match(self) -> bool:
        return bool(self.hosts) and all(h.verdict == "match" for h in self.hosts)

    def host(self, address: str) -> HostVerdict:
        return next(h for h in self.hosts if h.address == address)


_NOT_SCANNED = object()


def _host_verdict(address: str, name: str, services, report, expected_up: bool = True) -> HostVerdict:
    if report is _NOT_SCANNED:
        return HostVerdict(address, name, expected_up, None, None, "not_scanned")
    if report is None:
        return HostVerdict(address, name, expected_up, False, None, "looked_down" if expected_up else "no_machine")
    if not expected_up:
        return HostVerdict(address, name, False, True, None, "looked_up")
    return HostVerdict(address, name, True, True, compare_services(report, services, (address,)), "answers")


def compare_network(host_reports: Mapping[str, Optional[ScanReport]], lab) -> NetworkComparison:
    """Grade a scan of the practice network: ``host_reports`` maps each address to its report.

    ``None`` means the scan reported that host down.  ``lab`` is a running PracticeLab
    started with ``network=True`` (or a PracticeNetwork).  On loopback every host is up:
    a host can only look down behind packet filtering, which needs root.
    """
    network = getattr(lab, "network", None) or lab
    reports = dict(host_reports)
    verdicts = [_host_verdict(host.address, host.name, host.services, reports.pop(host.address, _NOT_SCANNED),
                              host.expected_up) for host in network.hosts]
    outside = []
    for address in sorted(reports, key=_address_key):
        if network.in_block(address):   # another address of the block: up, nothing open
            verdicts.append(_host_verdict(address, "spare", (), reports[address], getattr(network, "spare_up", True)))
        else:
            outside.append(address)
    return NetworkComparison(network.block, tuple(verdicts), tuple(outside))


def _address_key(address: str):
    try:
        return (0, ipaddress.ip_address(address))
    except ValueError:
        return (1, address)
