"""The progress file: damaged, odd or newer files are set aside or kept, never a crash."""

import io
import json
import os
import subprocess
import sys

import pytest

from lessons.ui.app import App
from lessons.ui.i18n import Translator
from lessons.ui.screens import main_menu
from lessons.ui.terminal import Environment
from tests.conftest import ROOT, program_env


def run_program(home, *args, stdin=b""):
    return subprocess.run([sys.executable, os.path.join(ROOT, "main.py"), *args], input=stdin,
                          capture_output=True, env=program_env(home, PYTHONIOENCODING="utf-8"), timeout=60)


def run_menu(lines):
    stdout = io.StringIO()
    env = Environment(stdin=io.StringIO("".join(line + "\n" for line in lines)), stdout=stdout, colour=False)
    assert main_menu.run(App(env, Translator("en"))) == 0
    return stdout.getvalue()


# --- progress: a link at the lock's name creates nothing -------------------------------------------

@pytest.mark.skipif(not hasattr(os, "O_NOFOLLOW"), reason="O_NOFOLLOW is POSIX")
def test_a_symbolic_link_at_the_progress_lock_creates_no_file(tmp_path):
    from lessons.ui.progress import ProgressStore

    folder = tmp_path / "home"
    folder.mkdir()
    elsewhere = tmp_path / "elsewhere"
    os.symlink(elsewhere, folder / "progress.json.lock")
    store = ProgressStore(str(folder / "progress.json"))
    store.mark_lesson_read("intro")
    assert not os.path.exists(elsewhere)   # before: created (empty, 0600) through the link
    assert "intro" in ProgressStore(str(folder / "progress.json")).lessons_read()


@pytest.mark.parametrize("content", [
    {"settings": {"language": "fr"}}, {"quiz": {"intro": 5}}, {"quiz": {"intro": {"x": 1}}},
    {"lessons_read": [[1]]}, {"settings": {"colour": "yes"}}, [[[]]], "x" * 3,
])
@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_a_progress_file_with_the_wrong_shape_is_set_aside(isolated_home, content):
    isolated_home.mkdir(parents=True, exist_ok=True)
    (isolated_home / "progress.json").write_text(json.dumps(content))
    result = run_program(isolated_home, "lessons")
    assert result.returncode == 0 and b"Traceback" not in result.stderr
    screen = run_menu(["5", "ports", "a", "b", "c", "", "0"])
    assert "Traceback" not in screen
    assert [p for p in os.listdir(isolated_home) if p.startswith("progress.json.corrupt-")]


def test_a_damaged_part_of_the_progress_file_costs_only_itself(isolated_home):
    from lessons.ui.progress import ProgressStore
    isolated_home.mkdir(parents=True, exist_ok=True)
    good = {"last": 2, "best": 3, "total": 3, "attempts": 2}
    (isolated_home / "progress.json").write_text(json.dumps({
        "lessons_read": ["dns", 7], "quiz": {"ports": good, "dns": {"best": "x"}},
        "settings": {"language": "id", "from_a_newer_version": 1}}))
    store = ProgressStore(str(isolated_home / "progress.json"))
    assert store.problem["key"] == "progress.repaired"
    assert store.lessons_read() == {"dns"}
    assert store.quiz_scores() == {"ports": good}
    assert store.setting("language") == "id" and store.setting("from_a_newer_version") == 1
    kept = [p for p in os.listdir(isolated_home) if p.startswith("progress.json.corrupt-")]
    assert kept and '"best": "x"' in (isolated_home / kept[0]).read_text()


def test_an_absurdly_nested_progress_file_is_set_aside(isolated_home):
    isolated_home.mkdir(parents=True, exist_ok=True)
    (isolated_home / "progress.json").write_text("[" * 5000 + "]" * 5000)
    result = run_program(isolated_home, "lessons")
    assert result.returncode == 0 and b"Traceback" not in result.stderr
    assert b"could not be read" in result.stderr


def test_unknown_settings_from_a_newer_version_are_kept(isolated_home):
    isolated_home.mkdir(parents=True, exist_ok=True)
    (isolated_home / "progress.json").write_text(json.dumps({"settings": {"warna": True}}))
    result = run_program(isolated_home, "lessons")
    assert b"could not be read" not in result.stderr and b"damaged" not in result.stderr
    assert not [p for p in os.listdir(isolated_home) if p.startswith("progress.json.corrupt-")]
