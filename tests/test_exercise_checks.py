"""Every exercise's check, run for real: the starter fails usefully, a reference passes, a typical mistake
gets its own hint.

Each check starts private targets on a free block of loopback ports and runs the file in a sandboxed
child, exactly as ``python3 main.py exercise N --check`` does (no mocks of ``socket``).  Reference
solutions live in ``tests/exercise_solutions/``; typical wrong ones, each with the mistake a first
scanner makes, in ``tests/exercise_solutions/wrong/``.
"""

import os

import pytest

from lessons.exercises import all_exercises, run_check

HERE = os.path.dirname(os.path.abspath(__file__))
SOLUTIONS = os.path.join(HERE, "exercise_solutions")
EXERCISES = {exercise.id: exercise for exercise in all_exercises()}

# The mistake each wrong solution makes, and the hint code the check must name for it.
WRONG = {
    "resolve": "unhandled_gaierror",      # no except socket.gaierror
    "one-port": "connect_raises",         # connect() instead of connect_ex()
    "silent-port": "timeout_as_closed",   # a timeout reported as closed
    "port-range": "not_in_order",         # results not in port order
    "threads": "unbounded_threads",       # one thread per port
    "banner": "banner_no_timeout",        # recv with no timeout on a silent service
    "udp": "udp_unconnected",             # an unconnected UDP socket
    "permission": "loopback_ipv6",        # startswith("127"): ::1 refused
    "selectors": "too_many_open",         # every socket at once under ulimit -n 64
}
FIRST_CALL = {"resolve": "resolve", "one-port": "check_port", "silent-port": "scan_port",
              "port-range": "scan_range", "threads": "scan_many", "banner": "grab_banner", "udp": "udp_probe",
              "permission": "may_scan", "selectors": "scan_selectors"}


def test_the_numbers_and_ids_are_fixed():
    assert [(e.number, e.id) for e in all_exercises()] == [
        (1, "resolve"), (2, "one-port"), (3, "silent-port"), (4, "port-range"), (5, "threads"), (6, "banner"),
        (7, "udp"), (8, "permission"), (9, "selectors")]


@pytest.mark.parametrize("language", ["en", "id"])
@pytest.mark.parametrize("exercise_id", list(EXERCISES))
@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_the_untouched_starter_fails_with_a_useful_first_message(exercise_id, language, tmp_path):
    exercise = EXERCISES[exercise_id]
    path = tmp_path / exercise.file_name
    path.write_text(exercise.starter(language), encoding="utf-8")
    report = run_check(exercise, str(path))
    assert report.problem is None, report.problem_values
    assert not report.passed
    first = report.first_failure
    assert first is report.verdicts[0]
    assert first.mistake == "not_written"
    assert first.asked.startswith(FIRST_CALL[exercise_id] + "(")
    assert "NotImplementedError" in first.gave and FIRST_CALL[exercise_id] in first.gave
    assert first.lesson


@pytest.mark.parametrize("exercise_id", list(EXERCISES))
@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_the_reference_solution_passes(exercise_id):
    exercise = EXERCISES[exercise_id]
    report = run_check(exercise, os.path.join(SOLUTIONS, exercise.file_name))
    assert report.passed, [v for v in report.verdicts if not v.passed] or report.problem_values
    assert report.output == []
    assert all(verdict.mistake is None for verdict in report.verdicts)


@pytest.mark.parametrize("exercise_id", list(EXERCISES))
@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_the_worked_solution_offered_to_learners_passes_too(exercise_id, tmp_path):
    exercise = EXERCISES[exercise_id]
    path = tmp_path / exercise.file_name
    path.write_text(exercise.solution(), encoding="utf-8")
    assert run_check(exercise, str(path)).passed


@pytest.mark.parametrize("exercise_id", list(EXERCISES))
@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_a_typical_wrong_solution_fails_with_its_own_hint(exercise_id):
    exercise = EXERCISES[exercise_id]
    report = run_check(exercise, os.path.join(SOLUTIONS, "wrong", exercise.file_name))
    assert not report.passed
    mistakes = [verdict.mistake for verdict in report.verdicts if not verdict.passed]
    assert WRONG[exercise_id] in mistakes, mistakes
    failing = next(v for v in report.verdicts if v.mistake == WRONG[exercise_id])
    assert failing.expected and failing.gave and failing.lesson


@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_a_verdict_names_the_port_asked_expected_and_given():
    exercise = EXERCISES["silent-port"]
    report = run_check(exercise, os.path.join(SOLUTIONS, "wrong", exercise.file_name))
    failing = report.first_failure
    assert failing.asked.startswith("scan_port('127.0.0.1', ")
    assert failing.expected == "'filtered'" and failing.gave == "'closed'"
    assert failing.lesson == "timeouts"


def test_a_permission_check_by_string_prefix_fails_even_when_it_handles_ipv6_and_0000(tmp_path):
    # "127." prefixes and == "::1" get every address right that a first check tried, but let a
    # host name such as 127.0.0.1.example.com through and refuse ::1 written in full.
    path = tmp_path / "08-permission.py"
    path.write_text("def may_scan(host, consent):\n"
                    "    return host.startswith('127.') or host == '::1' or (bool(consent) and host != '0.0.0.0')\n")
    report = run_check(EXERCISES["permission"], str(path))
    mistakes = [verdict.mistake for verdict in report.verdicts if not verdict.passed]
    assert not report.passed
    assert {"prefix_check", "loopback_ipv6", "not_an_address"} <= set(mistakes), mistakes
