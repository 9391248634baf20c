"""The lessons library: every lesson in teaching order, two columns when one would scroll."""

from __future__ import annotations

from lessons import catalog
from lessons.ui import pager
from lessons.ui.progress import store
from lessons.ui.screens.exercises import try_it_line
from scanner.errors import clip


def library(app) -> None:
    """Every lesson by number (a * marks the ones read); a number or a name opens one.

    A wrong choice is said in one line below the redrawn list, just above the same question,
    so nothing the learner types next is taken as a "press Enter"."""
    problem = None
    while True:
        ids = catalog.lesson_ids(app.tr.language)
        read = store().lessons_read()
        if app.env.on_screen:
            app.env.refresh()
            app.env.clear()
        else:
            app.env.write("")
        app.say("library.title", "heading")
        rows = []
        for number, lesson_id in enumerate(ids, 1):
            title = catalog.load_lesson(lesson_id, app.tr.language).title
            mark = app.env.paint("*", "ok") if lesson_id in read else " "
            rows.append((f" {mark}{number:>3}  ", title))
        for line in pager.columns(app.env, rows):
            app.env.write(line)
        if problem:
            app.env.error(problem)
            problem = None
        choice = app.ask(app.tr.t("library.choose"))
        if choice.lower() in ("", "q", "b", "0"):
            return
        lesson_id = catalog.find_lesson(choice, app.tr.language)
        if lesson_id is None:
            problem = app.tr.t("lessons.unknown_menu", name=clip(choice))
            if not app.env.on_screen:
                app.env.error(problem)
                problem = None
            continue
        app.show_lesson(lesson_id, footer=try_it_line(app.env, app.tr, lesson_id))
        if not app.env.on_screen:
            app.pause()
