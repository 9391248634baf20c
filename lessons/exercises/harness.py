"""The child side of an exercise check: load the learner's file, call its functions, report.

This file is never imported by the program.  The check reads its text (through
``importlib.resources``, so it works from a zipapp too) and hands it, with the spec, to a
small starter (``sandbox.BOOTSTRAP``) on the standard input of a child process of its own:
the learner's code is untrusted, so it runs in a separate process, in its own process
group, under limits.  Nothing of this file or of the spec is on the child's command line
(``ps``, ``/proc/<pid>/cmdline`` and ``sys.orig_argv`` show it to anyone), and it runs in a
namespace of its own, not as ``__main__``: ``import __main__`` finds nothing of ours.

What it does, in order:

1. take the spec (from the starter) and forget it: ``sys.argv`` becomes the learner's file;
2. lower its own limits where the platform has them: open files (``RLIMIT_NOFILE``),
   address space (``RLIMIT_AS``), the size of a file written (``RLIMIT_FSIZE``), processes
   (``RLIMIT_NPROC``: what this user already runs plus a margin), CPU seconds, no core file;
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
import os
import signal
import sys
import threading
# Bound now, before the learner's file is loaded: their ``threading.active_count = lambda: 1``,
# ``os.listdir = ...`` or ``time.monotonic = ...`` must not change what the check measures.
from json import dumps as _dumps
from os import listdir as _listdir
from threading import Event as _Event, Thread as _Thread, active_count as _active_count
from time import monotonic as _monotonic
from traceback import extract_tb as _extract_tb

SAMPLE_SECONDS = 0.003
PR_SET_PDEATHSIG = 1
THEIR_STACK_BYTES = 512 * 1024        # their threads: many must not run out of address space first
CALL_STACK_BYTES = 32 * 1024 * 1024   # the call itself: endless recursion ends in RecursionError, not a crash
CHANNEL_LOST = 70   # the exit code when their code closed the report pipe (shown as "ended the check early")


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


def _die_with_parent(parent):
    """Linux: when the program running the check is killed (kill -9, a closed terminal), the
    kernel ends this child too, instead of leaving an endless loop running for nobody."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes   # before _refuse_processes, which takes ctypes away from their code

        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0)   # 9: SIGKILL
    except (OSError, AttributeError, ImportError):
        return
    if parent and os.getppid() != parent:   # it died before the line above
        os._exit(CHANNEL_LOST)


def _refuse_processes():
    message = "the exercise check does not allow starting new processes (fork, system, spawn)"

    def refused(*_args, **_kwargs):
        raise PermissionError(message)

    import posix   # os.fork is posix.fork: the same function under two names, both replaced

    for module in (os, posix):
        for name in ("fork", "forkpty", "system", "posix_spawn", "posix_spawnp", "spawnv", "spawnve", "spawnvp",
                     "spawnvpe", "execv", "execve", "execvp", "execvpe", "execl", "execle", "execlp", "execlpe"):
            if hasattr(module, name):
                setattr(module, name, refused)
    try:
        import _posixsubprocess   # what subprocess.Popen uses instead of os.fork

        _posixsubprocess.fork_exec = refused
    except ImportError:
        pass

    class NoForeignCalls:   # ctypes would reach libc's fork() directly
        @staticmethod
        def find_spec(name, *_args):
            if name in ("ctypes", "_ctypes"):
                raise ImportError(message + ", nor ctypes", name=name)
            return None

    for name in ("ctypes", "_ctypes"):
        sys.modules.pop(name, None)
    sys.meta_path.insert(0, NoForeignCalls)


def _jsonable(value, depth=0):
    if depth > 4:
        return repr(value)[:200]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return str.__str__(value)[:2000]   # a subclass's own methods are not called
    if isinstance(value, bytes):
        return {"$bytes": repr(value)[:200]}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item, depth + 1) for item in list(value)[:2000]]
    if isinstance(value, dict):
        return {"$dict": [[_jsonable(k, depth + 1), _jsonable(v, depth + 1)] for k, v in list(value.items())[:2000]]}
    return {"$repr": repr(value)[:200], "$type": type(value).__name__}


