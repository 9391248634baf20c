"""Watching the wire: the real packets of your own scan, read with a PF_PACKET socket.

A connect scan only ever sees what ``connect()`` returns.  Underneath, TCP exchanges
packets: SYN, then SYN-ACK and ACK for an open port, RST for a closed one, repeated SYNs
for a filtered one.  Linux lets a program read every packet that crosses an interface
through a *packet socket*::

    sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM,
                         socket.htons(ETH_P_ALL))

``AF_PACKET`` (also spelled ``PF_PACKET``) works below IP: ``ETH_P_ALL`` asks for every
protocol, and ``SOCK_DGRAM`` ("cooked") hands over each packet without its link-layer
header, starting at the IP header, while ``recvmsg`` says which protocol it is (0x0800
IPv4, 0x86DD IPv6).  Because such a socket sees every program's traffic, opening it needs
the ``CAP_NET_RAW`` capability: run the one scan as root (a capability set on the shared
interpreter would let every script of every user record the machine's traffic).

The IP and TCP headers are decoded with ``struct`` (network byte order, ``!``), and only
the scanner's own connections are kept: a connection is ours when its first packet is a
SYN that carries our mark (``scanner.own_traffic``: while a capture runs, this process's
SYNs leave with their own TTL), and then every packet of the same four ports and addresses.

This module is pure: it returns ``PacketRecord`` values and never prints.  The API for
other screens (the guided walk's slow-motion replay):

* ``capture_probe(address, port, timeout)`` -> list of ``PacketRecord`` for one probe;
* ``Capture(addresses, ports)`` as a context manager around any scan, then ``records()``
  or ``probes()``;
* ``CaptureUnavailable`` (``code`` "needs_capability", "needs_linux" or "failed") when
  this system cannot capture.
"""

from __future__ import annotations

import collections
import errno
import ipaddress
import socket
import struct
import sys
import threading
import time
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Optional, Set, Tuple

from scanner import own_traffic
from scanner.probe import probe_port

ETH_P_ALL = 0x0003               # "every protocol" (linux/if_ether.h)
ETH_P_IP = 0x0800
ETH_P_IPV6 = 0x86DD
TCP = 6                          # IP protocol number of TCP
PACKET_OUTGOING = 4              # packet type: sent by this machine
ARPHRD_LOOPBACK = 772            # hardware type of the loopback interface
RECEIVE_BUFFER = 64 << 20        # room for a burst of packets while Python catches up
SOL_PACKET, PACKET_STATISTICS = 263, 6
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
DRAIN_SECONDS = 3.0              # after the scan, how long to keep reading what is still queued
MAX_PACKETS = 200_000            # a full-range scan on loopback is ~130,000 packets

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


class CaptureUnavailable(Exception):
    """This system cannot show packets: ``code`` says why, ``detail`` the system's words."""

    def __init__(self, code: str, detail: str = "") -> None:
        self.code, self.detail = code, detail
        super().__init__(f"{code}: {detail}" if detail else code)


@dataclass(frozen=True)
class PacketRecord:
    """One TCP packet of a probe, as the wire carried it."""

    time: float          # seconds since this probe (its port's first SYN) began
    direction: str       # "out": scanner -> target, "in": target -> scanner
    address: str         # the target's address
    port: int            # the target's port
    local_port: int      # the scanner's source port for this connection
    flags: str           # "SYN", "SYN-ACK", "ACK", "RST", "RST-ACK", "FIN", "PSH-ACK"
    family: str          # "ipv4" or "ipv6"
    seq: int
    ack: int
    at: float = 0.0      # seconds since the capture began


def flag_name(bits: int) -> str:
    """The flags a person names: SYN, SYN-ACK, ACK, RST, RST-ACK, FIN, PSH-ACK."""
    if bits & SYN:
        return "SYN-ACK" if bits & ACK else "SYN"
    if bits & RST:
        return "RST-ACK" if bits & ACK else "RST"
    if bits & FIN:
        return "FIN"
    if bits & PSH:
        return "PSH-ACK" if bits & ACK else "PSH"
    return "ACK" if bits & ACK else "NONE"


def open_packet_socket(interface: Optional[str]) -> socket.socket:
    """A PF_PACKET socket receiving every packet on ``interface`` (every interface if None)."""
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM,
                         socket.htons(ETH_P_ALL))
    if interface:
        sock.bind((interface, ETH_P_ALL))
    return sock


