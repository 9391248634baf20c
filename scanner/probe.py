"""One TCP connect probe, and what its answer means.

A *connect scan* asks the operating system to open a real TCP connection, exactly as a
web browser would, and reads the outcome::

    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(0.5)
    code = s.connect_ex(("127.0.0.1", 22))   # 0, or an errno number

``connect_ex`` returns an error number instead of raising, which is handy for a scanner.
The numbers map to port states the way nmap maps them (see ``classify``).  With a
timeout set, Linux reports "no answer in time" as ``EAGAIN`` (11), not as an exception.

One trap is special to scanning your own machine: the kernel picks a random *source*
port for every connection, and if it happens to pick the very port being scanned, the
socket connects to itself.  Naive scanners then report a port as open although nothing
listens there.  We detect that (``getsockname() == getpeername()``) and probe again.
"""

from __future__ import annotations

import errno
import socket
import time
from dataclasses import dataclass
from typing import Optional, Tuple

from scanner.results import PortState, Reason

MAX_SELF_CONNECT_RETRIES = 5     # a fresh socket gets a fresh source port, so this is plenty


def _codes(*names: str) -> frozenset:
    return frozenset(code for code in (getattr(errno, n, None) for n in names) if code is not None)


OPEN_CODES = frozenset({0})
# A reset *after* the handshake completed (a service that accepts and closes at once with
# SO_LINGER 0): the connection existed, so the port is open.  A refused SYN says ECONNREFUSED.
RESET_CODES = _codes("ECONNRESET", "WSAECONNRESET")
REFUSED_CODES = _codes("ECONNREFUSED", "WSAECONNREFUSED")
TIMEOUT_CODES = _codes("EAGAIN", "EWOULDBLOCK", "ETIMEDOUT", "WSAETIMEDOUT", "WSAEWOULDBLOCK")
HOST_UNREACH_CODES = _codes("EHOSTUNREACH", "EHOSTDOWN", "WSAEHOSTUNREACH", "WSAEHOSTDOWN")
NET_UNREACH_CODES = _codes("ENETUNREACH", "ENETDOWN", "WSAENETUNREACH", "WSAENETDOWN")
PROHIBITED_CODES = _codes("EACCES", "EPERM", "WSAEACCES")
# Out of our own resources: never a port state; wait for sockets to close and try again.
RESOURCE_CODES = _codes("EMFILE", "ENFILE", "ENOBUFS", "ENOMEM", "EADDRNOTAVAIL",
                        "WSAEMFILE", "WSAENOBUFS", "WSAEADDRNOTAVAIL")
IN_PROGRESS_CODES = _codes("EINPROGRESS", "EALREADY", "EWOULDBLOCK", "EAGAIN",
                           "WSAEWOULDBLOCK", "WSAEINPROGRESS")


# What a connect_ex() result says about the port, in the order nmap reads the evidence.
VERDICTS = (
    (OPEN_CODES, (PortState.OPEN, Reason.SYN_ACK)),                     # the handshake finished
    (RESET_CODES, (PortState.OPEN, Reason.SYN_ACK)),                    # ... and was reset at once
    (REFUSED_CODES, (PortState.CLOSED, Reason.CONN_REFUSED)),           # RST: nothing listens
    (TIMEOUT_CODES, (PortState.FILTERED, Reason.NO_RESPONSE)),          # silence until the timeout
    (HOST_UNREACH_CODES, (PortState.FILTERED, Reason.HOST_UNREACH)),    # ICMP host unreachable
    (NET_UNREACH_CODES, (PortState.FILTERED, Reason.NET_UNREACH)),      # ICMP network unreachable
    (PROHIBITED_CODES, (PortState.FILTERED, Reason.ADMIN_PROHIBITED)),  # a local firewall said no
    (RESOURCE_CODES, None),                                             # our problem: retry later
)


def classify(code: int) -> Optional[Tuple[PortState, Reason]]:
    """Map a ``connect_ex`` result to (state, reason); None means "our problem, retry"."""
    for codes, verdict in VERDICTS:
        if code in codes:
            return verdict
    # Anything else (EINVAL, EPIPE...) proves nothing about the port: say so.
    return PortState.FILTERED, Reason.ERROR


def is_self_connected(sock: socket.socket) -> bool:
    """True when the socket's own address is also its peer: it connected to itself."""
    try:
        return sock.getsockname() == sock.getpeername()
    except OSError:
        return False


def sockaddr_for(address: str, family: int, port: int) -> tuple:
    """The address tuple connect() wants: (host, port) for IPv4, (host, port, flowinfo, scope_id) for IPv6."""
    return (address, port, 0, 0) if family == socket.AF_INET6 else (address, port)


@dataclass(frozen=True)
class ProbeOutcome:
    """Everything one blocking probe saw, for the slow-motion lesson and for tests."""

    port: int
    code: int               # what connect_ex returned (0, ECONNREFUSED, EAGAIN, ...)
    state: PortState
    reason: Reason
    rtt: float
    self_connects: int      # how many attempts connected to themselves and were retried

    @property
    def code_name(self) -> str:
        return "0" if self.code == 0 else errno.errorcode.get(self.code, str(self.code))


def probe_port(address: str, port: int, timeout: float, family: int = socket.AF_INET,
               max_self_connect_retries: int = MAX_SELF_CONNECT_RETRIES) -> ProbeOutcome:
    """Probe one port with a blocking ``connect_ex``; retries a self-connection."""
    self_connects = 0
    while True:
        started = time.monotonic()
        try:
            with socket.socket(family, socket.SOCK_STREAM) as sock:
                sock.settimeout(timeout)
                code = sock.connect_ex(sockaddr_for(address, family, port))
                rtt = time.monotonic() - started
                if code == 0 and is_self_connected(sock):
                    self_connects += 1
                    if self_connects <= max_self_connect_retries:
                        continue
                    return ProbeOutcome(port, code, PortState.CLOSED, Reason.SELF_CONNECT, rtt, self_connects)
        except OSError as error:  # socket() itself failed, e.g. EMFILE
            code = error.errno or 0
            rtt = time.monotonic() - started
            if code in RESOURCE_CODES:
                raise
        verdict = classify(code)
        if verdict is None:
            raise OSError(code, "out of local resources while probing")
        return ProbeOutcome(port, code, verdict[0], verdict[1], rtt, self_connects)
