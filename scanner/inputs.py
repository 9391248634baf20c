"""Turning what a learner types into values a scanner can use — or into a clear message.

Every piece of input is parsed here and nowhere else, so every mistake gets the same kind
of answer: an ``InputError`` (see ``scanner.errors``) whose message says what was wrong and
what would work.  The parsers accept what people really type:

* hosts: ``127.0.0.1``, ``::1``, ``[::1]``, ``localhost``, ``example.com``.  Names are
  resolved with ``socket.getaddrinfo`` — the modern call that knows IPv4 *and* IPv6 —
  rather than ``gethostbyname``, which only ever returns one IPv4 address.
* ports: ``22``, ``1-1024``, ``22,80,443``, ``1-100, 443``, ``-`` or ``all`` (1-65535) and
  ``common`` (a curated list); spaces are fine and duplicates are merged.
* networks: ``127.0.0.0/29`` (a CIDR block), ``127.0.0.1-7`` (a last-number range),
  ``127.0.0.2,127.0.0.5`` (a list) or any host above — see ``parse_targets``.
* timeouts: seconds such as ``0.5``, or ``auto`` (learn it from measured round trips).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from typing import Callable, Optional, Union

from scanner.errors import (InputError, NetworkSpecError, PortSpecError, TargetError,
                            TimeoutSpecError, printable)
from scanner.results import Target, is_loopback_address  # noqa: F401  (also imported from here by engine, udp)
from scanner.services import COMMON_PORTS

MAX_PORT = 65535
ALL_PORTS_WORDS = {"-", "all", "semua"}
COMMON_PORTS_WORDS = {"common", "umum"}
HOSTNAME_MAX_LENGTH = 253        # RFC 1035: a whole DNS name, without its final dot
# What the C library's inet_aton reads as an IPv4 address: one to four numbers, each
# decimal, octal (leading 0) or hex (0x).  127.1 and 0x7f.1 both mean 127.0.0.1 to it.
NUMERIC_HOST_PATTERN = re.compile(r"(0[xX][0-9A-Fa-f]*|[0-9]+)(\.(0[xX][0-9A-Fa-f]*|[0-9]+)){0,3}")
HOSTNAME_PATTERN = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_-]{1,63})*\.?$")

MAX_PORT_SPEC_LENGTH = 2000     # longer is a paste accident, not a port list
TIMEOUT_MINIMUM = 0.01
TIMEOUT_MAXIMUM = 30.0
WORKERS_MINIMUM = 1
WORKERS_MAXIMUM = 5000

Resolver = Callable[..., list]


# --- numbers ---------------------------------------------------------------------------

def whole_number(text: str, max_digits: int = 6) -> Optional[int]:
    """``text`` as a small whole number, or None.

    ``str.isdigit`` alone is not enough: it accepts "²" and other digits that ``int``
    refuses, and a 5000-digit string would hit Python's limit on converting long numbers.
    """
    text = text.strip()
    if not text or len(text) > max_digits or not (text.isascii() and text.isdigit()):
        return None
    return int(text)


# --- hosts -----------------------------------------------------------------------------

def _strip_url(text: str) -> Optional[str]:
    """If ``text`` is a URL, the host name inside it; else None."""
    match = re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*)", text)
    if not match:
        return None
    authority = match.group(1).rsplit("@", 1)[-1]
    if authority.startswith("["):
        return authority[1:].split("]", 1)[0]
    return authority.split(":", 1)[0] or None


def parse_target(text: str, *, prefer_ipv6: bool = False, resolver: Resolver = socket.getaddrinfo) -> Target:
    """Parse and resolve a host.  Raises ``TargetError`` with a learner-readable message."""
    text = (text or "").strip()
    _refuse_control_characters(text)
    if not text:
        raise TargetError("target.empty")
    url_host = _strip_url(text)
    if url_host is not None or "/" in text:
        suggestion = url_host or text.split("/", 1)[0] or "example.com"
        raise TargetError("target.url", text=text, suggestion=suggestion)

    host = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    looks_like_host_and_port = host.count(":") == 1 or "]:" in host  # an IPv6 address has two or more
    with_port = re.fullmatch(r"\[?([0-9A-Za-z.:-]+?)\]?:([0-9]{1,5})", host) if looks_like_host_and_port else None
    if with_port:  # 127.0.0.1:8007 or [::1]:22
        raise TargetError("target.has_port", text=text, host=with_port.group(1), port=with_port.group(2))
    if "%" in host:  # fe80::1%eth0: a scope id only matters for link-local addresses
        raise TargetError("target.scoped", text=text, host=host.split("%", 1)[0])
    literal = _parse_ip_literal(host)
    if literal is not None:
        family = socket.AF_INET6 if literal.version == 6 else socket.AF_INET
        return Target(text=text, host=host, address=str(literal), family=family, all_addresses=(str(literal),))

    shorthand = _inet_aton_reading(host)
    if shorthand is not None:  # 127.1, 0x7f.1: one address, spelled so that only some programs read it
        raise TargetError("target.short_ipv4", text=host, address=shorthand)
    if re.fullmatch(r"[0-9.]+", host):  # all digits and dots, but not a valid address: 999.1.1.1
        raise TargetError("target.bad_ipv4", text=host)
    if ":" in host:
        raise TargetError("target.bad_ipv6", text=host)
    if len(host.rstrip(".")) > HOSTNAME_MAX_LENGTH:
        raise TargetError("target.too_long", length=len(host))
    if not HOSTNAME_PATTERN.match(host):
        raise TargetError("target.bad_chars", text=host)
    return _resolve(text, host, prefer_ipv6, resolver)


def _refuse_control_characters(text: str) -> None:
    """An escape sequence around an address is not part of the host: say so, not "not a host name"."""
    if printable(text) != text:
        raise TargetError("target.control_chars")


def _inet_aton_reading(host: str) -> Optional[str]:
    """The dotted address inet_aton would read from a shorthand like 127.1 or 0x7f.1, else None."""
    if not NUMERIC_HOST_PATTERN.fullmatch(host):
        return None
    try:
        return socket.inet_ntoa(socket.inet_aton(host))
    except OSError:
        return None


def _parse_ip_literal(host: str):
    """An IPv4 or IPv6 address (a scoped one like fe80::1%eth0 included), or None."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


