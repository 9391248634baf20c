"""How long to wait for an answer: fixed, or learned from the answers themselves.

A timeout is a bet.  Wait too little and a slow but open port looks filtered; wait too
long and every silent port costs you the full wait.  TCP itself faces the same question
when it decides to retransmit, and RFC 6298 gives the recipe this module uses (nmap uses
it too): keep a smoothed round-trip time ``srtt`` and its variation ``rttvar``::

    first sample:   srtt = rtt            rttvar = rtt / 2
    every sample:   rttvar = 3/4 rttvar + 1/4 |srtt - rtt|
                    srtt   = 7/8 srtt   + 1/8 rtt
    timeout = srtt + 4 * rttvar      (kept between a floor and a ceiling)

Before the first answer we wait ``initial`` seconds.  On loopback answers take
microseconds, so the floor decides; on a slow network the ceiling keeps a scan finite.
"""

from __future__ import annotations

import threading


class RttEstimator:
    def __init__(self, initial: float = 1.0, floor: float = 0.1, ceiling: float = 3.0) -> None:
        self.initial, self.floor, self.ceiling = initial, floor, ceiling
        self.srtt = None
        self.rttvar = None
        self.samples = 0
        self._lock = threading.Lock()

    def observe(self, rtt: float) -> None:
        with self._lock:
            if self.srtt is None:
                self.srtt, self.rttvar = rtt, rtt / 2
            else:
                self.rttvar = 0.75 * self.rttvar + 0.25 * abs(self.srtt - rtt)
                self.srtt = 0.875 * self.srtt + 0.125 * rtt
            self.samples += 1

    @property
    def timeout(self) -> float:
        if self.srtt is None:
            return self.initial
        return min(self.ceiling, max(self.floor, self.srtt + 4 * self.rttvar))


class FixedTimeout:
    """The same interface as ``RttEstimator`` for a timeout the learner chose."""

    def __init__(self, seconds: float) -> None:
        self.timeout = seconds
        self.samples = 0

    def observe(self, rtt: float) -> None:
        self.samples += 1
