"""The scan engine and single probes (scanner/engine.py, scanner/probe.py), on real loopback sockets."""

import json
import os
import select
import selectors
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from scanner.engine import FIRST, MAX_SELF_CONNECT_RETRIES, InFlight, _ScanState, _Worker, scan
from scanner.inputs import TimeoutSetting, parse_target
from scanner.probe import classify, is_self_connected, probe_port
from scanner.results import PortState, Reason
from scanner.timing import FixedTimeout, RttEstimator
from tests.conftest import ROOT, program_env
from tests.servers import (FilteredPort, Listener, ResettingListeners, free_port, ipv6_loopback_available,
                           loopback_listening_ports)

LOOPBACK = parse_target("127.0.0.1")


def closed_ports(count, host="127.0.0.1"):
    ports = set()
    while len(ports) < count:
        ports.add(free_port(host))
    return sorted(ports)


def by_port(report):
    return {r.port: r for r in report.results}


# --- scan(): states and reasons -------------------------------------------------------------

@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_open_closed_and_filtered_ports():
    with Listener() as one, Listener() as two, FilteredPort() as filtered:
        closed = closed_ports(5)
        ports = sorted({one.port, two.port, filtered.port, *closed})
        report = scan(LOOPBACK, ports, TimeoutSetting(0.5))
    results = by_port(report)
    for port in (one.port, two.port):
        assert results[port].state is PortState.OPEN
        assert results[port].reason is Reason.SYN_ACK
        assert results[port].rtt is not None
    for port in closed:
        assert results[port].state is PortState.CLOSED
        assert results[port].reason is Reason.CONN_REFUSED
    assert results[filtered.port].state is PortState.FILTERED
    assert results[filtered.port].reason is Reason.NO_RESPONSE
    assert results[filtered.port].rtt is None
    assert report.complete and not report.interrupted
    assert report.counts() == {"open": 2, "closed": 5, "filtered": 1}
    assert report.by_state(PortState.OPEN) == [results[p] for p in sorted((one.port, two.port))]


def test_results_are_sorted_and_complete_over_a_range():
    with Listener() as listener:
        ports = tuple(range(1, 1025)) + (listener.port,)
        truth = loopback_listening_ports()
        report = scan(LOOPBACK, ports, TimeoutSetting(1.0))
        truth |= loopback_listening_ports()  # other programs may have opened listeners meanwhile
    assert [r.port for r in report.results] == sorted(ports)
    assert report.complete and report.ports_scanned == len(ports)
    assert report.ports_requested == ports
    opened = {r.port for r in report.by_state(PortState.OPEN)}
    assert listener.port in opened
    assert opened <= truth | {listener.port}, "an open port that nothing listens on"
    assert not report.by_state(PortState.FILTERED)


def test_serial_scan_with_one_worker_gives_the_same_answers():
    with Listener() as listener:
        ports = sorted({listener.port, *closed_ports(20)})
        report = scan(LOOPBACK, ports, TimeoutSetting(1.0), workers=1, threads=1)
    assert [r.port for r in report.results] == ports
    assert {r.port for r in report.by_state(PortState.OPEN)} == {listener.port}


def test_service_names_are_filled_for_listed_ports():
    with Listener() as listener:
        report = scan(LOOPBACK, [listener.port], TimeoutSetting(1.0))
    assert report.results[0].state is PortState.OPEN
    assert isinstance(report.results[0].service, str)


@pytest.mark.skipif(not ipv6_loopback_available(), reason="this machine has no IPv6 loopback (::1)")
def test_ipv6_loopback():
    target = parse_target("::1")
    with Listener("::1") as listener:
        closed = closed_ports(3, "::1")
        report = scan(target, sorted({listener.port, *closed}), TimeoutSetting(1.0))
    results = by_port(report)
    assert results[listener.port].state is PortState.OPEN
    assert results[listener.port].reason is Reason.SYN_ACK
    for port in closed:
        assert results[port].reason is Reason.CONN_REFUSED
    assert report.target.family_name == "ipv6"
    assert report.complete


# --- the self-connect guard -----------------------------------------------------------------

