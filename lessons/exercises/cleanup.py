"""Ending everything a learner's child process started, even what left its process group.

``killpg`` ends a process group, and the child of a check leads a group of its own.  But
a process can leave its group (``setpgid``) or its session (``setsid``), and a "daemon"
forks twice so that its parent dies: the orphan is then adopted by init, and nothing
links it to the check any more.  Two Linux features keep that link:

* a *child subreaper* (``prctl(PR_SET_CHILD_SUBREAPER)``): while we are one, an orphan
  among our descendants is adopted by us instead of init, so it stays in our tree;
* ``/proc/<pid>/stat``: parent, process group, session and start time of every process.

``ProcessTree()`` is made just before the child starts, ``started(pid)`` just after; ``end()`` kills,
round after round until none is left, every process that is in the child's group or
session, below the child, or one of our own children that appeared after the child
started (an adopted orphan), and reaps those that became our children.  Where there is
no ``/proc`` or no ``prctl`` (macOS, Windows), the process group kill is what remains.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Dict, Optional, Set, Tuple

PR_SET_CHILD_SUBREAPER = 36
END_ROUNDS = 300
ROUND_PAUSE = 0.01


def set_subreaper(on: bool) -> bool:
    """Adopt orphaned descendants (Linux); False where the platform cannot."""
    if not os.path.isdir("/proc"):
        return False
    try:
        import ctypes   # lazy: only on Linux, only while a check runs

        return ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) == 0
    except (OSError, AttributeError, ImportError):
        return False


def _stat(pid: str) -> Optional[Tuple[int, int, int, int, str]]:
    """(parent, process group, session, start time, state) of a process, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stream:
            text = stream.read().decode("ascii", "replace")
    except OSError:
        return None
    fields = text[text.rfind(")") + 2:].split()   # the name may hold spaces and parentheses
    try:
        return int(fields[1]), int(fields[2]), int(fields[3]), int(fields[19]), fields[0]
    except (IndexError, ValueError):
        return None


def _table() -> Dict[int, Tuple[int, int, int, int, str]]:
    table = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return table
    for name in names:
        if name.isdigit():
            row = _stat(name)
            if row is not None:
                table[int(name)] = row
    return table


class ProcessTree:
    """Everything that belongs to one child process, found and ended after it ran."""

    def __init__(self) -> None:
        """Made *before* the child starts: our children from before are never the learner's."""
        self.me = os.getpid()
        self.before: Set[int] = {pid for pid, row in _table().items() if row[0] == self.me}
        self.child = 0
        self.since = 0

    def started(self, child_pid: int) -> "ProcessTree":
        """The child now exists (and stays in /proc until it is reaped): note it and when it started."""
        self.child = child_pid
        self.since = (_stat(str(child_pid)) or (0, 0, 0, 0, ""))[3]
        return self

    def members(self) -> Dict[int, Tuple[int, int, int, int, str]]:
        """The processes that belong to the child now (the child itself included while it exists)."""
        table = _table()
        found = {pid for pid, (parent, group, session, started, _state) in table.items()
                 if pid != self.me and (pid == self.child or group == self.child or session == self.child
                                        or (parent == self.me and pid not in self.before and started >= self.since))}
        growing = True
        while growing:   # and everything below them
            below = {pid for pid, row in table.items() if row[0] in found and pid not in found and pid != self.me}
            found |= below
            growing = bool(below)
        return {pid: table[pid] for pid in found}

    def end(self) -> int:
        """Kill every member until none is left; reap those that are our children.  How many were left over."""
        if not os.path.isdir("/proc"):
            return 0
        ended: Set[int] = set()
        for _round in range(END_ROUNDS):
            members = self.members()
            if all(state == "Z" and parent != self.me for parent, _g, _s, _t, state in members.values()):
                break   # none left, or only dead ones that another parent (init) will reap
            for pid, (parent, _group, _session, _started, state) in members.items():
                if state != "Z":
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except (ProcessLookupError, PermissionError):
                        pass
                if parent == self.me and pid != self.child:   # the child itself is Popen's to reap
                    ended.add(pid)
                    try:
                        os.waitpid(pid, os.WNOHANG)
                    except ChildProcessError:
                        pass
            time.sleep(ROUND_PAUSE)
        return len(ended)
