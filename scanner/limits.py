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
thread dies and ``start()`` waits for that message forever.  A ``SafeThread`` sends the
message even then, and waits at most ``START_LIMIT`` seconds for it (the thread may die
before any Python code runs), so the starter hears "could not start" instead of hanging.

Under an address-space limit (``ulimit -v``) a thread costs far more than it uses: its
stack is reserved whole (8 MB by default) and the C library gives each new thread its own
64 MB malloc arena.  ``fit_threads_to_memory`` makes both small when such a limit is set
(and only then), and ``memory_headroom`` tells the planners how much room is left.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Optional

from scanner.errors import is_out_of_resources

WINDOWS_SELECT_LIMIT = 500       # select() on Windows watches at most 512 sockets
FILE_RESERVE = 48                # files kept free for the rest of the program
DEFAULT_THREADS = 2

START_LIMIT = 2.0                # seconds a new thread may take to say it runs (microseconds, normally)
THREAD_STACK_UNDER_LIMIT = 512 * 1024   # bytes of stack per thread under ulimit -v (our code calls shallow)
MALLOC_ARENAS_UNDER_LIMIT = 2
_M_ARENA_MAX = -8                # glibc's mallopt() option number


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
    """Out of threads, memory or files: ``scanner.errors.is_out_of_resources``, plus the ``SystemError``
    CPython raises under a memory limit when a C function ran out without saying so."""
    if isinstance(error, SystemError):
        return "without setting an exception" in str(error)
    if isinstance(error, RuntimeError) and "can't allocate" in str(error):   # any lock: "read lock" too
        return True
    return is_out_of_resources(error)


def as_shortage(error: BaseException) -> BaseException:
    """A shortage in the form every front end knows (``MemoryError``); any other error unchanged.

    ``RuntimeError("can't allocate lock")`` means the same as ``MemoryError`` (a lock is
    memory), and so does CPython's ``SystemError("... returned NULL without setting an
    exception")`` under a memory limit, but only ``MemoryError`` is recognised everywhere.
    """
    if isinstance(error, (RuntimeError, SystemError)) and is_shortage(error) and "thread" not in str(error):
        replacement = MemoryError(str(error))
        replacement.__cause__ = error
        return replacement
    return error


def memory_headroom() -> Optional[int]:
    """Bytes of address space left under ``ulimit -v`` (RLIMIT_AS); None when there is no such limit."""
    try:
        import resource  # lazy: not on Windows

        soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
        if soft == resource.RLIM_INFINITY:
            return None
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return max(0, soft - int(line.split()[1]) * 1024)
    except (ImportError, OSError, ValueError):
        return None
    return None


MEMORY_RESERVE = 6 << 20         # bytes kept free under ulimit -v for results, reports and the program itself


def threads_that_fit(wanted: int, bytes_each: int) -> int:
    """How many of ``wanted`` threads (each costing ``bytes_each``) fit under ``ulimit -v``; at least 1."""
    headroom = memory_headroom()
    if headroom is None:
        return max(1, wanted)
    return max(1, min(wanted, (headroom - MEMORY_RESERVE) // max(1, bytes_each)))


_fitted = False


def fit_threads_to_memory() -> None:
    """Under ``ulimit -v``, give new threads a small stack and stop the C library reserving an arena each.

    Without a limit, reserved address space costs nothing, so nothing changes.  Once set,
    it stays set for the process (both settings are process-wide).
    """
    global _fitted
    if _fitted or memory_headroom() is None:
        return
    _fitted = True
    try:
        if threading.stack_size() == 0:
            threading.stack_size(THREAD_STACK_UNDER_LIMIT)
    except (ValueError, RuntimeError):
        pass
    try:
        import ctypes  # lazy: only under a memory limit, and glibc only

        ctypes.CDLL(None).mallopt(_M_ARENA_MAX, MALLOC_ARENAS_UNDER_LIMIT)
    except (ImportError, OSError, AttributeError, TypeError):
        pass


class SafeThread(threading.Thread):
    """A thread whose ``start()`` raises instead of waiting forever when the new thread cannot set itself up."""

    def start(self) -> None:
        self._setup_error: Optional[BaseException] = None
        self._abandoned = False
        fit_threads_to_memory()
        started = getattr(self, "_started", None)
        if isinstance(started, threading.Event):
            wait = started.wait
            started.wait = lambda timeout=None: wait(START_LIMIT if timeout is None else timeout)  # type: ignore[method-assign]
        try:
            super().start()
        finally:
            if isinstance(started, threading.Event):
                del started.wait
        if isinstance(started, threading.Event) and not started.is_set():
            self._abandoned = True   # should it start after all, it ends at once (see _bootstrap_inner)
            self._setup_error = RuntimeError("the new thread never said it runs")
        if self._setup_error is not None:
            lock, limbo = getattr(threading, "_active_limbo_lock", None), getattr(threading, "_limbo", None)
            if lock is not None and limbo is not None:
                with lock:  # not running: not a thread any more
                    limbo.pop(self, None)
            raise RuntimeError("can't start new thread") from self._setup_error

    def _bootstrap_inner(self) -> None:  # CPython's thread entry point
        if getattr(self, "_abandoned", False):
            return
        try:
            super()._bootstrap_inner()  # type: ignore[misc]
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
