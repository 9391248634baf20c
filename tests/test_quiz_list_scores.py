"""The quiz list at 80x24: every saved best score is shown, and a title is cut only if it cannot fit.

Twenty-five lessons do not fit one column of a 24-line screen, so the list has two.  A
score used to be glued to its title and cut with it (``Ports: physical and logical [...``),
which hid the very number the list is there to show.  Now the score is never cut, and the
line is split between the columns where the fewest letters of titles are lost.
"""

from __future__ import annotations

import re

import pytest

from lessons import catalog
from tests.tmux_screen import TMUX, Screen

CHOICE = {"en": "Your choice:", "id": "Pilihan Anda:"}
ASK = {"en": "Lesson number or name", "id": "Nomor atau nama pelajaran"}


def save_scores(home, language, monkeypatch) -> dict:
    monkeypatch.setenv("PORTSCAN_LAB_HOME", str(home))
    from lessons.ui.progress import store

    marks = {}
    for index, lesson_id in enumerate(catalog.lesson_ids(language)):
        total = 10 if index % 3 == 0 else 4
        store().record_quiz(lesson_id, index % 4, total)
        marks[index + 1] = f"[{index % 4}/{total}]"
    return marks


@pytest.mark.terminal
@pytest.mark.skipif(TMUX is None, reason="tmux is not installed")
@pytest.mark.parametrize("language", ["en", "id"])
def test_every_best_score_is_shown_and_only_titles_too_long_for_their_column_are_cut(isolated_home, language,
                                                                                      monkeypatch):
    marks = save_scores(isolated_home, language, monkeypatch)
    titles = [catalog.load_lesson(lesson_id, language).title for lesson_id in catalog.lesson_ids(language)]
    with Screen(isolated_home, LANGUAGE=language) as screen:
        screen.wait_for(CHOICE[language])
        screen.type("5")
        shown = screen.wait_for(ASK[language])
        screen.type("")
        screen.wait_for(CHOICE[language])
    rows = shown.splitlines()
    half = (len(titles) + 1) // 2
    right_start = next(row for row in rows if re.match(r"\s+1 ", row)).index(f"{half + 1:>3}  ")
    cells = {}
    for row in rows:
        for start, end in ((0, right_start), (right_start, len(row))):
            match = re.match(r"\s*(\d+)  (.*)$", row[start:end].rstrip())
            if match:
                cells[int(match.group(1))] = (match.group(2), start)
    assert sorted(cells) == list(range(1, len(titles) + 1))   # every lesson on the one screen
    for number, title in enumerate(titles, 1):
        text, start = cells[number]
        assert text.endswith(" " + marks[number]), (number, text)              # the score, never cut
        shown_title = text[: -len(marks[number]) - 1]
        if shown_title != title:
            room = (right_start - 1) if start == 0 else (79 - right_start)
            assert shown_title.endswith("...") and title.startswith(shown_title[:-3])
            assert len(f"{number:>3}  {title} {marks[number]}") > room, (number, title)   # it could not fit
