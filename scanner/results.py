"""What a scan found, as plain data.

A port probe ends in one of a few *states*.  The state alone is not the whole story, so
every result also keeps the *reason* — the evidence — named the way nmap names it:

    open      syn-ack        the handshake finished: a program accepts connections
    closed    conn-refused   the host answered with RST: nothing listens there
    filtered  no-response    nothing came back before the timeout (a firewall dropped it)
    filtered  host-unreach   an ICMP "host unreachable" error came back
    filtered  net-unreach    an ICMP "network unreachable" error came back

UDP adds ``open|filtered``: silence, which for UDP cannot be told apart.

These classes are frozen dataclasses so results can be shared between threads and
compared in tests without surprises.
"""

from __future__ import annotations

import collections
import enum
import ipaddress
from dataclasses import dataclass
from typing import Optional, Sequence


class PortState(str, enum.Enum):
    OPEN = "open"
    CLOSED = "closed"
    FILTERED = "filtered"
    OPEN_FILTERED = "open|filtered"

    def __str__(self) -> str:  # so f"{state}" prints "open", not "PortState.OPEN"
        return self.value


class Reason(str, enum.Enum):
    SYN_ACK = "syn-ack"
    CONN_REFUSED = "conn-refused"
    NO_RESPONSE = "no-response"
    HOST_UNREACH = "host-unreach"
    NET_UNREACH = "net-unreach"
    UDP_RESPONSE = "udp-response"
    PORT_UNREACH = "port-unreach"
    ADMIN_PROHIBITED = "admin-prohibited"
    SELF_CONNECT = "self-connect"
    ERROR = "error"                 # an unexpected error code: no evidence either way

    def __str__(self) -> str:
        return self.value


def is_loopback_address(address: str) -> bool:
    """True for 127.0.0.0/8 and ::1 (and IPv4-mapped loopback): traffic that never leaves this machine."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or bool(mapped and mapped.is_loopback)


@dataclass(frozen=True)
class PortResult:
    port: int
    state: PortState
    reason: Reason
    protocol: str = "tcp"
    service: str = ""
    banner: str = ""
    rtt: Optional[float] = None  # seconds from connect() to the answer; None when none came
    tries: int = 1               # probes sent before the answer (more than 1: silence was asked again)
    service_source: str = ""     # how ``service`` was named: "greeting", the request it answered
                                 # ("HEAD", "PING", "SSLRequest"), or "" = the port table's guess


@dataclass(frozen=True)
class Target:
    """A host the learner typed, and the address it resolved to."""

    text: str          # exactly what was typed (stripped)
    host: str          # the host part, without brackets or port
    address: str       # the IP address that will be scanned
    family: int        # socket.AF_INET or socket.AF_INET6
    all_addresses: tuple = ()  # every address getaddrinfo returned, for the lesson

    @property
    def family_name(self) -> str:
        return "ipv6" if ":" in self.address else "ipv4"

    @property
    def is_loopback(self) -> bool:
        return is_loopback_address(self.address)


@dataclass
class ScanReport:
    target: Target
    ports_requested: tuple          # every port that was asked for, ascending
    results: Sequence               # PortResult for every port that got an answer (or timed out), by port
    timeout: str                    # "0.5" or "auto"
    final_timeout: float            # the per-port timeout in force at the end (auto adapts)
    workers: int
    started: str                    # ISO 8601 time, UTC
    elapsed_seconds: float
    complete: bool                  # False when the scan was stopped early
    interrupted: bool = False       # True when Ctrl+C (KeyboardInterrupt) stopped it
    banners_skipped: bool = False   # Ctrl+C came during the banner pass, after a complete scan
    protocol: str = "tcp"
    consent: Optional[dict] = None  # {"statement": ..., "time": ...} when the learner agreed
    retried_self_connects: int = 0  # probes thrown away because the socket met itself
    banner_seconds: float = 0.0     # the banner pass after the scan (elapsed_seconds is the scan alone)
    retried: int = 0                # ports that answered only on a retry: the network lost packets
    rate_limit_per_second: Optional[int] = None  # the answer ceiling the scan slowed down to, if any
    retries: str = "auto"           # how many times silence was asked again: "auto" or a number
    file_limited_sockets: Optional[int] = None  # probes in flight a low open-file limit (ulimit -n) allowed

    def counts(self) -> dict:
        """How many ports ended in each state: {"open": n, "closed": n, "filtered": n, ...}."""
        fast = getattr(self.results, "count_by_state", None)   # the engine's compact results
        tally = fast() if fast else collections.Counter(result.state for result in self.results)  # one C-level pass
        counts = {state.value: 0 for state in PortState if state is not PortState.OPEN_FILTERED}
        for state, number in tally.items():
            counts[state.value] = number
        return counts

    def by_state(self, state: PortState) -> list:
        fast = getattr(self.results, "of_state", None)
        return fast(state) if fast else [r for r in self.results if r.state is state]

    @property
    def ports_scanned(self) -> int:
        return len(self.results)