def decode_tcp(packet: bytes, ethertype: int) -> Optional[tuple]:
    """(family, source, destination, sport, dport, seq, ack, flags) of a TCP packet, or None."""
    if ethertype == ETH_P_IP and len(packet) >= 20 and packet[9] == TCP:
        ip_length = (packet[0] & 0x0F) * 4       # IHL counts 32-bit words
        family, source, destination = "ipv4", packet[12:16], packet[16:20]
    elif ethertype == ETH_P_IPV6 and len(packet) >= 40 and packet[6] == TCP:
        ip_length = 40                            # fixed header; next header is TCP
        family, source, destination = "ipv6", packet[8:24], packet[24:40]
    else:
        return None
    if len(packet) < ip_length + 14:
        return None
    sport, dport, seq, ack, _offset, flags = struct.unpack_from(
        "!HHIIBB", packet, ip_length)
    return family, source, destination, sport, dport, seq, ack, flags


def interface_for(address: str) -> Optional[str]:
    """The interface probes to ``address`` use: ``lo`` for loopback; None (all) otherwise."""
    ip = ipaddress.ip_address(address)
    return "lo" if ip.is_loopback else None


def _opener_problem(error: BaseException) -> CaptureUnavailable:
    if isinstance(error, PermissionError) or getattr(error, "errno", None) in (errno.EPERM, errno.EACCES):
        return CaptureUnavailable("needs_capability", getattr(error, "strerror", None) or str(error))
    return CaptureUnavailable("failed", getattr(error, "strerror", None) or str(error))


# A classic BPF program the kernel runs on every packet before queueing it for us: only
# TCP over IPv4 or IPv6 whose source or destination port lies in the scanned range
# passes, and on loopback the "outgoing" copy of each packet is dropped (lo shows every
# packet twice).  Less to queue means no packet of ours is lost when other programs are
# busy on the same interface.  Each line: (opcode, jump if true, jump if false, constant);
# a jump skips that many lines.
_LD_W, _LD_B, _LD_H_X, _LDX_IMM, _LDX_MSH = 0x20, 0x30, 0x48, 0x01, 0xB1
_JA, _JEQ, _JGT, _JGE, _RET = 0x05, 0x15, 0x25, 0x35, 0x06
_AD_PROTOCOL, _AD_PKTTYPE = 0xFFFFF000, 0xFFFFF004      # SKF_AD_OFF + 0, + 4
SO_ATTACH_FILTER = 26


def _tcp_port_filter(low: int, high: int, drop_outgoing: bool) -> list:
    return [
        (_LD_W, 0, 0, _AD_PKTTYPE),                                    # 0
        (_JEQ, 17, 0, PACKET_OUTGOING if drop_outgoing else 0xFFFF),   # 1  -> drop
        (_LD_W, 0, 0, _AD_PROTOCOL),                                   # 2
        (_JEQ, 1, 0, ETH_P_IP),                                        # 3  -> 5
        (_JEQ, 4, 14, ETH_P_IPV6),                                     # 4  -> 9, else drop
        (_LD_B, 0, 0, 9),                                              # 5  IPv4 protocol
        (_JEQ, 0, 12, TCP),                                            # 6
        (_LDX_MSH, 0, 0, 0),                                           # 7  X = IPv4 header length
        (_JA, 0, 0, 3),                                                # 8  -> 12
        (_LD_B, 0, 0, 6),                                              # 9  IPv6 next header
        (_JEQ, 0, 8, TCP),                                             # 10
        (_LDX_IMM, 0, 0, 40),                                          # 11 X = 40
        (_LD_H_X, 0, 0, 0),                                            # 12 source port
        (_JGE, 0, 1, low),                                             # 13
        (_JGT, 0, 3, high),                                            # 14 in range -> keep
        (_LD_H_X, 0, 0, 2),                                            # 15 destination port
        (_JGE, 0, 2, low),                                             # 16
        (_JGT, 1, 0, high),                                            # 17
        (_RET, 0, 0, 0x40000),                                         # 18 keep
        (_RET, 0, 0, 0),                                               # 19 drop
    ]


def attach_tcp_filter(sock: socket.socket, low: int = 0, high: int = 65535, drop_outgoing: bool = False) -> bool:
    """Let the kernel pass only TCP packets from or to ports low..high; False when it cannot."""
    import ctypes   # lazy: only a capture (Linux, root) needs it

    program = _tcp_port_filter(low, high, drop_outgoing)
    code = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *line) for line in program))
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, struct.pack("HL", len(program), ctypes.addressof(code)))
    except (OSError, TypeError, ValueError, struct.error):
        return False
    return True