@pytest.fixture
def self_connected():
    """A real socket connected to itself: bound to 127.0.0.1:P, then connected to 127.0.0.1:P."""
    for _attempt in range(20):
        port = free_port()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind(("127.0.0.1", port))
            sock.connect(("127.0.0.1", port))  # TCP simultaneous open with itself
        except OSError:
            sock.close()
            continue
        break
    else:
        pytest.skip("could not build a self-connected socket on this system")
    assert sock.getsockname() == sock.getpeername() == ("127.0.0.1", port)
    yield sock, port
    sock.close()


def test_is_self_connected_on_a_real_self_connection(self_connected):
    sock, _port = self_connected
    assert is_self_connected(sock) is True


def test_is_self_connected_false_for_normal_connections():
    with Listener() as listener, socket.create_connection(("127.0.0.1", listener.port), timeout=2) as client:
        assert is_self_connected(client) is False
    with socket.socket() as unconnected:
        assert is_self_connected(unconnected) is False  # getpeername fails: not self-connected


def _worker_holding(sock, port, attempt):
    state = _ScanState(LOOPBACK, [], FixedTimeout(1.0), threading.Event())
    worker = _Worker(state, capacity=8)
    sock.setblocking(False)  # the engine's sockets are non-blocking
    worker.in_flight[sock] = InFlight(port, time.monotonic(), 1, FIRST, attempt)  # attempt: self-connects so far
    worker.selector.register(sock, selectors.EVENT_WRITE)
    return state, worker


def test_engine_retries_a_self_connected_probe_instead_of_reporting_open(self_connected):
    sock, port = self_connected
    state, worker = _worker_holding(sock, port, attempt=0)
    worker._answered(sock)  # reads SO_ERROR (0, "connected") and calls _finish(sock, 0)

    assert sock.fileno() == -1, "the self-connected socket must be closed"
    assert state.self_connects == 1
    assert worker.open_found == 0
    assert not any(r.state is PortState.OPEN for r in worker.answers)
    # The port was probed again: already refused, or the new probe is in flight with attempt 1.
    retried = [entry for entry in worker.in_flight.values() if entry[0] == port]
    assert port in worker.closed_ports or [entry[4] for entry in retried] == [1]

    worker._loop()  # let the retry finish on real sockets: nothing listens on the port any more
    try:
        assert port in worker.closed_ports
        assert worker.open_found == 0 and not worker.in_flight
    finally:
        worker.selector.close()


def test_engine_gives_up_after_repeated_self_connects_and_calls_the_port_closed(self_connected):
    sock, port = self_connected
    state, worker = _worker_holding(sock, port, attempt=MAX_SELF_CONNECT_RETRIES)
    worker._finish(sock, 0, registered=True)
    worker.selector.close()
    assert [(r.port, r.state, r.reason) for r in worker.answers] == [(port, PortState.CLOSED, Reason.SELF_CONNECT)]
    assert worker.open_found == 0
    assert state.self_connects == 1


# --- probe_port ------------------------------------------------------------------------------

def test_probe_port_open():
    with Listener() as listener:
        outcome = probe_port("127.0.0.1", listener.port, 1.0)
    assert (outcome.state, outcome.reason, outcome.code, outcome.code_name) == (PortState.OPEN, Reason.SYN_ACK, 0, "0")
    assert outcome.self_connects == 0


def test_probe_port_closed():
    outcome = probe_port("127.0.0.1", free_port(), 1.0)
    assert (outcome.state, outcome.reason, outcome.code_name) == (PortState.CLOSED, Reason.CONN_REFUSED,
                                                                  "ECONNREFUSED")


def test_probe_port_filtered():
    with FilteredPort() as filtered:
        outcome = probe_port("127.0.0.1", filtered.port, 0.3)
    assert (outcome.state, outcome.reason) == (PortState.FILTERED, Reason.NO_RESPONSE)


@pytest.mark.skipif(not ipv6_loopback_available(), reason="this machine has no IPv6 loopback (::1)")
def test_probe_port_ipv6():
    with Listener("::1") as listener:
        assert probe_port("::1", listener.port, 1.0, family=socket.AF_INET6).state is PortState.OPEN


