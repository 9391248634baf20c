"""What a challenge hides: a target drawn at random from a seed, and the questions about it.

A check that cannot be failed teaches nothing.  So a challenge never shows its answer: it
draws a small target from a *seed* (the same seed always draws the same target, so a whole
class can get one target, and a test can know the answer), starts it, and asks questions
the learner can only answer by scanning it::

    seed 7, challenge 2  ->  one host, ports 23400-23499:
        23417/tcp open  (echo)        23455/tcp filtered (DROP)
        23431/tcp open  (http)        23478/tcp closed (REJECT with tcp-reset)
        every other port closed (nothing listens: RST)

A ``PortPlan`` says how each port is made (``how``): a listening ``service``, ``drop``
(silence: a firewall), ``reject-rst`` / ``reject-icmp`` (a firewall that answers, which a
TCP connect sees as closed), ``silent`` (UDP: bound, never answers) or ``nothing``.  A
``HostPlan`` is one machine: ``up``, ``down`` (no machine at that address) or
``filtered`` (a firewall drops every port but its open ones).  Addresses are given as
host numbers inside the challenge's /29 block (``.9`` .. ``.14``); the block itself is
chosen when the target starts (a namespace's 10.x.y.8/29, or a loopback 127.x.y.8/29).

This module is data and pure functions only: no sockets, no screen.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

BLOCK_HOSTS = range(9, 15)      # host numbers a challenge may use inside its /29 (.8 .. .15)
PORT_BLOCK = 100                # every challenge's TCP ports lie in one block of 100
LOWEST_BASE, HIGHEST_BASE = 20000, 30000   # below Linux's ephemeral ports (32768+)
TRIES = 3                       # answers per question before the key is shown

BANNER_SERVICES = ("ssh", "ftp", "db")             # say who they are as soon as you connect
OPEN_SERVICES = ("echo", "http", "ssh", "ftp", "db")
# A service on an unusual port: the port number suggests one thing, the banner tells another.
DISGUISES = (("ssh", 80), ("ftp", 22), ("db", 21), ("ssh", 43), ("db", 80))


@dataclass(frozen=True)
class PortPlan:
    port: int
    protocol: str           # "tcp" or "udp"
    state: str              # what a correct scan reports: open, closed, filtered, open|filtered
    how: str                # service, drop, reject-rst, reject-icmp, silent, nothing
    service: str = ""       # for how == "service": echo, http, ssh, ftp, db


@dataclass(frozen=True)
class HostPlan:
    number: int             # last number of the address inside the block
    role: str               # up, down, filtered
    ports: Tuple[PortPlan, ...] = ()

    def port(self, number: int, protocol: str = "tcp") -> Optional[PortPlan]:
        return next((p for p in self.ports if p.port == number and p.protocol == protocol), None)

    def state_of(self, number: int, protocol: str = "tcp") -> str:
        """Every port not named is closed on an up host, filtered behind a filter, silent when down."""
        named = self.port(number, protocol)
        if named is not None:
            return named.state
        if self.role == "down":
            return "down"
        if self.role == "filtered":
            return "filtered" if protocol == "tcp" else "open|filtered"
        return "closed"


@dataclass(frozen=True)
class Question:
    kind: str               # open_ports, filtered_port, filtered_how, service_on_port, hosts_up, udp_state,
                            # filtered_host
    host: int = 0           # host number the question is about (0: the only host)
    port: int = 0
    low: int = 0
    high: int = 0


@dataclass(frozen=True)
class TargetPlan:
    number: int             # which challenge (1..6)
    seed: int
    low: int                # the TCP port block the learner is told to scan
    high: int
    hosts: Tuple[HostPlan, ...]
    questions: Tuple[Question, ...] = ()
    network: bool = False   # True: tell the learner the /29, not one address
    loss: float = 0.0       # share of packets lost on the way in (namespace only)
    notes: List[str] = field(default_factory=list)

    def host(self, number: int = 0) -> HostPlan:
        if number == 0:
            return self.hosts[0]
        return next(h for h in self.hosts if h.number == number)


CHALLENGE_COUNT = 6


def draw(number: int, seed: int) -> TargetPlan:
    """The target of challenge ``number`` for ``seed``: always the same for the same pair."""
    if not 1 <= number <= CHALLENGE_COUNT:
        raise ValueError(number)
    rng = random.Random(f"portscan-lab challenge {number} seed {seed}")
    base = LOWEST_BASE + PORT_BLOCK * rng.randrange((HIGHEST_BASE - LOWEST_BASE) // PORT_BLOCK)
    offsets = rng.sample(range(1, PORT_BLOCK - 1), 12)   # distinct: no two plans share a port
    ports = [base + offset for offset in offsets]
    return _BUILDERS[number](rng, number, seed, base, ports)


def _open(port: int, service: str) -> PortPlan:
    return PortPlan(port, "tcp", "open", "service", service)


def _first_look(rng, number, seed, base, ports) -> TargetPlan:
    """One host, three open services in a block of 100: which are open?"""
    services = rng.sample(("echo", "http", "ftp", "ssh"), 3)
    host = HostPlan(rng.choice(BLOCK_HOSTS), "up", tuple(_open(p, s) for p, s in zip(ports, services)))
    return TargetPlan(number, seed, base, base + PORT_BLOCK - 1, (host,),
                      (Question("open_ports", low=base, high=base + PORT_BLOCK - 1),))


def _silence(rng, number, seed, base, ports) -> TargetPlan:
    """Open, closed by a firewall's REJECT, and one port a firewall DROPs: which is filtered, and how do you tell?"""
    services = rng.sample(("echo", "http", "ftp"), 2)
    plans = [_open(ports[0], services[0]), _open(ports[1], services[1]),
             PortPlan(ports[2], "tcp", "filtered", "drop"),
             PortPlan(ports[3], "tcp", "closed", "reject-rst"),
             PortPlan(ports[4], "tcp", "closed", "reject-icmp")]
    host = HostPlan(rng.choice(BLOCK_HOSTS), "up", tuple(plans))
    return TargetPlan(number, seed, base, base + PORT_BLOCK - 1, (host,),
                      (Question("open_ports", low=base, high=base + PORT_BLOCK - 1),
                       Question("filtered_port", low=base, high=base + PORT_BLOCK - 1),
                       Question("filtered_how", port=ports[2])))


