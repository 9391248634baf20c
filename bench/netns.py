#!/usr/bin/env python3
"""An imperfect network you can make on one Linux machine: a network namespace.

A *network namespace* is a private copy of the kernel's network stack: its own
interfaces, its own loopback, its own firewall.  Inside a fresh one, ``127.0.0.1`` is a
host that nobody else uses, and iptables rules there change only that little world:

    statistic --mode random --probability 0.02 -j DROP   2% of matching packets vanish
    limit --limit 500/second                            at most 500 a second pass

This kernel has no ``netem``, so delay and jitter come from ``nfqdelay`` (see
/work/shared/tools/nfqdelay/README.md): iptables hands SYNs to it through NFQUEUE and it
releases them later.  It is built into a temporary folder, never copied into the project.

Used by ``tests/test_lossy_network.py`` and ``bench/bench_network.py``.  Needs root and the
``ip`` and ``iptables`` commands; ``unavailable()`` says why not when they are missing.
Every namespace gets a unique name (helper name, pid, counter) and is deleted on exit.
Run as ``python3 bench/netns.py serve PORT...`` (inside a namespace) it is the listener
process: it accepts and closes connections on those ports until stdin closes.
"""

from __future__ import annotations

import itertools
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# The shared tools sit beside the checkout (../shared); /work/shared is where developers keep them.
NFQDELAY_SOURCE = next((folder for folder in (os.path.join(ROOT, "..", "shared", "tools", "nfqdelay"),
                                              "/work/shared/tools/nfqdelay")
                        if os.path.isfile(os.path.join(folder, "nfqdelay.c"))), "/work/shared/tools/nfqdelay")
_names = itertools.count()

SYN = ("SYN,ACK", "SYN")
SYN_ACK = ("SYN,ACK", "SYN,ACK")
RST = ("RST", "RST")


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


def build_nfqdelay(folder: Optional[str] = None) -> Optional[str]:
    """Build nfqdelay into ``folder`` (default: a new temporary one); its path, or None when it cannot be built."""
    source = os.path.join(NFQDELAY_SOURCE, "nfqdelay.c")
    if not os.path.exists(source) or shutil.which("cc") is None:
        return None
    folder = folder or tempfile.mkdtemp(prefix="pscan-nfqdelay-")
    binary = os.path.join(folder, "nfqdelay")
    proc = subprocess.run(["cc", "-O2", "-o", binary, source, "-lnetfilter_queue", "-lpthread"],
                          capture_output=True, text=True)
    return binary if proc.returncode == 0 else None