def test_classify_resource_errors_are_never_a_port_state():
    import errno

    for name in ("EMFILE", "ENFILE", "ENOBUFS", "EADDRNOTAVAIL"):
        assert classify(getattr(errno, name)) is None
    assert classify(errno.ECONNREFUSED) == (PortState.CLOSED, Reason.CONN_REFUSED)
    assert classify(errno.EHOSTUNREACH) == (PortState.FILTERED, Reason.HOST_UNREACH)
    assert classify(errno.ENETUNREACH) == (PortState.FILTERED, Reason.NET_UNREACH)


# --- stopping early --------------------------------------------------------------------------

def test_stop_event_ends_the_scan_with_partial_results():
    stop = threading.Event()
    with Listener() as listener, FilteredPort() as filtered:
        closed = closed_ports(5)
        ports = sorted({listener.port, filtered.port, *closed})

        def progress(done, total, _open):
            if done >= total - 1:  # everything but the silent port has answered
                stop.set()

        report = scan(LOOPBACK, ports, TimeoutSetting(20.0), progress=progress, stop=stop, progress_interval=0.02)
    assert report.complete is False
    assert report.interrupted is False
    results = by_port(report)
    assert filtered.port not in results, "the unanswered port must not be invented"
    assert results[listener.port].state is PortState.OPEN
    assert all(results[p].state is PortState.CLOSED for p in closed)
    assert report.ports_scanned == len(ports) - 1


def test_stop_set_before_the_scan_scans_nothing():
    stop = threading.Event()
    stop.set()
    report = scan(LOOPBACK, closed_ports(3), TimeoutSetting(1.0), stop=stop)
    assert report.complete is False
    assert report.results == []


def _read_until(fd, wanted, limit=20.0):
    """Read a pseudo-terminal until every string in ``wanted`` was seen (``limit`` only guards a hang)."""
    seen = b""
    deadline = time.monotonic() + limit
    while not all(w.encode() in seen for w in wanted):
        if time.monotonic() > deadline:
            raise AssertionError(f"never saw {wanted!r}; got {seen[-300:]!r}")
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                seen += os.read(fd, 4096)
            except OSError:
                break
    return seen


def _drain(fd):
    data = b""
    while True:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if not ready:
            return data
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            return data
        if not chunk:
            return data
        data += chunk


POSIX_ONLY = pytest.mark.skipif(sys.platform == "win32", reason="needs pty, signals and RLIMIT_NOFILE (POSIX)")


@POSIX_ONLY
@pytest.mark.slow   # over a third of a second: kept out of the quick loop
def test_ctrl_c_during_a_scan_exits_130_and_prints_partial_results(isolated_home):
    import pty

    with Listener() as listener, FilteredPort() as filtered:
        closed = free_port()
        spec = ",".join(str(p) for p in sorted({listener.port, filtered.port, closed}))
        # stderr on a pseudo-terminal turns the progress bar on: it tells us when the
        # open and closed ports are done and only the silent one is left.
        master, slave = pty.openpty()
        proc = subprocess.Popen([sys.executable, "main.py", "scan", "127.0.0.1", "-p", spec, "--timeout", "10"],
                                cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave,
                                env=program_env(isolated_home, COLUMNS="100"))
        os.close(slave)
        try:
            _read_until(master, ["2/3", "open 1"])
            proc.send_signal(signal.SIGINT)
            stdout, _ = proc.communicate(timeout=20)
            stderr = _drain(master).decode("utf-8", "replace")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            os.close(master)
    out = stdout.decode("utf-8", "replace")
    assert proc.returncode == 130, out + stderr
    assert "Traceback" not in out + stderr
    assert f"{listener.port}/tcp" in out and "open" in out
    assert f"{filtered.port}/tcp" not in out
    assert "Stopped early: 2 of 3" in out
    assert "Interrupted" in stderr


# --- running out of files ----------------------------------------------------------------------

def _scan_json(args, **popen):
    proc = subprocess.run(args, cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, timeout=60, **popen)
    out, err = proc.stdout.decode(), proc.stderr.decode()
    assert "Traceback" not in out + err, err
    return proc.returncode, out, err


