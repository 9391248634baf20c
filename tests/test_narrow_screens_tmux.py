"""A narrow window (60x20, a split screen or a zoomed projector font): nothing is cut mid-word.

A terminal folds a line that is too wide at the last column, even inside a word, so a
lesson's table came out as ``(last number`` / ``)  7``.  Code, tables and diagrams are now
folded by the program at a word boundary (between columns when it can), the results table
continues under its REASON column, and the consent step keeps the legal warning on screen
even when the ethics lesson's bullet about the law no longer fits.
"""

from __future__ import annotations

import glob
import os
import re

import pytest

from lessons import catalog
from lessons.render import fold_preformatted, lesson_blocks
from lessons.ui.terminal import Environment
from tests.conftest import ROOT
from tests.servers import FilteredPort, Listener
from tests.tmux_screen import TMUX, Screen

LEGAL = {"en": "illegal", "id": "melanggar hukum"}
CHOICE = {"en": "Your choice:", "id": "Pilihan Anda:"}


def preformatted_lines(language: str):
    """Every line inside a ``` fence of every lesson of ``language``."""
    for path in sorted(glob.glob(os.path.join(ROOT, "lessons", "content", language, "*.md"))):
        inside = False
        with open(path, encoding="utf-8") as lesson:
            for line in lesson:
                line = line.rstrip("\n")
                if line.startswith("```"):
                    inside = not inside
                elif inside:
                    yield os.path.basename(path), line


@pytest.mark.parametrize("width", [59, 39])
@pytest.mark.parametrize("language", ["en", "id"])
def test_every_code_and_table_line_folds_at_a_word_boundary(language, width):
    for name, line in preformatted_lines(language):
        folded = fold_preformatted("  " + line, width)
        words = line.split()
        if max(map(len, words), default=0) + 2 >= width:
            continue   # a single word wider than the window is kept whole, never cut
        assert all(len(piece) <= width for piece in folded), (name, folded)
        kept = [word for piece in folded for word in piece.split()]
        assert [w for w in kept if w != "#"] == [w for w in words if w != "#"], (name, folded)   # no word split


def test_a_folded_comment_goes_on_as_a_comment_and_a_table_cell_under_its_column():
    comment = fold_preformatted('  code = s.connect_ex(("192.0.2.10", 80))    # an errno number, or 0', 50)
    assert all(piece.lstrip().startswith("#") for piece in comment[1:])
    row = fold_preformatted("  127.0.0.1-7           127.0.0.1 ... 127.0.0.7 (last number)  7", 59)
    assert row == ["  127.0.0.1-7           127.0.0.1 ... 127.0.0.7 (last", " " * 24 + "number)  7"]


@pytest.mark.parametrize("language", ["en", "id"])
def test_rendered_lessons_fit_60_columns(language):
    env = Environment(width=60)
    for lesson_id in catalog.lesson_ids(language):
        for block in lesson_blocks(catalog.load_lesson(lesson_id, language), env):
            for line in block.lines:
                assert len(line) < 60 or max(map(len, line.split())) > 50, (lesson_id, line)


@pytest.mark.terminal
@pytest.mark.skipif(TMUX is None, reason="tmux is not installed")
@pytest.mark.parametrize("language", ["en", "id"])
def test_at_60x20_the_networks_table_folds_between_words(isolated_home, language):
    with Screen(isolated_home, "lesson", "networks", width=60, height=20, LANGUAGE=language) as screen:
        shown = screen.wait_for_any("127.0.0.0/29", "--")
        if "127.0.0.0/29" not in shown:     # Indonesian: the table starts the second page
            screen.type("")
            shown = screen.wait_for("127.0.0.0/29")
        rows = shown.splitlines()
        assert all(len(row) < 60 for row in rows)
        cut = [row for row in rows if re.search(r"\(\w+ \w+$", row.rstrip())]   # "(last number" ending a row
        assert not [row for row, after in zip(rows, rows[1:]) if row in cut and after.lstrip().startswith(")")]
        assert not [row for row in rows if row.startswith(")")]


@pytest.mark.terminal
@pytest.mark.skipif(TMUX is None, reason="tmux is not installed")
@pytest.mark.parametrize("size", [(60, 20), (80, 24)])
@pytest.mark.parametrize("language", ["en", "id"])
def test_the_consent_step_keeps_the_legal_warning_on_screen(isolated_home, language, size):
    width, height = size
    with Screen(isolated_home, width=width, height=height, LANGUAGE=language) as screen:
        screen.wait_for(CHOICE[language])
        screen.type("1")
        for step, answer in (("[1/4]", "127.0.0.1"), ("[2/4]", "1-10"), ("[3/4]", "0.5")):
            screen.wait_for(step)
            screen.type(answer)
        shown = screen.wait_for("[4/4]", "[y/N]")
        joined = " ".join(shown.split())
        assert LEGAL[language] in joined and "UU ITE" in joined
        assert "s.settimeout(0.5)" in shown            # the code of the last answer is still on top
        assert all(len(row) < width for row in shown.splitlines())
        screen.type("q")
        screen.wait_for(CHOICE[language])


@pytest.mark.terminal
@pytest.mark.skipif(TMUX is None, reason="tmux is not installed")
def test_at_60x20_the_results_table_folds_its_reason_under_its_column(isolated_home):
    with Listener() as listener, FilteredPort() as filtered, \
            Screen(isolated_home, width=60, height=20, LANGUAGE="id") as screen:
        screen.wait_for(CHOICE["id"])
        screen.type("2")
        for step, answer in (("[1/4]", "127.0.0.1"), ("[2/4]", f"{listener.port},{filtered.port}"),
                             ("[3/4]", "0.5"), ("[4/4]", "y")):
            screen.wait_for(step)
            screen.type(answer)
        shown = screen.wait_for("no-response", "ALASAN")
        rows = shown.splitlines()
        column = next(row for row in rows if "ALASAN" in row).index("ALASAN")
        reason = next(i for i, row in enumerate(rows) if "no-response" in row)
        assert all(len(row) < 60 for row in rows)
        assert rows[reason + 1].index("(tanpa jawaban)") == column       # under REASON, whole words
