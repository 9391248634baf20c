"""A small imperfect network on one Linux machine: a network namespace the program makes and removes.

A *network namespace* is a private copy of the kernel's network stack: its own
interfaces, its own loopback, its own firewall.  Inside a fresh one, ``127.0.0.1`` is a
host nobody else uses, and iptables rules there change only that little world::

    iptables -A INPUT -p tcp --dport 20080 -j DROP            a filtered port: SYNs vanish
    iptables -A INPUT -p tcp --dport 20081 -j REJECT \\
             --reject-with tcp-reset                          looks closed: an RST comes back
    statistic --mode random --probability 0.02 -j DROP         2% of matching packets vanish

A *veth pair* is a virtual cable: one end stays on this machine (the "host side"), the
other end goes into the namespace.  Give both ends an address of one private /24 and the
machine can scan the namespace's addresses as if they were a small network next door,
while no packet leaves the computer.  An address of the block that no interface holds is
"a host that is down": ARP asks for it and nobody answers.

Every namespace gets a name with this process's id (``pscan-<kind>-<pid>-<label>-<n>``), is
deleted on exit (context manager, ``atexit``, and the command line's SIGTERM handling), and
``clean_stale()`` removes namespaces whose process is gone (a ``kill -9``).

Sockets are opened *inside* a namespace without a helper process: a thread joins the
namespace with ``setns(2)`` (which moves only the calling thread), creates and binds the
sockets, and ends.  A socket stays in the namespace it was made in, so the lab's one event
loop, in the ordinary namespace, can serve it.

Needs root and the ``ip`` and ``iptables`` commands; ``unavailable()`` says why not.  Used by
the challenges (``lessons.lab.challenges``), ``bench/`` and the namespace tests.
"""

from __future__ import annotations

import atexit
import ctypes
import ipaddress
import itertools
import os
import shutil
import subprocess
import sys
import threading
from typing import Callable, List, Optional

PREFIX = "pscan-"
CLONE_NEWNET = 0x40000000
SYN = ("SYN,ACK", "SYN")
SYN_ACK = ("SYN,ACK", "SYN,ACK")
RST = ("RST", "RST")

_names = itertools.count()
_live: List["Namespace"] = []          # deleted by atexit if a context manager never got to
_live_lock = threading.Lock()


def unavailable() -> Optional[str]:
    """Why namespaces with iptables cannot be used here, or None when they can."""
    if not sys.platform.startswith("linux"):
        return "network namespaces are Linux only"
    if os.geteuid() != 0:
        return "needs root to create a network namespace"
    for tool in ("ip", "iptables"):
        if shutil.which(tool) is None:
            return f"the '{tool}' command is not installed"
    try:
        with Namespace("probe"):
            pass
    except (OSError, subprocess.CalledProcessError) as error:
        return f"could not create a network namespace with iptables: {error}"
    return None


def list_namespaces() -> List[str]:
    proc = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    return [line.split()[0] for line in proc.stdout.splitlines() if line.strip()]


def clean_stale() -> List[str]:
    """Delete our namespaces whose process has ended; returns their names.

    Only names with our prefix and a pid that no longer exists: a namespace of another
    running program (or another developer's run of this one) is left alone."""
    removed = []
    for name in list_namespaces():
        parts = name.split("-")
        if not name.startswith(PREFIX) or len(parts) < 3 or not parts[2].isdigit():
            continue
        if os.path.exists(f"/proc/{parts[2]}"):
            continue
        subprocess.run(["ip", "netns", "del", name], capture_output=True)
        removed.append(name)
    return removed


def free_block(preferred: int, pattern: str = "10.213.{}.0/24") -> str:
    """A private /24 that no address or route of this machine uses yet, near ``preferred`` (20..219)."""
    taken = subprocess.run(["ip", "-4", "-o", "addr", "show"], capture_output=True, text=True).stdout
    taken += subprocess.run(["ip", "-4", "route", "show"], capture_output=True, text=True).stdout
    for step in range(200):
        block = pattern.format(20 + (preferred - 20 + step) % 200)
        if block.rsplit(".", 1)[0] + "." not in taken:
            return block
    raise OSError("no free private /24 for a namespace")


def _delete_all_live() -> None:
    with _live_lock:
        left = list(_live)
    for namespace in left:
        namespace.close()