@POSIX_ONLY
def test_low_file_limit_scan_completes(isolated_home):
    """RLIMIT_NOFILE=40: the engine sizes itself under the limit and still answers every port."""
    import resource

    def low_limit():
        _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (40, hard))

    with Listener() as listener:
        truth = loopback_listening_ports()
        code, out, err = _scan_json([sys.executable, "main.py", "scan", "127.0.0.1", "-p", f"1-3000,{listener.port}",
                                     "--format", "json", "--all"], preexec_fn=low_limit,
                                    env=program_env(isolated_home))
        truth |= loopback_listening_ports()
    assert code == 0, err
    report = json.loads(out)
    assert report["complete"] is True
    assert report["ports_scanned"] == 3001 == len(report["ports"])
    states = {p["port"]: p["state"] for p in report["ports"]}
    assert states[listener.port] == "open"
    assert set(states.values()) <= {"open", "closed"}, "running out of files is never a port state"
    assert {p for p, s in states.items() if s == "open"} <= truth | {listener.port}


EMFILE_WRAPPER = textwrap.dedent("""
    import json, resource, sys
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (40, hard))
    sys.path.insert(0, sys.argv[1])
    import scanner.engine as engine
    # Pretend there is room for 1000 sockets, so the kernel really answers EMFILE.
    engine.open_file_budget = lambda: 1000
    given_back = [0]
    original = engine._ScanState.give_back
    def counting(self, port):
        given_back[0] += 1
        original(self, port)
    engine._ScanState.give_back = counting
    from scanner.inputs import TimeoutSetting, parse_ports, parse_target
    report = engine.scan(parse_target("127.0.0.1"), parse_ports(sys.argv[2]), TimeoutSetting(0.5))
    print(json.dumps({"complete": report.complete, "given_back": given_back[0],
                      "states": {r.port: [r.state.value, r.reason.value] for r in report.results}}))
""")


@POSIX_ONLY
@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_emfile_is_retried_never_a_port_state(isolated_home):
    """With too many sockets in flight the kernel says EMFILE: ports go back in the queue."""
    filtered_ports = []
    listener = Listener()
    try:
        listener.__enter__()
        for _ in range(40):  # silent ports keep sockets in flight, so the files really run out
            filtered_ports.append(FilteredPort().__enter__())
        silent = {f.port for f in filtered_ports}
        spec = ",".join(["1-3000", str(listener.port)] + [str(p) for p in sorted(silent)])
        truth = loopback_listening_ports()
        code, out, err = _scan_json([sys.executable, "-c", EMFILE_WRAPPER, ROOT, spec],
                                    env=program_env(isolated_home))
        truth |= loopback_listening_ports()
    finally:
        for filtered in filtered_ports:
            filtered.__exit__(None, None, None)
        listener.__exit__(None, None, None)
    assert code == 0, err
    data = json.loads(out)
    states = {int(port): tuple(value) for port, value in data["states"].items()}
    assert data["given_back"] > 0, "EMFILE never happened: the test did not exercise the retry"
    assert data["complete"] is True
    assert len(states) == 3000 + 1 + len(silent)
    assert states[listener.port] == ("open", "syn-ack")
    for port, (state, reason) in states.items():
        if port in silent:
            assert (state, reason) == ("filtered", "no-response"), port
        elif state == "open":
            assert port in truth | {listener.port}, port
        else:
            assert (state, reason) == ("closed", "conn-refused"), (port, state, reason)



NO_SOCKET_AT_ALL = textwrap.dedent("""
    import os, resource, socket, sys
    sys.path.insert(0, sys.argv[1])
    import lessons.ui.cli as cli
    import scanner.engine, scanner.report  # everything a scan needs, loaded before the files run out
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (len(os.listdir("/proc/self/fd")) + 2, hard))
    hog = []
    try:
        while True:
            hog.append(socket.socket())
    except OSError:
        pass
    hog.pop().close()  # one file left: the engine's selector takes it, so no probe socket can ever open
    sys.exit(cli.main(["scan", "127.0.0.1", "-p", "1-50", "--format", "json"]))
""")


@POSIX_ONLY
@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_no_socket_at_all_is_one_line_and_exit_1_not_an_endless_wait(isolated_home):
    """Waiting for files only makes sense while our own sockets will free some; with none it never ends."""
    code, out, err = _scan_json([sys.executable, "-c", NO_SOCKET_AT_ALL, ROOT], env=program_env(isolated_home))
    assert code == 1, (out, err)
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Too many open files" in lines[0] and "ulimit" in lines[0], err


