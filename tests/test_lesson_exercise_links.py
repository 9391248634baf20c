"""Each core lesson ends by sending the learner to its practice exercise, in both languages.

Reading is not learning: the last line of a core lesson names the exercise that makes the
learner do what the lesson taught (``python3 main.py exercise N``), numbered as the
exercises are.
"""

import pytest

from lessons import catalog
from lessons.ui.i18n import LANGUAGES

EXERCISE_OF_LESSON = {"dns": 1, "port-states": 2, "timeouts": 3, "errors": 4, "threading": 5, "banners": 6,
                      "udp-scanning": 7, "ethics": 8, "scanner-internals": 9}
LEAD = {"en": "Try it:", "id": "Coba:"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_core_lesson_ends_with_its_exercise(language):
    for lesson_id, number in EXERCISE_OF_LESSON.items():
        last_line = catalog.load_lesson(lesson_id, language).body.strip().splitlines()[-1]
        assert last_line == f"{LEAD[language]} `python3 main.py exercise {number}`", (language, lesson_id)
