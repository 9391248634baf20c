"""How long to wait, how often to ask again, and how fast to send.

**How long to wait.**  A timeout is a bet.  Wait too little and a slow but open port looks
filtered; wait too long and every silent port costs you the full wait.  TCP itself faces
the same question when it decides to retransmit, and RFC 6298 gives the recipe this module
uses (nmap uses it too): keep a smoothed round-trip time ``srtt`` and its variation
``rttvar``::

    first sample:   srtt = rtt            rttvar = rtt / 2
    every sample:   rttvar = 3/4 rttvar + 1/4 |srtt - rtt|
                    srtt   = 7/8 srtt   + 1/8 rtt
    timeout = srtt + margin       margin = the largest of 4 * rttvar, srtt / 2 and 5 ms
                                  (and the timeout stays between a floor and a ceiling)

The margin is what keeps a steady network honest: when every answer takes 200 ms,
``rttvar`` shrinks towards zero and ``srtt + 4 * rttvar`` would settle just above 200 ms, so
any answer that is a little late (a busy router, a scheduler hiccup) would count as
silence.  Half the round trip on top, and a 100 ms floor, leave room for that (nmap keeps
a floor and a minimum variance for the same reason).  Before the first answer we wait
``initial`` seconds.

**How often to ask again** (``RetryPolicy``).  Silence has two causes: a firewall that drops
everything, or a packet lost on the way.  The only way to tell them apart is to ask
again.  Every silent port gets at least two more tries; and while retries keep turning
silence into answers (which is what a lossy network looks like) the limit grows to two
tries beyond the latest try that brought an answer, up to 10 retries (nmap's cap).  In a
network scan, an address that has not answered a single probe gets one more try per port
until it answers (most likely nothing lives there; nmap -Pn does the same).

**How fast to send** (``Pacer``).  Some hosts answer at most a few hundred RSTs a second
(BSD and macOS do by default); send faster and the rest of the answers are simply not sent.
Evidence of that: many answers arrive only on a retry while far more probes go out than
answers come back.  Then the pacer caps the send rate at the answer rate it measured and
halves the probes in flight, and raises both again, a little at a time, once the late
answers stop: the same "back off fast, recover slowly" rule as TCP's congestion control.
Plain random loss also makes late answers, but only a few percent of them, and slowing
down would not help there, so a small share of late answers does not slow the scan.
Near the end of a scan, though, the only answers left are the late ones (the retries of
lost probes) and the only probes left are retries (many of them to filtered ports, which
never answer): in half a second that looks exactly like a rate limit.  So the pacer also
asks the whole scan so far: a rate limit makes a large share of *all* answers late,
random loss only a few percent.
"""

from __future__ import annotations

import statistics
import threading
import time
from typing import Optional

MARGIN_SHARE = 0.5          # timeout >= srtt * 1.5
MINIMUM_MARGIN = 0.005      # seconds above srtt, whatever rttvar says (nmap: 5 ms minimum variance)

DEFAULT_RETRIES = 2         # a silent port is asked at least this many more times
MAX_RETRIES = 10            # nmap's cap
# Tries allowed beyond the latest try that brought an answer.  nmap allows one; with one,
# a 10000-port scan at 4-10% loss still ends with a false filtered port in 1-6 runs of 100
# (simulated), with two in fewer than 1 of 300.  It costs silent ports one more timeout.
LOSS_HEADROOM = 2


class RttEstimator:
    """The ``auto`` timeout: learned from the round-trip times of the answers."""

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
        margin = max(4 * self.rttvar, self.srtt * MARGIN_SHARE, MINIMUM_MARGIN)
        return min(self.ceiling, max(self.floor, self.srtt + margin))

    @property
    def retry_timeout(self) -> float:
        """Retries use the current estimate, like first tries."""
        return self.timeout


class FixedTimeout:
    """A timeout the learner chose: every first try waits exactly that long.

    Retransmissions go out after what the answers so far suggest (the ``auto`` estimate,
    with its margin and floor), as TCP's do: a generous timeout then costs nothing on a
    lossy network, since a lost probe is sent again a round trip or two later.
    """

    def __init__(self, seconds: float, learned: Optional[RttEstimator] = None) -> None:
        self.timeout = seconds
        self.learned = learned if learned is not None else RttEstimator(initial=seconds)

    @property
    def samples(self) -> int:
        return self.learned.samples

    def observe(self, rtt: float) -> None:
        self.learned.observe(rtt)

    @property
    def retry_timeout(self) -> float:
        return self.learned.timeout if self.learned.samples else self.timeout


class RetryPolicy:
    """How many tries a silent port gets: ``retries`` fixed, or adaptive when it is None."""

    def __init__(self, retries: Optional[int] = None, quiet_retries: Optional[int] = None) -> None:
        self.adaptive = retries is None
        self.allowed_tries = 1 + (DEFAULT_RETRIES if retries is None else retries)
        self.best_try = 1           # the highest try number that brought an answer so far
        # In a network scan an address that has answered nothing at all is most likely no machine
        # (nmap -Pn gives it one retransmission too): it gets ``quiet_retries`` until it answers.
        self.quiet_tries = 1 + quiet_retries if self.adaptive and quiet_retries is not None else None
        self.heard = False          # any answer at all from this target

    def may_retry(self, tries: int) -> bool:
        if self.quiet_tries is not None and not self.heard:
            return tries < self.quiet_tries
        return tries < self.allowed_tries

    def answered_on(self, tries: int) -> None:
        """An answer came on try ``tries``: with adaptive retries, allow two tries more than that."""
        self.heard = True
        if tries > self.best_try:
            self.best_try = tries   # an int store: safe between threads, and only ever grows
            if self.adaptive:
                self.allowed_tries = min(1 + MAX_RETRIES, max(self.allowed_tries, tries + LOSS_HEADROOM))

    def __str__(self) -> str:
        return "auto" if self.adaptive else str(self.allowed_tries - 1)