# --- timing and progress -----------------------------------------------------------------------

def test_auto_timeout_adapts_to_fast_answers():
    with Listener() as listener:
        report = scan(LOOPBACK, sorted({listener.port, *closed_ports(30)}), TimeoutSetting(1.0, auto=True))
    assert report.timeout == "auto"
    assert report.final_timeout < 1.0
    assert report.complete


def test_fixed_timeout_stays_fixed():
    report = scan(LOOPBACK, closed_ports(10), TimeoutSetting(0.7))
    assert report.timeout == "0.7"
    assert report.final_timeout == 0.7


def test_rtt_estimator_follows_rfc6298_and_stays_in_bounds():
    timer = RttEstimator(initial=1.0, floor=0.1, ceiling=3.0)
    assert timer.timeout == 1.0
    timer.observe(0.2)
    assert timer.srtt == pytest.approx(0.2) and timer.rttvar == pytest.approx(0.1)
    assert timer.timeout == pytest.approx(0.6)
    timer.observe(0.2)
    assert timer.rttvar == pytest.approx(0.075) and timer.srtt == pytest.approx(0.2)
    for _ in range(50):
        timer.observe(0.00001)
    assert timer.timeout == 0.1
    for _ in range(50):
        timer.observe(100.0)
    assert timer.timeout == 3.0


def test_progress_callback_reports_done_total_open_and_ends_at_total():
    calls = []
    with Listener() as listener:
        ports = tuple(range(1, 2001)) + (listener.port,)
        report = scan(LOOPBACK, ports, TimeoutSetting(1.0), progress=lambda *a: calls.append(a),
                      progress_interval=0.01)
    assert calls, "progress was never called"
    assert all(len(call) == 3 and all(isinstance(n, int) for n in call) for call in calls)
    assert {total for _d, total, _o in calls} == {len(ports)}
    done = [d for d, _t, _o in calls]
    assert done == sorted(done), "done never goes backwards"
    assert calls[-1] == (len(ports), len(ports), len(report.by_state(PortState.OPEN)))
    assert calls[-1][2] >= 1


def test_a_refused_socket_is_reused_for_the_next_port_and_still_tells_the_truth():
    """The engine re-arms a socket whose connect was refused (Linux); answers must not change."""
    with Listener() as listener:
        closed = [free_port() for _ in range(3)]
        ports = sorted(closed + [listener.port])
        report = scan(parse_target("127.0.0.1"), ports, TimeoutSetting(1.0), workers=1, threads=1)
    states = {r.port: r.state for r in report.results}
    assert states[listener.port] is PortState.OPEN
    assert all(states[port] is PortState.CLOSED for port in closed)


def test_reuse_is_switched_off_where_a_socket_cannot_be_re_armed():
    """A socket that is not in the failed state answers otherwise: the worker must fall back."""
    state = _ScanState(parse_target("127.0.0.1"), [], FixedTimeout(1.0), threading.Event())
    worker = _Worker(state, capacity=1)
    with Listener() as listener:
        fresh = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        fresh.setblocking(False)
        assert worker._reconnect(fresh, ("127.0.0.1", listener.port)) is None
    assert worker.reuse_sockets is False
    assert fresh.fileno() == -1  # closed, not leaked
    worker.selector.close()


# --- nothing found is lost ------------------------------------------------------------------------

@POSIX_ONLY
def test_a_handshake_reset_at_once_is_open_in_a_busy_scan():
    with ResettingListeners(30) as resetting:
        low = max(1, resetting.ports[0] - 1500)
        ports = sorted(set(range(low, low + 3000)) | set(resetting.ports))
        report = scan(LOOPBACK, ports, TimeoutSetting(1.0))
    results = by_port(report)
    assert report.complete
    wrong = {port: (results[port].state.value, results[port].reason.value) for port in resetting.ports
             if (results[port].state, results[port].reason) != (PortState.OPEN, Reason.SYN_ACK)}
    assert not wrong, f"a completed handshake must be open: {wrong}"


