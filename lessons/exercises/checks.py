"""Checking a learner's exercise file: targets up, their code run in a sandbox, one verdict per case.

``run_check(exercise, path)`` is the whole job, with no screen involved:

1. read the exercise's ``check.json`` and start ``PracticeTargets`` with the roles it
   names (open, closed, filtered, silent, banner, UDP...) on a free loopback block;
2. fill the placeholders of each case (``$host``, ``$port:filtered``, ``$ports``,
   ``$states``...) with the real ports, so the learner's code is only ever pointed at
   this private block on 127.0.0.1;
3. run the harness in a child (``sandbox.run_child``) and read its reports; the ports
   play their roles in a new random order each time, and the cases are called in a new
   random order too, so an answer that counts calls or looks at port numbers
   ("the first call is the open port") fails: only asking the port itself passes;
4. compare each result with the known answer and name the mistake: a mistake code
   (``timeout_as_closed``, ``unbounded_threads``...) and the lesson to reread.  The
   words for each code live in ``ui-exercises.json``; this module only hands out data.

The comparisons are small functions in ``COMPARES``; ``check.json`` picks one per case.
"""

from __future__ import annotations

import errno
import os
import random
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, List, Optional

from lessons.exercises.catalog import Exercise
from lessons.exercises.sandbox import LOAD_SECONDS, ChildRun, run_child
from lessons.exercises.targets import PracticeTargets, TargetsUnavailable
from lessons.exercises.workspace import file_problem, size_kb
from scanner.errors import printable

# RLIMIT_NPROC is a margin over what the user already runs (see harness._user_tasks).
# RLIMIT_FSIZE: a log written in an endless loop must not fill the learner's disk.
DEFAULT_LIMITS = {"RLIMIT_NOFILE": 256, "RLIMIT_AS": 1024 * 1024 * 1024, "RLIMIT_NPROC": 300, "RLIMIT_CPU": 60,
                  "RLIMIT_CORE": 0, "RLIMIT_FSIZE": 16 * 1024 * 1024}
REFUSED_PROCESS = "the exercise check does not allow starting new processes"
HARNESS_THREADS = 2                # the harness's main thread and the thread that calls their function


@dataclass
class Verdict:
    """One case: what was asked, what was expected, what the code gave, and (failing) why."""

    asked: str
    expected: str
    gave: str
    passed: bool
    mistake: Optional[str] = None      # ui-exercises.json: exercise.hint.<mistake>
    lesson: Optional[str] = None       # the lesson to reread
    error: Optional[dict] = None       # their exception: type, message, line
    seconds: float = 0.0


@dataclass
class CheckReport:
    exercise: Exercise
    path: str
    verdicts: List[Verdict] = field(default_factory=list)
    problem: Optional[str] = None      # the whole run failed: ui key exercise.problem.<problem>
    problem_values: dict = field(default_factory=dict)
    output: List[str] = field(default_factory=list)   # what their code printed, cleaned
    seconds: float = 0.0
    notes: List[str] = field(default_factory=list)    # e.g. "filtered_unavailable"

    @property
    def passed(self) -> bool:
        return self.problem is None and bool(self.verdicts) and all(v.passed for v in self.verdicts)

    @property
    def first_failure(self) -> Optional[Verdict]:
        return next((v for v in self.verdicts if not v.passed), None)


def harness_source() -> str:
    return (resources.files("lessons") / "exercises" / "harness.py").read_text(encoding="utf-8")


# Inputs that change every check, so that a table of the check's own inputs ("127.9.8.7 ->
# True") is no answer.  Only the learner's function sees them: nothing is sent to them.
RANDOM_VALUES = {
    "loopback": lambda pick: f"127.{pick.randint(1, 254)}.{pick.randint(0, 255)}.{pick.randint(1, 254)}",
    "documentation": lambda pick: f"{pick.choice(['192.0.2', '198.51.100', '203.0.113'])}.{pick.randint(1, 254)}",
    "no_such_host": lambda pick: f"no such host! {pick.randint(1000, 9999)}",
}


