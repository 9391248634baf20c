"""Running untrusted code: a child process, its own process group, limits, and a clean ending.

The learner's file is code nobody has reviewed, written by someone still learning: an
endless loop, a fork loop or a print of terminal escape sequences is a normal Tuesday.
So it never runs inside this program.  ``run_child``:

* starts ``python -I -c <BOOTSTRAP>`` with ``start_new_session=True``: the child
  leads a new session and process group, so one ``killpg`` reaches everything it
  started, and a Ctrl+C typed at the terminal is ours to handle, not theirs;
* writes the harness and the spec to its stdin, which the starter reads whole and then
  points at the null device: the random token never appears on a command line, where
  the learner's code (``sys.orig_argv``) and every user of the machine (``ps``) could read it;
* catches its stdout and stderr;
* hands it one private pipe for reports (``pass_fds``), marked by that token;
* waits at most ``wall_seconds`` (the harness also lowers RLIMIT_NOFILE, RLIMIT_AS,
  RLIMIT_NPROC and RLIMIT_CPU inside the child, where the platform has them);
* always ends the whole group afterwards, even when the child exited by itself
  (anything it left running in the background goes too), and reaps the child;
* then ends what escaped the group: a process that called ``setsid`` or forked twice
  to become a daemon (``cleanup.ProcessTree``: while the check runs, we adopt orphans).

Everything inside the child is the learner's to patch or forge (with the harness's frames in
reach, even its reports), so what matters most is also measured from out here: the child's
threads (``/proc/<pid>/status``) and when each report arrived.

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

from lessons.exercises.cleanup import ProcessTree, set_subreaper
from scanner.errors import printable

OUTPUT_LIMIT_BYTES = 64 * 1024     # more than this of their printing is read and thrown away
SHOWN_LINES = 12
SHOWN_COLUMNS = 76
WATCH_SECONDS = 0.01              # how often the child's threads are counted from outside
PIPES_GRACE_SECONDS = 0.5         # after the child ended, for the last of its output
LOAD_SECONDS = 5.0                 # their file must be loaded (imported) by then
# -I isolated: no PYTHON* variables, no user site, no script folder on the path (so -B itself,
# not PYTHONDONTWRITEBYTECODE, keeps a __pycache__ folder out of the learner's workspace).
PYTHON_FLAGS = ("-I", "-B", "-X", "utf8")
# The child's whole command line.  Its names live in a function, not in ``__main__``, so the
# learner's ``import __main__`` finds neither the token nor the harness to patch.
BOOTSTRAP = """def _start():
    import json, os, sys
    payload = json.loads(sys.stdin.buffer.read())
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    namespace = {"__name__": "exercise_harness", "__builtins__": __builtins__}
    exec(compile(payload["harness"], "<exercise harness>", "exec"), namespace)
    try:
        namespace["main"](payload["spec"])
    except BaseException:   # e.g. their os.kill(os.getpid(), SIGINT): an early end, not our traceback
        os._exit(71)
_start()
"""


@dataclass
class ChildRun:
    """What happened in the child: its report lines, its cleaned output, how it ended."""

    reports: List[dict] = field(default_factory=list)
    output: List[str] = field(default_factory=list)
    returncode: Optional[int] = None
    timed_out: bool = False
    seconds: float = 0.0
    peak_threads: Optional[int] = None   # seen from outside (/proc), where their code cannot patch it
    line_times: List[float] = field(default_factory=list)   # when each report line was read here


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
    spec = dict(spec, fd=write_end, token=token, parent=os.getpid())
    env = dict(environ if environ is not None else os.environ)
    env.update({"MALLOC_ARENA_MAX": "2"})
    env.pop("PYTHONPATH", None)
    started = time.monotonic()
    adopting = set_subreaper(True)
    tree = ProcessTree()
    try:
        process = subprocess.Popen([sys.executable, *PYTHON_FLAGS, "-c", BOOTSTRAP],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   pass_fds=(write_end,), start_new_session=True, env=env,
                                   cwd=os.path.dirname(spec["file"]) or None)
    except BaseException:
        if adopting:
            set_subreaper(False)
        raise
    finally:
        os.close(write_end)
    tree.started(process.pid)
    run = ChildRun()
    output, reports_raw = bytearray(), bytearray()
    try:
        _hand_over(process, json.dumps({"harness": harness_source, "spec": spec}).encode("utf-8"))
        _collect(process, read_end, output, reports_raw, (started + load_seconds, started + wall_seconds), run)
    finally:
        _kill_group(process)
        tree.end()
        if adopting:
            set_subreaper(False)
        os.close(read_end)
        for stream in (process.stdin, process.stdout):
            try:
                stream.close()
            except OSError:   # stdin: a pipe whose reader died with unread bytes in it
                pass
    run.returncode = process.returncode
    run.seconds = time.monotonic() - started
    run.output = clean_output(bytes(output))
    for number, raw_line in enumerate(bytes(reports_raw).split(b"\n")):
        mark, _, body = raw_line.decode("utf-8", errors="replace").partition(" ")
        if mark == token:
            try:
                report = json.loads(body)
            except ValueError:
                continue
            if isinstance(report, dict):
                if number < len(run.line_times):   # when we read it: their code cannot move our clock
                    report["arrived"] = run.line_times[number] - started
                run.reports.append(report)
    return run


def _hand_over(process: subprocess.Popen, payload: bytes) -> None:
    """Write the harness and spec to the child's stdin and close it (a child that died early is no error)."""
    try:
        process.stdin.write(payload)
        process.stdin.close()
    except OSError:   # BrokenPipeError: it is gone already; the collection below tells what happened
        pass


def _threads_of(pid: int) -> Optional[int]:
    """How many threads the child runs now (Linux /proc; None elsewhere or once it is gone).

    Counted here, outside the child, because everything inside it is theirs to patch: the
    harness's own count is a report their code could forge."""
    try:
        with open(f"/proc/{pid}/status", "rb") as stream:
            for line in stream:
                if line.startswith(b"Threads:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def _collect(process: subprocess.Popen, read_end: int, output: bytearray, reports: bytearray,
             deadlines: tuple, run: ChildRun) -> None:
    """Read output and reports until both pipes close or a deadline passes (loaded by, finished by)."""
    load_deadline, deadline = deadlines
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ, output)
        selector.register(read_end, selectors.EVENT_READ, reports)
        open_pipes = 2
        while open_pipes:
            if process.poll() is not None:   # it ended; something it left behind may hold the pipes
                deadline = min(deadline, time.monotonic() + PIPES_GRACE_SECONDS)
            left = (deadline if reports else min(deadline, load_deadline)) - time.monotonic()
            if left <= 0:
                run.timed_out = process.poll() is None
                return
            threads = _threads_of(process.pid)
            if threads is not None:
                run.peak_threads = max(run.peak_threads or 0, threads)
            for key, _events in selector.select(min(left, WATCH_SECONDS)):
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    selector.unregister(key.fileobj)
                    open_pipes -= 1
                elif len(key.data) < OUTPUT_LIMIT_BYTES * 4:
                    key.data.extend(chunk)
                    if key.data is reports:
                        run.line_times.extend([time.monotonic()] * chunk.count(b"\n"))
        try:
            process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            run.timed_out = True