@pytest.mark.parametrize("stop_share", [0.2, 0.5, 0.8])
@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_a_stop_keeps_every_open_port_below_the_point_reached(stop_share):
    """Stop a full-range scan part way: every open port below the highest answered one is kept."""
    listeners = [Listener() for _ in range(8)]
    for listener in listeners:
        listener.__enter__()
    try:
        mine = {listener.port for listener in listeners}
        truth = loopback_listening_ports()
        stop = threading.Event()
        seen_open = []

        def progress(done, total, open_found):
            seen_open.append(open_found)
            if len(seen_open) % 4 == 0:  # other programs' listeners come and go: watch them
                truth.update(loopback_listening_ports())
            if done >= total * stop_share:
                stop.set()

        report = scan(LOOPBACK, range(1, 65536), TimeoutSetting(1.0), stop=stop, progress=progress,
                      progress_interval=0.005)
        truth |= loopback_listening_ports()
    finally:
        for listener in listeners:
            listener.__exit__(None, None, None)
    assert not report.complete
    results = by_port(report)
    reached = max(port for port, result in results.items() if result.state is PortState.CLOSED)
    for port in sorted(mine):
        if port < reached:
            assert port in results and results[port].state is PortState.OPEN, (port, reached)
    opened = {r.port for r in report.by_state(PortState.OPEN)}
    assert opened <= truth | mine
    # Another program's listener with a full accept queue (a practice lab's "filtered" port) is truly silent.
    assert not [r for r in report.by_state(PortState.FILTERED) if r.port not in truth]
    if opened:
        assert seen_open[-1] == len(opened)


@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_the_open_count_in_progress_is_live():
    """The progress callback counts open ports while the scan runs, not only at the end."""
    with Listener() as listener, FilteredPort() as filtered:
        calls = []
        low = max(1, listener.port - 200)
        # The silent port keeps the scan going for a while after every other port answered.
        ports = sorted(set(range(low, min(65536, low + 20000))) | {filtered.port})
        scan(LOOPBACK, ports, TimeoutSetting(0.5), progress=lambda *call: calls.append(call), progress_interval=0.01)
    during = [call for call in calls[:-1] if call[0] < call[1]]
    assert any(open_found >= 1 for _done, _total, open_found in during), calls[:5]


@pytest.mark.slow   # over a third of a second: kept out of the quick loop
def test_fixed_retries_and_tries_per_port():
    with Listener() as listener, FilteredPort() as filtered:
        closed = closed_ports(3)
        report = scan(LOOPBACK, sorted({listener.port, filtered.port, *closed}), TimeoutSetting(0.2), retries=1)
    results = by_port(report)
    assert results[filtered.port].state is PortState.FILTERED
    assert results[filtered.port].tries == 2, "one retry: two tries"
    assert results[listener.port].tries == 1 and results[listener.port].state is PortState.OPEN
    assert report.retries == "1" and report.retried == 0 and report.rate_limit_per_second is None


@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_adaptive_retries_give_silence_at_least_three_tries():
    with FilteredPort() as filtered:
        report = scan(LOOPBACK, [filtered.port], TimeoutSetting(0.1))
    assert report.results[0].state is PortState.FILTERED
    assert report.results[0].tries == 3
    assert report.retries == "auto"


def test_retry_policy_grows_while_retries_bring_answers():
    from scanner.timing import RetryPolicy

    adaptive = RetryPolicy()
    assert [adaptive.may_retry(t) for t in (1, 2, 3)] == [True, True, False]
    adaptive.answered_on(2)
    assert adaptive.may_retry(3) and not adaptive.may_retry(4)
    adaptive.answered_on(3)
    assert adaptive.may_retry(4) and not adaptive.may_retry(5)
    for tries in range(1, 30):
        adaptive.answered_on(tries)
    assert adaptive.allowed_tries == 11, "nmap's cap: 10 retries"
    fixed = RetryPolicy(0)
    fixed.answered_on(5)
    assert not fixed.may_retry(1)


def test_pacer_slows_down_to_the_answer_rate_and_recovers():
    from scanner.timing import Pacer

    now = [0.0]
    pacer = Pacer(1000, clock=lambda: now[0])
    # 5000 probes a second go out, 500 answers come back, 300 of them only on a retry.
    for _ in range(4):
        now[0] += 0.5
        pacer.note(2500, 250, 150)
    assert pacer.rate is not None and 400 <= pacer.rate <= 600
    assert pacer.window < 1000
    assert pacer.rate_limit == 500
    capped = pacer.rate
    for _ in range(40):  # the drops stopped: speed up again, a little at a time
        now[0] += 0.5
        pacer.note(100, 100, 0)
    assert pacer.rate is None or pacer.rate > capped
    assert pacer.window == 1000


