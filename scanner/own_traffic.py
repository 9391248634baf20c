"""Telling our own connections from everyone else's on the wire: a mark in the IP header.

A packet socket sees packets, not programs.  While we capture a scan of port 8080,
another client on the same machine may connect to 8080 a hundred times, and every one
of its connections starts with a SYN exactly like ours.  The packets must carry
something that says "this one is ours", and the one field a program can set on its own
sockets, without touching the engine that opens them, is the **time to live** (IPv4
TTL, IPv6 hop limit): how many routers a packet may cross.  Linux starts at 64; while a
capture runs, our SYNs leave with ``own_hop_limit()`` (a number from 40 to 62 picked
from our process id, so two captures side by side differ too), which still crosses
any real path.

The engine opens its sockets itself, so the mark is set in an *audit hook*
(PEP 578, ``sys.addaudithook``): Python raises the ``socket.connect`` event just before
every ``connect()`` and ``connect_ex()``, handing us the socket.  The hook only acts for
addresses and ports a capture is watching, and never raises.  Audit hooks cannot be
removed, so it is added once and does nothing while no capture is active.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
import threading
from typing import Dict, FrozenSet, Tuple

LOWEST_MARK, HIGHEST_MARK = 40, 62     # 63 is what a neighbour's 64 becomes after one router
IPV6_UNICAST_HOPS = getattr(socket, "IPV6_UNICAST_HOPS", 16)

_lock = threading.Lock()
_watched: Dict[int, Tuple[FrozenSet[bytes], FrozenSet[int]]] = {}   # id(capture) -> (addresses, ports)
_hook_added = False


def own_hop_limit() -> int:
    """The TTL / hop limit this process's marked SYNs carry."""
    return LOWEST_MARK + os.getpid() % (HIGHEST_MARK - LOWEST_MARK + 1)


def _mark(event: str, args: tuple) -> None:
    if event != "socket.connect" or not _watched:
        return
    try:
        sock, address = args
        packed, port = ipaddress.ip_address(address[0].split("%", 1)[0]).packed, address[1]
        if not any(packed in addresses and port in ports for addresses, ports in list(_watched.values())):
            return
        if sock.family == socket.AF_INET:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, own_hop_limit())
        elif sock.family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, IPV6_UNICAST_HOPS, own_hop_limit())
    except Exception:   # noqa: BLE001 - an audit hook must never break a connect: unmarked, the probe goes out as usual
        return


def watch(key: int, addresses: FrozenSet[bytes], ports: FrozenSet[int]) -> None:
    """Mark this process's connections to ``addresses`` (packed) x ``ports`` until ``unwatch(key)``."""
    global _hook_added
    with _lock:
        if not _hook_added:
            sys.addaudithook(_mark)
            _hook_added = True
        _watched[key] = (addresses, ports)


def unwatch(key: int) -> None:
    with _lock:
        _watched.pop(key, None)


def hop_limit(packet: bytes, ethertype: int) -> int:
    """The TTL (IPv4, byte 8) or hop limit (IPv6, byte 7) of a packet; -1 when too short."""
    index = 8 if ethertype == 0x0800 else 7
    return packet[index] if len(packet) > index else -1