# -- placeholders ----------------------------------------------------------------------------
def fill(value: Any, targets: PracticeTargets, drawn: Optional[dict] = None) -> Any:
    """``$host``, ``$errno:<NAME>``, ``$port:<role>``, ``$first``, ``$last``, ``$ports``, ``$states``, ``$state_list``,
    and ``$random:<kind>`` (``RANDOM_VALUES``): drawn once per check, the same value wherever it appears."""
    if isinstance(value, list):
        return [fill(item, targets, drawn) for item in value]
    if not isinstance(value, str) or not value.startswith("$"):
        return value
    if value.startswith("$random:") and value[len("$random:"):] in RANDOM_VALUES:
        drawn = {} if drawn is None else drawn
        if value not in drawn:
            drawn[value] = RANDOM_VALUES[value[len("$random:"):]](random.SystemRandom())
        return drawn[value]
    block = [targets.base + offset for offset in range(len(targets.roles))]
    if value == "$host":
        return targets.host
    if value.startswith("$errno:"):   # errno numbers differ between systems: named, never written down
        return getattr(errno, value[len("$errno:"):])
    if value.startswith("$port:"):
        return targets.port(value[len("$port:"):])
    if value == "$first":
        return block[0]
    if value == "$last":
        return block[-1]
    if value == "$ports":
        return block
    if value == "$states":
        return {port: targets.state(port) for port in block}
    if value == "$state_list":
        return [[port, targets.state(port)] for port in block]
    return value


def decode(value: Any) -> Any:
    """A harness result back into Python values (dicts come as ``{"$dict": [[k, v], ...]}``)."""
    if isinstance(value, list):
        return [decode(item) for item in value]
    if isinstance(value, dict):
        if "$dict" in value:
            return {_key(decode(k)): decode(v) for k, v in value["$dict"]}
        return _Shown(printable(str(value.get("$bytes") or value.get("$repr") or "?")))   # their __repr__
    return value


def _key(key: Any) -> Any:
    return tuple(key) if isinstance(key, list) else key


class _Shown(str):
    """A value the child could only describe (bytes, an object): shown as its repr."""

    def __repr__(self) -> str:
        return str(self)


# -- what an argument list and a value look like on screen ----------------------------------
def show(value: Any, limit: int = 60) -> str:
    if isinstance(value, dict) and len(value) > 4:
        counts = _counts(value.values())
        text = f"{{{len(value)} ports: {counts}}}"
    elif isinstance(value, list) and len(value) > 6 and all(isinstance(item, int) for item in value):
        text = f"[{value[0]}..{value[-1]}] ({len(value)} ports)"
    elif isinstance(value, list) and len(value) > 4:
        text = f"[{len(value)} items: {show(value[0], 24)}, ...]"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _counts(states) -> str:
    tally: dict = {}
    for state in states:
        tally[str(state)] = tally.get(str(state), 0) + 1
    return ", ".join(f"{number} {state}" for state, number in sorted(tally.items()))


def asked_text(call: str, args: list) -> str:
    return f"{call}({', '.join(show(arg, 40) for arg in args)})"


# -- comparisons: (passed, mistake key or None, what the code gave as shown) ------------------
def _state_key(expected: Any, gave: Any) -> str:
    return f"state:{expected}->{gave}" if isinstance(expected, str) and isinstance(gave, str) else f"gave:{gave}"


def compare_equal(gave, expected):
    if isinstance(gave, list) and isinstance(expected, list):
        gave = [tuple(item) if isinstance(item, list) else item for item in gave]
        expected = [tuple(item) if isinstance(item, list) else item for item in expected]
    return gave == expected, _state_key(expected, gave), show(gave)


def compare_resolved(gave, expected):
    ok = isinstance(gave, list) and len(gave) == 2 and gave[1] is None and gave[0] in expected
    return ok, "resolve_shape" if not (isinstance(gave, list) and len(gave) == 2) else "wrong_address", show(gave)


def compare_error_message(gave, expected):
    ok = (isinstance(gave, list) and len(gave) == 2 and gave[0] is None and isinstance(gave[1], str)
          and gave[1].strip() != "" and expected in gave[1])
    return ok, "error_message", show(gave)


def compare_banner(gave, expected):
    ok = isinstance(gave, str) and not isinstance(gave, _Shown) and gave.strip() == expected
    return ok, "banner_bytes" if isinstance(gave, _Shown) else "banner_text", show(gave)


def compare_contains(gave, expected):
    ok = isinstance(gave, str) and not isinstance(gave, _Shown) and expected in gave
    return ok, "banner_bytes" if isinstance(gave, _Shown) else "banner_text", show(gave)


def compare_summary(gave, expected):
    ok = isinstance(gave, str) and "\n" not in gave.strip() and all(part in gave for part in expected)
    return ok, "summary", show(gave, 70)


