"""The child side of an exercise check: load the learner's file, call its functions, report.

This file is never imported by the program.  The check reads its text (through
``importlib.resources``, so it works from a zipapp too) and runs it as
``python -I -c <this text> <spec>`` in a child process of its own: the learner's code is
untrusted, so it runs in a separate process, in its own process group, under limits.

What it does, in order:

1. read the spec (one JSON argument) and forget it: ``sys.argv`` becomes the learner's file;
2. lower its own limits where the platform has them: open files (``RLIMIT_NOFILE``),
   address space (``RLIMIT_AS``), processes (``RLIMIT_NPROC``: what this user already runs
   plus a margin), CPU seconds, no core file;
3. refuse new processes: ``os.fork`` and friends raise ``PermissionError`` (a fork loop
   ends at its first fork, even for root, whom ``RLIMIT_NPROC`` does not stop);
4. import the learner's file as the module ``learner`` (its ``if __name__ ==
   "__main__":`` part does not run), and report a syntax error or an exception as
   *their* error: their file, their line, the message, never a traceback of ours;
5. call each asked function in a thread with a time limit, counting threads and open
   files meanwhile, and report each result as one JSON line.

Reports go to a private pipe (its descriptor number and a random token come in the spec)
rather than to stdout, where the learner's own ``print`` calls go: a line without the
token is not a report.  Only the standard library is used here, and nothing of this
program: the child needs no access to the rest of the package.
"""

import importlib.util
import json
import os
import sys
import threading
import time
import traceback

SAMPLE_SECONDS = 0.003


def _apply_limits(limits):
    try:
        import resource   # not on Windows: there the wall-clock limit and the process tree kill remain

    except ImportError:
        return
    for name, value in limits.items():
        which = getattr(resource, name, None)
        if name == "RLIMIT_NPROC":   # counts every process and thread of this user, not just ours
            value = _user_tasks() + value if _user_tasks() else None
        if which is None or value is None:
            continue
        try:
            _soft, hard = resource.getrlimit(which)
            wanted = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(which, (wanted, wanted))
        except (ValueError, OSError):
            pass


def _user_tasks():
    """How many processes and threads this user runs now (Linux /proc; 0 where unknown).

    RLIMIT_NPROC is a limit for the whole user: a learner with a desktop session may already
    run hundreds, so the check allows that many plus a margin, never a fixed number."""
    count, uid = 0, os.getuid()
    try:
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    if os.stat("/proc/" + pid).st_uid == uid:
                        count += len(os.listdir("/proc/" + pid + "/task"))
                except OSError:
                    pass
    except OSError:
        return 0
    return count


def _refuse_processes():
    def refused(*_args, **_kwargs):
        raise PermissionError("the exercise check does not allow starting new processes (fork, system, spawn)")

    for name in ("fork", "forkpty", "system", "posix_spawn", "posix_spawnp", "spawnv", "spawnve", "spawnvp",
                 "spawnvpe", "execv", "execve", "execvp", "execvpe", "execl", "execle", "execlp", "execlpe"):
        if hasattr(os, name):
            setattr(os, name, refused)
    try:
        import _posixsubprocess   # what subprocess.Popen uses instead of os.fork

        _posixsubprocess.fork_exec = refused
    except ImportError:
        pass


def _jsonable(value, depth=0):
    if depth > 4:
        return repr(value)[:200]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return value[:2000]
    if isinstance(value, bytes):
        return {"$bytes": repr(value)[:200]}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item, depth + 1) for item in list(value)[:2000]]
    if isinstance(value, dict):
        return {"$dict": [[_jsonable(k, depth + 1), _jsonable(v, depth + 1)] for k, v in list(value.items())[:2000]]}
    return {"$repr": repr(value)[:200], "$type": type(value).__name__}


def _their_error(error, learner_file):
    """(type, message, line, errno) of an exception, with the line in the learner's file."""
    line = None
    if isinstance(error, SyntaxError) and error.filename == learner_file:
        line = error.lineno
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename == learner_file:
            line = frame.lineno
    message = error.msg if isinstance(error, SyntaxError) else str(error)
    if isinstance(error, ModuleNotFoundError):
        message = error.name or message
    return {"type": type(error).__name__, "message": str(message)[:300], "line": line,
            "errno": getattr(error, "errno", None) if isinstance(error, OSError) else None}


def _open_files():
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return None


def _call(function, args, limit, learner_file):
    """Call ``function(*args)`` in a thread; watch threads and files while it runs."""
    outcome = {}
    base_threads, base_files = threading.active_count(), _open_files()
    peak = {"threads": base_threads, "files": base_files}
    finished = threading.Event()

    def run():
        try:
            outcome["result"] = function(*args)
        except BaseException as error:   # their exception, whatever it is, is a result to report
            outcome["error"] = _their_error(error, learner_file)
        finally:
            finished.set()

    started = time.monotonic()
    threading.Thread(target=run, name="learner-call", daemon=True).start()
    while not finished.wait(SAMPLE_SECONDS):
        peak["threads"] = max(peak["threads"], threading.active_count())
        files = _open_files()
        if files is not None and peak["files"] is not None:
            peak["files"] = max(peak["files"], files)
        if time.monotonic() - started > limit:
            break
    seconds = time.monotonic() - started
    report = {"hung": not finished.is_set(), "seconds": round(seconds, 3),
              "extra_threads": peak["threads"] - base_threads - 1,   # the call's own thread does not count
              "extra_files": None if base_files is None else peak["files"] - base_files}
    if "error" in outcome:
        report["error"] = outcome["error"]
    elif finished.is_set():
        report["result"] = _jsonable(outcome.get("result"))
    return report


def main():
    spec = json.loads(sys.argv[1])
    learner_file = spec["file"]
    sys.argv[:] = [learner_file]
    channel = os.fdopen(spec["fd"], "w", buffering=1, encoding="utf-8")
    token = spec["token"]

    def send(message):
        channel.write(token + " " + json.dumps(message) + "\n")
        channel.flush()

    _apply_limits(spec.get("limits", {}))
    threading.stack_size(512 * 1024)   # many threads must not run out of address space first
    _refuse_processes()
    sys.stdin = open(os.devnull)
    try:
        module_spec = importlib.util.spec_from_file_location("learner", learner_file)
        module = importlib.util.module_from_spec(module_spec)
        sys.modules["learner"] = module
        module_spec.loader.exec_module(module)
    except BaseException as error:   # SyntaxError, ImportError, SystemExit...: all theirs
        send({"type": "load", "error": _their_error(error, learner_file)})
        channel.close()
        os._exit(0)
    send({"type": "load"})
    for index, case in enumerate(spec["cases"]):
        function = getattr(module, case["call"], None)
        if not callable(function):
            send({"type": "call", "index": index, "missing": case["call"]})
            continue
        report = _call(function, case["args"], case["limit"], learner_file)
        report.update({"type": "call", "index": index})
        send(report)
    send({"type": "done"})
    channel.close()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)   # a call that never returned must not keep the process alive


if __name__ == "__main__":
    main()
