"""``lessons`` lists the lessons; ``lesson ID`` shows one (paged on a terminal, like ``cat`` in a pipe)."""

from __future__ import annotations

from typing import Optional

from lessons import catalog
from lessons.ui.app import line_reader, page_lesson
from lessons.ui.exits import EXIT_OK, EXIT_USAGE, fail
from lessons.ui.i18n import Translator
from lessons.ui.screens.exercises import try_it_line
from lessons.ui.terminal import Environment
from scanner.errors import clip


def command_lessons(env: Environment, tr: Translator) -> int:
    for number, lesson_id in enumerate(catalog.lesson_ids(tr.language), 1):
        title = catalog.load_lesson(lesson_id, tr.language).title
        env.write(f"{number:>2}. {env.paint(f'{lesson_id:<22}', 'key')} {title}")
    env.write(tr.t("lessons.how_to_open"), "hint")
    return EXIT_OK


def command_lesson(name: Optional[str], env: Environment, tr: Translator) -> int:
    if name is None:  # "lesson" alone: the list, and how to open one
        command_lessons(env, tr)
        return fail(env, tr.t("lesson.needs_id"), EXIT_USAGE)
    lesson_id = catalog.find_lesson(name, tr.language)
    if lesson_id is None:
        env.error(tr.t("lessons.unknown", name=clip(name)))
        return EXIT_USAGE

    if page_lesson(env, tr, lesson_id, line_reader(env, at_end="q"), finish=False, like_cat=True):   # Ctrl+D leaves
        practice = try_it_line(env, tr, lesson_id)   # the exercise that practises this lesson
        if practice:
            env.write(practice)
    return EXIT_OK
