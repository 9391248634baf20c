"""A "predict the screen" question on a real 80x24 terminal: the quoted screen, the choices
and, after a wrong answer, the explanation are all visible together, with the quiz title
still at the top (nothing scrolled away), in both languages.
"""

import random

import pytest

from lessons import catalog
from tests.tmux_screen import TMUX, Screen

pytestmark = [pytest.mark.terminal,
              pytest.mark.skipif(not TMUX, reason="tmux is not installed: the visible-screen tests need it")]

WORDS = {"en": {"answer": "Your answer", "next": "(Enter: next question)", "score": "(Enter: your score)",
                "wrong": "Not quite.", "title": "Quiz:"},
         "id": {"answer": "Jawaban Anda", "next": "(Enter: pertanyaan berikutnya)", "score": "(Enter: lihat skor)",
                "wrong": "Belum tepat.", "title": "Kuis:"}}
LESSON = "reading-results"   # its quoted screen is the tallest of the quizzes
SEED = "7"


@pytest.mark.parametrize("language", ["en", "id"])
def test_a_quoted_screen_and_its_explanation_stay_on_one_screen(isolated_home, language):
    words = WORDS[language]
    questions = catalog.load_quiz(LESSON, language)
    number = next(i for i, question in enumerate(questions) if question.screen_lines)
    order = random.Random(SEED)          # the program shuffles every question's choices in turn
    shuffled = []
    for question in questions:
        choices = list(question.choices)
        order.shuffle(choices)
        shuffled.append(choices)
    wrong = "abcd"[[right for _text, right in shuffled[number]].index(False)]
    with Screen(isolated_home, "quiz", LESSON, "--lang", language, PORTSCAN_LAB_SEED=SEED) as screen:
        for _ in range(number):                               # the questions before it
            screen.wait_for(words["answer"])
            screen.type("a")
            screen.wait_for(words["next"])
            screen.type("")
        asked = screen.wait_for(words["answer"], questions[number].screen_lines[-1].strip())
        for line in questions[number].screen_lines:
            assert line.rstrip() in asked, line
        screen.type(wrong)
        last = words["next"] if number < len(questions) - 1 else words["score"]
        answered = screen.wait_for(words["wrong"], last)
        assert answered.lstrip().startswith(words["title"])    # the top line is still the quiz title
        assert questions[number].screen_lines[0].rstrip() in answered
        assert " ".join(questions[number].explanation.split()[:4]) in " ".join(answered.split())
        screen.type("q")
