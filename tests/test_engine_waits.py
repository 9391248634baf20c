"""The engine waits for real deadlines, backs off, keeps closed ports compactly and does not cry "rate limit" at loss.

No timed assertions here: the wait computation is tested as a unit (what the loop would
sleep until), speed and CPU are measured with bench/.
"""

import copy
import socket
import threading

import pytest
from servers import FilteredPort, Listener

from scanner.assembly import CompactResults
from scanner.engine import FIRST, InFlight, ScanGroup, _ScanState, _Worker, scan
from scanner.inflight import MAX_WAIT, RETRY_TIMEOUT_CAP, sleep_for, try_timeout
from scanner.inputs import TimeoutSetting, parse_target
from scanner.results import PortResult, PortState, Reason, ScanReport
from scanner.timing import FixedTimeout, Pacer

LOOPBACK = parse_target("127.0.0.1")


@pytest.fixture
def worker():
    state = _ScanState(LOOPBACK, [], FixedTimeout(1.0), threading.Event())
    made = _Worker(state, capacity=8)
    sockets = []

    def hold(port, started, tries):
        sock = socket.socket()
        sockets.append(sock)
        made._register(sock, InFlight(port, started, tries, FIRST, 0))
        return sock

    made.hold = hold
    yield made
    for sock in sockets:
        sock.close()
    made.selector.close()


def test_nothing_in_flight_means_no_deadline(worker):
    assert worker.next_deadline(1.0, 0.1) is None
    assert sleep_for(100.0, None) == MAX_WAIT


def test_a_first_try_is_due_its_retransmission_after_the_learned_timeout(worker):
    worker.hold(80, started=100.0, tries=1)
    assert worker.next_deadline(1.0, 0.1) == pytest.approx(100.1)


def test_a_retransmitted_first_try_is_no_deadline_until_its_own_timeout(worker):
    """The old loop slept until the oldest socket's retransmission time, long past: 0 s, a spin."""
    worker.hold(80, started=100.0, tries=1)
    worker.rto_watch.popleft()                 # what _expire does when it retransmits
    worker.hold(80, started=100.1, tries=2)    # the retransmission, listening beside it
    deadline = worker.next_deadline(1.0, 0.1)
    assert deadline == pytest.approx(100.1 + try_timeout(2, 1.0, 0.1))
    assert sleep_for(100.15, deadline, cap=1.0) == pytest.approx(deadline - 100.15)
    assert sleep_for(100.15, deadline) == MAX_WAIT   # never longer than the cap (stop and progress stay prompt)
    worker._forget(next(iter(worker.waiting[2])))   # the retransmission answered: only the first try waits
    assert worker.next_deadline(1.0, 0.1) == pytest.approx(101.0)


def test_an_answered_first_try_is_skipped_when_looking_for_the_next_retransmission(worker):
    answered = worker.hold(80, started=100.0, tries=1)
    worker.hold(81, started=100.5, tries=1)
    worker._forget(answered)
    assert worker.next_deadline(1.0, 0.1) == pytest.approx(100.6)


def test_the_sleep_is_zero_only_when_there_is_more_to_send_now():
    assert sleep_for(100.0, 100.2, more_to_send=True) == 0.0
    assert sleep_for(100.0, 99.0) == 0.0              # a deadline already passed: expire at once
    assert sleep_for(100.0, 100.2, pause=0.01) == pytest.approx(0.01)   # the pacer's next token


def test_later_tries_back_off_even_with_an_auto_timeout():
    """With --timeout auto every try used to wait the same 0.1 s: a port's tries fell within a second."""
    waits = [try_timeout(tries, 0.1, 0.1) for tries in range(1, 7)]
    assert waits == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0])
    assert sum(waits[:4]) > 1.0


def test_backoff_does_not_slow_a_silent_host_with_a_fixed_timeout():
    assert [try_timeout(tries, 1.0, 1.0) for tries in (1, 2, 3)] == [1.0, 1.0, 1.0]
    assert try_timeout(9, 5.0, 1.0) == RETRY_TIMEOUT_CAP


def test_the_tail_of_a_lossy_scan_is_not_a_rate_limit():
    """At the end only late answers come back, and retries to filtered ports never answer."""
    now = [0.0]
    pacer = Pacer(1000, clock=lambda: now[0])
    for _ in range(8):  # the body: 2% loss, 5000 probes in half a second
        now[0] += 0.5
        pacer.note(5000, 4900, 100)
    for _ in range(6):  # the tail: 30 late answers, 200 retries of filtered ports
        now[0] += 0.5
        pacer.note(230, 30, 30)
    assert pacer.rate is None and pacer.rate_limit is None and pacer.window == 1000