# RFC 6761: names under .invalid never exist, and software should say so at once
# instead of asking a DNS server (which also keeps the tests off the network).
NEVER_RESOLVED_SUFFIX = ".invalid"


def _resolve(text: str, host: str, prefer_ipv6: bool, resolver: Resolver) -> Target:
    if ("." + host.lower().rstrip(".")).endswith(NEVER_RESOLVED_SUFFIX):
        raise TargetError("target.never_exists", text=host)
    try:
        infos = resolver(host, None, 0, socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        detail = getattr(error, "strerror", None) or str(error)
        raise TargetError("target.unresolved", text=host, detail=detail) from None
    addresses = []
    for family, _type, _proto, _canon, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6) and (family, sockaddr[0]) not in addresses:
            addresses.append((family, sockaddr[0]))
    if not addresses:
        raise TargetError("target.no_address", text=host)
    wanted = socket.AF_INET6 if prefer_ipv6 else socket.AF_INET
    preferred = [a for a in addresses if a[0] == wanted]
    if prefer_ipv6 and not preferred:
        raise TargetError("target.no_ipv6", text=host)
    family, address = (preferred or addresses)[0]
    return Target(text=text, host=host, address=address, family=family,
                  all_addresses=tuple(a for _f, a in addresses))


# --- networks --------------------------------------------------------------------------
#
# A CIDR block such as 192.168.56.0/24 is an address plus a *prefix length*: the first 24
# of the 32 bits name the network, the other 8 bits number its hosts, so the block holds
# 2**8 = 256 addresses (like nmap, every one of them is scanned).  IPv6 blocks are huge
# (a /64 holds 2**64), so every target is capped: more than ``DEFAULT_MAX_HOSTS``
# addresses must be asked for with ``--max-hosts``.

