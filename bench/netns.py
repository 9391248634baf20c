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
The namespace itself (names, clean-up, iptables rules) is ``lessons/lab/netns.py``; this
file adds the benchmark-only parts: nfqdelay and a listener process.
Run as ``python3 bench/netns.py serve PORT...`` (inside a namespace) it is the listener
process: it accepts and closes connections on those ports until stdin closes.
"""

from __future__ import annotations

import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import Optional

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:   # run as a script from bench/: the project's packages are one folder up
    sys.path.insert(0, ROOT)

from lessons.lab import netns as lab_netns  # noqa: E402
from lessons.lab.netns import RST, SYN, SYN_ACK  # noqa: E402,F401  (the names bench and tests use)

# The shared tools sit beside the checkout (../shared); /work/shared is where developers keep them.
NFQDELAY_SOURCE = next((folder for folder in (os.path.join(ROOT, "..", "shared", "tools", "nfqdelay"),
                                              "/work/shared/tools/nfqdelay")
                        if os.path.isfile(os.path.join(folder, "nfqdelay.c"))), "/work/shared/tools/nfqdelay")


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


class Namespace(lab_netns.Namespace):
    """The program's namespace (``lessons.lab.netns``) plus what only benchmarks need: delay, listeners."""

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


    def drop_ports(self, low: int, high: int) -> None:
        """Ports ``low``-``high`` behind a firewall that drops SYNs: they stay silent (filtered)."""
        self.run("iptables", "-A", "OUTPUT", "-p", "tcp", "--dport", f"{low}:{high}", "--tcp-flags", *SYN, "-j", "DROP")


def unavailable() -> Optional[str]:
    return lab_netns.unavailable()


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
