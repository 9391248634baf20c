"""The exercise commands as a learner types them: the list, the task page, the starter written once,
check, hints, the worked solution, reset and watch.

Everything runs ``main.py`` as a separate process with a private home folder, so the workspace and
progress.json are the real ones a learner would get.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from lessons.ui.progress import ProgressStore
from tests.conftest import ROOT, program_env
from tests.test_i18n import assert_no_english

MAIN = os.path.join(ROOT, "main.py")
SOLUTIONS = os.path.join(ROOT, "tests", "exercise_solutions")


def run(home, *args, stdin_text=None):
    proc = subprocess.run([sys.executable, MAIN, *args], cwd=ROOT, input=stdin_text if stdin_text is not None else "",
                          capture_output=True, text=True, env=program_env(home), timeout=90)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    return proc


def progress(home):
    with open(os.path.join(home, "progress.json"), encoding="utf-8") as stream:
        return json.load(stream)


@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_the_list_shows_every_exercise_not_done_then_done(isolated_home):
    proc = run(isolated_home, "exercises")
    assert proc.returncode == 0
    assert proc.stdout.count("[not done]") == 9
    assert "9. one thread, many sockets" in proc.stdout
    workspace = isolated_home / "exercises"
    workspace.mkdir(parents=True)
    (workspace / "08-permission.py").write_text(open(os.path.join(SOLUTIONS, "08-permission.py")).read())
    assert run(isolated_home, "exercise", "permission", "--check").returncode == 0
    listing = run(isolated_home, "exercises", "--lang", "id").stdout
    assert listing.count("[belum]") == 8 and "[selesai]" in listing
    assert progress(isolated_home)["exercises"]["permission"]["passed"] is True


def test_the_task_page_writes_the_starter_once_and_prints_its_path_alone(isolated_home):
    proc = run(isolated_home, "exercise", "3")
    path = str(isolated_home / "exercises" / "03-silent-port.py")
    assert proc.returncode == 0
    assert "Exercise 3: a silent port" in proc.stdout
    assert path in proc.stdout.splitlines()   # a line of its own: easy to copy
    assert "python3 main.py exercise 3 --check" in proc.stdout
    with open(path, "a", encoding="utf-8") as stream:
        stream.write("# my own edit\n")
    again = run(isolated_home, "exercise", "silent-port")
    assert "your own edits are kept" in again.stdout
    assert open(path, encoding="utf-8").read().endswith("# my own edit\n")


def test_indonesian_learners_get_the_indonesian_task_and_starter(isolated_home):
    proc = run(isolated_home, "exercise", "1", "--lang", "id")
    assert "Latihan 1" in proc.stdout
    starter = (isolated_home / "exercises" / "01-resolve.py").read_text(encoding="utf-8")
    assert "Periksa hasil Anda" in starter


@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_check_exits_1_on_failure_and_0_on_a_pass(isolated_home):
    run(isolated_home, "exercise", "3")
    failing = run(isolated_home, "exercise", "3", "--check")
    assert failing.returncode == 1
    assert "FAIL  scan_port('127.0.0.1', " in failing.stdout
    assert "0 of 3 checks passed" in failing.stdout
    path = isolated_home / "exercises" / "03-silent-port.py"
    path.write_text(open(os.path.join(SOLUTIONS, "03-silent-port.py")).read())
    passing = run(isolated_home, "exercise", "3", "--check")
    assert passing.returncode == 0, passing.stdout
    assert "All 3 checks passed: exercise 3 is done." in passing.stdout
    record = progress(isolated_home)["exercises"]["silent-port"]
    assert record["passed"] and record["checks"] == 2 and record["failed"] == 1


@pytest.mark.slow   # over a third of a second: kept out of the quick loop
def test_usage_errors_are_one_line_and_exit_2(isolated_home):
    unknown = run(isolated_home, "exercise", "42")
    assert unknown.returncode == 2 and unknown.stderr.count("\n") == 1 and "1-9" in unknown.stderr
    missing = run(isolated_home, "exercise", "4", "--check")
    assert missing.returncode == 2 and "python3 main.py exercise 4" in missing.stderr
    both = run(isolated_home, "exercise", "4", "--check", "--hint")
    assert both.returncode == 2


@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_hints_come_one_at_a_time_and_the_solution_opens_after_three_failures(isolated_home):
    first = run(isolated_home, "exercise", "2", "--hint")
    assert "Hint 1 of 3" in first.stdout
    assert "Hint 2 of 3" in run(isolated_home, "exercise", "2", "--hint").stdout
    third = run(isolated_home, "exercise", "2", "--hint")
    assert "Hint 3 of 3" in third.stdout and "last hint" in third.stdout
    locked = run(isolated_home, "exercise", "2", "--solution")
    assert locked.returncode == 1 and "three failed checks (0 so far)" in locked.stdout
    assert "connect_ex" not in locked.stdout
    run(isolated_home, "exercise", "2")
    for attempt in range(3):
        assert run(isolated_home, "exercise", "2", "--check").returncode == 1
    opened = run(isolated_home, "exercise", "2", "--solution")
    assert opened.returncode == 0 and "def check_port(host, port):" in opened.stdout


@pytest.mark.slow   # over a third of a second: kept out of the quick loop
def test_reset_asks_first_and_keeps_a_copy(isolated_home):
    run(isolated_home, "exercise", "4")
    path = isolated_home / "exercises" / "04-port-range.py"
    path.write_text("# my work\n")
    refused = run(isolated_home, "exercise", "4", "--reset", stdin_text="n\n")
    assert "Nothing was changed." in refused.stdout and path.read_text() == "# my work\n"
    done = run(isolated_home, "exercise", "4", "--reset", stdin_text="y\n")
    assert "The starter is back" in done.stdout
    assert "def scan_range" in path.read_text()
    backups = [name for name in os.listdir(path.parent) if name.startswith("04-port-range.py.bak-")]
    assert len(backups) == 1 and (path.parent / backups[0]).read_text() == "# my work\n"


@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_watch_checks_again_on_save_and_ctrl_c_ends_it_with_130(isolated_home):
    run(isolated_home, "exercise", "8")
    path = isolated_home / "exercises" / "08-permission.py"
    process = subprocess.Popen([sys.executable, MAIN, "exercise", "8", "--watch"], cwd=ROOT, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=program_env(isolated_home))
    try:
        time.sleep(3.0)
        path.write_text(open(os.path.join(SOLUTIONS, "08-permission.py")).read())
        os.utime(path, (time.time() + 5, time.time() + 5))
        time.sleep(3.0)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, out + err
    assert "Traceback" not in out + err
    assert "changed: checking again" in out
    assert "All 10 checks passed" in out
    assert out.rstrip().endswith("Stopped watching.")


@pytest.mark.slow   # over a third of a second: kept out of the quick loop
def test_a_core_lesson_ends_with_its_exercise(isolated_home):
    assert run(isolated_home, "lesson", "timeouts").stdout.rstrip().endswith(
        "Try it: exercise 3 (python3 main.py exercise 3)")
    assert run(isolated_home, "lesson", "threading", "--lang", "id").stdout.rstrip().endswith(
        "Coba sendiri: latihan 5 (python3 main.py exercise 5)")
    assert "Try it" not in run(isolated_home, "lesson", "intro").stdout


@pytest.mark.slow   # over a third of a second: kept out of the quick loop
def test_the_menu_entry_opens_an_exercise_checks_it_and_gives_hints(isolated_home):
    proc = run(isolated_home, stdin_text="7\n3\nh\nc\ns\n\n0\n0\n")
    assert proc.returncode == 0
    out = proc.stdout
    assert "7  Write your own scanner" in out
    assert "Exercise 3: a silent port" in out and str(isolated_home / "exercises" / "03-silent-port.py") in out
    assert "Hint 1 of 3" in out
    assert "0 of 3 checks passed" in out
    assert "three failed checks (1 so far)" in out
    assert out.rstrip().endswith("Keep scanning only what you are allowed to scan.")


def test_a_damaged_exercise_record_costs_only_itself(isolated_home):
    isolated_home.mkdir(parents=True, exist_ok=True)
    path = isolated_home / "progress.json"
    path.write_text(json.dumps({"version": 1, "lessons_read": ["intro"], "quiz": {}, "settings": {},
                                "exercises": {"udp": {"passed": True, "checks": 2, "failed": 1, "hints": 0},
                                              "threads": {"passed": "yes"}, "banner": [1, 2]}}))
    saved = ProgressStore(str(path))
    assert saved.exercise_record("udp")["passed"] is True
    assert saved.exercise_record("threads") == {"passed": False, "checks": 0, "failed": 0, "hints": 0}
    assert saved.lessons_read() == {"intro"}
    saved.record_exercise("threads", passed=False)
    saved.record_exercise("threads", passed=True)
    saved.record_exercise("threads", passed=False)
    record = ProgressStore(str(path)).exercise_record("threads")
    assert record["passed"] is True and record["checks"] == 3 and record["failed"] == 2


@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_indonesian_exercise_screens_show_no_english_sentences(isolated_home):
    run(isolated_home, "exercise", "3", "--lang", "id")
    (isolated_home / "exercises" / "03-silent-port.py").write_text(
        open(os.path.join(SOLUTIONS, "wrong", "03-silent-port.py")).read())
    for args in (["exercises"], ["exercise", "3"], ["exercise", "3", "--check"], ["exercise", "3", "--hint"],
                 ["exercise", "3", "--solution"], ["exercise", "99"], ["lesson", "timeouts"]):
        proc = run(isolated_home, *args, "--lang", "id")
        assert_no_english(proc.stdout + proc.stderr)


@pytest.mark.slow   # over a third of a second: kept out of the quick loop
def test_the_library_shows_the_lesson_s_exercise_after_it(isolated_home):
    number = run(isolated_home, "lessons").stdout.split(" timeouts ")[0].split("\n")[-1].strip().rstrip(".")
    proc = run(isolated_home, stdin_text=f"3\n{number}\n\n0\n0\n")
    assert "Try it: exercise 3 (python3 main.py exercise 3)" in proc.stdout
