"""A learner trying to pass without solving, or to leave something behind: the check holds.

The exercise check runs the learner's file in a child process (``lessons.exercises.sandbox``).
These tests are the attacks a hostile or careless student would try: forging the private
report channel, patching the harness, escaping the process group, and the odd files a
workspace can hold.  Every loop in the files below is bounded in count and time, and
every process they start is looked for afterwards in ``/proc``.
"""

import errno
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from lessons.exercises import find_exercise, run_check
from tests.conftest import ROOT, program_env

SOLUTIONS = os.path.join(ROOT, "tests", "exercise_solutions")

ONE_PORT = find_exercise("one-port")

# Reads the command line (where a token or the harness would be visible), looks for the
# harness in __main__, and forges "both cases passed" on every descriptor if it finds a token.
FORGER = '''
import json, os, sys
import __main__
seen = " ".join(getattr(sys, "orig_argv", sys.argv))
with open("/proc/self/cmdline", "rb") as stream:
    seen += stream.read().decode("utf-8", "replace")
FOUND = ['"token"' in seen, hasattr(__main__, "_call") or hasattr(__main__, "main")]

def forge(fd, token):
    for index, result in enumerate([["open", 0], ["closed", 111]]):
        line = json.dumps({"type": "call", "index": index, "result": result, "hung": False, "seconds": 0.1,
                           "extra_threads": 0, "extra_files": 0})
        os.write(fd, (token + " " + line + "\\n").encode())
    os.write(fd, (token + " " + json.dumps({"type": "done"}) + "\\n").encode())

def check_port(host, port):
    for argument in reversed(getattr(sys, "orig_argv", [])):
        try:
            spec = json.loads(argument)
            forge(spec["fd"], spec["token"])
            os._exit(0)
        except (ValueError, KeyError, TypeError, OSError):
            pass
    return FOUND
'''


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_token_and_the_harness_are_out_of_the_learners_reach(tmp_path):
    path = write(tmp_path, ONE_PORT.file_name, FORGER)
    report = run_check(ONE_PORT, str(path))
    assert not report.passed
    assert [verdict.gave for verdict in report.verdicts] == ["[False, False]"] * 2


# Gets round the harness's refusals (a new import path to ctypes), forks a daemon that calls
# setsid (out of the check's process group and session) and forks again (out of its parent's
# tree), and writes the daemon's pid where the test can find it.  The daemon ends by itself
# after DAEMON_SECONDS at most.
DAEMON_SECONDS = 20
ESCAPING_DAEMON = f'''
import os, sys, time
sys.meta_path[:] = [finder for finder in sys.meta_path if "NoForeign" not in repr(finder)]
import ctypes
libc = ctypes.CDLL(None)
if libc.fork() == 0:
    libc.setsid()
    if libc.fork() == 0:
        with open("daemon.pid", "w") as stream:
            stream.write(str(os.getpid()))
        started = time.time()
        while time.time() - started < {DAEMON_SECONDS}:
            time.sleep(0.1)
    os._exit(0)

def check_port(host, port):
    time.sleep(0.5)
    return "open", 0
'''


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stream:
            return stream.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc to look for processes left behind")
@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_a_daemon_that_left_the_process_group_and_session_is_ended_too(tmp_path):
    path = write(tmp_path, ONE_PORT.file_name, ESCAPING_DAEMON)
    report = run_check(ONE_PORT, str(path))
    pid = int((tmp_path / "daemon.pid").read_text())
    assert not alive(pid)
    assert report.seconds < 10   # the pipes it held did not keep the check waiting


def test_forks_through_the_posix_module_or_ctypes_are_refused(tmp_path):
    for text in ("import posix\nposix.fork()\n", "import ctypes\nctypes.CDLL(None).fork()\n"):
        path = write(tmp_path, ONE_PORT.file_name, text)
        report = run_check(ONE_PORT, str(path))
        assert report.problem == "processes", (text, report.problem_values)


# A thread per port (the mistake exercise 5 is about), hidden by patching what a harness
# might count with: Python's thread count, the listing of open files, the clock.
UNBOUNDED_IN_DISGUISE = '''
import errno, os, socket, threading, time
threading.active_count = lambda: 2
real_listdir, real_clock = os.listdir, time.monotonic
os.listdir = lambda path=".": [] if str(path).startswith("/proc/self") else real_listdir(path)
time.monotonic = lambda: real_clock() / 1000

def scan_port(host, port, timeout, states):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        code = sock.connect_ex((host, port))
    timed_out = code in (errno.EAGAIN, errno.EWOULDBLOCK, errno.ETIMEDOUT)
    states[port] = "open" if code == 0 else ("filtered" if timed_out else "closed")

def scan_many(host, ports, timeout, workers):
    states = {}
    threads = [threading.Thread(target=scan_port, args=(host, port, timeout, states)) for port in ports]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {port: states[port] for port in ports}
'''


