"""Running a challenge's hidden target: in a network namespace when we may, on loopback otherwise.

``ChallengeTarget(plan)`` builds what ``plan`` describes and keeps it running until
``stop()`` (it is a context manager).  Two ways to build it:

* **namespace** (root on Linux, with ``ip`` and ``iptables``): a namespace of our own,
  joined to this machine by a veth cable in a private /24 (``10.213.N.0/24``).  Open ports
  are the lab's real services, their sockets created inside the namespace; a filtered port
  is an iptables ``DROP``; ``REJECT`` rules answer with an RST or an ICMP error; a down host
  is an address no interface holds; a host "behind a filter" drops everything but its open
  ports.  Exactly what a real network does, and no packet leaves the computer.
* **loopback** (everyone else): the hosts are addresses of ``127.0.0.0/8``, a filtered port
  is a listener with a full accept queue, a rejected port a bound socket that never
  listens, and a down host cannot exist (every loopback address answers), which the
  realised plan (``plan.realise``) and a note say.

Either way ``truth`` is the plan as really built (ports moved off busy numbers included),
and grading uses only it.  The services run on the lab's one asyncio loop
(``lessons.lab.server.PracticeLab``), so fairness, banners and the connection log are the lab's.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from typing import Dict, List, Optional

from lessons.lab import netns
from lessons.lab.challenges.plan import HostPlan, TargetPlan, realise
from lessons.lab.layout import PlannedService
from lessons.lab.network import address_problem
from lessons.lab.server import PracticeLab
from scanner.results import PortState

NAMESPACE_NET = "10.213.{}.0/24"
LOOPBACK_NET = "127.77.{}.0/24"
NAMESPACE_STEPS = 10            # how far from its seed's block a namespace target may have moved

# How each kind of port is built on loopback (namespace: only services and silent UDP get sockets).
LOOPBACK_SERVICE = {"drop": "filtered", "reject-rst": "closed", "reject-icmp": "closed", "silent": "silent"}


def preferred_octet(plan: TargetPlan) -> int:
    """The third number of the /24 a seed's target lives in: the same seed, the same addresses
    (so a report saved from one run can be graded in another)."""
    return 20 + (plan.seed * 7 + plan.number * 31) % 200


def block_of_report_address(address: str) -> Optional[tuple]:
    """(the /24, True for a namespace) when ``address`` is where some challenge target lives."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    for pattern, namespace in ((NAMESPACE_NET, True), (LOOPBACK_NET, False)):
        network = ipaddress.ip_network(pattern.format(str(ip).split(".")[2]) if ip.version == 4 else "::/128")
        if ip in network:
            return str(network), namespace
    return None


class TargetLab(PracticeLab):
    """A practice lab that opens the sockets of one challenge plan instead of the lab's layout."""

    def __init__(self, target: "ChallengeTarget", first_address: str) -> None:
        super().__init__(host=first_address, base_port=target.plan.low, also_ipv6=False,
                         allow_all_interfaces=False)
        self.target = target
        self.placed: Dict[str, list] = {}    # address -> LabService list as opened

    def _open_everything(self) -> None:
        target = self.target
        for host in target.plan.hosts:
            if host.role == "down":
                continue
            address = target.address(host.number)
            layout = tuple(target.layout_for(host))
            if not layout:
                continue
            opener = lambda layout=layout, address=address: self._open_layout(layout, address)  # noqa: E731
            services = target.namespace.inside(opener) if target.namespace else opener()
            self.placed[address] = services
            self.services.extend(services)
        self._hosts = tuple(target.address(h.number) for h in target.plan.hosts)


