"""The main menu: the first screen, and where every other screen returns.

Each entry is a screen function handed the ``App``.  ``q`` inside a walk comes back here
(``BackToMenu``), Ctrl+C cancels the step the learner is in, Ctrl+D (``EndOfInput``) and
``0`` leave the program; leaving stops the practice lab if the menu started it.
"""

from __future__ import annotations

from typing import List

from lessons.ui.app import BackToMenu, EndOfInput
from lessons.ui.exits import Terminated
from lessons.ui.screens import library, walk
from lessons.ui.screens.exercises import exercises_menu
from lessons.ui.screens.lab import lab_menu
from lessons.ui.screens.quiz import quiz_menu
from lessons.ui.screens.settings import settings_menu
from scanner.errors import clip


def menu_entries(app) -> List[tuple]:
    """(key, ui.json label, screen) for every entry; a screen is a function handed the app."""
    return [("1", "menu.guided", walk.guided_scan), ("2", "menu.quick", walk.quick_scan),
            ("3", "menu.library", library.library), ("4", "menu.lab", lab_menu),
            ("5", "menu.quiz", quiz_menu), ("6", "menu.settings", settings_menu),
            ("7", "exercises.menu_entry", exercises_menu)]


def run(app) -> int:
    app.env.write_wrapped(app.tr.t("menu.welcome"), "title")  # folded between words on a narrow screen
    app.say("menu.welcome_hint", "hint")
    if app.env.presenter:
        app.say("menu.presenter_on", "hint")
    app.show_progress_problem()
    try:
        while True:
            entries = menu_entries(app)
            rows = [(key, app.tr.t(label)) for key, label, _handler in entries] + [("0", app.tr.t("menu.quit"))]
            try:
                choice = app.choose(app.tr.t("menu.title"), rows)
            except KeyboardInterrupt as interrupt:
                if isinstance(interrupt, Terminated):
                    raise   # SIGTERM/SIGHUP end the program (the lab is stopped below)
                app.env.write("")
                break
            if choice in ("0", "q", "quit", "exit", "keluar"):
                break
            if not choice:
                continue  # Enter alone: show the menu again
            handler = next((h for key, _label, h in entries if key == choice), None)
            if handler is None:
                app.say("menu.unknown_choice", "error", choice=clip(choice))
                continue
            try:
                handler(app)
            except BackToMenu:
                app.say("menu.back_to_menu", "hint")
            except KeyboardInterrupt as interrupt:
                if isinstance(interrupt, Terminated):
                    raise
                app.env.write("")
                app.say("menu.cancelled", "warning")
    except EndOfInput:
        pass
    finally:
        app.close()
    app.say("menu.goodbye")
    return 0