def compare_truth(gave, expected):
    return isinstance(gave, bool) and gave == expected, f"gave:{gave}", show(gave)


def compare_states(gave, expected):
    """A ``{port: state}`` dict (or ``[[port, state], ...]`` in port order) against the block's answer."""
    if isinstance(expected, list):
        if not isinstance(gave, list) or not all(isinstance(i, list) and len(i) == 2 for i in gave):
            return False, "result_shape", show(gave)
        if sorted(map(tuple, gave)) == sorted(map(tuple, expected)) and gave != expected:
            return False, "not_in_order", show([item[0] for item in gave])
        gave_map, wanted = {item[0]: item[1] for item in gave}, {item[0]: item[1] for item in expected}
    else:
        if not isinstance(gave, dict):
            return False, "result_shape", show(gave)
        gave_map, wanted = gave, expected
    for port, state in wanted.items():
        if gave_map.get(port) != state:
            return False, _state_key(state, gave_map.get(port)), f"port {port}: {show(gave_map.get(port), 20)}"
    if set(gave_map) != set(wanted):
        return False, "extra_ports", show(sorted(set(gave_map) - set(wanted)))
    return True, None, show(gave)


COMPARES = {"equal": compare_equal, "resolved": compare_resolved, "error_message": compare_error_message,
            "banner": compare_banner, "contains": compare_contains, "summary": compare_summary,
            "truth": compare_truth, "states": compare_states}


# -- the check -----------------------------------------------------------------------------------
def run_check(exercise: Exercise, path: str, environ: Optional[dict] = None, load_seconds: float = LOAD_SECONDS,
              wall_seconds: Optional[float] = None, chooser: Optional[random.Random] = None) -> CheckReport:
    """Check the file at ``path``; ``chooser`` shuffles roles and call order (tests hand in their own)."""
    chooser = chooser or random.SystemRandom()
    spec = exercise.check_spec()
    path = os.path.abspath(path)   # the child runs in the file's folder
    report = CheckReport(exercise, path)
    problem = file_problem(path)
    if problem:
        report.problem = problem
        report.problem_values = {"file": exercise.file_name, "number": exercise.number,
                                 "size": size_kb(path)}
        return report
    try:
        roles = list(spec.get("targets", ["open"]))
        chooser.shuffle(roles)
        targets = PracticeTargets(roles).start()
    except (TargetsUnavailable, OSError) as error:
        report.problem, report.problem_values = "targets", {"detail": getattr(error, "strerror", None) or str(error)}
        return report
    try:
        if targets.filtered_works is False:
            report.notes.append("filtered_unavailable")
        drawn: dict = {}
        cases = [dict(case, args=fill(case.get("args", []), targets, drawn),
                      expect=fill(case.get("expect"), targets, drawn), show=fill(case.get("show"), targets, drawn))
                 for case in spec["cases"]]
        limits = dict(DEFAULT_LIMITS, **spec.get("limits", {}))
        order = list(range(len(cases)))   # the child calls case order[i] i-th
        chooser.shuffle(order)
        child_cases = [{"call": cases[number]["call"], "args": cases[number]["args"],
                        "limit": cases[number].get("limit", 3.0)} for number in order]
        wall = wall_seconds or spec.get("wall_seconds", load_seconds + 2.0 + sum(case["limit"] for case in child_cases))
        run = run_child(harness_source(), {"file": path, "cases": child_cases, "limits": limits}, wall, environ,
                        load_seconds)
    finally:
        targets.close()
    report.output, report.seconds = run.output, run.seconds
    for message in run.reports:   # back to the order of check.json, which the verdicts keep
        index = message.get("index")
        if message.get("type") == "call":
            message["index"] = order[index] if isinstance(index, int) and 0 <= index < len(order) else None
    _judge(report, spec, cases, run)
    return report


def _their_words(error: Any) -> dict:
    """An error report with its type and message safe to print: both are their text (a class
    named ``"\x1b]52;..."``, a message holding escape sequences that would reach our terminal)."""
    error = dict(error) if isinstance(error, dict) else {}
    for key in ("type", "message"):
        error[key] = printable(str(error.get(key) or ""))[:300] or ("Exception" if key == "type" else "")
    return error


