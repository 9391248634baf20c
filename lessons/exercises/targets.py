"""Private practice targets for one exercise check: a block of loopback ports whose answers are known.

A check must know the right answer before the learner's code asks, so it builds its own
small lab for a few seconds and throws it away afterwards.  Every port of the block is
*held* by this process for the whole check (no other program can take it meanwhile),
and each one plays a part:

``open``      listens and accepts; the connection is closed at once
``closed``    bound but never listening: a SYN meets a RST (the lab's trick)
``filtered``  ``listen(0)`` with its accept queue filled by one connection of ours:
              Linux silently drops every further SYN, which looks exactly like a
              firewall's DROP (``filtered_works`` says whether the trick held here)
``silent``    accepts, then never says a word (a banner reader must not wait forever)
``banner``    accepts and sends ``SSH_BANNER`` at once
``junk``      accepts and sends bytes that are not valid UTF-8 (decoding must not crash)

UDP parts, on the same port numbers (UDP ports are a separate space):

``udp-open``    answers every datagram with the same bytes
``udp-closed``  a socket connected to itself: datagrams from anyone else find no
                receiver, so the kernel answers with ICMP "port unreachable"
``udp-silent``  receives and never answers: from outside, open|filtered

Only ``127.0.0.1`` is used, and the block is picked below the usual ephemeral range
(Linux: 32768-60999) so that no connection of anyone else's was given these ports.
One thread with a ``selectors`` loop serves every socket; ``close()`` ends it.
"""

from __future__ import annotations

import random
import selectors
import socket
import threading
import time
from typing import Dict, List, Optional, Sequence

HOST = "127.0.0.1"
SSH_BANNER = b"SSH-2.0-PracticeLab_1.0\r\n"
JUNK_BANNER = b"\xff\xfeHELLO \x80\x81 from the lab\r\n"
LOW_PORT, HIGH_PORT = 20000, 32000   # below Linux's ephemeral range
BLOCK_ATTEMPTS = 40
FILTER_CHECK_SECONDS = 0.2
SILENT_HOLD_SECONDS = 30.0           # a silent connection is closed by close() long before this


class TargetsUnavailable(OSError):
    """No free block of loopback ports could be held for the check."""


class PracticeTargets:
    """``PracticeTargets(["open", "closed", ...])``: port ``base + i`` plays ``roles[i]``.

    A role may name a TCP and a UDP part together, joined by ``+`` (``"open+udp-silent"``).
    Use as a context manager; ``ports(role)`` lists the ports playing a role.
    """

    def __init__(self, roles: Sequence[str]) -> None:
        self.roles = list(roles)
        self.host = HOST
        self.base = 0
        self.filtered_works: Optional[bool] = None
        self._sockets: List[socket.socket] = []
        self._served: Dict[int, str] = {}          # fileno -> what to do when it is readable
        self._by_fd: Dict[int, socket.socket] = {}
        self._selector = selectors.DefaultSelector()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._held: List[tuple] = []               # accepted silent connections and when they came

    # -- the block ---------------------------------------------------------------------
    def ports(self, role: str) -> List[int]:
        return [self.base + i for i, roles in enumerate(self.roles) if role in roles.split("+")]

    def port(self, role: str) -> int:
        return self.ports(role)[0]

    def state(self, port: int) -> str:
        """The TCP state a scanner should report for ``port`` of the block."""
        parts = self.roles[port - self.base].split("+")
        if "filtered" in parts:
            return "filtered"
        return "closed" if "closed" in parts or not any(p in parts for p in ("open", "silent", "banner", "junk")) \
            else "open"

    def __enter__(self) -> "PracticeTargets":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> "PracticeTargets":
        chooser = random.Random()
        for _attempt in range(BLOCK_ATTEMPTS):
            base = chooser.randrange(LOW_PORT, HIGH_PORT - len(self.roles))
            if self._claim(base):
                self.base = base
                break
        else:
            raise TargetsUnavailable("no free block of loopback ports for the check")
        self._thread = threading.Thread(target=self._serve, name="exercise-targets", daemon=True)
        self._thread.start()
        return self

    def _claim(self, base: int) -> bool:
        """Bind every port of the block, or give all of them back."""
        made: List[socket.socket] = []
        try:
            for offset, roles in enumerate(self.roles):
                for role in roles.split("+"):
                    made.extend(self._open(role, base + offset))
        except OSError:
            for sock in made:
                sock.close()
            return False
        self._sockets.extend(made)
        for sock in made:
            if sock.fileno() in self._served:
                self._selector.register(sock, selectors.EVENT_READ)
        return True

    def _open(self, role: str, port: int) -> List[socket.socket]:
        kind = socket.SOCK_DGRAM if role.startswith("udp") else socket.SOCK_STREAM
        sock = socket.socket(socket.AF_INET, kind)
        self._by_fd[sock.fileno()] = sock
        try:
            if kind == socket.SOCK_STREAM:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((HOST, port))
            if role in ("open", "silent", "banner", "junk"):
                sock.listen(64)
                sock.setblocking(False)
                self._served[sock.fileno()] = role
            elif role == "filtered":
                return [sock] + self._fill(sock, port)
            elif role in ("udp-open", "udp-silent"):
                sock.setblocking(False)
                self._served[sock.fileno()] = role
            elif role == "udp-closed":
                sock.connect((HOST, port))   # hears only itself: everyone else gets "port unreachable"
            return [sock]
        except OSError:
            sock.close()
            raise

    def _fill(self, listener: socket.socket, port: int) -> List[socket.socket]:
        """listen(0) and one connection of ours in the queue: later SYNs are dropped (Linux)."""
        listener.listen(0)
        filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        filler.settimeout(1.0)
        filler.connect_ex((HOST, port))
        if self.filtered_works is None:
            self.filtered_works = _goes_unanswered(port)
        return [filler]

    # -- serving -------------------------------------------------------------------------
    def _serve(self) -> None:
        while not self._stop.is_set():
            for key, _events in self._selector.select(0.05):
                self._readable(key.fileobj)
            cutoff = time.monotonic() - SILENT_HOLD_SECONDS
            for conn, _when in [held for held in self._held if held[1] < cutoff]:
                conn.close()
            self._held = [held for held in self._held if held[1] >= cutoff]

    def _readable(self, sock: socket.socket) -> None:
        role = self._served.get(sock.fileno())
        try:
            if role in ("udp-open", "udp-silent"):
                data, sender = sock.recvfrom(2048)
                if role == "udp-open":
                    sock.sendto(data or b"\n", sender)
                return
            conn, _peer = sock.accept()
        except OSError:
            return
        try:
            if role == "banner":
                conn.sendall(SSH_BANNER)
            elif role == "junk":
                conn.sendall(JUNK_BANNER)
        except OSError:
            pass
        if role == "silent":
            self._held.append((conn, time.monotonic()))
        elif role in ("banner", "junk"):
            self._held.append((conn, time.monotonic() - SILENT_HOLD_SECONDS + 2.0))   # closed after ~2 s
        else:
            conn.close()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)
        for conn, _when in self._held:
            conn.close()
        self._held.clear()
        for sock in self._sockets:
            sock.close()
        self._sockets.clear()
        self._selector.close()


def _goes_unanswered(port: int) -> bool:
    """True when a new connect to the filled listener gets no answer (the filtered trick works)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setblocking(False)
        probe.connect_ex((HOST, port))
        with selectors.DefaultSelector() as selector:
            selector.register(probe, selectors.EVENT_WRITE)
            return not selector.select(FILTER_CHECK_SECONDS)