DEFAULT_MAX_HOSTS = 4096
MAX_HOSTS_LIMIT = 65536          # a /16: beyond that a connect scan is the wrong tool
RANGE_PATTERN = re.compile(r"^[0-9.]+-[0-9.]+$")


@dataclass(frozen=True)
class TargetSet:
    """Every address a typed target names, in order: one host, or a network."""

    text: str                    # exactly what was typed (stripped)
    targets: tuple               # Target for every address, without duplicates

    @property
    def is_network(self) -> bool:
        """More than one address: scanned with host discovery and reported host by host."""
        return len(self.targets) > 1

    @property
    def addresses(self) -> tuple:
        return tuple(target.address for target in self.targets)

    @property
    def is_loopback(self) -> bool:
        return all(target.is_loopback for target in self.targets)


def parse_max_hosts(text: Union[str, int, None]) -> int:
    """The ``--max-hosts`` value: 1..MAX_HOSTS_LIMIT; None means the default cap."""
    if text is None:
        return DEFAULT_MAX_HOSTS
    number = whole_number(str(text))
    if number is None or not 1 <= number <= MAX_HOSTS_LIMIT:
        raise NetworkSpecError("network.bad_max_hosts", maximum=MAX_HOSTS_LIMIT)
    return number


def parse_targets(text: str, *, max_hosts: int = DEFAULT_MAX_HOSTS, prefer_ipv6: bool = False,
                  resolver: Resolver = socket.getaddrinfo) -> TargetSet:
    """Parse a host *or a network* into a ``TargetSet``; raises ``TargetError`` (one line).

    ``127.0.0.0/29`` (block), ``127.0.0.1-7`` (last-number range), ``a,b,c`` (list, each
    item any of these) or one host as ``parse_target`` reads it.
    """
    text = (text or "").strip()
    _refuse_control_characters(text)
    if not text:
        raise TargetError("target.empty")
    found: dict = {}
    for item in (part.strip() for part in text.split(",")) if "," in text else (text,):
        if not item:   # "a,,b" or "a,": usually a typo, refused like an empty item in a port list
            raise NetworkSpecError("network.empty_item", text=text)
        for target in _parse_one_target(item, _Room(text, len(found), max_hosts), prefer_ipv6, resolver):
            found.setdefault(target.address, target)
        if len(found) > max_hosts:
            raise NetworkSpecError("network.too_many", text=text, count=f"{len(found):,}+", maximum=max_hosts,
                                   needed=min(MAX_HOSTS_LIMIT, len(text.split(","))))
    if not found:
        raise TargetError("target.empty")
    return TargetSet(text=text, targets=tuple(found.values()))


class _Room:
    """How many more addresses a list may take: the whole spec, what it has so far, the limit."""

    def __init__(self, spec: str, already: int, max_hosts: int) -> None:
        self.spec, self.already, self.max_hosts = spec, already, max_hosts


def _parse_one_target(item: str, room: "_Room", prefer_ipv6: bool, resolver: Resolver) -> list:
    if "/" in item and _strip_url(item) is None:
        return _parse_block(item, room)
    if RANGE_PATTERN.match(item):
        return _parse_range(item, room)
    return [parse_target(item, prefer_ipv6=prefer_ipv6, resolver=resolver)]


def _address_target(ip) -> Target:
    address = str(ip)
    return Target(text=address, host=address, address=address,
                  family=socket.AF_INET6 if ip.version == 6 else socket.AF_INET, all_addresses=(address,))