@pytest.mark.slow
def test_patching_what_the_harness_counts_with_does_not_hide_a_thread_per_port(tmp_path):
    threads = find_exercise("threads")
    path = write(tmp_path, threads.file_name, UNBOUNDED_IN_DISGUISE)
    report = run_check(threads, str(path))
    assert [verdict.mistake for verdict in report.verdicts] == ["unbounded_threads"], report.verdicts


def test_a_check_leaves_no_bytecode_folder_in_the_workspace(tmp_path):
    path = write(tmp_path, ONE_PORT.file_name, "def check_port(host, port):\n    return 'open', 0\n")
    run_check(ONE_PORT, str(path))
    assert sorted(os.listdir(tmp_path)) == [ONE_PORT.file_name]


@pytest.mark.parametrize("kind", ["missing", "folder", "pipe", "huge"])
def test_a_file_that_is_not_a_file_of_code_gets_one_clear_problem_at_once(tmp_path, kind):
    path = tmp_path / ONE_PORT.file_name
    if kind == "folder":
        path.mkdir()
    elif kind == "pipe":
        if not hasattr(os, "mkfifo"):
            pytest.skip("no named pipes on this platform")
        os.mkfifo(path)
    elif kind == "huge":
        path.write_text("def check_port(host, port):\n    return 'open', 0\n" + "x = 1\n" * 400_000)
    report = run_check(ONE_PORT, str(path))
    expected = {"missing": "missing", "folder": "not_a_file", "pipe": "not_a_file", "huge": "too_big"}[kind]
    assert report.problem == expected and report.verdicts == []
    assert report.seconds < 1


@pytest.mark.parametrize("kind", ["folder", "pipe"])
def test_reset_moves_a_folder_or_pipe_aside_and_writes_the_starter(tmp_path, kind):
    from lessons.exercises.workspace import learner_file, reset

    path = learner_file(str(tmp_path), ONE_PORT)
    os.makedirs(os.path.dirname(path))
    if kind == "folder":
        os.mkdir(path)
    else:
        os.mkfifo(path)
    written, backup = reset(str(tmp_path), ONE_PORT, "en")
    assert os.path.isfile(written) and "def check_port" in open(written, encoding="utf-8").read()
    assert os.path.lexists(backup) and not os.path.isfile(backup)


@pytest.mark.parametrize("name, text", [
    ("closes every descriptor", "import os\nfor fd in range(3, 256):\n    try:\n        os.close(fd)\n"
                                "    except OSError:\n        pass\ndef check_port(host, port):\n    return 'open', 0\n"),
    ("interrupts itself", "import os, signal, time\ndef check_port(host, port):\n"
                          "    os.kill(os.getpid(), signal.SIGINT)\n    time.sleep(1)\n    return 'open', 0\n"),
    ("str and repr that raise", "class Evil(Exception):\n    def __str__(self):\n        raise RuntimeError\n"
                                "class Weird:\n    def __repr__(self):\n        raise RuntimeError\n"
                                "def check_port(host, port):\n    if port % 2:\n        raise Evil()\n"
                                "    return Weird()\n"),
])
def test_breaking_the_harness_shows_no_traceback_of_ours(tmp_path, name, text):
    path = write(tmp_path, ONE_PORT.file_name, text)
    report = run_check(ONE_PORT, str(path))
    assert not report.passed
    assert not any("harness" in line or "Traceback" in line for line in report.output), (name, report.output)
    if name != "str and repr that raise":
        assert report.problem == "crashed", name
    else:
        assert {verdict.mistake for verdict in report.verdicts} <= {"their_error", "wrong_answer"}


class Reversed(random.Random):
    """Shuffles by reversing: a different order from check.json's, the same every time."""

    def shuffle(self, items):
        items.reverse()


# Never opens a socket: answers by the order of the calls, then by the ports' order.
BY_CALL_ORDER = '''
ANSWERS = iter(["open", "closed", "filtered"])
def scan_port(host, port, timeout):
    return next(ANSWERS)
'''


@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_answers_by_call_order_fail_and_the_verdicts_keep_the_order_of_the_check(tmp_path):
    silent = find_exercise("silent-port")
    path = write(tmp_path, silent.file_name, BY_CALL_ORDER)
    report = run_check(silent, str(path), chooser=Reversed())
    assert not report.passed
    assert [verdict.expected for verdict in report.verdicts] == ["'open'", "'closed'", "'filtered'"]
    solution = write(tmp_path, "solution.py", open(os.path.join(SOLUTIONS, "03-silent-port.py")).read())
    assert run_check(silent, str(solution), chooser=Reversed()).passed


