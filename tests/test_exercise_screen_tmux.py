"""Write your own scanner, read on a real 80x24 terminal (tmux, the visible screen only), in both languages.

The task page must show its title and, on its last page, the learner's file on a line of its own;
a failing check must show the FAIL line, what was expected, what the code gave and the hint on one
screen.  The main menu offers the exercises too.
"""

import os

import pytest

from tests.tmux_screen import TMUX, Screen

pytestmark = [pytest.mark.skipif(not TMUX, reason="tmux is not installed: the visible-screen tests need it"),
              pytest.mark.terminal]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WRONG = os.path.join(ROOT, "tests", "exercise_solutions", "wrong", "03-silent-port.py")
WORDS = {
    "en": {"lang": "en_US.UTF-8", "title": "Exercise 3: a silent port", "file": "Your file",
           "fail": "FAIL", "expected": "expected: 'filtered'", "gave": "your code gave: 'closed'",
           "hint": "Silence is filtered", "summary": "2 of 3 checks passed", "menu": "Write your own scanner",
           "list": "a silent port"},
    "id": {"lang": "id_ID.UTF-8", "title": "Latihan 3: port yang diam", "file": "Berkas Anda",
           "fail": "GAGAL", "expected": "diharapkan: 'filtered'", "gave": "hasil kode Anda: 'closed'",
           "hint": "Port yang diam berarti terfilter", "summary": "2 dari 3 pemeriksaan lulus",
           "menu": "Tulis pemindai Anda sendiri", "list": "port yang diam"},
}


def _joined(screen_text):
    return " ".join(screen_text.split())


@pytest.mark.parametrize("language", ["en", "id"])
def test_the_task_page_and_the_file_path_are_readable_at_80x24(isolated_home, language):
    words = WORDS[language]
    path = str(isolated_home / "exercises" / "03-silent-port.py")
    with Screen(isolated_home, "exercise", "3", LANG=words["lang"], LANGUAGE="") as screen:
        screen.wait_for(words["title"])
        first = screen.text(joined=True)   # a path longer than 80 columns is folded by the terminal
        screen.type("")   # the next page, if the page needed two
        screen.wait_for("exercise 3 --check")
        whole = first + screen.text(joined=True)   # the path may end the first page or start the second
        assert path in [line.strip() for line in whole.splitlines()], whole


@pytest.mark.parametrize("language", ["en", "id"])
def test_a_failing_verdict_is_readable_on_one_screen(isolated_home, language):
    words = WORDS[language]
    workspace = isolated_home / "exercises"
    workspace.mkdir(parents=True)
    (workspace / "03-silent-port.py").write_text(open(WRONG, encoding="utf-8").read(), encoding="utf-8")
    with Screen(isolated_home, "exercise", "3", "--check", LANG=words["lang"], LANGUAGE="") as screen:
        shown = screen.wait_for(words["summary"], timeout=30)
        joined = _joined(shown)
        for needle in ("fail", "expected", "gave", "hint"):
            assert words[needle] in joined, (needle, shown)
        assert "[exit 1]" in screen.wait_for("[exit 1]")


@pytest.mark.parametrize("language", ["en", "id"])
def test_the_main_menu_offers_the_exercises(isolated_home, language):
    words = WORDS[language]
    with Screen(isolated_home, LANG=words["lang"], LANGUAGE="") as screen:
        screen.wait_for(words["menu"])
        screen.type("7")
        shown = screen.wait_for(words["list"])
        assert "9" in shown
        screen.type("3")
        screen.wait_for(words["title"])