def _shown(value):
    """``_jsonable``, for a value whose ``__repr__`` or ``__iter__`` is their code and may raise."""
    try:
        return _jsonable(value)
    except Exception:   # noqa: BLE001 - their method, their error: described, never our traceback
        return {"$repr": "<" + type(value).__name__ + " object>", "$type": type(value).__name__}


def _their_error(error, learner_file):
    """(type, message, line, errno) of an exception, with the line in the learner's file.

    Their exception is their code: its ``__str__`` may itself raise, and that is still
    their error to show, never a traceback of ours."""
    try:
        return _describe(error, learner_file)
    except Exception:   # noqa: BLE001 - whatever their __str__ or __getattr__ raised
        return {"type": type(error).__name__, "message": "", "line": None, "errno": None}


def _describe(error, learner_file):
    line = None
    if isinstance(error, SyntaxError) and error.filename == learner_file:
        line = error.lineno
    for frame in _extract_tb(error.__traceback__):
        if frame.filename == learner_file:
            line = frame.lineno
    message = error.msg if isinstance(error, SyntaxError) else str(error)
    if isinstance(error, ModuleNotFoundError):
        message = error.name or message
    return {"type": type(error).__name__, "message": str(message)[:300], "line": line,
            "errno": getattr(error, "errno", None) if isinstance(error, OSError) else None}


def _open_files():
    try:
        return len(_listdir("/proc/self/fd"))
    except OSError:
        return None


def _threads():
    """Threads of this process, as the kernel counts them (Python's own count where there is no /proc)."""
    try:
        return len(_listdir("/proc/self/task"))
    except OSError:
        return _active_count()


def _call(function, args, limit, learner_file):
    """Call ``function(*args)`` in a thread; watch threads and files while it runs."""
    outcome = {}
    base_threads, base_files = _threads(), _open_files()
    peak = {"threads": base_threads, "files": base_files}
    finished = _Event()

    def run():
        try:
            outcome["result"] = function(*args)
        except BaseException as error:   # their exception, whatever it is, is a result to report
            outcome["error"] = _their_error(error, learner_file)
        finally:
            finished.set()

    started = _monotonic()
    threading.stack_size(CALL_STACK_BYTES)
    try:
        _Thread(target=run, name="learner-call", daemon=True).start()
    finally:
        threading.stack_size(THEIR_STACK_BYTES)
    while not finished.wait(SAMPLE_SECONDS):
        peak["threads"] = max(peak["threads"], _threads())
        files = _open_files()
        if files is not None and peak["files"] is not None:
            peak["files"] = max(peak["files"], files)
        if _monotonic() - started > limit:
            break
    seconds = _monotonic() - started
    report = {"hung": not finished.is_set(), "seconds": round(seconds, 3),
              "extra_threads": peak["threads"] - base_threads - 1,   # the call's own thread does not count
              "extra_files": None if base_files is None else peak["files"] - base_files}
    if "error" in outcome:
        report["error"] = outcome["error"]
    elif finished.is_set():
        report["result"] = _shown(outcome.get("result"))
    return report


def main(spec):
    learner_file = spec["file"]
    sys.argv[:] = [learner_file]
    channel = os.fdopen(spec["fd"], "w", buffering=1, encoding="utf-8")
    token = spec["token"]

    def send(message):
        try:
            channel.write(token + " " + _dumps(message) + "\n")
            channel.flush()
        except (OSError, ValueError):   # they closed our descriptor: end without a traceback of ours
            os._exit(CHANNEL_LOST)

    _die_with_parent(spec.get("parent"))
    if hasattr(signal, "SIGXFSZ"):   # a file over RLIMIT_FSIZE: an OSError (EFBIG) in their code, not a kill
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    _apply_limits(spec.get("limits", {}))
    threading.stack_size(THEIR_STACK_BYTES)
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