def _disguise(rng, number, seed, base, ports) -> TargetPlan:
    """A service on a port whose number suggests something else: only its banner tells."""
    service, looks_like = rng.choice(DISGUISES)
    odd_port = base + looks_like if base + looks_like not in ports[1:4] else ports[0]
    plans = [_open(odd_port, service), _open(ports[1], "http"), _open(ports[2], "echo")]
    host = HostPlan(rng.choice(BLOCK_HOSTS), "up", tuple(plans))
    return TargetPlan(number, seed, base, base + PORT_BLOCK - 1, (host,),
                      (Question("open_ports", low=base, high=base + PORT_BLOCK - 1),
                       Question("service_on_port", port=odd_port)))


def _udp(rng, number, seed, base, ports) -> TargetPlan:
    """UDP: an echo that answers, a closed port (ICMP) and a silent one: closed or open|filtered?"""
    plans = [PortPlan(ports[0], "udp", "open", "service", "echo"),
             PortPlan(ports[1], "udp", "closed", "nothing"),
             PortPlan(ports[2], "udp", "open|filtered", "silent"),
             _open(ports[3], "http")]
    host = HostPlan(rng.choice(BLOCK_HOSTS), "up", tuple(plans))
    asked = [ports[1], ports[2]]
    rng.shuffle(asked)
    return TargetPlan(number, seed, base, base + PORT_BLOCK - 1, (host,),
                      tuple(Question("udp_state", port=port) for port in asked))


def _hosts(rng, number, seed, base, ports) -> TargetPlan:
    """A small network: four machines, one of them down.  Which hosts are up?"""
    numbers = sorted(rng.sample(BLOCK_HOSTS, 4))
    down = rng.choice(numbers)
    services = iter(rng.sample(OPEN_SERVICES, 3))
    quiet = next(n for n in numbers if n != down)          # a host with nothing open is still up
    hosts = []
    for index, host_number in enumerate(numbers):
        if host_number == down:
            hosts.append(HostPlan(host_number, "down"))
        elif host_number == quiet:
            hosts.append(HostPlan(host_number, "up"))
        else:
            hosts.append(HostPlan(host_number, "up", (_open(ports[index], next(services)),)))
    return TargetPlan(number, seed, base, base + PORT_BLOCK - 1, tuple(hosts),
                      (Question("hosts_up"),), network=True)


def _network(rng, number, seed, base, ports) -> TargetPlan:
    """The whole picture: a host behind a filter, a down host, SSH on an unusual port, a little loss."""
    numbers = sorted(rng.sample(BLOCK_HOSTS, 4))
    web, walled, odd, down = rng.sample(numbers, 4)
    service, looks_like = rng.choice(DISGUISES)
    odd_port = base + looks_like if base + looks_like not in ports[:3] else ports[5]
    plans: Dict[int, HostPlan] = {
        web: HostPlan(web, "up", (_open(ports[0], "http"), PortPlan(ports[1], "tcp", "closed", "reject-rst"))),
        walled: HostPlan(walled, "filtered", (_open(ports[2], "db"), PortPlan(ports[3], "tcp", "filtered", "drop"),
                                              PortPlan(ports[4], "tcp", "filtered", "drop"))),
        odd: HostPlan(odd, "up", (_open(odd_port, service),)),
        down: HostPlan(down, "down"),
    }
    hosts = tuple(plans[n] for n in numbers)
    return TargetPlan(number, seed, base, base + PORT_BLOCK - 1, hosts,
                      (Question("hosts_up"), Question("filtered_host", host=walled),
                       Question("service_on_port", host=odd, port=odd_port)),
                      network=True, loss=0.02)


_BUILDERS = {1: _first_look, 2: _silence, 3: _disguise, 4: _udp, 5: _hosts, 6: _network}


def realise(plan: TargetPlan, namespace: bool) -> TargetPlan:
    """The plan as it can really be built: in a namespace as drawn; on loopback, every address
    answers (a down host becomes an up host with nothing open) and a filtered host is only
    filtered on its named ports (each one a full accept queue)."""
    if namespace:
        return plan
    hosts = tuple(HostPlan(h.number, "up", h.ports) if h.role != "up" else h for h in plan.hosts)
    notes = list(plan.notes) + (["down_needs_root"] if any(h.role == "down" for h in plan.hosts) else [])
    return TargetPlan(plan.number, plan.seed, plan.low, plan.high, hosts, plan.questions, plan.network, 0.0, notes)