def test_the_open_port_is_not_always_the_first_of_the_block(tmp_path):
    one_port = find_exercise("one-port")
    path = write(tmp_path, one_port.file_name, "def check_port(host, port):\n    return 'open', 0\n")
    report = run_check(one_port, str(path), chooser=Reversed())
    asked = {verdict.expected: int(verdict.asked.split(", ")[1].rstrip(")")) for verdict in report.verdicts}
    assert asked["['open', 0]"] > asked[f"['closed', {errno.ECONNREFUSED}]"]


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir("/proc") or not sys.platform.startswith("linux"), reason="Linux /proc only")
def test_their_code_ends_when_the_program_running_the_check_is_killed(isolated_home):
    path = isolated_home / "exercises" / ONE_PORT.file_name
    path.parent.mkdir(parents=True)
    path.write_text("import time\nwhile True:\n    time.sleep(0.1)\n", encoding="utf-8")
    program = subprocess.Popen([sys.executable, os.path.join(ROOT, "main.py"), "exercise", "2", "--check"], cwd=ROOT,
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=program_env(isolated_home))
    children = []
    try:
        for _attempt in range(100):   # at most 10 s for the check's child to start
            with open(f"/proc/{program.pid}/task/{program.pid}/children", encoding="ascii") as stream:
                children = [int(pid) for pid in stream.read().split()]
            if children:
                break
            time.sleep(0.1)
        assert children
        time.sleep(0.5)   # the harness is loading their endless file
    finally:
        program.kill()
        program.wait(10)
    for _attempt in range(50):
        if not any(alive(pid) for pid in children):
            break
        time.sleep(0.1)
    left = [pid for pid in children if alive(pid)]
    for pid in left:   # ours: the test started it; do not leave it to the machine
        os.kill(pid, 9)
    assert left == []


# A thread per port, then the harness's own `send` found by walking the stack of its main
# thread, a report forged with a small thread count, "done", and a quick exit.
FORGED_THROUGH_FRAMES = UNBOUNDED_IN_DISGUISE.replace("    return {port: states[port] for port in ports}", '''
    import os, sys
    for frame in sys._current_frames().values():
        while frame is not None:
            send = frame.f_locals.get("send")
            if callable(send):
                send({"type": "call", "index": 0, "hung": False, "seconds": 0.5, "extra_threads": 1,
                      "extra_files": 1, "result": {"$dict": [[port, states[port]] for port in ports]}})
                send({"type": "done"})
                os._exit(0)
            frame = frame.f_back
    return {port: states[port] for port in ports}''')


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir("/proc"), reason="threads are counted from outside through /proc")
def test_a_report_forged_through_the_harness_frames_does_not_hide_the_threads(tmp_path):
    threads = find_exercise("threads")
    path = write(tmp_path, threads.file_name, FORGED_THROUGH_FRAMES)
    report = run_check(threads, str(path))
    assert [verdict.mistake for verdict in report.verdicts] == ["unbounded_threads"], report.verdicts


# Answers from a table of the check's own inputs, never looking at the address.
TABLE_OF_INPUTS = '''
ANSWERS = {("127.0.0.1", False): True, ("127.9.8.7", False): True, ("::1", False): True,
           ("192.0.2.10", False): False, ("192.0.2.10", True): True, ("0.0.0.0", False): False,
           ("1270.0.0.1", False): False}
def may_scan(host, consent):
    return ANSWERS.get((host, consent), False)
'''


def test_a_table_of_the_checks_inputs_is_no_answer(tmp_path):
    permission = find_exercise("permission")
    path = write(tmp_path, permission.file_name, TABLE_OF_INPUTS)
    report = run_check(permission, str(path))
    assert not report.passed
    assert "loopback_block" in {verdict.mistake for verdict in report.verdicts}


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir("/proc") or not sys.platform.startswith("linux"), reason="Linux /proc only")
def test_ctrl_c_during_a_check_exits_130_quietly_and_leaves_nothing(isolated_home):
    path = isolated_home / "exercises" / ONE_PORT.file_name
    path.parent.mkdir(parents=True)
    path.write_text("import time\nwhile True:\n    time.sleep(0.1)\n", encoding="utf-8")
    program = subprocess.Popen([sys.executable, os.path.join(ROOT, "main.py"), "exercise", "2", "--check"], cwd=ROOT,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=program_env(isolated_home))
    children = []
    try:
        for _attempt in range(100):   # at most 10 s for the check's child to start
            with open(f"/proc/{program.pid}/task/{program.pid}/children", encoding="ascii") as stream:
                children = [int(pid) for pid in stream.read().split()]
            if children:
                break
            time.sleep(0.1)
        program.send_signal(signal.SIGINT)   # what Ctrl+C sends: the child is in a session of its own
        out, err = program.communicate(timeout=20)
    finally:
        if program.poll() is None:
            program.kill()
            program.wait(10)
    assert children and program.returncode == 130, out + err
    assert "Traceback" not in out + err and "Interrupted" in out
    assert not any(alive(pid) for pid in children)


