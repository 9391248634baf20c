"""Who a connection belongs to, for the lab's fair sharing: one IPv4 address or one IPv6 /64.

The lab cannot see people, only source addresses.  On IPv4 one address is usually one
machine; on IPv6 one machine usually holds a whole /64 and may use a new address for every
connection.  Counting by ``client_key`` keeps both honest.  (On loopback every local
program is 127.0.0.1 or ::1: there the key cannot tell students apart, and the lab sheds
the connection idle longest instead: see ``lessons.lab.services.Fairness``.)
"""

from __future__ import annotations

import ipaddress


def client_key(address: str) -> str:
    """Who a connection belongs to, for the caps: one IPv4 address, or one IPv6 /64.

    One IPv6 machine usually holds a whole /64 (privacy addresses, SLAAC) and can pick a new
    source address for every connection; counted address by address it would hold the whole
    lab with one connection each and never be "the greediest".  An IPv4-mapped address is
    its IPv4 address.
    """
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return address
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        if not ip.is_loopback:
            return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def is_loopback_key(key: str) -> bool:
    """True for 127.x.y.z and ::1: a client key that cannot tell local programs apart."""
    try:
        return ipaddress.ip_address(key).is_loopback
    except ValueError:
        return False
