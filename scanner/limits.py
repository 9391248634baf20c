"""The computer's own limits: open files, threads and memory.

A scanner runs into limits that have nothing to do with the network it scans:

* **open files** — every socket is a file, and a process may hold only ``ulimit -n`` of
  them (macOS: 256 by default; Windows' ``select`` watches at most 512 sockets).
  ``open_file_budget`` says how many more sockets fit, leaving a reserve for the rest of
  the program.  Too few and a scan runs almost one probe at a time: slow, but right.
* **threads and memory** — under ``ulimit -v`` or a low RLIMIT_NPROC, starting a thread
  can fail with ``can't start new thread``, ``can't allocate lock`` or ``MemoryError``.
  ``is_shortage`` tells these apart from real bugs, so the program can say "out of
  resources" and keep what it found instead of printing a traceback.

One trap hides in ``threading.Thread.start``: the new thread tells the starter "I am
running" only after it has allocated its own locks.  When that allocation fails, the new
thread dies and ``start()`` waits for that message forever (CPython 3.9-3.12).  A
``SafeThread`` sends the message even then, so the starter hears "could not start"
instead of hanging.
"""

from __future__ import annotations

import os
import sys
import threading

WINDOWS_SELECT_LIMIT = 500       # select() on Windows watches at most 512 sockets
FILE_RESERVE = 48                # files kept free for the rest of the program
DEFAULT_THREADS = 2

SHORTAGE_MESSAGES = ("can't start new thread", "can't allocate lock", "cannot allocate memory")


def open_file_budget() -> int:
    """How many more sockets this process may open, leaving a reserve."""
    if sys.platform == "win32":
        return WINDOWS_SELECT_LIMIT * DEFAULT_THREADS
    try:
        import resource  # lazy: not on Windows

        soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (ImportError, OSError, ValueError):
        return 256
    if soft == resource.RLIM_INFINITY:
        soft = 1 << 16
    try:
        in_use = len(os.listdir("/proc/self/fd"))
    except OSError:
        in_use = 32
    return max(1, soft - in_use - FILE_RESERVE)


def is_shortage(error: BaseException) -> bool:
    """Out of threads or memory (``ulimit -v``, RLIMIT_NPROC): the computer's limit, not the network's answer."""
    if isinstance(error, MemoryError):
        return True
    return isinstance(error, RuntimeError) and any(text in str(error) for text in SHORTAGE_MESSAGES)


def as_shortage(error: BaseException) -> BaseException:
    """A shortage in the form every front end knows (``MemoryError``); any other error unchanged.

    ``RuntimeError("can't allocate lock")`` means the same as ``MemoryError`` (a lock is
    memory), but only the latter is recognised everywhere.
    """
    if isinstance(error, RuntimeError) and "can't allocate lock" in str(error):
        replacement = MemoryError(str(error))
        replacement.__cause__ = error
        return replacement
    return error


class SafeThread(threading.Thread):
    """A thread whose ``start()`` raises instead of waiting forever when the new thread cannot set itself up."""

    def start(self) -> None:
        self._setup_error = None
        super().start()
        if self._setup_error is not None:
            with threading._active_limbo_lock:  # not running: not a thread any more
                threading._limbo.pop(self, None)
            raise RuntimeError("can't start new thread") from self._setup_error

    def _bootstrap_inner(self) -> None:  # CPython's thread entry point
        try:
            super()._bootstrap_inner()
        except BaseException as error:
            started = getattr(self, "_started", None)
            if started is not None and not started.is_set():
                # It died before saying "running": say it now, or start() waits forever.
                self._setup_error = error
                if hasattr(self, "_is_stopped"):
                    self._is_stopped = True
                try:
                    started.set()
                except BaseException:
                    pass
                return
            raise