atexit.register(_delete_all_live)


class Namespace:
    """A fresh network namespace with its loopback up; deleted (and its helpers ended) on exit."""

    def __init__(self, label: str = "net", kind: str = "engine") -> None:
        self.name = f"{PREFIX}{kind}-{os.getpid()}-{label}-{next(_names)}"
        self.helpers: List[subprocess.Popen] = []
        self.host_side: Optional[str] = None   # the veth end on this machine, if any
        self.closed = True

    def __enter__(self) -> "Namespace":
        subprocess.run(["ip", "netns", "add", self.name], check=True, capture_output=True)
        self.closed = False
        with _live_lock:
            _live.append(self)
        try:
            self.run("ip", "link", "set", "lo", "up")
            self.run("iptables", "-L", "OUTPUT", "-n")
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """End the helpers this namespace started (by pid) and delete it; safe to call twice."""
        if self.closed:
            return
        self.closed = True
        for helper in self.helpers:
            if helper.poll() is None:
                helper.terminate()
                try:
                    helper.wait(5)
                except subprocess.TimeoutExpired:
                    helper.kill()
                    helper.wait()
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)  # takes its veth end along
        if self.host_side:
            subprocess.run(["ip", "link", "del", self.host_side], capture_output=True)
        with _live_lock:
            if self in _live:
                _live.remove(self)

    def exists(self) -> bool:
        return self.name in list_namespaces()

    def command(self, *args: str) -> list:
        return ["ip", "netns", "exec", self.name, *args]

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(self.command(*args), check=True, capture_output=True, text=True)

    def iptables(self, *rule: str) -> None:
        self.run("iptables", *rule)

    # -- a network next door -----------------------------------------------------------
    def link_to_host(self, block: str, addresses: list) -> str:
        """A veth cable from this machine into the namespace; returns the host side's address.

        ``block`` is a private /24 (e.g. ``10.213.7.0/24``): the host side takes its ``.1``,
        the namespace end takes ``addresses``.  The namespace has no default route, and only
        the host side's address may talk to it, so nothing but this machine reaches it."""
        network = ipaddress.ip_network(block)
        host_address = str(network.network_address + 1)
        self.host_side = f"psv{os.getpid()}x{next(_names)}"[:15]
        subprocess.run(["ip", "link", "add", self.host_side, "type", "veth", "peer", "name", "lab1",
                        "netns", self.name], check=True, capture_output=True)
        subprocess.run(["ip", "addr", "add", f"{host_address}/{network.prefixlen}", "dev", self.host_side],
                       check=True, capture_output=True)
        subprocess.run(["ip", "link", "set", self.host_side, "up"], check=True, capture_output=True)
        self.run("ip", "link", "set", "lab1", "up")
        for address in addresses:
            self.run("ip", "addr", "add", f"{address}/{network.prefixlen}", "dev", "lab1")
        self.iptables("-A", "INPUT", "-i", "lab1", "!", "-s", host_address, "-j", "DROP")
        return host_address

    def answer_every_probe(self) -> None:
        """Linux answers closed UDP ports with about one ICMP error a second by default; a
        teaching target must answer every probe, or "closed" turns into open|filtered."""
        self.run("sysctl", "-q", "-w", "net.ipv4.icmp_ratelimit=0")

    def network(self, prefix: str, hosts: list) -> None:
        """A small network inside the namespace: ``prefix`` (e.g. 10.77.0.1/29) on one end of a
        veth pair, plus ``hosts`` as more addresses of this machine.  Other addresses of the
        block have no machine: their ARP questions go unanswered."""
        self.run("ip", "link", "add", "lab0", "type", "veth", "peer", "name", "lab1")
        self.run("ip", "link", "set", "lab0", "up")
        self.run("ip", "link", "set", "lab1", "up")
        self.run("ip", "addr", "add", prefix, "dev", "lab0")
        for host in hosts:
            self.run("ip", "addr", "add", f"{host}/32", "dev", "lab0")

    def inside(self, job: Callable):
        """Run ``job()`` in a thread that has joined this namespace; returns its result.

        Sockets ``job`` creates belong to the namespace for good, whichever thread uses them later."""
        outcome: dict = {}

        def enter_and_run() -> None:
            try:
                libc = ctypes.CDLL(None, use_errno=True)
                fd = os.open(f"/run/netns/{self.name}", os.O_RDONLY)
                try:
                    if libc.setns(fd, CLONE_NEWNET) != 0:
                        number = ctypes.get_errno()
                        raise OSError(number, os.strerror(number))
                finally:
                    os.close(fd)
                outcome["value"] = job()
            except BaseException as error:   # handed to the caller's thread
                outcome["error"] = error

        worker = threading.Thread(target=enter_and_run, name=f"in-{self.name}", daemon=True)
        worker.start()
        worker.join()
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("value")

    # -- imperfections -----------------------------------------------------------------
    def drop(self, flags: tuple, probability: float) -> None:
        """Drop that share of outgoing TCP packets with these flags (mask, set), at random."""
        if probability > 0:
            self.iptables("-A", "OUTPUT", "-p", "tcp", "--tcp-flags", *flags, "-m", "statistic",
                          "--mode", "random", "--probability", f"{probability:.4f}", "-j", "DROP")

    def lose(self, probability: float) -> None:
        """Random loss of SYNs, SYN-ACKs and RSTs alike."""
        for flags in (SYN, SYN_ACK, RST):
            self.drop(flags, probability)

    def drop_every_other_syn_to(self, port: int) -> None:
        """The 1st, 3rd, 5th... SYN to ``port`` vanish: every first try is lost, the retry gets through."""
        self.iptables("-A", "OUTPUT", "-p", "tcp", "--dport", str(port), "--tcp-flags", *SYN,
                      "-m", "statistic", "--mode", "nth", "--every", "2", "--packet", "0", "-j", "DROP")

    def limit_rsts(self, per_second: int) -> None:
        """Answer at most ``per_second`` RSTs a second, like a BSD or macOS host."""
        self._limit("rstlimit", per_second, ("-p", "tcp", "--tcp-flags", *RST))

    def limit_port_unreachables(self, per_second: int) -> None:
        """Send at most ``per_second`` ICMP port-unreachable errors a second (UDP's "closed")."""
        self._limit("icmplimit", per_second, ("-p", "icmp", "--icmp-type", "port-unreachable"))

    def _limit(self, chain: str, per_second: int, match: tuple) -> None:
        self.iptables("-N", chain)
        self.iptables("-A", chain, "-m", "limit", "--limit", f"{per_second}/second",
                      "--limit-burst", str(per_second), "-j", "RETURN")
        self.iptables("-A", chain, "-j", "DROP")
        self.iptables("-A", "OUTPUT", *match, "-j", chain)

    def drop_host(self, address: str) -> None:
        """A host whose firewall drops every TCP packet: it looks exactly like no host at all."""
        self.iptables("-A", "OUTPUT", "-d", address, "-p", "tcp", "-j", "DROP")

    def drop_port(self, address: str, protocol: str, port: int) -> None:
        """A firewall's DROP: packets to that port vanish (the scanner sees only silence)."""
        self.iptables("-A", "INPUT", "-d", address, "-p", protocol, "--dport", str(port), "-j", "DROP")

    def reject_port(self, address: str, port: int, with_reset: bool) -> None:
        """A firewall's REJECT for TCP: an RST, or ICMP port unreachable (both look closed to connect())."""
        answer = "tcp-reset" if with_reset else "icmp-port-unreachable"
        self.iptables("-A", "INPUT", "-d", address, "-p", "tcp", "--dport", str(port), "-j", "REJECT",
                      "--reject-with", answer)

    def filter_host(self, address: str, open_ports: list) -> None:
        """A host behind a firewall: only ``open_ports`` (TCP) get through, everything else is dropped."""
        for port in open_ports:
            self.iptables("-A", "INPUT", "-d", address, "-p", "tcp", "--dport", str(port), "-j", "ACCEPT")
        self.iptables("-A", "INPUT", "-d", address, "-j", "DROP")

    def lose_incoming(self, probability: float) -> None:
        """Random loss of packets arriving in the namespace (a poor link)."""
        if probability > 0:
            self.iptables("-A", "INPUT", "-i", "lab1", "-m", "statistic", "--mode", "random",
                          "--probability", f"{probability:.4f}", "-j", "DROP")
