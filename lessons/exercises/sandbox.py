"""Running untrusted code: a child process, its own process group, limits, and a clean ending.

The learner's file is code nobody has reviewed, written by someone still learning: an
endless loop, a fork loop or a print of terminal escape sequences is a normal Tuesday.
So it never runs inside this program.  ``run_child``:

* starts ``python -I -c <harness> <spec>`` with ``start_new_session=True``: the child
  leads a new session and process group, so one ``killpg`` reaches everything it
  started, and a Ctrl+C typed at the terminal is ours to handle, not theirs;
* gives it nothing to read (stdin is the null device) and catches its stdout and stderr;
* hands it one private pipe for reports (``pass_fds``), marked by a random token;
* waits at most ``wall_seconds`` (the harness also lowers RLIMIT_NOFILE, RLIMIT_AS,
  RLIMIT_NPROC and RLIMIT_CPU inside the child, where the platform has them);
* always ends the whole group afterwards, even when the child exited by itself
  (anything it left running in the background goes too), and reaps the child.

The child's output is returned *cleaned*: escape sequences and control characters
removed, each line clipped, the number of lines bounded (``clean_output``).
"""

from __future__ import annotations

import json
import os
import secrets
import selectors
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import List, Optional

from scanner.errors import printable

OUTPUT_LIMIT_BYTES = 64 * 1024     # more than this of their printing is read and thrown away
SHOWN_LINES = 12
SHOWN_COLUMNS = 76
LOAD_SECONDS = 5.0                 # their file must be loaded (imported) by then
PYTHON_FLAGS = ("-I", "-X", "utf8")   # isolated: no PYTHON* variables, no user site, no script folder on the path


@dataclass
class ChildRun:
    """What happened in the child: its report lines, its cleaned output, how it ended."""

    reports: List[dict] = field(default_factory=list)
    output: List[str] = field(default_factory=list)
    returncode: Optional[int] = None
    timed_out: bool = False
    seconds: float = 0.0


def clean_output(raw: bytes, lines: int = SHOWN_LINES, columns: int = SHOWN_COLUMNS) -> List[str]:
    """Their output, safe to print on our terminal: no escapes, short lines, few of them."""
    text = raw.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    shown = []
    for line in text.split("\n"):
        line = printable(line).rstrip()
        if len(line) > columns:
            line = line[: columns - 3] + "..."
        shown.append(line)
    while shown and not shown[-1]:
        shown.pop()
    if len(shown) > lines:
        shown = shown[: lines - 1] + [f"... ({len(shown) - lines + 1} more lines)"]
    return shown


def _kill_group(process: subprocess.Popen) -> None:
    """End the child's whole process group, reap the child (never anyone else's process).

    The first SIGKILL reaches every member; the leader is then reaped, and the group is
    signalled again until no member is left (one that was mid-fork may have made another).
    While the unreaped leader exists the group does too, so the repeat comes after the reap."""
    if not hasattr(os, "killpg"):
        process.kill()
        _reap(process)
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    _reap(process)
    for _attempt in range(50):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(0.01)


def _reap(process: subprocess.Popen) -> None:
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        pass


def run_child(harness_source: str, spec: dict, wall_seconds: float, environ: Optional[dict] = None,
              load_seconds: float = LOAD_SECONDS) -> ChildRun:
    """Run the harness with ``spec`` in a fresh child; collect its reports and output.

    The first report (their file loaded) must come within ``load_seconds``: an endless
    loop at the top of the file is stopped early, not after every case's time."""
    token = secrets.token_hex(16)
    read_end, write_end = os.pipe()
    spec = dict(spec, fd=write_end, token=token)
    env = dict(environ if environ is not None else os.environ)
    env.update({"MALLOC_ARENA_MAX": "2", "PYTHONDONTWRITEBYTECODE": "1"})
    env.pop("PYTHONPATH", None)
    started = time.monotonic()
    try:
        process = subprocess.Popen([sys.executable, *PYTHON_FLAGS, "-c", harness_source, json.dumps(spec)],
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   pass_fds=(write_end,), start_new_session=True, env=env,
                                   cwd=os.path.dirname(spec["file"]) or None)
    finally:
        os.close(write_end)
    run = ChildRun()
    output, reports_raw = bytearray(), bytearray()
    try:
        _collect(process, read_end, output, reports_raw, (started + load_seconds, started + wall_seconds), run)
    finally:
        _kill_group(process)
        os.close(read_end)
        if process.stdout is not None:
            process.stdout.close()
    run.returncode = process.returncode
    run.seconds = time.monotonic() - started
    run.output = clean_output(bytes(output))
    for line in bytes(reports_raw).decode("utf-8", errors="replace").splitlines():
        mark, _, body = line.partition(" ")
        if mark == token:
            try:
                report = json.loads(body)
            except ValueError:
                continue
            if isinstance(report, dict):
                run.reports.append(report)
    return run


def _collect(process: subprocess.Popen, read_end: int, output: bytearray, reports: bytearray,
             deadlines: tuple, run: ChildRun) -> None:
    """Read output and reports until both pipes close or a deadline passes (loaded by, finished by)."""
    load_deadline, deadline = deadlines
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ, output)
        selector.register(read_end, selectors.EVENT_READ, reports)
        open_pipes = 2
        while open_pipes:
            left = (deadline if reports else min(deadline, load_deadline)) - time.monotonic()
            if left <= 0:
                run.timed_out = True
                return
            for key, _events in selector.select(min(left, 0.5)):
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    selector.unregister(key.fileobj)
                    open_pipes -= 1
                elif len(key.data) < OUTPUT_LIMIT_BYTES * 4:
                    key.data.extend(chunk)
        try:
            process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            run.timed_out = True