REVIEW_EVERY = 0.5          # seconds between two looks at the evidence
LATE_SHARE = 0.15           # more late answers than this share of all answers: we are too fast
LATE_MINIMUM = 8            # ... and at least this many (a few late answers prove nothing)
SENT_OVER_ANSWERED = 1.3    # ... while clearly more probes go out than answers come back
SCAN_LATE_SHARE = 0.2       # ... and late answers are this share of every answer so far (loss: a few %)
RECOVER_AFTER = 2.0         # seconds without trouble before speeding up again
SPEED_UP = 1.25
MIN_RATE = 20.0             # probes per second: never slower than this
UNCAPPED_RATE = 50000.0     # above this the cap is lifted
MIN_WINDOW = 8


class Pacer:
    """Congestion control for one scan: probes in flight (``window``) and a send-rate cap (``rate``).

    Worker threads call ``note`` with what they saw since their last call; they read
    ``window`` and ``rate`` (None: no cap) without a lock, since each is replaced whole.
    """

    def __init__(self, window: int, clock=time.monotonic) -> None:
        self.max_window = self.window = max(1, window)
        self.rate: Optional[float] = None
        self.clock = clock
        self._lock = threading.Lock()
        self._sent = self._answers = self._late = 0
        self.total_answers = self.total_late = 0
        self._period_start = clock()
        self._last_trouble = float("-inf")
        self.ceilings: list = []    # answer rates measured each time the scan had to slow down

    def note(self, sent: int, answers: int, late: int, cooldown: float = 1.0) -> None:
        """``sent`` probes went out, ``answers`` came back, ``late`` of them only on a retry."""
        with self._lock:
            self._sent += sent
            self._answers += answers
            self._late += late
            now = self.clock()
            elapsed = now - self._period_start
            if elapsed >= REVIEW_EVERY:
                self._review(now, elapsed, cooldown)

    def _review(self, now: float, elapsed: float, cooldown: float) -> None:
        sent, answers, late = self._sent, self._answers, self._late
        self._sent = self._answers = self._late = 0
        self._period_start = now
        self.total_answers += answers
        self.total_late += late
        too_fast = (late >= LATE_MINIMUM and late > LATE_SHARE * answers and sent > SENT_OVER_ANSWERED * answers
                    and self.total_late > SCAN_LATE_SHARE * self.total_answers)
        if too_fast:
            if now - self._last_trouble >= cooldown:  # late answers to probes sent before the last cut
                answer_rate = answers / elapsed
                self.ceilings.append(answer_rate)
                self.rate = max(MIN_RATE, min(self.rate or answer_rate, answer_rate))
                self.window = max(MIN_WINDOW, self.window // 2)
                self._last_trouble = now
            return
        if now - self._last_trouble >= RECOVER_AFTER:
            if self.rate is not None:
                self.rate *= SPEED_UP
                if self.rate > UNCAPPED_RATE:
                    self.rate = None
            self.window = min(self.max_window, self.window + max(1, self.max_window // 8))

    @property
    def rate_limit(self) -> Optional[int]:
        """The answer ceiling the scan slowed down to (two significant digits), or None."""
        if not self.ceilings:
            return None
        value = statistics.median(self.ceilings)
        digits = max(0, len(str(int(value))) - 2)
        return int(round(value, -digits)) if digits else int(round(value))


class TokenBucket:
    """A send-rate cap for one worker thread: ``rate`` probes a second shared by ``threads``.

    Tokens trickle in at the thread's share of the rate; a probe costs one.  Up to one
    slice's worth may be saved up, and a thread that ran out sleeps until a whole slice's
    worth is there again: the same rate in small bursts, with one wake-up per burst
    instead of one per probe (at 500 probes a second, 20 wake-ups instead of 500).
    """

    def __init__(self, clock=time.monotonic) -> None:
        self.clock = clock
        self.tokens = 0.0
        self.last = clock()
        self.per_thread = 0.0
        self.burst = 1.0

    def allowance(self, rate: Optional[float], threads: int, slice_seconds: float) -> tuple:
        """(probes that may start now, seconds until the next burst may go when none may)."""
        now = self.clock()
        if rate is None:
            self.last = now
            return 1 << 30, 0.0
        self.per_thread = rate / max(1, threads)
        self.burst = max(1.0, self.per_thread * slice_seconds)
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.per_thread)
        self.last = now
        allowed = int(self.tokens)
        self.tokens -= allowed
        return allowed, (0.0 if allowed else self.refill_time())

    def refill_time(self) -> float:
        """Seconds until a whole burst is saved up again."""
        return max(0.0, self.burst - self.tokens) / self.per_thread if self.per_thread else 0.0