def _parse_block(item: str, room: "_Room") -> list:
    address_text, _, prefix_text = item.partition("/")
    address = _parse_ip_literal(address_text.strip("[]"))
    if address is None or "%" in address_text:
        if re.fullmatch(r"[0-9.:\[\]A-Fa-f]+", address_text) and address_text:
            raise NetworkSpecError("network.bad_block", text=item)
        parse_target(item)  # example.com/path: the web-address message says what to type
        raise NetworkSpecError("network.bad_block", text=item)
    maximum = address.max_prefixlen
    prefix = whole_number(prefix_text, max_digits=3)
    if prefix is None or prefix > maximum:
        raise NetworkSpecError("network.bad_prefix", text=item, maximum=maximum)
    network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)  # 127.0.0.1/29 means its block
    _check_size(item, network.num_addresses, room)
    return [_address_target(ip) for ip in network]


def _parse_range(item: str, room: "_Room") -> list:
    first_text, _, last_text = item.partition("-")
    first = _parse_ip_literal(first_text)
    if first is None or first.version != 4:
        raise NetworkSpecError("network.bad_range", text=item)
    if "." in last_text:  # 127.0.0.1-127.0.0.7: the same, written out
        last = _parse_ip_literal(last_text)
        if last is None or last.version != 4 or int(last) >> 8 != int(first) >> 8:
            raise NetworkSpecError("network.bad_range", text=item)
        last_number = int(last) & 0xFF
    else:
        typed = whole_number(last_text, max_digits=3)
        if typed is None or typed > 255:
            raise NetworkSpecError("network.bad_range", text=item)
        last_number = typed
    first_number = int(first) & 0xFF
    if last_number < first_number:
        raise NetworkSpecError("network.range_reversed", text=item, low=f"{first_text.rsplit('.', 1)[0]}."
                               f"{last_number}", high=first_number)
    _check_size(item, last_number - first_number + 1, room)
    base = int(first) - first_number
    return [_address_target(ipaddress.IPv4Address(base + n)) for n in range(first_number, last_number + 1)]


def _check_size(item: str, count: int, room: "_Room") -> None:
    """Refuse a block or range that is too big on its own, or together with the list's earlier items.

    In a list the message names the whole list and its total ("a,b has 4,352 addresses;
    more than 4,096 needs --max-hosts 4352"), never the room left ("more than 0").
    """
    if count > MAX_HOSTS_LIMIT:
        raise NetworkSpecError("network.too_big", text=item, count=f"{count:,}", maximum=f"{MAX_HOSTS_LIMIT:,}")
    total = room.already + count
    named = room.spec if room.already else item
    if total > MAX_HOSTS_LIMIT:
        raise NetworkSpecError("network.too_big", text=named, count=f"{total:,}", maximum=f"{MAX_HOSTS_LIMIT:,}")
    if total > room.max_hosts:
        raise NetworkSpecError("network.too_many", text=named, count=f"{total:,}", maximum=f"{room.max_hosts:,}",
                               needed=total)


# --- ports -----------------------------------------------------------------------------

def parse_ports(text: str) -> tuple:
    """Parse a port spec into an ascending tuple of unique port numbers."""
    text = (text or "").strip().lower()
    if not text:
        raise PortSpecError("ports.empty")
    if len(text) > MAX_PORT_SPEC_LENGTH:
        raise PortSpecError("ports.too_long", length=len(text))
    ports: set = set()
    # "1 - 100, 443" is one range and one port; "22 80" is two ports, never 2280.
    text = re.sub(r"\s*-\s*", "-", text)
    if text.strip(", ") and re.search(r"(^|,)\s*(,|$)", text):  # "22,,80": nmap refuses it too, it is usually a typo
        raise PortSpecError("ports.empty_item", text=text)
    for part in re.split(r"[,\s]+", text):
        if not part:
            continue
        if part in ALL_PORTS_WORDS:
            ports = set(range(1, MAX_PORT + 1))
        elif part in COMMON_PORTS_WORDS:
            ports.update(COMMON_PORTS)
        elif "-" in part.strip("-") :
            low_text, high_text = part.split("-", 1)
            low, high = _port_number(low_text, part), _port_number(high_text, part)
            if low > high:
                raise PortSpecError("ports.reversed", part=part, low=high, high=low)
            ports.update(range(low, high + 1))
        else:
            ports.add(_port_number(part, part))
    if not ports:
        raise PortSpecError("ports.empty")
    return tuple(sorted(ports))


