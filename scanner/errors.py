"""One small exception family for everything a learner can get wrong.

A scanner meets two kinds of trouble.  *Input* trouble is the learner's to fix: a port
range written backwards, a host name with a typo.  *Network* trouble happens after the
input was fine: the name does not resolve, the address cannot be reached.  Both are
reported with a sentence a first-year student can act on, never a traceback.

Every error carries a stable ``code`` and the ``params`` used to build its message, so
the user interface can show the same message in another language (see
``lessons/content/<lang>/ui.json``, keys ``error.<code>``).  ``str(error)`` is the
English sentence.
"""

from __future__ import annotations

import errno
import re
import unicodedata
from typing import Any

ENGLISH_MESSAGES = {
    "target.empty": "Please type a host name or an IP address, for example 127.0.0.1 or localhost.",
    "target.url": "That looks like a web address. Type only the host name, for example {suggestion}",
    "target.bad_ipv4": "{text} is not a valid IPv4 address: each of the four numbers must be 0-255.",
    "target.bad_ipv6": "{text} is not a valid IPv6 address.",
    "target.bad_chars": "{text} is not a host name: use letters, digits, dots and hyphens only.",
    "target.control_chars": ("The host held control characters or terminal escape sequences (invisible, often "
                             "from a paste): type it again without them."),
    "target.too_long": "That host name is {length} characters long: DNS names are at most 253 characters.",
    "target.short_ipv4": ("{text} is a shortened or hex/octal IPv4 form (some programs read it as {address}): "
                          "write the address in the usual dotted form a.b.c.d, like {address}."),
    "target.unresolved": "Could not find an address for {text}: check the spelling (socket.gaierror: {detail}).",
    "target.never_exists": "{text} cannot exist: names ending in .invalid are reserved never to resolve (RFC 6761).",
    "target.no_address": "{text} has no IPv4 or IPv6 address to scan.",
    "target.has_port": "{text} includes a port: type the host alone ({host}) and put {port} in the ports.",
    "target.scoped": "Scope ids like %eth0 are not supported here: type the address alone, e.g. {host}",
    "target.no_ipv6": "{text} has no IPv6 address.",
    "ports.empty": "Please type which ports to scan, for example 22, 1-1024, 22,80,443 or common.",
    "ports.not_number": "{part} is not a port number: use digits (ssh=22, http=80) or a range like 1-1024.",
    "ports.out_of_range": "Port {port} is outside 1-65535 (this tool skips port 0: no program can listen on it).",
    "ports.empty_item": "'{text}' has an empty item between commas: is a number missing? Write 22,80 or 22-80.",
    "ports.reversed": "The range {part} runs backwards: write the smaller number first, like {low}-{high}.",
    "ports.too_long": "That port list is too long ({length} characters): use ranges like 1-1024, or 'all'.",
    "timeout.empty": "Please type a timeout in seconds, like 0.5, or 'auto'.",
    "timeout.not_number": "{text} is not a number of seconds: type something like 0.5, or 'auto'.",
    "timeout.not_positive": "The timeout must be more than 0 seconds: try 0.5.",
    "timeout.too_long": "{text} seconds is too long a wait per port: use at most {maximum} seconds.",
    "timeout.too_short": "{text} seconds is too short for any network to answer: use at least {minimum}.",
    "workers.not_number": "{text} is not a whole number of workers: try 500.",
    "workers.out_of_range": "Workers must be between {minimum} and {maximum}.",
    "retries.not_number": "{text} is not a whole number of retries: try 2, or leave --retries out to adapt.",
    "retries.out_of_range": "Retries must be between {minimum} and {maximum}.",
    "lab.bind_all": ("Listening on {host} would open the practice lab to every network this computer is on. "
                     "Use 127.0.0.1 (loopback), or allow all interfaces explicitly if your instructor asked for it."),
    "lab.bad_host": "{host} is not an IP address the practice lab can listen on: use 127.0.0.1 or ::1.",
    "lab.bad_base_port": "The lab's base port must be 0 (let the system choose) or a number from 1 to {maximum}.",
    "lab.block_full": ("No free port for the lab's {service}/{protocol} service between {low} and {high}: "
                       "close the programs using them or choose another base port."),
    "lab.cannot_bind": "The practice lab cannot listen on {host}: {detail}.",
    "network.bad_prefix": ("{text}: the number after / must be 0-{maximum} for this address, "
                           "like 192.168.56.0/24 (256 addresses)."),
    "network.bad_block": "{text} is not a network block: write it like 192.168.56.0/24 or fd00::/120.",
    "network.too_many": ("{text} has {count} addresses; more than {maximum} needs --max-hosts {needed} "
                         "(or a smaller block such as /24)."),
    "network.too_big": ("{text} has {count} addresses, too many for a connect scan (at most {maximum}): "
                        "scan a smaller block such as /24."),
    "network.bad_range": ("{text} is not an address range: only the last number may range, 0-255, "
                          "like 192.168.56.1-20."),
    "network.range_reversed": "The range {text} runs backwards: write the smaller number first, like {low}-{high}.",
    "network.bad_max_hosts": "--max-hosts must be a whole number from 1 to {maximum}.",
    "network.empty_item": "'{text}' has an empty item between commas: is an address missing? Write 127.0.0.2,127.0.0.5.",
}


