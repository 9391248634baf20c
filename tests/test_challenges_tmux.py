"""A challenge as a learner sees it: tmux at 80x24, English and Indonesian.

The first screen says where to scan and asks the first question, with its prompt, all on
one screen and with no answer on it; a wrong answer is explained on the same screen; Ctrl+C
ends the target (exit 130).
"""

import pytest

from lessons.lab.challenges import draw
from tests.tmux_screen import TMUX, Screen

pytestmark = [pytest.mark.terminal, pytest.mark.skipif(not TMUX, reason="tmux is not installed")]

WORDS = {"en": ("Your target", "Question 1 of 2", "Your answer (try 1 of 3", "Missing:", "Interrupted"),
         "id": ("Target Anda", "Pertanyaan 1 dari 2", "Jawaban Anda (percobaan 1 dari 3", "Terlewat:", "Dihentikan")}


@pytest.mark.parametrize("language", ["en", "id"])
def test_a_challenge_at_80x24_hides_the_answer_explains_a_miss_and_ends_on_ctrl_c(isolated_home, language):
    where, question, prompt, missing, _stopped = WORDS[language]
    plan = draw(3, 7)
    hidden = [str(p.port) for p in plan.hosts[0].ports]
    with Screen(isolated_home, "challenge", "3", "--seed", "7", "--lang", language) as screen:
        first = screen.wait_for(prompt)
        assert where in first and question in first
        assert not any(port in first for port in hidden), "no answer on the first screen"
        assert all(len(line) <= 80 for line in first.splitlines())
        screen.type(hidden[0])
        explained = screen.wait_for(missing)
        assert prompt.replace("1 of 3", "2 of 3").replace("1 dari 3", "2 dari 3") in explained
        screen._tmux("send-keys", "-t", screen.name, "C-c")
        assert "[exit 130]" in screen.wait_for("[exit 130]")
