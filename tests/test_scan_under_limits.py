"""Scans under the computer's limits: no traceback, no thread waiting forever, one line that says why.

``ulimit -v`` (address space), ``ulimit -n`` (open files), threads that cannot start, and
SIGTERM in the middle of a network scan.
"""

import os
import signal
import subprocess
import sys
import threading

import pytest
from conftest import ROOT, program_env
from servers import FilteredPort

import scanner.limits as limits
from scanner.limits import SafeThread, as_shortage, is_shortage

POSIX_ONLY = pytest.mark.skipif(sys.platform == "win32" or not hasattr(os, "fork"),
                                reason="needs RLIMIT_AS, RLIMIT_NOFILE and signals (POSIX)")
# An address block of our own: other developers' labs may hold 127.42.0.x.
BLOCK = "127.77.13.0/26"


def test_shortages_are_told_from_bugs():
    assert is_shortage(MemoryError())
    assert is_shortage(RuntimeError("can't start new thread"))
    assert is_shortage(RuntimeError("can't allocate lock"))
    assert is_shortage(RuntimeError("can't allocate read lock"))   # an open() under ulimit -v
    assert is_shortage(SystemError("<class 'collections.deque'> returned NULL without setting an exception"))
    assert not is_shortage(RuntimeError("dictionary changed size during iteration"))
    assert not is_shortage(ValueError("can't allocate lock"))


def test_a_lock_that_cannot_be_allocated_is_reported_as_memory():
    assert isinstance(as_shortage(RuntimeError("can't allocate lock")), MemoryError)
    thread_error = RuntimeError("can't start new thread")
    assert as_shortage(thread_error) is thread_error   # every front end knows this one already
    other = ValueError("x")
    assert as_shortage(other) is other


def _start_in_watchdog(thread: threading.Thread) -> list:
    """Start ``thread`` from a helper thread, so a hang cannot hang the test run."""
    outcome: list = []

    def starter():
        try:
            thread.start()
            outcome.append("started")
        except RuntimeError as error:
            outcome.append(error)

    helper = threading.Thread(target=starter, daemon=True)
    helper.start()
    helper.join(20)
    assert not helper.is_alive(), "start() must never wait forever"
    return outcome


@pytest.mark.skipif(not hasattr(threading.Thread, "_set_tstate_lock"), reason="this Python sets up threads otherwise")
def test_a_thread_that_cannot_set_itself_up_raises_instead_of_hanging():
    class NoLockLeft(SafeThread):
        def _set_tstate_lock(self):
            raise RuntimeError("can't allocate lock")

    ran = []
    outcome = _start_in_watchdog(NoLockLeft(target=lambda: ran.append(1), daemon=True))
    assert len(outcome) == 1 and isinstance(outcome[0], RuntimeError)
    assert "can't start new thread" in str(outcome[0]) and not ran


def test_a_thread_that_never_says_it_runs_is_given_up(monkeypatch):
    """When the C side of a new thread fails (no memory), no Python code ever runs in it."""
    monkeypatch.setattr(limits, "START_LIMIT", 0.2)

    class DiesUnborn(SafeThread):
        def _bootstrap(self):
            return

    outcome = _start_in_watchdog(DiesUnborn(target=lambda: None, daemon=True))
    assert len(outcome) == 1 and isinstance(outcome[0], RuntimeError)


def test_an_ordinary_safe_thread_runs():
    ran = []
    thread = SafeThread(target=lambda: ran.append(1), daemon=True)
    thread.start()
    thread.join(5)
    assert ran == [1]


def _run_limited(args, home, rlimit=None, stop_after=None, timeout=120):
    """main.py ``args`` with ``rlimit`` = (resource, bytes or count); SIGTERM after ``stop_after`` seconds."""
    import resource

    def limit():
        if rlimit:
            resource.setrlimit(rlimit[0], (rlimit[1], rlimit[1]))

    process = subprocess.Popen([sys.executable, os.path.join(ROOT, "main.py"), *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=program_env(home), preexec_fn=limit)
    if stop_after is not None:
        try:
            process.wait(stop_after)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGTERM)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"the scan stalled: {err[-500:]}")
    return process.returncode, out, err


@POSIX_ONLY
@pytest.mark.slow
@pytest.mark.parametrize("megabytes", [30, 40, 60, 100, 150])
def test_a_network_scan_under_a_memory_limit_ends_cleanly(isolated_home, megabytes):
    import resource

    code, out, err = _run_limited(["scan", BLOCK, "-p", "1-300", "--timeout", "0.5", "--no-ping"], isolated_home,
                                  rlimit=(resource.RLIMIT_AS, megabytes << 20))
    assert "Traceback" not in err and "Fatal Python error" not in err, err[-1500:]
    assert code in (0, 1), (code, err[-500:])
    if code == 1:
        assert "out of resources" in err and len(err.strip().splitlines()) == 1, err
        assert "hosts up" in out, "the hosts done so far are printed"
    else:
        assert "64 hosts up" in out


@POSIX_ONLY
@pytest.mark.slow
def test_sigterm_ends_a_network_scan_and_keeps_what_was_found(isolated_home):
    code, out, err = _run_limited(["scan", BLOCK, "-p", "1-65535", "--timeout", "0.5", "--no-ping"], isolated_home,
                                  stop_after=2.0, timeout=20)
    assert code == 128 + signal.SIGTERM, err
    assert "Traceback" not in err
    assert "hosts up" in out


@POSIX_ONLY
@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_a_low_open_file_limit_with_filtered_ports_says_why_the_scan_is_slow(isolated_home):
    import resource

    with FilteredPort() as one, FilteredPort() as two:
        spec = f"1-400,{one.port},{two.port}"
        code, out, err = _run_limited(["scan", "127.0.0.1", "-p", spec], isolated_home,
                                      rlimit=(resource.RLIMIT_NOFILE, 32))
    assert code == 0, err
    assert "ulimit -n" in out and "slow" in out, out


@POSIX_ONLY
@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_the_engine_reports_the_in_flight_cap_only_when_the_file_limit_forced_one(isolated_home):
    script = (
        "import json, resource, sys\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "from scanner.engine import scan\n"
        "from scanner.inputs import TimeoutSetting, parse_target\n"
        "if sys.argv[3] != '0':\n"
        "    resource.setrlimit(resource.RLIMIT_NOFILE, (int(sys.argv[3]), int(sys.argv[3])))\n"
        "report = scan(parse_target('127.0.0.1'), [int(p) for p in sys.argv[2].split(',')], TimeoutSetting(0.5))\n"
        "print(json.dumps(report.file_limited_sockets))\n")
    with FilteredPort() as one:
        ports = ",".join(map(str, list(range(1, 200)) + [one.port]))
        low = subprocess.run([sys.executable, "-c", script, ROOT, ports, "32"], capture_output=True, text=True,
                             timeout=120)
        normal = subprocess.run([sys.executable, "-c", script, ROOT, ports, "0"], capture_output=True, text=True,
                                timeout=120)
    assert low.returncode == 0 and normal.returncode == 0, low.stderr + normal.stderr
    cap = int(low.stdout)
    assert 1 <= cap < 32
    assert normal.stdout.strip() == "null"