def _judge(report: CheckReport, spec: dict, cases: List[dict], run: ChildRun) -> None:
    by_type = {}
    calls = {}
    previous = None
    for message in run.reports:
        by_type.setdefault(message.get("type"), message)
        if message.get("type") == "call" and isinstance(message.get("index"), int):
            # The time between the report before and this one, as read here: a report forged
            # with a small "seconds" still arrives only when their slow code is done.
            between = message.get("arrived", 0.0) - previous if previous is not None else 0.0
            if isinstance(between, float) and between > message.get("seconds", 0.0):
                message = dict(message, seconds=round(between, 3))
            calls[message["index"]] = message
        if isinstance(message.get("arrived"), float):
            previous = message["arrived"]
    load = by_type.get("load")
    if load is None:
        report.problem = "timeout" if run.timed_out else "crashed"
        report.problem_values = {"seconds": round(run.seconds), "code": run.returncode}
        return
    if "error" in load:
        error = _their_words(load["error"])
        report.problem = {"SyntaxError": "syntax", "IndentationError": "syntax", "TabError": "syntax",
                          "ModuleNotFoundError": "missing_module", "SystemExit": "exit"}.get(error["type"], "load")
        if REFUSED_PROCESS in (error.get("message") or ""):
            report.problem = "processes"
        report.problem_values = {"file": report.exercise.file_name, "line": error.get("line") or "?",
                                 "type": error["type"], "message": error.get("message") or ""}
        return
    # Threads counted from outside over the whole run (an exercise that limits threads has one
    # case): a forged report cannot hide them.
    observed = None if run.peak_threads is None else run.peak_threads - HARNESS_THREADS
    for index, case in enumerate(cases):
        report.verdicts.append(_verdict(spec, case, calls.get(index), observed))
    if "done" not in by_type:   # stopped by the wall clock, or ended early (os._exit, a signal, no memory)
        report.problem = "timeout" if run.timed_out else "crashed"
        report.problem_values = {"seconds": round(run.seconds), "code": run.returncode}


def _verdict(spec: dict, case: dict, message: Optional[dict], observed_threads: Optional[int] = None) -> Verdict:
    expect = case.get("expect")
    verdict = Verdict(asked_text(case["call"], case["args"]), case.get("show") or show(expect), "", False)
    mistakes = case.get("mistakes", {})
    mistake = None
    if message is None:
        mistake, verdict.gave = "not_run", "-"
    elif "missing" in message:
        mistake, verdict.gave = "missing_function", "-"
    elif message.get("hung"):
        mistake, verdict.gave = mistakes.get("hung", "hung"), f"> {case.get('limit', 3.0)} s"
    elif "error" in message:
        error = verdict.error = _their_words(message["error"])
        verdict.gave = f"{error['type']}: {error.get('message', '')}"[:70]
        errno_name = errno.errorcode.get(error.get("errno") or -1, "")
        mistake = (mistakes.get(f"raised:{error['type']}") or mistakes.get(f"errno:{errno_name}")
                   or ("not_written" if error["type"] == "NotImplementedError" else None)
                   or ("processes" if REFUSED_PROCESS in (error.get("message") or "") else "their_error"))
    else:
        verdict.seconds = message.get("seconds", 0.0)
        passed, key, verdict.gave = COMPARES[case.get("compare", "equal")](decode(message.get("result")), expect)
        mistake = None if passed else (mistakes.get(key) or (key if ":" not in key else "wrong_answer"))
        if passed:
            if observed_threads is not None and observed_threads > message.get("extra_threads", 0):
                message = dict(message, extra_threads=observed_threads)
            mistake = _measured(case, message)
            if mistake:
                verdict.gave += _measure_note(case, message, mistake)
    verdict.passed = mistake is None
    if mistake:
        verdict.mistake = mistake
        verdict.lesson = spec.get("hints", {}).get(mistake, spec.get("lesson"))
    return verdict


def _measured(case: dict, message: dict) -> Optional[str]:
    """The limits a right answer must also keep: threads, open files, seconds."""
    if "max_threads" in case and message.get("extra_threads", 0) > case["max_threads"]:
        return case.get("mistakes", {}).get("threads", "unbounded_threads")
    extra_files = message.get("extra_files")
    if "max_files" in case and extra_files is not None and extra_files > case["max_files"]:
        return case.get("mistakes", {}).get("files", "too_many_sockets")
    if "max_seconds" in case and message.get("seconds", 0.0) > case["max_seconds"]:
        return case.get("mistakes", {}).get("slow", "too_slow")
    return None


def _measure_note(case: dict, message: dict, mistake: str) -> str:
    return f" (threads +{message.get('extra_threads')}, sockets +{message.get('extra_files')}, " \
           f"{message.get('seconds')} s)"