class Namespace:
    """A fresh network namespace with its loopback up; deleted (and nfqdelay ended) on exit."""

    def __init__(self, label: str = "net") -> None:
        self.name = f"pscan-engine-{os.getpid()}-{label}-{next(_names)}"
        self.helpers: List[subprocess.Popen] = []

    def __enter__(self) -> "Namespace":
        subprocess.run(["ip", "netns", "add", self.name], check=True, capture_output=True)
        try:
            self.run("ip", "link", "set", "lo", "up")
            self.run("iptables", "-L", "OUTPUT", "-n")
        except BaseException:
            subprocess.run(["ip", "netns", "del", self.name], capture_output=True)
            raise
        return self

    def __exit__(self, *exc) -> None:
        for helper in self.helpers:
            if helper.poll() is None:
                helper.send_signal(signal.SIGTERM)  # by pid: only what this namespace started
                try:
                    helper.wait(5)
                except subprocess.TimeoutExpired:
                    helper.kill()
                    helper.wait()
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)

    def command(self, *args: str) -> list:
        return ["ip", "netns", "exec", self.name, *args]

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(self.command(*args), check=True, capture_output=True, text=True)

    # -- imperfections -----------------------------------------------------------------
    def drop(self, flags: tuple, probability: float) -> None:
        """Drop that share of TCP packets with these flags (mask, set), at random."""
        if probability > 0:
            self.run("iptables", "-A", "OUTPUT", "-p", "tcp", "--tcp-flags", *flags,
                     "-m", "statistic", "--mode", "random", "--probability", f"{probability:.4f}", "-j", "DROP")

    def lose(self, probability: float) -> None:
        """Random loss of SYNs, SYN-ACKs and RSTs alike."""
        for flags in (SYN, SYN_ACK, RST):
            self.drop(flags, probability)

    def drop_every_other_syn_to(self, port: int) -> None:
        """The 1st, 3rd, 5th... SYN to ``port`` vanish: every first try is lost, the retry gets through."""
        self.run("iptables", "-A", "OUTPUT", "-p", "tcp", "--dport", str(port), "--tcp-flags", *SYN,
                 "-m", "statistic", "--mode", "nth", "--every", "2", "--packet", "0", "-j", "DROP")

    def limit_rsts(self, per_second: int) -> None:
        """Answer at most ``per_second`` RSTs a second, like a BSD or macOS host."""
        self.run("iptables", "-N", "rstlimit")
        self.run("iptables", "-A", "rstlimit", "-m", "limit", "--limit", f"{per_second}/second",
                 "--limit-burst", str(per_second), "-j", "RETURN")
        self.run("iptables", "-A", "rstlimit", "-j", "DROP")
        self.run("iptables", "-A", "OUTPUT", "-p", "tcp", "--tcp-flags", *RST, "-j", "rstlimit")

    def limit_port_unreachables(self, per_second: int) -> None:
        """Send at most ``per_second`` ICMP port-unreachable errors a second (UDP's "closed")."""
        self.run("iptables", "-N", "icmplimit")
        self.run("iptables", "-A", "icmplimit", "-m", "limit", "--limit", f"{per_second}/second",
                 "--limit-burst", str(per_second), "-j", "RETURN")
        self.run("iptables", "-A", "icmplimit", "-j", "DROP")
        self.run("iptables", "-A", "OUTPUT", "-p", "icmp", "--icmp-type", "port-unreachable", "-j", "icmplimit")

    def delay(self, nfqdelay: str, rtt_ms: float, jitter_ms: float, syn_loss_percent: float = 0.0) -> None:
        """Every SYN waits ``rtt_ms`` +/- ``jitter_ms`` (nfqdelay), so each probe's round trip is that long."""
        helper = subprocess.Popen(self.command(nfqdelay, "0", str(rtt_ms), str(jitter_ms), str(syn_loss_percent)),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.helpers.append(helper)
        time.sleep(0.3)  # let it bind the queue: until then --queue-bypass lets SYNs through undelayed
        self.run("iptables", "-A", "OUTPUT", "-p", "tcp", "--tcp-flags", *SYN, "-j", "NFQUEUE",
                 "--queue-num", "0", "--queue-bypass")

    def serve(self, ports: list, address: str = "127.0.0.1") -> subprocess.Popen:
        """Listeners on ``address`` in the namespace, in their own process; ready when this returns."""
        helper = subprocess.Popen(self.command(sys.executable, os.path.join(HERE, "netns.py"), "serve",
                                               *map(str, ports), "--address", address),
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.helpers.append(helper)
        line = helper.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"the listeners did not start: {line!r}")
        return helper


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

    def drop_ports(self, low: int, high: int) -> None:
        """Ports ``low``-``high`` behind a firewall that drops SYNs: they stay silent (filtered)."""
        self.run("iptables", "-A", "OUTPUT", "-p", "tcp", "--dport", f"{low}:{high}", "--tcp-flags", *SYN, "-j", "DROP")

    def drop_host(self, address: str) -> None:
        """A host whose firewall drops every TCP packet: it looks exactly like no host at all."""
        self.run("iptables", "-A", "OUTPUT", "-d", address, "-p", "tcp", "-j", "DROP")


def serve(ports: list, address: str = "127.0.0.1") -> None:
    """Accept and close connections on ``ports`` until stdin closes (one thread, one selector)."""
    selector = selectors.DefaultSelector()
    for port in ports:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))
        sock.listen(1024)
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
    selector.register(sys.stdin, selectors.EVENT_READ)
    print("ready", flush=True)
    while True:
        for key, _events in selector.select():
            if key.fileobj is sys.stdin:
                return
            try:
                conn, _ = key.fileobj.accept()
            except OSError:
                continue
            conn.close()


if __name__ == "__main__" and sys.argv[1:2] == ["serve"]:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    arguments = sys.argv[2:]
    bind_to = "127.0.0.1"
    if "--address" in arguments:
        at = arguments.index("--address")
        bind_to = arguments[at + 1]
        del arguments[at:at + 2]
    serve([int(port) for port in arguments], bind_to)