def test_pacer_ignores_ordinary_random_loss():
    from scanner.timing import Pacer

    now = [0.0]
    pacer = Pacer(1000, clock=lambda: now[0])
    for _ in range(10):  # 2% loss: about 4 answers in 100 come on a retry
        now[0] += 0.5
        pacer.note(5000, 4900, 200)
    assert pacer.rate is None and pacer.window == 1000 and pacer.rate_limit is None


def test_auto_timeout_keeps_a_margin_over_a_steady_round_trip():
    timer = RttEstimator(initial=1.0)
    for _ in range(200):
        timer.observe(0.2)
    assert timer.timeout >= 0.29, "ordinary jitter above a steady 200 ms must not count as silence"
    for _ in range(200):
        timer.observe(0.3)
    assert timer.timeout >= 0.375 + 0.05
    fixed = FixedTimeout(0.05)
    assert fixed.timeout == 0.05 and fixed.retry_timeout == 0.05
    for _ in range(20):
        fixed.observe(0.2)
    assert fixed.timeout == 0.05, "the first try honours the learner's timeout"
    assert fixed.retry_timeout >= 0.29, "retries use what the answers taught"
    generous = FixedTimeout(2.0)
    for _ in range(20):
        generous.observe(0.0001)
    assert generous.timeout == 2.0 and generous.retry_timeout == pytest.approx(0.1)


def test_scans_run_in_parallel_threads_do_not_mix():
    with Listener() as one, Listener() as two:
        reports = {}

        def run(name, port):
            reports[name] = scan(LOOPBACK, sorted({port, *closed_ports(50)}), TimeoutSetting(1.0))

        threads = [threading.Thread(target=run, args=("one", one.port)),
                   threading.Thread(target=run, args=("two", two.port))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert [r.port for r in reports["one"].by_state(PortState.OPEN)] == [one.port]
    assert [r.port for r in reports["two"].by_state(PortState.OPEN)] == [two.port]


def test_two_tries_of_one_port_answering_together_count_once():
    """A retransmission runs beside the first try; when both answer in one batch, the port is settled once."""
    state = _ScanState(LOOPBACK, [], FixedTimeout(5.0), threading.Event())
    worker = _Worker(state, capacity=8)
    try:
        with Listener() as listener:
            worker._start(listener.port, 1, FIRST, 0)
            worker._start(listener.port, 2, FIRST, 0)
            assert len(worker.siblings[listener.port]) == 2
            time.sleep(0.2)  # let both handshakes finish, so one select() reports both
            for key, _events in worker.selector.select(1.0):
                worker._answered(key.fileobj)  # the second one was closed by the first answer
            worker._loop()  # the confirmation (loopback) finishes
        opened = [r for r in worker.answers if r.port == listener.port]
        assert [(r.state, r.reason) for r in opened] == [(PortState.OPEN, Reason.SYN_ACK)]
        assert not worker.in_flight and not worker.siblings
    finally:
        worker.selector.close()


def test_a_scan_runs_on_the_threads_it_could_start(monkeypatch):
    """A low thread limit (RLIMIT_NPROC, little memory) lets only the first worker start: the scan still ends exact."""
    import scanner.engine as engine_module

    real_start, calls = engine_module._Worker.start, []

    def start_once(worker):
        calls.append(worker)
        if len(calls) > 1:
            raise RuntimeError("can't start new thread")
        real_start(worker)

    monkeypatch.setattr(engine_module._Worker, "start", start_once)
    with Listener() as listener:
        ports = tuple(sorted({listener.port} | set(range(1, 2001))))
        report = scan(parse_target("127.0.0.1"), ports, TimeoutSetting(1.0))
    assert report.complete and len(calls) >= 2 and len(report.results) == len(ports)
    states = {r.port: r.state for r in report.results}
    assert states[listener.port] is PortState.OPEN
