"""Networks a learner types: a CIDR block, a last-number range or a list of hosts.

``parse_targets`` turns ``127.0.0.0/29``, ``127.0.0.1-7`` or ``127.0.0.2,example.com`` into
a ``TargetSet``, every address in order, and refuses a target too large to scan without
``--max-hosts``.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from typing import Union

from scanner.errors import NetworkSpecError, TargetError
from scanner.inputs.hosts import Resolver, _parse_ip_literal, _refuse_control_characters, _strip_url, parse_target
from scanner.inputs.values import whole_number
from scanner.results import Target

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