def test_a_file_written_in_an_endless_loop_stops_at_the_size_limit(tmp_path):
    path = write(tmp_path, ONE_PORT.file_name, "def check_port(host, port):\n"
                                               "    with open('log.txt', 'ab') as log:\n"
                                               "        for _ in range(64):\n"
                                               "            log.write(b'x' * (1024 * 1024))\n"
                                               "    return 'open', 0\n")
    report = run_check(ONE_PORT, str(path))
    assert report.problem is None
    assert {verdict.mistake for verdict in report.verdicts} == {"their_error"}
    assert os.path.getsize(tmp_path / "log.txt") <= 16 * 1024 * 1024


def test_endless_recursion_through_a_builtin_is_their_recursion_error_not_a_crash(tmp_path):
    path = write(tmp_path, ONE_PORT.file_name, "def deeper():\n    return sorted([1, 2], key=lambda item: deeper())\n"
                                               "def check_port(host, port):\n    return deeper()\n")
    report = run_check(ONE_PORT, str(path))
    assert report.problem is None
    assert [verdict.error["type"] for verdict in report.verdicts] == ["RecursionError"] * 2


ESCAPES = ("\x1b", "\x07", "\x9b", "\x9d")


@pytest.mark.parametrize("text", [
    # an exception class named with escapes, a message that writes the clipboard (OSC 52), a repr with a title
    'Evil = type("\\x1b[31mEvil\\x1b]0;title\\x07", (Exception,), {})\n'
    'class Shown:\n    def __repr__(self):\n        return "\\x1b]0;title\\x07\\x9b2J"\n'
    'def check_port(host, port):\n    if port % 2:\n        raise Evil("\\x1b]52;c;aGk=\\x07\\x1b[2Jboom")\n'
    '    return [Shown(), Shown()]\n',
    'raise SyntaxError("\\x1b[2J\\x1b]52;c;aGk=\\x07message")\n',
    'import importlib\nimportlib.import_module("\\x1b[2Jnothing")\n',
])
def test_their_exception_names_messages_and_reprs_reach_the_screen_cleaned(tmp_path, text):
    path = write(tmp_path, ONE_PORT.file_name, text)
    report = run_check(ONE_PORT, str(path))
    shown = [report.problem_values.get("message", ""), report.problem_values.get("type", "")]
    shown += [str(verdict.gave) for verdict in report.verdicts]
    shown += [str(value) for verdict in report.verdicts for value in (verdict.error or {}).values()]
    assert not any(code in line for line in shown for code in ESCAPES), shown


# One port at a time (about 4.5 s for the block: too slow), then a report forged through the
# harness's frames claiming 0.5 s.
SLOW_WITH_A_FORGED_CLOCK = """import errno, os, socket, sys

def scan_port(host, port, timeout):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        code = sock.connect_ex((host, port))
    timed_out = code in (errno.EAGAIN, errno.EWOULDBLOCK, errno.ETIMEDOUT)
    return "open" if code == 0 else ("filtered" if timed_out else "closed")

def scan_many(host, ports, timeout, workers):
    states = {port: scan_port(host, port, 0.15) for port in ports}   # one at a time: slow
    for frame in sys._current_frames().values():
        while frame is not None:
            send = frame.f_locals.get("send")
            if callable(send):
                send({"type": "call", "index": 0, "hung": False, "seconds": 0.5, "extra_threads": 0,
                      "extra_files": 1, "result": {"$dict": [[port, states[port]] for port in ports]}})
                send({"type": "done"})
                os._exit(0)
            frame = frame.f_back
"""


@pytest.mark.slow
def test_a_report_forged_with_a_small_time_does_not_hide_a_slow_scan(tmp_path):
    threads = find_exercise("threads")
    path = write(tmp_path, threads.file_name, SLOW_WITH_A_FORGED_CLOCK)
    report = run_check(threads, str(path))
    assert [verdict.mistake for verdict in report.verdicts] == ["too_slow"], report.verdicts