def test_a_real_rate_limit_is_still_found():
    now = [0.0]
    pacer = Pacer(1000, clock=lambda: now[0])
    for _ in range(6):  # 5000 probes a second, 500 answers, most only on a retry
        now[0] += 0.5
        pacer.note(2500, 250, 150)
    assert pacer.rate_limit == 500


def _results():
    others = [PortResult(22, PortState.OPEN, Reason.SYN_ACK, service="ssh"),
              PortResult(90, PortState.FILTERED, Reason.NO_RESPONSE, tries=3)]
    import array
    return CompactResults([array.array("H", [100, 1]), array.array("H", [23, 21])], others)


def test_compact_results_read_like_the_sorted_list_they_replace():
    results = _results()
    plain = [PortResult(1, PortState.CLOSED, Reason.CONN_REFUSED), PortResult(21, PortState.CLOSED, Reason.CONN_REFUSED),
             PortResult(22, PortState.OPEN, Reason.SYN_ACK, service="ssh"),
             PortResult(23, PortState.CLOSED, Reason.CONN_REFUSED),
             PortResult(90, PortState.FILTERED, Reason.NO_RESPONSE, tries=3),
             PortResult(100, PortState.CLOSED, Reason.CONN_REFUSED)]
    assert len(results) == 6 and list(results) == plain and results == plain
    assert results[2] == plain[2] and results[-1] == plain[-1] and results[1:3] == plain[1:3]
    assert copy.deepcopy(results) == plain
    report = ScanReport(target=LOOPBACK, ports_requested=(1, 21, 22, 23, 90, 100), results=results, timeout="1",
                        final_timeout=1.0, workers=1, started="", elapsed_seconds=0.0, complete=True)
    assert report.counts() == {"open": 1, "closed": 4, "filtered": 1}
    assert [r.port for r in report.by_state(PortState.CLOSED)] == [1, 21, 23, 100]
    assert [r.port for r in report.by_state(PortState.OPEN)] == [22]


def test_a_scan_keeps_closed_ports_as_numbers():
    with Listener() as listener:
        ports = sorted({listener.port} | set(range(1, 3001)))
        report = scan(LOOPBACK, ports, TimeoutSetting(1.0))
    assert isinstance(report.results, CompactResults)
    assert len(report.results._others) < 20, "closed ports must not be kept as objects"
    assert [r.port for r in report.results] == ports


def test_hosts_of_a_group_give_every_socket_back_and_share_what_they_learn():
    group = ScanGroup(sockets=16)
    with FilteredPort() as silent:
        report = scan(LOOPBACK, list(range(1, 200)) + [silent.port], TimeoutSetting(1.0), group=group)
    assert report.complete and report.by_state(PortState.FILTERED)[0].port == silent.port
    assert group.pool.free == group.pool.size, "sockets taken from the pool must all come back"
    assert group.estimator.samples > 0, "the round trips learned here serve the other hosts too"
    assert group.timer_for(TimeoutSetting(1.0)).learned is group.estimator
    assert group.timer_for(TimeoutSetting(1.0, auto=True)) is group.estimator


def test_the_pool_never_grants_more_than_it_has():
    pool = ScanGroup(sockets=5).pool
    assert pool.take(3) == 3 and pool.take(3) == 2 and pool.take(1) == 0
    pool.give(10)
    assert pool.free == 5


def test_a_paced_thread_wakes_once_per_burst_not_once_per_probe():
    from scanner.timing import TokenBucket

    now = [0.0]
    bucket = TokenBucket(clock=lambda: now[0])
    allowed, wait = bucket.allowance(500.0, 2, 0.05)   # 250 a second for this thread: bursts of 12.5
    assert allowed == 0 and wait == pytest.approx(0.05)
    now[0] += wait
    allowed, wait = bucket.allowance(500.0, 2, 0.05)
    assert allowed == 12 and wait == 0.0
    assert bucket.refill_time() == pytest.approx(12 / 250)   # the next burst, not the next single probe
    assert bucket.allowance(None, 2, 0.05) == (1 << 30, 0.0)


def test_the_file_limit_note_is_one_line_in_both_languages():
    from types import SimpleNamespace

    from lessons.ui.output import engine_notes
    from lessons.ui.i18n import Translator

    for language in ("en", "id"):
        report = SimpleNamespace(retried=0, rate_limit_per_second=None, protocol="tcp", file_limited_sockets=3)
        notes = engine_notes(report, Translator(language))
        assert len(notes) == 1 and "ulimit -n" in notes[0] and "3" in notes[0]
        assert engine_notes(SimpleNamespace(retried=0, rate_limit_per_second=None, protocol="tcp",
                                            file_limited_sockets=None), Translator(language)) == []
