"""What the practice lab holds: its ports, their known answer, and the notes it can give.

A scan is only convincing when you know the right answer in advance.  The lab starts a
handful of real services on ``127.0.0.1`` (and ``::1``) at fixed offsets from a base
port, so a learner can scan them and compare what the scanner says with the truth::

    offset  port (base 8000)  what answers
       7    8007/tcp   open      echo: sends back every byte it gets (RFC 862)
      21    8021/tcp   open      FTP-style banner "220 ...", answers QUIT, then closes
      22    8022/tcp   open      SSH-style banner "SSH-2.0-...", then only listens
      23    8023/tcp   closed    nothing listens: the kernel answers with RST
      80    8080/tcp   open      a tiny web server: GET and HEAD, one HTML page
      99    8099/tcp   filtered  connects time out: SYNs are dropped
       7    8007/udp   open      UDP echo: sends every datagram back
       9    8009/udp   closed    the kernel answers with ICMP "port unreachable"

This module is only data; ``server`` opens the sockets, ``services`` answers on them,
``network`` adds the practice network and ``grading`` checks a scan against the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, NamedTuple, Tuple

from scanner.errors import NetworkError
from scanner.results import PortState

DEFAULT_BASE_PORT = 8000


@dataclass(frozen=True)
class LabService:
    """One port of the lab and the state a correct scan reports for it."""

    port: int
    protocol: str                   # "tcp" or "udp"
    expected_state: PortState
    service: str                    # stable name: echo, ftp, ssh, http, db, filtered, closed
    description: str                # one English sentence; the UI may translate by (service, protocol)
    wanted_port: int = 0            # the documented port (base + offset); 0 when the kernel chose
    addresses: tuple = ()           # where it answers, e.g. ("127.0.0.1", "::1")


class HasServices:
    """Lookups shared by everything that holds ``services`` (the lab, a practice-network host)."""

    services: tuple

    def service(self, name: str, protocol: str = "tcp") -> LabService:
        for service in self.services:
            if service.service == name and service.protocol == protocol:
                return service
        raise KeyError(f"{name}/{protocol}")

    def known_answer(self) -> Dict[Tuple[int, str], PortState]:
        """Named ports only: {(port, protocol): state}; every other port is closed."""
        return {(s.port, s.protocol): s.expected_state for s in self.services}


@dataclass(frozen=True)
class PlannedService:
    service: str
    protocol: str
    offset: int
    expected_state: PortState
    description: str


LAB_LAYOUT = (
    PlannedService("echo", "tcp", 7, PortState.OPEN, "Echo: sends back every byte it receives (RFC 862)."),
    PlannedService("ftp", "tcp", 21, PortState.OPEN,
                   "FTP-style banner: greets with a 220 line, answers QUIT, then closes."),
    PlannedService("ssh", "tcp", 22, PortState.OPEN,
                   "SSH-style banner: sends its version line, then only listens."),
    PlannedService("closed", "tcp", 23, PortState.CLOSED,
                   "Closed: bound but not listening, so connects are refused (RST)."),
    PlannedService("http", "tcp", 80, PortState.OPEN, "A tiny web server: answers GET and HEAD with one HTML page."),
    PlannedService("filtered", "tcp", 99, PortState.FILTERED,
                   "Filtered: the accept queue is kept full, so SYNs are dropped and connects time out."),
    PlannedService("echo", "udp", 7, PortState.OPEN, "UDP echo: sends every datagram back."),
    PlannedService("closed", "udp", 9, PortState.CLOSED, "Closed UDP: datagrams get ICMP port unreachable."),
)


class LabNote(NamedTuple):
    """Something the learner should know about this run of the lab; ``code`` is stable.

    Codes: ``moved`` (service, protocol, wanted, got), ``ipv6_unavailable`` (detail),
    ``ipv6_skipped`` (service, protocol, port, detail), ``filtered_unavailable`` (port,
    observed, platform), ``network_unavailable`` (address, command, detail) and
    ``network_skipped`` (host) for the practice network.
    """

    code: str
    params: dict


class LabStartError(NetworkError):
    """The lab could not open its sockets (no free port in the block, an address not on this machine)."""
