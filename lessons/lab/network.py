"""The practice network: a few loopback "machines", each with a different job.

Linux sends every address of ``127.0.0.0/8`` to the loopback interface, so
``127.42.0.1`` and ``127.42.0.2`` are both this computer, yet a program can listen on
one and not the other.  That is enough to build a small network to discover and scan,
with the same base-port scheme as the lab (base 8000 shown)::

    block 127.42.0.0/29
    127.42.0.1  web    8022/tcp open (SSH banner), 8080/tcp open (web), 8023/tcp closed
    127.42.0.2  db     8054/tcp open (database greeting), 8022 and 8080/tcp filtered
                       (a firewall in front of it: full accept queues drop the SYNs)
    127.42.0.3  odd    8066/tcp open: SSH on an unusual port - the port number guesses wrong,
                       the banner tells the truth
    127.42.0.4  quiet  nothing open: 8023/tcp closed, like every other port (RST)

Every other port of these hosts, and every other address of the block (.0, .5, .6, .7),
answers RST: on loopback each address is "up".  A host that looks *down* (no answer at
all) can only be made with packet filtering, e.g. as root
``iptables -A INPUT -d 127.42.0.6 -j DROP``; the lab does not pretend to have one on
loopback.  As root, ``PracticeLab(network_namespace=True)`` builds this network in a network
namespace instead, with real DROP rules and a real down host (``lessons.lab.network_ns``).

Where only ``127.0.0.1`` exists (macOS), the other addresses need an alias first
(``sudo ifconfig lo0 alias 127.42.0.1 up``); until then the lab says so in a note and
runs on 127.0.0.1 alone.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple

from lessons.lab.layout import HasServices, LabNote, PlannedService
from scanner.results import PortState

NETWORK_BLOCK = "127.42.0.0/29"


@dataclass(frozen=True)
class PlannedHost:
    address: str
    name: str
    description: str
    layout: tuple


NETWORK_LAYOUT = (
    PlannedHost("127.42.0.1", "web", "A web server: SSH for its administrators and a web site.", (
        PlannedService("ssh", "tcp", 22, PortState.OPEN, "SSH-style banner: sends its version line."),
        PlannedService("closed", "tcp", 23, PortState.CLOSED, "Closed: nothing listens, the kernel answers RST."),
        PlannedService("http", "tcp", 80, PortState.OPEN, "A tiny web server: GET and HEAD."),
    )),
    PlannedHost("127.42.0.2", "db", "A database server behind a firewall: only the database port answers.", (
        PlannedService("filtered", "tcp", 22, PortState.FILTERED, "Filtered: SYNs are dropped (full accept queue)."),
        PlannedService("db", "tcp", 54, PortState.OPEN, "A practice database: greets, answers PING and QUIT."),
        PlannedService("filtered", "tcp", 80, PortState.FILTERED, "Filtered: SYNs are dropped (full accept queue)."),
    )),
    PlannedHost("127.42.0.3", "odd", "A host with one unusual service: SSH on a port that is not 22.", (
        PlannedService("ssh", "tcp", 66, PortState.OPEN, "SSH-style banner on an unusual port."),
    )),
    PlannedHost("127.42.0.4", "quiet", "A host with nothing open: every port answers RST.", (
        PlannedService("closed", "tcp", 23, PortState.CLOSED, "Closed: nothing listens, the kernel answers RST."),
    )),
)


@dataclass(frozen=True)
class NetworkHost(HasServices):
    """One machine of the practice network and its known answer."""

    address: str
    name: str                       # stable: web, db, odd, quiet
    description: str
    services: tuple                 # LabService per port the answer names
    expected_up: bool = True        # on loopback every address answers



@dataclass
class PracticeNetwork:
    """The hosts that are running, in address order (empty when the block is not available)."""

    block: str = NETWORK_BLOCK
    hosts: tuple = ()
    notes: list = field(default_factory=list)
    spare_up: bool = True           # another address of the block: up on loopback, no machine in a namespace
    namespace: object = None        # the lessons.lab.netns.Namespace holding the hosts, if any

    def close(self) -> None:
        if self.namespace is not None:
            self.namespace.close()

    def host(self, address: str) -> NetworkHost:
        for host in self.hosts:
            if host.address == address:
                return host
        raise KeyError(address)

    def addresses(self) -> Tuple[str, ...]:
        return tuple(host.address for host in self.hosts)

    def known_answer(self) -> Dict[str, Dict[Tuple[int, str], PortState]]:
        return {host.address: host.known_answer() for host in self.hosts}

    def in_block(self, address: str) -> bool:
        try:
            return ipaddress.ip_address(address) in ipaddress.ip_network(self.block)
        except ValueError:
            return False


def alias_command(address: str) -> str:
    """How to give this machine one more loopback address (needs an administrator)."""
    if sys.platform == "darwin" or "bsd" in sys.platform:
        return f"sudo ifconfig lo0 alias {address} up"
    if sys.platform == "win32":
        return f"netsh interface ipv4 add address \"Loopback Pseudo-Interface 1\" {address} 255.0.0.0"
    return f"sudo ip addr add {address}/8 dev lo"


def address_problem(address: str) -> Optional[str]:
    """None when this machine can listen on ``address``; else the system's reason."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((address, 0))
    except OSError as error:
        return error.strerror or str(error)
    return None


def open_network(lab) -> PracticeNetwork:
    """Bind every host of the practice network on ``lab``'s sockets (served by its event loop).

    (With ``PracticeLab(network_namespace=True)`` the lab calls ``network_ns`` instead.)"""
    network = PracticeNetwork()
    bound = ipaddress.ip_address(lab.bound_host)
    if bound.version != 4 or not bound.is_loopback:   # a wildcard or LAN address would collide or expose it
        note = LabNote("network_skipped", {"host": lab.bound_host})
        lab.notes.append(note)
        network.notes.append(note)
        return network
    hosts = []
    for plan in NETWORK_LAYOUT:
        problem = address_problem(plan.address)
        if problem:
            note = LabNote("network_unavailable", {"address": plan.address, "command": alias_command(plan.address),
                                                   "detail": problem})
            lab.notes.append(note)
            network.notes.append(note)
            continue
        services = lab._open_layout(plan.layout, plan.address)
        hosts.append(NetworkHost(plan.address, plan.name, plan.description, tuple(services)))
    network.hosts = tuple(hosts)
    return network
