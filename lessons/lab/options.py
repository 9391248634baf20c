"""The practice lab's own options: where it listens (``--bind``) and its block of ports (``--base-port``).

They belong to the lab, not to the scanner, but they raise the scanner's exception family
(``LabSetupError`` is an ``InputError``), so a bad ``--bind`` gets the same one-line message,
in the learner's language, as a bad port list.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from typing import Union

from scanner.errors import LabSetupError
from scanner.inputs import whole_number

LAB_BLOCK_SIZE = 100            # the lab lives in base_port .. base_port + 99
HIGHEST_LAB_BASE = 65536 - LAB_BLOCK_SIZE


LEGACY_IPV4 = re.compile(r"(?:0x[0-9a-f]+|[0-9]+)(?:\.(?:0x[0-9a-f]+|[0-9]+)){0,3}", re.IGNORECASE)


def parse_bind_address(text: str) -> str:
    """Where the practice lab listens: an IP address (``localhost`` and ``[::1]`` accepted).

    Every spelling of an address comes back in one canonical form, so a check such as
    "is this every interface?" cannot be dodged: ``0``, ``0.0``, ``0x0``, ``::``,
    ``0::0`` and ``::ffff:0.0.0.0`` (an IPv4 address written as IPv6) all mean every
    interface and come back as ``0.0.0.0`` or ``::``.
    """
    host = (text or "").strip()
    if host.lower() == "localhost":
        return "127.0.0.1"
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
        if LEGACY_IPV4.fullmatch(host):   # the old inet_aton forms: 0, 127.1, 0x7f.1
            try:
                address = ipaddress.ip_address(socket.inet_aton(host))
            except (OSError, ValueError):
                address = None
        if address is None:
            raise LabSetupError("lab.bad_host", host=(text or "").strip()) from None
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped   # ::ffff:0.0.0.0 listens on every IPv4 interface: say so
    return str(address)


def parse_base_port(text: Union[str, int]) -> int:
    """The first port of the lab's block: 0 (the kernel picks every port) or 1..65436."""
    base = text if isinstance(text, int) and not isinstance(text, bool) else whole_number(str(text))
    if base is None or not (base == 0 or 1 <= base <= HIGHEST_LAB_BASE):
        raise LabSetupError("lab.bad_base_port", maximum=HIGHEST_LAB_BASE)
    return base
