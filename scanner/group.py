"""What the hosts of one network scan share: one budget of sockets and one round-trip estimate.

A network scan runs several host scans at once.  Splitting the socket budget evenly
between them wastes it: a silent address (nothing there, or a firewall that drops
everything) holds its share for every try, while a host that answers at once could use
many more.  So the hosts draw sockets from one ``SocketPool`` as they need them and give
them back as soon as their probes end: sockets go where the work is (nmap does the same
with one congestion window per group of hosts).

They also share one ``RttEstimator``: a silent address never answers, so on its own it
could never learn that this network answers in a millisecond and would wait the whole
timeout before each retransmission.  With the estimate its neighbours taught, it
retransmits after a round trip or two, as nmap does for a host group.
"""

from __future__ import annotations

import threading

from scanner.timing import FixedTimeout, RttEstimator


class SocketPool:
    """A counter of free sockets, taken and given back under a lock."""

    def __init__(self, size: int) -> None:
        self.size = self.free = max(1, size)
        self._freed = threading.Condition(threading.Lock())

    def take(self, wanted: int) -> int:
        """Up to ``wanted`` sockets (maybe 0): the number granted."""
        with self._freed:
            granted = max(0, min(wanted, self.free))
            self.free -= granted
            return granted

    def give(self, count: int) -> None:
        with self._freed:
            self.free = min(self.size, self.free + count)
            self._freed.notify_all()

    def wait(self, timeout: float) -> None:
        """Sleep until another host gives sockets back (or ``timeout`` seconds pass): no polling."""
        with self._freed:
            if self.free <= 0:
                self._freed.wait(timeout)


class ScanGroup:
    """One socket pool and one learned round-trip time for the host scans of a network."""

    def __init__(self, sockets: int, initial_timeout: float = 1.0, file_limited: bool = False) -> None:
        self.pool = SocketPool(sockets)
        self.file_limited = file_limited    # ulimit -n, not the learner's choice, sized the pool
        self.estimator = RttEstimator(initial=initial_timeout)

    def timer_for(self, timeout) -> object:
        """The timer of one host's scan: the learner's fixed timeout, or ``auto``, on the shared estimate."""
        if timeout.auto:
            return self.estimator
        return FixedTimeout(timeout.seconds, learned=self.estimator)
