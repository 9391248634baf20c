"""``python3 main.py quiz [LESSON]``: a quiz from the command line (the same screens as the menu's)."""

from __future__ import annotations

from typing import Optional

from lessons import catalog
from lessons.ui.app import EndOfInput, line_reader, page_lesson
from lessons.ui.i18n import Translator
from lessons.ui.progress import show_problem
from lessons.ui.screens.quiz import QuizEnded, choose_and_run, run_quiz
from lessons.ui.terminal import Environment
from scanner.errors import clip


def command_quiz(lesson_name: Optional[str], env: Environment, tr: Translator) -> int:
    ask = line_reader(env)   # Ctrl+D: EndOfInput, the quiz ends quietly
    if lesson_name is not None and catalog.find_lesson(lesson_name, tr.language) is None:
        env.error(tr.t("lessons.unknown", name=clip(lesson_name)))
        return 2

    def show_lesson(lesson_id: str) -> None:   # what ? does in a question
        page_lesson(env, tr, lesson_id, ask)

    show_problem(env, tr)
    try:
        if lesson_name is not None:
            run_quiz(env, tr, catalog.find_lesson(lesson_name, tr.language), ask, show_lesson)
        else:
            choose_and_run(env, tr, ask, show_lesson=show_lesson)
    except (EndOfInput, QuizEnded):
        env.write("")
    return 0