def _arrival(ancillary: list) -> float:
    """The kernel's arrival time (a struct timespec in the ancillary data), else now."""
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= 16:
            seconds, nanoseconds = struct.unpack("qq", data[:16])
            return seconds + nanoseconds / 1e9
    return time.time()


class Capture:
    """Capture the packets of a scan of ``addresses`` x ``ports`` while the block runs.

    ``opener(interface)`` returns the packet socket (tests inject one that fails).  Opening
    raises ``CaptureUnavailable`` when this system cannot capture.
    """

    def __init__(self, addresses: Iterable[str], ports: Iterable[int], interface: Optional[str] = "auto",
                 opener: Callable[[Optional[str]], socket.socket] = open_packet_socket) -> None:
        self.addresses = {ipaddress.ip_address(a).packed: str(ipaddress.ip_address(a)) for a in addresses}
        self.ports = frozenset(ports)
        if interface == "auto":
            interfaces = {interface_for(a) for a in self.addresses.values()}
            interface = interfaces.pop() if len(interfaces) == 1 else None
        self.interface = interface
        self.opener = opener
        self.raw: list = []            # (arrival time, decoded header tuple)
        self.dropped = 0               # packets we had no room for
        self.kernel_drops = 0          # packets the kernel dropped before we could read them
        self.filtered_in_kernel = False
        self.started = 0.0
        self.ended = float("inf")      # when stop() was called (a packet's kernel stamp may be a little later)
        self.own_mark = own_traffic.own_hop_limit()
        self.own_syns: Set[Tuple[bytes, int, int]] = set()   # (target, port, our port) of our marked SYNs
        self._sock: Optional[socket.socket] = None
        self._stop = threading.Event()
        self._drain_until = 0.0
        self._thread: Optional[threading.Thread] = None

    @property
    def interface_name(self) -> str:
        return self.interface or "all interfaces"

    def start(self) -> "Capture":
        if not hasattr(socket, "AF_PACKET"):
            raise CaptureUnavailable("needs_linux", sys.platform)
        try:
            self._sock = self.opener(self.interface)
        except OSError as error:
            raise _opener_problem(error) from None
        self.filtered_in_kernel = attach_tcp_filter(self._sock, min(self.ports, default=0),
                                                    max(self.ports, default=65535),
                                                    drop_outgoing=self.interface == "lo")
        # A fast scan sends packets faster than Python reads them: a big kernel buffer holds
        # the burst.  SO_RCVBUFFORCE (with CAP_NET_ADMIN) may pass the system's rmem_max.
        for option in (getattr(socket, "SO_RCVBUFFORCE", 33), socket.SO_RCVBUF):
            try:
                self._sock.setsockopt(socket.SOL_SOCKET, option, RECEIVE_BUFFER)
                break
            except OSError:
                continue  # the default buffer still works; a burst may lose packets
        if self.filtered_in_kernel:
            self._discard_queued()
        self._sock.settimeout(0.05)
        own_traffic.watch(id(self), frozenset(self.addresses), self.ports)
        self.started = time.time()
        self._thread = threading.Thread(target=self._read, name="packet-capture", daemon=True)
        try:
            self._thread.start()
        except RuntimeError:
            own_traffic.unwatch(id(self))
            raise
        return self

    def _opened(self) -> socket.socket:   # only between start() and stop()
        assert self._sock is not None, "the capture is not running"
        return self._sock

    def _discard_queued(self, limit: int = 100_000) -> None:
        """Packets that arrived before the filter was attached were not filtered: drop them."""
        sock = self._opened()
        sock.setblocking(False)
        for _ in range(limit):
            try:
                sock.recv(1)
            except OSError:  # BlockingIOError: the queue is empty
                return

    def _read(self) -> None:
        sock, keep = self._opened(), self._wanted
        # The kernel stamps each packet as it arrives (SO_TIMESTAMPNS): exact even when read late.
        try:
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            stamped = True
        except OSError:
            stamped = False
        while True:
            if self._stop.is_set() and time.monotonic() > self._drain_until:
                return  # a scan far faster than we read: give up the rest of the backlog
            try:
                packet, ancillary, _flags, (_ifname, ethertype, kind, hatype, _mac) = sock.recvmsg(256, 64)
            except socket.timeout:
                if self._stop.is_set():
                    return  # stopped, and the backlog is read
                continue
            except OSError:
                return
            if kind == PACKET_OUTGOING and hatype == ARPHRD_LOOPBACK:
                continue  # on loopback every packet is seen leaving and arriving: keep one
            header = decode_tcp(packet, ethertype)
            if header is not None and keep(header):
                if header[7] & (SYN | ACK) == SYN and own_traffic.hop_limit(packet, ethertype) == self.own_mark:
                    self.own_syns.add((header[2], header[4], header[3]))
                if len(self.raw) < MAX_PACKETS:
                    self.raw.append((_arrival(ancillary) if stamped else time.time(), header))
                else:
                    self.dropped += 1

    def _wanted(self, header: tuple) -> bool:
        _family, source, destination, sport, dport = header[:5]
        return ((destination in self.addresses and dport in self.ports)
                or (source in self.addresses and sport in self.ports))

    def stop(self, linger: float = 0.05) -> None:
        """Stop capturing after ``linger`` seconds (the last answers are still on their way)."""
        if self._thread is None:
            return
        self.ended = time.time()
        own_traffic.unwatch(id(self))   # connections that begin after this carry no mark: not the scan's
        time.sleep(linger)
        self._drain_until = time.monotonic() + DRAIN_SECONDS
        self._stop.set()
        self._thread.join(DRAIN_SECONDS + 1)
        self._thread = None
        if self._sock is not None:
            self.kernel_drops = self._kernel_drops()
            self._sock.close()

    def _kernel_drops(self) -> int:
        """Packets the kernel threw away because our buffer was full (PACKET_STATISTICS)."""
        try:
            _received, drops = struct.unpack("II", self._opened().getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
        except (OSError, struct.error):
            return 0
        return drops

    def __enter__(self) -> "Capture":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- what was seen ---------------------------------------------------------------
    def records(self) -> List[PacketRecord]:
        """Every packet of the scanner's own connections, in the order they were seen.

        A connection is ours when its first packet is a SYN (without ACK) to a scanned
        port carrying our mark, which only SYNs sent while the capture ran get; connections
        that were already open, and other programs' connections to the same ports, are left
        out.  (No clock is compared: the kernel stamps a packet when it is delivered, which
        on loopback can be microseconds after ``connect()`` has already returned.)
        """
        ours: Dict[Tuple[bytes, int, int], bool] = {}     # (target, port, local port)
        began: Dict[Tuple[bytes, int], float] = {}       # (target, port) -> first SYN time
        records = []
        for seen, (family, source, destination, sport, dport, seq, ack, flags) in self.raw:
            if destination in self.addresses and dport in self.ports and (destination, dport, sport) in ours:
                key, direction = (destination, dport, sport), "out"
            elif source in self.addresses and sport in self.ports and (source, sport, dport) in ours:
                key, direction = (source, sport, dport), "in"
            elif (destination in self.addresses and dport in self.ports and flags & (SYN | ACK) == SYN
                  and (destination, dport, sport) in self.own_syns):
                key, direction = (destination, dport, sport), "out"
                ours[key] = True
            else:
                continue
            start = began.setdefault(key[:2], seen)
            records.append(PacketRecord(time=seen - start, direction=direction, address=self.addresses[key[0]],
                                        port=key[1], local_port=key[2], flags=flag_name(flags), family=family,
                                        seq=seq, ack=ack, at=seen - self.started))
        return records

    def probes(self) -> "collections.OrderedDict":
        """{(address, port): [PacketRecord, ...]} in the order the probes began."""
        grouped: collections.OrderedDict = collections.OrderedDict()
        for record in self.records():
            grouped.setdefault((record.address, record.port), []).append(record)
        return grouped


def capture_probe(address: str, port: int, timeout: float = 1.0, family: Optional[int] = None,
                  opener: Callable[[Optional[str]], socket.socket] = open_packet_socket) -> List[PacketRecord]:
    """Probe one port with a blocking connect and return the packets it caused.

    For the slow-motion replay: an open port shows SYN, SYN-ACK, ACK (and the FINs of the
    close), a closed one SYN and RST-ACK, a filtered one the SYN again after about a
    second for as long as ``timeout`` lasts.  Raises ``CaptureUnavailable``.
    """
    address = str(ipaddress.ip_address(address))
    family = family or (socket.AF_INET6 if ":" in address else socket.AF_INET)
    with Capture([address], [port], opener=opener) as capture:
        probe_port(address, port, timeout, family=family)
    return capture.records()