def _port_number(text: str, part: str) -> int:
    port = whole_number(text)
    if port is None:
        raise PortSpecError("ports.not_number", part=part)
    if not 1 <= port <= MAX_PORT:
        raise PortSpecError("ports.out_of_range", port=port)
    return port


def describe_ports(ports: tuple) -> str:
    """A compact spec for a port tuple: (1,2,3,80) -> '1-3,80'."""
    pieces: list = []
    start: Optional[int] = None
    previous = 0
    for port in ports:
        if start is None:
            start = previous = port
        elif port == previous + 1:
            previous = port
        else:
            pieces.append(f"{start}-{previous}" if previous != start else str(start))
            start = previous = port
    if start is not None:
        pieces.append(f"{start}-{previous}" if previous != start else str(start))
    return ",".join(pieces)


# --- timeouts and workers --------------------------------------------------------------

AUTO = "auto"


@dataclass(frozen=True)
class TimeoutSetting:
    """Either a fixed number of seconds, or ``auto`` (start at ``seconds``, then adapt)."""

    seconds: float
    auto: bool = False

    def __str__(self) -> str:
        return AUTO if self.auto else f"{self.seconds:g}"


AUTO_WORDS = (AUTO, "otomatis")
SECONDS_PATTERN = re.compile(r"^[0-9]*\.?[0-9]+(e[+-]?[0-9]+)?$")  # ASCII only: float() also takes "١" and "1_0"


def parse_timeout(text: Union[str, float]) -> TimeoutSetting:
    text = str(text).strip().lower()
    if text in AUTO_WORDS:
        return TimeoutSetting(seconds=1.0, auto=True)
    text = text.replace(",", ".").removesuffix("s").strip()  # "0,5" and "0.5s" are fine
    if not text:
        raise TimeoutSpecError("timeout.empty")
    if not SECONDS_PATTERN.match(text.removeprefix("-")):  # also keeps out "inf" and "nan"
        raise TimeoutSpecError("timeout.not_number", text=text)
    seconds = float(text)
    if seconds in (float("inf"), float("-inf")):  # "1e999": digits, but no number of seconds
        raise TimeoutSpecError("timeout.not_number", text=text)
    if seconds <= 0:
        raise TimeoutSpecError("timeout.not_positive", text=text)
    if seconds < TIMEOUT_MINIMUM:
        raise TimeoutSpecError("timeout.too_short", text=text, minimum=TIMEOUT_MINIMUM)
    if seconds > TIMEOUT_MAXIMUM:
        raise TimeoutSpecError("timeout.too_long", text=text, maximum=f"{TIMEOUT_MAXIMUM:g}")
    return TimeoutSetting(seconds=seconds)


RETRIES_MINIMUM, RETRIES_MAXIMUM = 0, 10


def parse_retries(text: Union[str, int, None]) -> Optional[int]:
    """How many times a silent port is asked again: 0-10, or None ("auto", or nothing) to adapt."""
    if text is None:
        return None
    text = str(text).strip()
    if text.lower() in AUTO_WORDS:
        return None
    return _number_in_range(text, "retries", RETRIES_MINIMUM, RETRIES_MAXIMUM)


def parse_workers(text: Union[str, int]) -> int:
    return _number_in_range(str(text).strip(), "workers", WORKERS_MINIMUM, WORKERS_MAXIMUM)


def _number_in_range(text: str, what: str, minimum: int, maximum: int) -> int:
    """A whole number from ``minimum`` to ``maximum``; else ``what``.not_number / .out_of_range."""
    number = whole_number(text)
    if number is None:
        raise InputError(f"{what}.not_number", text=text)
    if not minimum <= number <= maximum:
        raise InputError(f"{what}.out_of_range", minimum=minimum, maximum=maximum)
    return number
