"""A learner's code is untrusted: whatever it does, the check ends with one clear line and nothing left behind.

Each case writes a file into the learner's workspace and runs the real command
(``python3 main.py exercise N --check``) as a separate process.  Afterwards no process may still
mention the file: the child ran in its own process group and the whole group was ended.
"""

import os
import subprocess
import sys
import time

import pytest

from lessons.exercises import find_exercise, run_check
from lessons.exercises.sandbox import clean_output
from tests.conftest import ROOT, program_env

MAIN = os.path.join(ROOT, "main.py")
ESCAPES = ("\x1b", "\x07", "\x9b")

ENDLESS = "while True:\n    pass\n"
FORK_LOOP = "import os\nwhile True:\n    os.fork()\n"
PRINTS_ESCAPES = ('print("\\x1b[2J\\x1b[H\\x1b]0;owned\\x07 hello \\x1b[31mred\\x1b[0m")\n'
                  'def check_port(host, port):\n    print("\\x1b[?1049h")\n    return "open", 0\n')
SYNTAX_ERROR = "import socket\n\ndef check_port(host, port)\n    return 'open', 0\n"
MISSING_MODULE = "import nmap_wrapper_that_does_not_exist\n"
ENDLESS_CALL = "def check_port(host, port):\n    while True:\n        pass\n"


def write_learner_file(home, number, text):
    exercise = find_exercise(str(number))
    folder = home / "exercises"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / exercise.file_name
    path.write_text(text, encoding="utf-8")
    return path


def check(home, number, *extra):
    started = time.monotonic()
    proc = subprocess.run([sys.executable, MAIN, "exercise", str(number), "--check", *extra], cwd=ROOT,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, env=program_env(home), timeout=90)
    proc.seconds = time.monotonic() - started
    return proc


def processes_mentioning(text):
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as stream:
                if text.encode() in stream.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


def the_one_line(proc):
    """The message right after "Checking ..." (one sentence, which the screen may fold at 80 columns)."""
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert lines and lines[0].startswith("Checking "), proc.stdout
    message = []
    for line in lines[1:]:
        if line.startswith(("Stuck?", "PASS", "FAIL", "Your code printed")):
            break
        message.append(line.strip())
    return " ".join(message)


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc to look for processes left behind")
@pytest.mark.parametrize("name, number, text, words", [
    ("endless loop", 2, ENDLESS, "still running after"),
    ("fork loop", 2, FORK_LOOP, "new processes (fork)"),
    ("syntax error", 2, SYNTAX_ERROR, "02-one-port.py, line 3: SyntaxError"),
    ("missing module", 2, MISSING_MODULE, "no module named 'nmap_wrapper_that_does_not_exist'"),
])
@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_a_broken_file_gives_one_clear_line_and_leaves_nothing_behind(isolated_home, name, number, text, words):
    path = write_learner_file(isolated_home, number, text)
    proc = check(isolated_home, number)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert words in the_one_line(proc), proc.stdout
    assert " ".join(proc.stdout.split()).count(words) == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "lessons/" not in proc.stdout + proc.stderr   # never a frame of this program
    assert proc.seconds < 20
    assert processes_mentioning(str(path)) == []


def test_escape_sequences_printed_by_their_code_are_shown_cleaned(isolated_home):
    path = write_learner_file(isolated_home, 2, PRINTS_ESCAPES)
    proc = check(isolated_home, 2)
    assert proc.returncode == 1   # the closed port is not "open"
    assert not any(code in proc.stdout + proc.stderr for code in ESCAPES), repr(proc.stdout)
    assert "Your code printed:" in proc.stdout and "hello red" in proc.stdout
    assert processes_mentioning(str(path)) == []


@pytest.mark.slow
def test_an_endless_loop_inside_the_function_fails_that_case_in_time(isolated_home):
    path = write_learner_file(isolated_home, 2, ENDLESS_CALL)
    report = run_check(find_exercise("2"), str(path))
    assert [verdict.mistake for verdict in report.verdicts] == ["hung", "hung"]
    assert report.seconds < 15
    assert processes_mentioning(str(path)) == []


@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_an_endless_loop_at_the_top_is_stopped_at_the_load_limit(tmp_path):
    path = tmp_path / "02-one-port.py"
    path.write_text(ENDLESS, encoding="utf-8")
    report = run_check(find_exercise("2"), str(path), load_seconds=1.0)
    assert report.problem == "timeout" and report.seconds < 4


def test_their_exception_is_shown_as_their_file_and_line(tmp_path):
    path = tmp_path / "01-resolve.py"
    path.write_text("def resolve(host):\n    return undefined_name, None\n", encoding="utf-8")
    report = run_check(find_exercise("resolve"), str(path))
    verdict = report.first_failure
    assert verdict.mistake == "their_error"
    assert verdict.error["type"] == "NameError" and verdict.error["line"] == 2


def test_their_code_cannot_read_our_input_or_exit_the_check_early(tmp_path):
    path = tmp_path / "08-permission.py"
    path.write_text("import sys\ndef may_scan(host, consent):\n    sys.stdin.read()\n    raise SystemExit(0)\n",
                    encoding="utf-8")
    report = run_check(find_exercise("permission"), str(path))
    assert report.problem is None
    assert {verdict.mistake for verdict in report.verdicts} == {"their_error"}


def test_clean_output_strips_escapes_and_clips():
    raw = b"\x1b[31mred\x1b[0m\r\n" + b"x" * 500 + b"\n" + b"line\n" * 40 + b"\xff\xfe"
    lines = clean_output(raw)
    assert lines[0] == "red"
    assert all(len(line) <= 76 for line in lines)
    assert len(lines) <= 12 and "more lines" in lines[-1]
