"""Running the lab: its sockets, and one asyncio event loop that serves them all.

How the less obvious ports are made, without root and without a firewall:

* **closed**: the lab *binds* the port but never calls ``listen()``.  A bound socket
  is not a listening one, so a SYN still meets a RST, yet no other program can start
  listening there while the lab runs.  The closed UDP port is a bound socket
  ``connect()``-ed to itself: a connected UDP socket only hears its one peer, so every
  other datagram finds no receiver and the kernel sends ICMP "port unreachable".
* **filtered**: ``listen(0)`` leaves room for one finished handshake in the *accept
  queue* (the backlog).  The lab fills it with one connection of its own and never
  calls ``accept()``.  With the queue full, Linux silently drops every new SYN, which
  is exactly what a firewall's DROP rule looks like from outside.  Other systems may
  answer with RST instead; the lab checks at start and, if the trick fails, says so in
  ``filtered_works`` and a note rather than promising a filtered port.

Every service runs on **one asyncio event loop** in one background thread (``loop``), so
the menu stays usable while the lab serves.

If a port in the block is taken, the service moves to the next free port of the block
and a ``LabNote("moved", ...)`` says so; with ``base_port=0`` the kernel picks every
port (handy for tests).  The lab refuses to listen on every interface (``0.0.0.0``,
``::``, ``::ffff:0.0.0.0``, ...) unless asked with ``allow_all_interfaces=True``: a
practice target belongs on loopback, where no other computer can reach it.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import selectors
import socket
import sys
import threading
from typing import Dict, List, Optional, Tuple

from lessons.lab.layout import (DEFAULT_BASE_PORT, LAB_LAYOUT, HasServices, LabNote, LabService, LabStartError,
                                 PlannedService)
from lessons.lab.loop import LISTEN_BACKLOG, ServiceLoop, service_factory
from lessons.lab.services import TCP_SERVICES, register_echo_endpoint
from scanner.errors import LabSetupError
from lessons.lab.network import open_network
from lessons.lab.options import LAB_BLOCK_SIZE, parse_base_port, parse_bind_address
from scanner.inputs import is_loopback_address
from scanner.results import PortState

FILTER_CHECK_SECONDS = 0.25     # how long the start-up check waits for a dropped SYN to stay unanswered
COMPANION_ATTEMPTS = 20         # base_port=0: tries to find a port free on both 127.0.0.1 and ::1

_OUT_OF_FILES = {code for code in (getattr(errno, name, None) for name in
                                   ("EMFILE", "ENFILE", "ENOBUFS", "ENOMEM")) if code is not None}
_PORT_BUSY = {code for code in (getattr(errno, name, None) for name in
                                ("EADDRINUSE", "EACCES", "WSAEADDRINUSE", "WSAEACCES")) if code is not None}


# --- small socket helpers ----------------------------------------------------------------

def _family(host: str) -> int:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _local_address(host: str) -> str:
    """Where the lab itself connects to reach ``host`` (the loopback address for a wildcard)."""
    if ipaddress.ip_address(host).is_unspecified:
        return "::1" if _family(host) == socket.AF_INET6 else "127.0.0.1"
    return host


def _listening_socket(host: str, port: int, backlog: int) -> socket.socket:
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        # A server that closes first leaves TIME_WAIT behind: SO_REUSEADDR lets
        # the lab restart at once.  On Windows the same option would let another
        # program steal the port, so there we ask for the port exclusively.
        if os.name == "posix":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        elif hasattr(socket, "SO_EXCLUSIVEADDRUSE"):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    return sock


def _open_service_socket(plan: PlannedService, host: str, port: int) -> socket.socket:
    """Bind one socket for ``plan`` on ``host``; raises OSError when the port is taken."""
    if plan.protocol == "tcp" and plan.service == "filtered":
        return _listening_socket(host, port, 0)      # room for one waiting connection
    if plan.protocol == "tcp" and plan.service != "closed":
        return _listening_socket(host, port, LISTEN_BACKLOG)
    kind = socket.SOCK_DGRAM if plan.protocol == "udp" else socket.SOCK_STREAM
    sock = socket.socket(_family(host), kind)
    try:
        # No SO_REUSEADDR here: for UDP it would let another program share the port, and a
        # reserved closed port must stay ours alone.
        sock.bind((host, port))
        if plan.protocol == "udp" and plan.service == "closed":
            own = sock.getsockname()
            sock.connect((_local_address(host),) + tuple(own[1:]))  # hears only itself: everyone else gets ICMP
    except OSError:
        sock.close()
        raise
    return sock


# --- the lab ------------------------------------------------------------------------------

class PracticeLab(HasServices):
    """Real services on loopback with a known answer.  Use as ``with PracticeLab() as lab:``.

    With ``network=True`` the same event loop also serves the practice network
    (``lessons.lab.network``): a few loopback "machines" on 127.42.0.1-4.
    """

    def __init__(self, host: str = "127.0.0.1", base_port: int = DEFAULT_BASE_PORT, also_ipv6: bool = True,
                 *, allow_all_interfaces: bool = False, network: bool = False,
                 network_namespace: bool = False) -> None:
        self.bound_host = parse_bind_address(host)
        if ipaddress.ip_address(self.bound_host).is_unspecified and not allow_all_interfaces:
            raise LabSetupError("lab.bind_all", host=self.bound_host)
        self.base_port = parse_base_port(base_port)
        self.also_ipv6 = also_ipv6
        self.with_network = network
        self.network_namespace = network_namespace   # the practice network in a namespace (root, Linux)
        self.services: List[LabService] = []
        self.notes: List[LabNote] = []
        self.filtered_works: Optional[bool] = None   # known after start()
        self.network = None                           # a PracticeNetwork after start(network=True)
        self.connection_hook = None   # called in the loop's thread: (service key "ssh/8022", client address)
        self._hosts: Tuple[str, ...] = ()
        self._sockets: List[socket.socket] = []
        self._loop: Optional[ServiceLoop] = None
        self._last_loop: Optional[ServiceLoop] = None
        self._echo_endpoints: List[Tuple[str, int]] = []
        self._registrations: list = []   # (socket, service name, port, "tcp"/"udp") to serve
        self._filtered_observed = PortState.FILTERED
        self._lock = threading.Lock()

    # -- facts about the lab ----------------------------------------------------------------
    @property
    def warning_needed(self) -> bool:
        """True when other computers may be able to reach the lab (not bound to loopback)."""
        return not is_loopback_address(self.bound_host)

    @property
    def hosts(self) -> Tuple[str, ...]:
        """Every address the lab answers on, e.g. ("127.0.0.1", "::1")."""
        return self._hosts

    @property
    def running(self) -> bool:
        return self._loop is not None and self._loop.is_alive()

    @property
    def stats(self) -> dict:
        """Counters for the curious and for tests: connections, fairness, UDP replies."""
        loop = self._loop or self._last_loop
        if loop is None:
            return {}
        return {"connections": len(loop.connections), "refused": loop.fairness.refused,
                "shed": loop.fairness.shed, "udp_received": loop.udp_received, "udp_replies": loop.udp_replies,
                "udp_dropped": loop.udp_guard.dropped, "system_errors": loop.system_errors}

    # -- start and stop --------------------------------------------------------------------
    def __enter__(self) -> "PracticeLab":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> "PracticeLab":
        with self._lock:
            if self._loop is not None:
                return self
            self.services, self.notes, self._sockets, self.network = [], [], [], None
            self.filtered_works = None
            self._registrations = []
            try:
                self._open_everything()
                echo_ports = {s.port for s in self.services if s.service == "echo" and s.protocol == "udp"}
                loop = ServiceLoop(echo_ports)
                loop.on_connection = self.connection_hook
                listeners = [(sock, service_factory(loop, key, port)) for sock, key, port, kind in self._registrations
                             if kind == "tcp"]
                datagrams = [sock for sock, _key, _port, kind in self._registrations if kind == "udp"]
                self._echo_endpoints = [sock.getsockname()[:2] for sock in datagrams]
                for endpoint in self._echo_endpoints:
                    register_echo_endpoint(endpoint, True)
                self._loop = loop
                loop.start(listeners, datagrams)
            except BaseException:
                self._loop = None
                self._forget_endpoints()
                self._close_sockets()
                self._close_network()
                raise
        return self

    def stop(self) -> None:
        """Close every socket.  Safe to call twice, or before start()."""
        with self._lock:
            loop, self._loop = self._loop, None
            if loop is not None:
                loop.stop()
                self._last_loop = loop
            self._forget_endpoints()
            self._close_sockets()
            self._close_network()

    def _close_network(self) -> None:
        close = getattr(self.network, "close", None)
        if close is not None:
            close()

    @property
    def failure(self) -> Optional[BaseException]:
        """The error that stopped the service thread early, if any (None in a healthy lab)."""
        loop = self._loop or self._last_loop
        return loop.failure if loop is not None else None

    @property
    def handler_errors(self) -> List[BaseException]:
        """Errors met while serving single connections (each closed that connection only)."""
        loop = self._loop or self._last_loop
        return list(loop.handler_errors) if loop is not None else []

    def _forget_endpoints(self) -> None:
        for endpoint in self._echo_endpoints:
            register_echo_endpoint(endpoint, False)
        self._echo_endpoints = []

    def _close_sockets(self) -> None:
        for sock in self._sockets:
            try:
                sock.close()
            except OSError:
                pass
        self._sockets = []

    # -- opening the services -------------------------------------------------------------
    def _companion_host(self) -> Optional[str]:
        """::1 next to an IPv4 loopback address, when this machine has IPv6."""
        if not self.also_ipv6 or _family(self.bound_host) != socket.AF_INET or not is_loopback_address(self.bound_host):
            return None
        try:
            with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
                probe.bind(("::1", 0))
        except (OSError, AttributeError) as error:
            self.notes.append(LabNote("ipv6_unavailable", {"detail": str(error)}))
            return None
        return "::1"

    def _open_everything(self) -> None:
        """Bind every service (and the practice network's, when asked for)."""
        companion = self._companion_host()
        self.services = self._open_layout(LAB_LAYOUT, self.bound_host, companion)
        self._hosts = (self.bound_host,) + ((companion,) if companion else ())
        if self.with_network and self.network_namespace:
            from lessons.lab.network_ns import open_network_in_namespace  # lazy: only as root, with ip and iptables

            self.network = open_network_in_namespace(self)
        elif self.with_network:
            self.network = open_network(self)

    def _open_layout(self, layout, primary: str, companion: Optional[str] = None) -> List[LabService]:
        """Bind every planned service on ``primary`` (and ``companion``); remember what to serve."""
        taken: Dict[str, set] = {"tcp": set(), "udp": set()}
        placed = []
        for plan in layout:
            port, sockets_by_host = self._place(plan, layout, primary, companion, taken[plan.protocol])
            taken[plan.protocol].add(port)
            placed.append((plan, port, sockets_by_host))
        services = []
        for plan, port, sockets_by_host in placed:
            expected = plan.expected_state
            if plan.service == "filtered":
                expected = self._fill_accept_queues(port, sockets_by_host, primary)
            for sock in sockets_by_host.values():
                if plan.protocol == "tcp" and plan.service in TCP_SERVICES:
                    self._registrations.append((sock, plan.service, port, "tcp"))
                elif plan.protocol == "udp" and plan.service == "echo":
                    self._registrations.append((sock, plan.service, port, "udp"))
            wanted = self.base_port + plan.offset if self.base_port else 0
            services.append(LabService(port, plan.protocol, expected, plan.service, plan.description,
                                       wanted, tuple(sockets_by_host)))
        services.sort(key=lambda s: (s.port, s.protocol))
        return services

    def _claim(self, plan: PlannedService, port: int, hosts: Tuple[str, ...]) -> Dict[str, socket.socket]:
        """Bind ``port`` on every host, or on none (raises the first OSError)."""
        claimed: Dict[str, socket.socket] = {}
        try:
            for host in hosts:
                sock = _open_service_socket(plan, host, port)
                claimed[host] = sock
                port = sock.getsockname()[1]  # port 0: the companion takes the kernel's choice
        except OSError:
            for sock in claimed.values():
                sock.close()
            raise
        self._sockets.extend(claimed.values())
        return claimed

    def _place(self, plan: PlannedService, layout, primary: str, companion: Optional[str],
               taken: set) -> Tuple[int, Dict[str, socket.socket]]:
        both = (primary, companion) if companion else (primary,)
        if self.base_port == 0:
            last_error: Optional[OSError] = None
            for _ in range(COMPANION_ATTEMPTS if companion else 1):
                try:
                    claimed = self._claim(plan, 0, both)
                    return claimed[primary].getsockname()[1], claimed
                except OSError as error:
                    if error.errno in _OUT_OF_FILES:
                        raise
                    last_error = error
            try:
                claimed = self._claim(plan, 0, (primary,))
            except OSError as error:
                if error.errno in _OUT_OF_FILES:
                    raise   # the computer's limit, not the lab's: the command line says so in one line
                raise LabStartError("lab.cannot_bind", host=primary, detail=str(error)) from None
            port = claimed[primary].getsockname()[1]
            self.notes.append(LabNote("ipv6_skipped", {"service": plan.service, "protocol": plan.protocol,
                                                       "port": port, "detail": str(last_error)}))
            return port, claimed

        wanted = self.base_port + plan.offset
        candidates = self._candidate_ports(plan, layout, taken)
        for hosts in ((both, (primary,)) if companion else (both,)):
            for port in candidates:
                try:
                    claimed = self._claim(plan, port, hosts)
                except OSError as error:
                    if error.errno in _PORT_BUSY:
                        continue
                    if error.errno in _OUT_OF_FILES:
                        raise
                    raise LabStartError("lab.cannot_bind", host=primary, detail=str(error)) from None
                if port != wanted:
                    self.notes.append(LabNote("moved", {"service": plan.service, "protocol": plan.protocol,
                                                        "wanted": wanted, "got": port}))
                if companion and hosts != both:
                    self.notes.append(LabNote("ipv6_skipped", {"service": plan.service, "protocol": plan.protocol,
                                                               "port": port, "detail": "port taken on ::1"}))
                return port, claimed
        raise LabStartError("lab.block_full", service=plan.service, protocol=plan.protocol,
                            low=self.base_port, high=self.base_port + LAB_BLOCK_SIZE - 1)

    def _candidate_ports(self, plan: PlannedService, layout, taken: set) -> List[int]:
        """The wanted port first, then the rest of the block in order, wrapping around.

        Ports documented for the layout's other services are skipped, so one moved service
        never pushes another away from its own number.
        """
        low, high = self.base_port, self.base_port + LAB_BLOCK_SIZE - 1
        wanted = self.base_port + plan.offset
        documented = {self.base_port + other.offset for other in layout
                      if other.protocol == plan.protocol and other is not plan}
        order = list(range(wanted, high + 1)) + list(range(low, wanted))
        return [port for port in order if port not in documented and port not in taken]

    def _fill_accept_queues(self, port: int, listeners: Dict[str, socket.socket], primary: str) -> PortState:
        """Fill each filtered listener's accept queue, then check (once) that a new connect goes unanswered."""
        for host in listeners:
            filler = socket.socket(_family(host), socket.SOCK_STREAM)
            self._sockets.append(filler)
            filler.settimeout(1.0)
            filler.connect_ex((_local_address(host), port))  # completes, then waits forever: never accept()ed
        if self.filtered_works is None:
            observed = self._observe(_local_address(primary), port)
            self.filtered_works = observed is PortState.FILTERED
            self._filtered_observed = observed
            if not self.filtered_works:
                self.notes.append(LabNote("filtered_unavailable", {"port": port, "observed": observed.value,
                                                                   "platform": sys.platform}))
        return PortState.FILTERED if self.filtered_works else self._filtered_observed

    @staticmethod
    def _observe(address: str, port: int) -> PortState:
        with socket.socket(_family(address), socket.SOCK_STREAM) as probe:
            probe.setblocking(False)
            probe.connect_ex((address, port))
            with selectors.DefaultSelector() as selector:
                selector.register(probe, selectors.EVENT_WRITE)
                if not selector.select(FILTER_CHECK_SECONDS):
                    return PortState.FILTERED
            code = probe.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        return PortState.OPEN if code == 0 else PortState.CLOSED

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        ports = ", ".join(f"{s.port}/{s.protocol}" for s in self.services)
        return f"<PracticeLab {self.bound_host} {state} [{ports}]>"
