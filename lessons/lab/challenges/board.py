"""The classroom board's memory: which services a class has found, counted by scanning address.

An instructor runs one seeded target for the whole class; the board shows, live, how many
*different* scanning addresses have reached each service, so the room can see progress
without anyone being watched.  What it keeps is deliberately small:

* per service, a set of short keyed digests of the addresses that reached it (HMAC with a
  random key made at start and never stored): enough to count distinct addresses, not
  enough to say who they were, and gone when the program ends;
* per address, one counter of connections (with ``anonymous``, per digest: no address at all).

It learns of connections through the lab's connection log (``PracticeLab.connection_hook``),
called from the lab's event-loop thread; reading a ``snapshot()`` from another thread is safe.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from typing import Dict, List, NamedTuple, Optional, Tuple

MAX_ADDRESSES = 4096          # beyond this many scanners, new ones are only counted together
MAX_DIGESTS = 4 * MAX_ADDRESSES   # per service: 127.0.0.0/8 alone holds 16 million source addresses
CODE_PATTERN = re.compile(r"[A-Za-z0-9]{1,32}")


def seed_from_class_code(code: str) -> Optional[int]:
    """A class code ("NET101") names a seed, so everyone who types it gets the same target."""
    if not CODE_PATTERN.fullmatch(code or ""):
        return None
    return int.from_bytes(hashlib.sha256(code.upper().encode("ascii")).digest()[:4], "big") % 10 ** 9


class Snapshot(NamedTuple):
    found: List[Tuple[str, int]]            # (service key "ssh/24380", distinct scanning addresses)
    scanners: List[Tuple[str, int]]         # (address, connections); empty when anonymous
    scanner_count: int


class Board:
    def __init__(self, anonymous: bool = False) -> None:
        self.anonymous = anonymous
        self._key = secrets.token_bytes(16)
        self._lock = threading.Lock()
        self._found: Dict[str, set] = {}
        self._connections: Dict[str, int] = {}
        self._overflow = 0

    def _digest(self, address: str) -> bytes:
        return hmac.new(self._key, address.encode("utf-8", "replace"), hashlib.sha256).digest()[:8]

    def record(self, service_key: str, address: str) -> None:
        """The lab's connection log: one connection from ``address`` reached ``service_key``."""
        digest = self._digest(address)
        who = digest.hex() if self.anonymous else address
        with self._lock:
            seen = self._found.setdefault(service_key, set())
            if len(seen) < MAX_DIGESTS:   # beyond it the count stays at the cap: memory stays bounded
                seen.add(digest)
            if who in self._connections or len(self._connections) < MAX_ADDRESSES:
                self._connections[who] = self._connections.get(who, 0) + 1
            else:
                self._overflow += 1

    def snapshot(self) -> Snapshot:
        with self._lock:
            found = sorted(((key, len(seen)) for key, seen in self._found.items()), key=lambda item: _port(item[0]))
            scanners = [] if self.anonymous else sorted(self._connections.items(), key=lambda item: -item[1])
            count = len(self._connections) + (1 if self._overflow else 0)
        return Snapshot(found, scanners, count)


def _port(service_key: str) -> int:
    tail = service_key.rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else 0