ECHO_LIMIT = 40
# Whole terminal control sequences (CSI "ESC [ ... letter", OSC "ESC ] ... BEL") go first,
# so none of their text is left behind; then every other control character.
ESCAPE_SEQUENCE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]"
                             r"|\x9b[0-?]*[ -/]*[@-~]")


def printable(text: str) -> str:
    """``text`` without terminal escape sequences and control characters (tabs and newlines become spaces)."""
    text = ESCAPE_SEQUENCE.sub("", text)
    if text.isprintable():
        return text
    # A byte that was not UTF-8 (a file name, surrogate-escaped) shows as U+FFFD, so the
    # echo never names a different file ("r\xff.txt" is not "r.txt").
    kept = []
    for char in text:
        kind = unicodedata.category(char)
        if char in "\t\r\n":
            kept.append(" ")
        elif kind == "Cs":
            kept.append("\ufffd")
        elif kind[0] != "C":
            kept.append(char)
    return "".join(kept)


def clip(text: str, limit: int = ECHO_LIMIT) -> str:
    """What the learner typed, safe to echo: no control characters, at most ``limit`` characters."""
    text = printable(str(text))
    return text if len(text) <= limit else text[: limit - 3] + "..."


class PortscanError(Exception):
    """Base of the family: a learner-readable problem with a stable code."""

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        # What the learner typed is echoed back, but never a whole pasted page of it.
        self.params = {name: clip(value) if isinstance(value, str) else value for name, value in params.items()}
        super().__init__(ENGLISH_MESSAGES[code].format(**self.params))

    @property
    def message(self) -> str:
        return str(self)


class InputError(PortscanError, ValueError):
    """Something the learner typed cannot be used; ask again."""


class TargetError(InputError):
    """The host could not be understood or resolved."""


class NetworkSpecError(TargetError):
    """A network block, range or list of hosts could not be understood (or is too big)."""


class PortSpecError(InputError):
    """The port list could not be understood."""


class TimeoutSpecError(InputError):
    """The timeout could not be understood."""


class LabSetupError(InputError):
    """The practice lab was asked for something unsafe or impossible (every interface, a bad host or port)."""


class NetworkError(PortscanError, OSError):
    """The input was fine but the network said no (unreachable host or network)."""


# --- the computer's own limits -----------------------------------------------------------
# Not an input mistake and not the network's answer: this computer ran out of threads,
# memory or file descriptors.  Python says so in several ways; this is the one place that
# knows them all, so every route to the engine tells them apart the same way.
OUT_OF_THREADS_WORDS = ("can't start new thread", "can't allocate lock")
OUT_OF_FILES_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOMEM})


def is_out_of_resources(error: BaseException) -> bool:
    """MemoryError, no thread (``RuntimeError: can't start new thread`` / ``can't allocate lock``),
    or no file descriptor or kernel memory (EMFILE, ENFILE, ENOMEM)."""
    if isinstance(error, MemoryError):
        return True
    if isinstance(error, RuntimeError):
        return any(words in str(error) for words in OUT_OF_THREADS_WORDS)
    return isinstance(error, OSError) and error.errno in OUT_OF_FILES_ERRNOS
