"""``python3 main.py quiz [LESSON]``: a quiz from the command line (the same screens as the menu's)."""

from __future__ import annotations

from typing import Optional

from lessons import catalog
from lessons.render import lesson_blocks
from lessons.ui import pager
from lessons.ui.app import EndOfInput
from lessons.ui.i18n import Translator
from lessons.ui.progress import show_problem, store
from lessons.ui.screens.quiz import QuizEnded, choose_and_run, run_quiz
from lessons.ui.terminal import Environment
from scanner.errors import clip


def command_quiz(lesson_name: Optional[str], env: Environment, tr: Translator) -> int:
    def ask(prompt: str) -> str:
        answer = env.read_line(prompt)
        if answer is None:
            raise EndOfInput
        return answer

    if lesson_name is not None and catalog.find_lesson(lesson_name, tr.language) is None:
        env.error(tr.t("lessons.unknown", name=clip(lesson_name)))
        return 2
    def show_lesson(lesson_id: str) -> None:
        lesson = catalog.load_lesson(lesson_id, tr.language)
        if pager.show(env, lambda: lesson_blocks(lesson, env), ask, tr):
            store().mark_lesson_read(lesson_id)

    show_problem(env, tr)
    try:
        if lesson_name is not None:
            run_quiz(env, tr, catalog.find_lesson(lesson_name, tr.language), ask, show_lesson)
        else:
            choose_and_run(env, tr, ask, show_lesson=show_lesson)
    except (EndOfInput, QuizEnded):
        env.write("")
    return 0
