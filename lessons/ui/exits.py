"""How the program ends: exit codes, the end signals, and the one-line message on stderr.

Exit codes follow the shell's conventions: 0 done, 1 the target could not be resolved or
reached (or the computer ran out of threads, memory or files), 2 a usage or input error,
130 interrupted by Ctrl+C, 143 by SIGTERM, 129 by SIGHUP (128 + the signal's number).

SIGTERM and SIGHUP are turned into ``Terminated`` (a ``KeyboardInterrupt``) in the main
thread, so a scan ends the way Ctrl+C ends it, partial results kept, and the program
remembers which signal it was so the exit code can say so.

Running out of threads, memory or files is the computer's limit, not the network's answer:
``is_out_of_resources`` tells it apart (exit 1, with what was found kept), and a reader that
went away (``| head``) costs the screen output only (``silence_stdout``).
"""

from __future__ import annotations

import os
import signal
import sys
from typing import List

from lessons.ui.i18n import Translator
from scanner.errors import clip

EXIT_OK, EXIT_UNREACHABLE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

_SIGNALS_SEEN: List[int] = []
END_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP (raised by the command line's handler): ends a scan the way Ctrl+C does,
    so partial results are kept, but ends the program too, where Ctrl+C may only cancel a step."""


def _on_end_signal(signum, _frame) -> None:
    _SIGNALS_SEEN.append(signum)
    raise Terminated(signum)


def end_on_signals() -> dict:
    """SIGTERM and SIGHUP raise Terminated in the main thread; returns the handlers to restore."""
    _SIGNALS_SEEN.clear()
    previous = {}
    for signum in END_SIGNALS:
        try:
            previous[signum] = signal.signal(signum, _on_end_signal)
        except (ValueError, OSError):   # not the main thread: leave the signal alone
            pass
    return previous


def ended_by_signal() -> bool:
    return bool(_SIGNALS_SEEN)


def interrupted_code() -> int:
    """130 for Ctrl+C, 128 + the signal's number for SIGTERM (143) and SIGHUP (129)."""
    return 128 + _SIGNALS_SEEN[-1] if _SIGNALS_SEEN else EXIT_INTERRUPTED


def interrupted_message(tr: Translator) -> str:
    return tr.t("cli.terminated") if _SIGNALS_SEEN else tr.t("cli.interrupted")


def resource_detail(error: BaseException) -> str:
    """The few words that say which resource ran out (for "out of threads, memory or files: ...")."""
    if isinstance(error, MemoryError):
        return "MemoryError"
    return clip(str(error.strerror if isinstance(error, OSError) and error.strerror else error), 60)


def fail(env, message: str, code: int) -> int:
    """The message as one line on stderr (scripts read it; what was typed is already clipped)."""
    env.stderr.write(message + "\n")
    return code


def silence_stdout() -> None:
    """Send further output (and the interpreter's final flush) to the null device."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError, AttributeError):
        pass
