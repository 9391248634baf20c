"""Saved progress under faults: two runs saving at once, a FIFO or a huge file in its place."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from lessons.ui.progress import MAX_FILE_BYTES, ProgressStore, merge
from tests.conftest import ROOT, program_env

MAIN = os.path.join(ROOT, "main.py")

QUIZZER = r"""
import sys
from lessons.ui.progress import MAX_FILE_BYTES, ProgressStore, merge
path, own = sys.argv[1], sys.argv[2]
store = ProgressStore(path)
print("ready", flush=True)
sys.stdin.readline()                      # both start together
for number in range(25):
    store.record_quiz(own, number % 5, 5)
    store.record_quiz("shared", 3, 5)
store.mark_lesson_read(own)
"""


@pytest.mark.slow   # a few seconds: left out of the quick loop
def test_two_processes_saving_at_once_lose_no_score(tmp_path):
    path = str(tmp_path / "progress.json")
    env = dict(os.environ, PYTHONPATH=ROOT)
    runs = [subprocess.Popen([sys.executable, "-c", QUIZZER, path, name], cwd=ROOT, env=env, text=True,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for name in ("ports", "dns")]
    try:
        for run in runs:
            run.stdout.readline()
        for run in runs:
            run.stdin.write("go\n")
            run.stdin.flush()
        for run in runs:
            _out, err = run.communicate(timeout=120)
            assert run.returncode == 0, err
    finally:
        for run in runs:
            if run.poll() is None:
                run.kill()
                run.wait()
    saved = json.loads(open(path).read())
    assert saved["quiz"]["ports"]["attempts"] == 25 and saved["quiz"]["dns"]["attempts"] == 25
    assert saved["quiz"]["shared"]["attempts"] == 50      # last writer no longer wins
    assert saved["quiz"]["ports"]["best"] == 4
    assert set(saved["lessons_read"]) == {"ports", "dns"}
    assert not [name for name in os.listdir(tmp_path) if name.startswith(".portscan-")]


def test_a_second_store_keeps_the_firsts_changes(tmp_path):
    path = str(tmp_path / "progress.json")
    first, second = ProgressStore(path), ProgressStore(path)
    first.record_quiz("ports", 4, 5)
    first.set_setting("language", "id")
    second.mark_lesson_read("dns")
    second.record_quiz("ports", 2, 5)
    third = ProgressStore(path)
    assert third.quiz_scores()["ports"]["attempts"] == 2 and third.quiz_scores()["ports"]["best"] == 4
    assert third.setting("language") == "id" and "dns" in third.lessons_read()


def test_merge_applies_deletions_and_keeps_the_others_additions():
    base = {"lessons_read": ["a", "b"], "quiz": {"x": {"attempts": 1, "best": 3}}, "settings": {"colour": True}}
    mine = {"lessons_read": [], "quiz": {}, "settings": {"colour": True}}              # a reset
    theirs = {"lessons_read": ["a", "b", "c"], "quiz": {"x": {"attempts": 1, "best": 3}}, "settings": {"colour": False}}
    merged = merge(base, mine, theirs)
    assert merged == {"lessons_read": ["c"], "quiz": {}, "settings": {"colour": False}}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_at_the_progress_path_is_set_aside_and_start_up_does_not_hang(isolated_home):
    os.makedirs(isolated_home, exist_ok=True)
    fifo = os.path.join(isolated_home, "progress.json")
    os.mkfifo(fifo)
    proc = subprocess.run([sys.executable, MAIN, "lessons"], cwd=ROOT, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, env=program_env(isolated_home), timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "not a regular file" in proc.stderr
    assert not os.path.exists(fifo) or os.path.isfile(fifo)
    assert [name for name in os.listdir(isolated_home) if name.startswith("progress.json.corrupt-")]


def test_a_huge_progress_file_is_set_aside_unread(tmp_path):
    path = tmp_path / "progress.json"
    with open(path, "w") as stream:
        stream.write('{"version": 1, "lessons_read": [' + '"x",' * (MAX_FILE_BYTES // 4 + 10) + '"x"]}')
    store = ProgressStore(str(path))
    assert store.problem["key"] == "progress.too_big"
    assert store.lessons_read() == set()
    assert any(name.startswith("progress.json.corrupt-") for name in os.listdir(tmp_path))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_as_the_lock_file_does_not_hang_saving(tmp_path):
    path = str(tmp_path / "progress.json")
    os.mkfifo(path + ".lock")
    store = ProgressStore(path)
    store.record_quiz("ports", 5, 5)
    assert ProgressStore(path).quiz_scores()["ports"]["best"] == 5
