"""Numbers a learner types: ports, timeouts, retries and worker counts.

Each parser takes text as typed and returns a value the scanner can use, or raises an
``InputError`` whose message says what was wrong and what would work.  ``whole_number``
is the careful ``int()`` they all share.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Union

from scanner.errors import InputError, PortSpecError, TimeoutSpecError
from scanner.services import COMMON_PORTS, port_for_service

MAX_PORT = 65535
ALL_PORTS_WORDS = {"-", "all", "semua"}
COMMON_PORTS_WORDS = {"common", "umum"}
MAX_PORT_SPEC_LENGTH = 2000     # longer is a paste accident, not a port list
TIMEOUT_MINIMUM = 0.01
# The one default per-port timeout, for the command line (--timeout) and the guided walk alike:
# nmap's starting timeout too, and as long as Linux waits before it resends a lost SYN.
DEFAULT_TIMEOUT = "1"
TIMEOUT_MAXIMUM = 30.0
WORKERS_MINIMUM = 1
WORKERS_MAXIMUM = 5000


# --- numbers ---------------------------------------------------------------------------

def whole_number(text: str, max_digits: int = 6) -> Optional[int]:
    """``text`` as a small whole number, or None.

    ``str.isdigit`` alone is not enough: it accepts "²" and other digits that ``int``
    refuses, and a 5000-digit string would hit Python's limit on converting long numbers.
    """
    text = text.strip()
    if not text or len(text) > max_digits or not (text.isascii() and text.isdigit()):
        return None
    return int(text)



# --- ports -----------------------------------------------------------------------------

def parse_ports(text: str) -> tuple:
    """Parse a port spec into an ascending tuple of unique port numbers.

    As nmap reads ``-p``: numbers, ranges, an open end (``22-`` is 22-65535, ``-100`` is
    1-100, ``-`` alone every port), service names (``ssh,http``: the system's services
    table, then ours), ``all`` and ``common``."""
    text = (text or "").strip().lower()
    if not text:
        raise PortSpecError("ports.empty")
    if len(text) > MAX_PORT_SPEC_LENGTH:
        raise PortSpecError("ports.too_long", length=len(text))
    ports: set = set()
    # "1 - 100, 443" is one range and one port; "22 80" is two ports, never 2280.
    text = re.sub(r"\s*-\s*", "-", text)
    if text.strip(", ") and re.search(r"(^|,)\s*(,|$)", text):  # "22,,80": nmap refuses it too, it is usually a typo
        raise PortSpecError("ports.empty_item", text=text)
    for part in re.split(r"[,\s]+", text):
        if not part:
            continue
        if part in ALL_PORTS_WORDS:
            ports = set(range(1, MAX_PORT + 1))
        elif part in COMMON_PORTS_WORDS:
            ports.update(COMMON_PORTS)
        elif part[0].isascii() and part[0].isalpha():   # a service name: ssh, http, ms-wbt-server
            ports.add(_service_port(part))
        elif "-" in part:   # 1-1024, or an open end: 22- (to 65535), -100 (from 1)
            low_text, high_text = part.split("-", 1)
            low = _port_number(low_text, part) if low_text else 1
            high = _port_number(high_text, part) if high_text else MAX_PORT
            if low > high:
                raise PortSpecError("ports.reversed", part=part, low=high, high=low)
            ports.update(range(low, high + 1))
        else:
            ports.add(_port_number(part, part))
    if not ports:
        raise PortSpecError("ports.empty")
    return tuple(sorted(ports))


def _service_port(name: str) -> int:
    port = port_for_service(name)
    if port is None:
        raise PortSpecError("ports.unknown_service", part=name)
    return port


def _port_number(text: str, part: str) -> int:
    port = whole_number(text)
    if port is None:
        raise PortSpecError("ports.not_number", part=part)
    if not 1 <= port <= MAX_PORT:
        raise PortSpecError("ports.out_of_range", port=port)
    return port


def describe_ports(ports: tuple) -> str:
    """A compact spec for a port tuple: (1,2,3,80) -> '1-3,80'."""
    pieces: list = []
    start: Optional[int] = None
    previous = 0
    for port in ports:
        if start is None:
            start = previous = port
        elif port == previous + 1:
            previous = port
        else:
            pieces.append(f"{start}-{previous}" if previous != start else str(start))
            start = previous = port
    if start is not None:
        pieces.append(f"{start}-{previous}" if previous != start else str(start))
    return ",".join(pieces)


# --- timeouts and workers --------------------------------------------------------------

AUTO = "auto"


@dataclass(frozen=True)
class TimeoutSetting:
    """Either a fixed number of seconds, or ``auto`` (start at ``seconds``, then adapt)."""

    seconds: float
    auto: bool = False

    def __str__(self) -> str:
        return AUTO if self.auto else f"{self.seconds:g}"


AUTO_WORDS = (AUTO, "otomatis")
SECONDS_PATTERN = re.compile(r"^[0-9]*\.?[0-9]+(e[+-]?[0-9]+)?$")  # ASCII only: float() also takes "١" and "1_0"


def parse_timeout(text: Union[str, float]) -> TimeoutSetting:
    text = str(text).strip().lower()
    if text in AUTO_WORDS:
        return TimeoutSetting(seconds=float(DEFAULT_TIMEOUT), auto=True)   # auto starts at the default
    text = text.replace(",", ".").removesuffix("s").strip()  # "0,5" and "0.5s" are fine
    if not text:
        raise TimeoutSpecError("timeout.empty")
    if not SECONDS_PATTERN.match(text.removeprefix("-")):  # also keeps out "inf" and "nan"
        raise TimeoutSpecError("timeout.not_number", text=text)
    seconds = float(text)
    if seconds in (float("inf"), float("-inf")):  # "1e999": digits, but no number of seconds
        raise TimeoutSpecError("timeout.not_number", text=text)
    if seconds <= 0:
        raise TimeoutSpecError("timeout.not_positive", text=text)
    if seconds < TIMEOUT_MINIMUM:
        raise TimeoutSpecError("timeout.too_short", text=text, minimum=TIMEOUT_MINIMUM)
    if seconds > TIMEOUT_MAXIMUM:
        raise TimeoutSpecError("timeout.too_long", text=text, maximum=f"{TIMEOUT_MAXIMUM:g}")
    return TimeoutSetting(seconds=seconds)


RETRIES_MINIMUM, RETRIES_MAXIMUM = 0, 10


def parse_retries(text: Union[str, int, None]) -> Optional[int]:
    """How many times a silent port is asked again: 0-10, or None ("auto", or nothing) to adapt."""
    if text is None:
        return None
    text = str(text).strip()
    if text.lower() in AUTO_WORDS:
        return None
    return _number_in_range(text, "retries", RETRIES_MINIMUM, RETRIES_MAXIMUM)


def parse_workers(text: Union[str, int]) -> int:
    return _number_in_range(str(text).strip(), "workers", WORKERS_MINIMUM, WORKERS_MAXIMUM)


def _number_in_range(text: str, what: str, minimum: int, maximum: int) -> int:
    """A whole number from ``minimum`` to ``maximum``; else ``what``.not_number / .out_of_range."""
    number = whole_number(text)
    if number is None:
        raise InputError(f"{what}.not_number", text=text)
    if not minimum <= number <= maximum:
        raise InputError(f"{what}.out_of_range", minimum=minimum, maximum=maximum)
    return number