class ChallengeTarget:
    """One running challenge target: ``where`` to scan, and ``truth`` for grading."""

    def __init__(self, plan: TargetPlan, *, use_namespace: Optional[bool] = None, bind: Optional[str] = None,
                 connection_hook=None) -> None:
        self.drawn = plan
        self.bind = bind                   # one address for everything (classroom --bind / 127.0.0.1)
        self.want_namespace = use_namespace if bind is None else False
        self.connection_hook = connection_hook
        self.namespace: Optional[netns.Namespace] = None
        self.fallback_reason: Optional[str] = None
        self.plan = plan
        self.truth = plan
        self.block = ""
        self.lab: Optional[TargetLab] = None

    # -- where things are -----------------------------------------------------------------
    def address(self, number: int) -> str:
        if self.bind:
            return self.bind
        return str(ipaddress.ip_network(self.block).network_address + number)

    @property
    def scan_block(self) -> str:
        """What the learner is told to scan: the /29 of a network challenge, else the one address."""
        if self.bind or not self.plan.network:
            return self.address(self.plan.hosts[0].number)
        return str(ipaddress.ip_network(f"{self.address(8)}/29", strict=False))

    @property
    def mode(self) -> str:
        return "bind" if self.bind else ("namespace" if self.namespace else "loopback")

    def layout_for(self, host: HostPlan) -> List[PlannedService]:
        plans = []
        for port in host.ports:
            if port.how == "service":
                name = port.service
            elif self.namespace is None:
                name = LOOPBACK_SERVICE.get(port.how, "")
            else:
                name = "silent" if port.how == "silent" else ""
            if name:
                state = PortState.FILTERED if name == "filtered" else PortState.OPEN
                plans.append(PlannedService(name, port.protocol, port.port - self.plan.low, state, port.how))
        return plans

    # -- start and stop -------------------------------------------------------------------
    def __enter__(self) -> "ChallengeTarget":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> "ChallengeTarget":
        if self.want_namespace is not False and self.bind is None:
            self.fallback_reason = netns.unavailable()
            if self.fallback_reason is None:
                netns.clean_stale()
                self._make_namespace()
        elif self.bind is None:
            self.fallback_reason = "asked for loopback"
        self.plan = realise(self.drawn, self.namespace is not None)
        if self.namespace is None and self.bind is None:
            self.block = LOOPBACK_NET.format(preferred_octet(self.drawn))
            if address_problem(self.address(9)) is not None:   # macOS: only 127.0.0.1 until an alias is added
                self.bind = "127.0.0.1"
                self.plan.notes.append("single_address")
        try:
            first = self.address(next((h.number for h in self.plan.hosts if h.role != "down"),
                                      self.plan.hosts[0].number))
            self.lab = TargetLab(self, first)
            self.lab.connection_hook = self.connection_hook
            self.lab.start()
            self.truth = self._as_built()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.lab is not None:
            self.lab.stop()
        if self.namespace is not None:
            self.namespace.close()

    @property
    def running(self) -> bool:
        return self.lab is not None and self.lab.running

    @property
    def notes(self) -> list:
        return list(self.plan.notes) + [note.code for note in (self.lab.notes if self.lab else [])]

    def _make_namespace(self) -> None:
        block = netns.free_block(preferred_octet(self.drawn), NAMESPACE_NET)
        namespace = netns.Namespace(f"c{self.drawn.number}", kind="challenge")
        namespace.__enter__()
        self.namespace, self.block = namespace, block
        try:
            present = [self.address(h.number) for h in self.drawn.hosts if h.role != "down"]
            namespace.link_to_host(block, present)
            # Linux answers a closed UDP port with at most ~1 ICMP error a second by default;
            # a challenge asks "closed or open|filtered?", so its closed ports must answer every probe.
            namespace.answer_every_probe()
            for host in self.drawn.hosts:
                self._firewall(host)
            if self.drawn.loss:
                namespace.lose_incoming(self.drawn.loss)
        except BaseException:
            namespace.close()
            self.namespace = None
            raise

    def _firewall(self, host: HostPlan) -> None:
        address, namespace = self.address(host.number), self.namespace
        for port in host.ports:
            if port.how == "drop":
                namespace.drop_port(address, port.protocol, port.port)
            elif port.how in ("reject-rst", "reject-icmp"):
                namespace.reject_port(address, port.port, with_reset=port.how == "reject-rst")
        if host.role == "filtered":
            namespace.filter_host(address, [p.port for p in host.ports if p.how == "service" and p.protocol == "tcp"])

    def _as_built(self) -> TargetPlan:
        """The plan with every port where it really ended up (a busy number moves within the block)."""
        moved = {}
        for address, services in self.lab.placed.items():
            for service in services:
                if service.wanted_port and service.wanted_port != service.port:
                    moved[(address, service.wanted_port, service.protocol)] = service.port
        if not moved:
            return self.plan
        hosts = []
        for host in self.plan.hosts:
            address = self.address(host.number)
            ports = tuple(replace(p, port=moved.get((address, p.port, p.protocol), p.port)) for p in host.ports)
            hosts.append(replace(host, ports=ports))
        return replace(self.plan, hosts=tuple(hosts))


def report_truth(drawn: TargetPlan, addresses: list):
    """(realised plan, address_of) for grading a saved report of ``drawn``'s target, or None.

    The target is not running: its addresses follow from the seed, and which way it was built
    (namespace or loopback) from the addresses the report scanned."""
    for address in addresses:
        found = block_of_report_address(str(address))
        if found is not None:
            block, namespace = found
            # The seed fixes the /24 (a namespace moves a few blocks on when its own is taken): a
            # report of another challenge or seed names another block and is not graded against this one.
            step = (int(block.split(".")[2]) - preferred_octet(drawn)) % 200
            if step != 0 and not (namespace and step < NAMESPACE_STEPS):
                continue
            base = ipaddress.ip_network(block).network_address
            return realise(drawn, namespace), (lambda number, base=base: str(base + number))
    return None
