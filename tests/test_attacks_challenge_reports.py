"""A handed-in report is untrusted: `challenge N --report FILE` with hostile files.

Wrong types, NaN, escape sequences, FIFOs and devices each get one line (exit 2) or a
clean grade; never a traceback, a hang or a terminal driven by the file's text.
"""

import json
import os
import subprocess
import sys

import pytest

from lessons.lab.challenges import draw
from lessons.lab.challenges.plan import realise
from lessons.lab.challenges.reports import clean_report, grade_report
from lessons.lab.challenges.target import preferred_octet
from tests.conftest import ROOT, program_env

SEED = 5


def address():
    plan = draw(1, SEED)
    return f"127.77.{preferred_octet(plan)}.{plan.hosts[0].number}"


def hand_in(path, home, number="1", seed=str(SEED)):
    return subprocess.run([sys.executable, "main.py", "challenge", number, "--seed", seed, "--report", str(path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL,
                          env=program_env(home))


HOSTILE = [
    {"ports": 5},
    {"ports": "abc"},
    {"ports": [1, None, {"port": True, "state": "open"}, {"port": 10 ** 30}]},
    {"final_timeout": [1], "ports": []},
    {"final_timeout": {}, "ports": []},
    {"final_timeout": "x", "ports": []},
    {"final_timeout": float("nan"), "ports": []},
    {"final_timeout": float("inf"), "complete": "no", "protocol": ["tcp"], "ports": []},
    {"ports": [{"port": 22, "state": "\x1b[2J\x1b]0;owned\x07", "protocol": {}}]},
    {"hosts": {"a": 1}},
    {"hosts": [None, 3, {"address": ["x"], "state": {}, "ports": 1, "final_timeout": "1"}]},
]


@pytest.mark.parametrize("report", HOSTILE)
def test_a_report_of_the_wrong_types_is_graded_or_refused_in_one_line(report, tmp_path, isolated_home):
    if "hosts" not in report:
        report = dict(report, address=address())
    path = tmp_path / "scan.json"
    path.write_text(json.dumps(report))
    proc = hand_in(path, isolated_home)
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "\x1b" not in proc.stderr + proc.stdout
    assert proc.returncode in (0, 2), proc.stderr
    if proc.returncode == 2:
        assert len(proc.stderr.strip().splitlines()) == 1


def test_escapes_in_a_reported_address_or_state_never_reach_the_screen():
    plan = realise(draw(6, SEED), namespace=False)
    report = {"hosts": [{"address": f"127.77.{preferred_octet(plan)}.9", "state": "\x1b[31mup", "ports": []},
                        {"address": "\x1b[2J127.77.1.1", "state": "up", "ports": []}]}
    cleaned = clean_report(report)
    assert "\x1b" not in json.dumps(cleaned, ensure_ascii=False)


def test_a_host_that_looked_down_says_how_long_the_scan_waited():
    plan = realise(draw(6, SEED), namespace=False)
    base = f"127.77.{preferred_octet(plan)}."
    report = {"final_timeout": 0.25, "hosts": [{"address": base + str(h.number), "state": "down", "ports": []}
                                               for h in plan.hosts]}
    grade = grade_report(report, plan, lambda number: base + str(number))
    timed_out = [item for item in grade.items if item.reason == "timeout"]
    assert timed_out and all(item.values.get("timeout") == 0.25 for item in timed_out)


@pytest.mark.parametrize("kind", ["fifo", "device", "link-to-fifo", "folder"])
def test_a_report_that_is_not_a_regular_file_is_refused_at_once(kind, tmp_path, isolated_home):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    path = {"fifo": fifo, "device": "/dev/zero", "folder": tmp_path}.get(kind)
    if kind == "link-to-fifo":
        path = tmp_path / "link.json"
        path.symlink_to(fifo)
    proc = hand_in(path, isolated_home)      # a FIFO with no writer used to wait forever
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("seed", ["\u00b2", "\u0663", "9" * 5000, "1_000"])
def test_a_seed_that_only_looks_like_digits_gets_the_seed_message(seed, isolated_home, tmp_path):
    proc = hand_in(tmp_path / "none.json", isolated_home, seed=seed)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "seed" in proc.stderr.lower() and len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("argv", [["challenge", "\u00b2"], ["exercise", "\u00b2"]])
def test_a_number_that_only_looks_like_digits_is_not_a_traceback(argv, isolated_home):
    proc = subprocess.run([sys.executable, "main.py", *argv], cwd=ROOT, capture_output=True, text=True, timeout=30,
                          stdin=subprocess.DEVNULL, env=program_env(isolated_home))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr


@pytest.mark.parametrize("number", [1, 2, 6])
def test_an_empty_report_does_not_hand_out_the_answer_key(number, tmp_path, isolated_home):
    plan = draw(number, SEED)
    base = f"127.77.{preferred_octet(plan)}."
    first = plan.hosts[0].number
    report = ({"hosts": [{"address": base + str(first), "state": "up", "ports": []}]} if plan.network
              else {"address": base + str(first), "ports": []})
    path = tmp_path / "scan.json"
    path.write_text(json.dumps(report))
    for lang in ("en", "id"):
        proc = subprocess.run([sys.executable, "main.py", "challenge", str(number), "--seed", str(SEED), "--report",
                               str(path), "--lang", lang], cwd=ROOT, capture_output=True, text=True, timeout=30,
                              stdin=subprocess.DEVNULL, env=program_env(isolated_home))
        assert proc.returncode == 0, proc.stderr
        secrets = [str(p.port) for h in plan.hosts for p in h.ports]
        secrets += [base + str(h.number) for h in plan.hosts if h.number != first]
        assert not [s for s in secrets if s in proc.stdout], proc.stdout
        assert ("MISSED" if lang == "en" else "LEWAT") in proc.stdout


@pytest.mark.parametrize("number", [1, 6])
def test_a_report_calling_every_port_open_is_not_graded_port_by_port(number, tmp_path, isolated_home):
    """"Everything open" graded port by port would say "right" exactly on the hidden open ports."""
    plan = draw(number, SEED)
    base = f"127.77.{preferred_octet(plan)}."
    rows = [{"port": port, "protocol": "tcp", "state": "open"} for port in range(plan.low, plan.high + 1)]
    hosts = [{"address": base + str(h.number), "state": "up", "ports": rows} for h in plan.hosts]
    report = {"hosts": hosts} if plan.network else {"address": hosts[0]["address"], "ports": rows}
    path = tmp_path / "scan.json"
    path.write_text(json.dumps(report))
    proc = subprocess.run([sys.executable, "main.py", "challenge", str(number), "--seed", str(SEED), "--report",
                           str(path)], cwd=ROOT, capture_output=True, text=True, timeout=30,
                          stdin=subprocess.DEVNULL, env=program_env(isolated_home))
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "not graded port by port" in proc.stderr and not proc.stdout.strip()
