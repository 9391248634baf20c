"""Hosts a learner types, turned into a ``Target`` with its address and family.

``127.0.0.1``, ``::1``, ``[::1]``, ``localhost`` and ``example.com`` are all accepted; a
name is resolved with ``socket.getaddrinfo``, the call that knows IPv4 *and* IPv6 (unlike
``gethostbyname``, which only returns one IPv4 address).  URLs, ports glued to the host,
scope ids, control characters and C-library shorthands such as ``127.1`` each get their
own one-line message.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from typing import Callable, Optional

from scanner.errors import TargetError, printable
from scanner.results import Target

HOSTNAME_MAX_LENGTH = 253        # RFC 1035: a whole DNS name, without its final dot
# What the C library's inet_aton reads as an IPv4 address: one to four numbers, each
# decimal, octal (leading 0) or hex (0x).  127.1 and 0x7f.1 both mean 127.0.0.1 to it.
NUMERIC_HOST_PATTERN = re.compile(r"(0[xX][0-9A-Fa-f]*|[0-9]+)(\.(0[xX][0-9A-Fa-f]*|[0-9]+)){0,3}")
HOSTNAME_PATTERN = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_-]{1,63})*\.?$")

Resolver = Callable[..., list]


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
