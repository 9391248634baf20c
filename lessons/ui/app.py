"""The app shell: the one object every screen and command of the interactive program is handed.

Like Textual's ``App``, it owns what the screens share and nothing a single screen owns:

* ``app.env``, the ``Environment`` every line is read from and written to (tests script it),
* ``app.tr``, the ``Translator`` for the learner's language (the settings screen swaps it),
* ``app.lab``, the practice lab the menu started (stopped by ``app.close()``),
* the progress store (``store()``: lessons read, quiz scores, settings),
* and the jobs every screen needs: ask a line (``ask``; Ctrl+D raises ``EndOfInput``),
  ``say`` a translated sentence, ``choose`` from a list, ``pause`` and ``page`` where a person
  reads, ``show_lesson`` (paged, and marked read once its last page was shown).

The screens themselves are functions in ``lessons/ui/screens/``, one module each; the main
menu (``screens/main_menu.py``) is where they are listed.  The shell imports none of them.
"""

from __future__ import annotations

from typing import Callable, List, Optional

from lessons import catalog
from lessons.render import Block, lesson_blocks
from lessons.ui import pager
from lessons.ui.i18n import Translator
from lessons.ui.progress import show_problem, store
from lessons.ui.terminal import Environment


class EndOfInput(Exception):
    """The learner closed the input (Ctrl+D): leave quietly."""


class BackToMenu(Exception):
    """The learner typed q: abandon this walk and show the main menu."""


def line_reader(env: Environment, at_end: Optional[str] = None) -> Callable[[str], str]:
    """``ask(prompt)``: one line from ``env``.  At the end of input (Ctrl+D) it gives ``at_end``
    (a pager takes "q" to stop), or, with no ``at_end``, raises ``EndOfInput``."""
    def ask(prompt: str) -> str:
        answer = env.read_line(prompt)
        if answer is None:
            if at_end is None:
                raise EndOfInput
            return at_end
        return answer
    return ask


def page_lesson(env: Environment, tr: Translator, lesson_id: str, ask: Callable[[str], str],
                footer: Optional[str] = None, **options) -> bool:
    """The whole lesson through the pager (``options`` as ``pager.show`` takes them), with an optional
    ``footer`` line after it; it counts as read, and True comes back, once its last page was shown."""
    lesson = catalog.load_lesson(lesson_id, tr.language)
    extra = [Block([""], "blank"), Block([footer], "text")] if footer else []
    finished = pager.show(env, lambda: lesson_blocks(lesson, env) + extra, ask, tr, **options)
    if finished:
        store().mark_lesson_read(lesson_id)
    return finished


class App:
    """The shell every screen is handed; see the module's docstring."""

    def __init__(self, env: Environment, tr: Translator, lab=None) -> None:
        self.env = env
        self.tr = tr
        self.lab = lab                  # a running PracticeLab, started from the menu
        # What the learner last typed in the walk, offered as the next walk's defaults.
        self.last_host = "127.0.0.1"
        self.last_ports = "1-1024"
        self.last_timeout = "0.5"
        self.pending_code: List[str] = []   # "Show the code" of the last answer, for the next screen

    # -- the shared jobs every screen uses ---------------------------------------------
    def say(self, key: str, role: Optional[str] = None, **values) -> None:
        self.env.write_wrapped(self.tr.t(key, **values), role)

    def ask(self, prompt: str) -> str:
        """One line, stripped; Ctrl+D raises ``EndOfInput``."""
        return line_reader(self.env)(prompt).strip()

    def pause(self) -> None:
        """Presenter mode waits for Enter so the class can read; otherwise no pauses."""
        if self.env.presenter:
            self.ask(self.tr.t("menu.press_enter"))

    def screen_pause(self, key: str = "menu.press_enter") -> None:
        """Wait for Enter where a person reads the screen: a terminal, or presenter mode."""
        if self.env.on_screen or self.env.presenter:
            self.ask(self.tr.t(key))

    def page(self, content, finish: bool = True, reserve: int = 0) -> bool:
        return pager.show(self.env, content, self.ask, self.tr, finish=finish, reserve=reserve)

    def show_lesson(self, lesson_id: str, footer: Optional[str] = None) -> None:
        """The whole lesson, paged on a terminal; it counts as read once its last page was shown.

        ``footer``: one more line after the lesson (the library's "Try it: exercise N")."""
        if not self.env.on_screen:
            self.env.write("")
        page_lesson(self.env, self.tr, lesson_id, self.ask, footer=footer)
        if not self.env.on_screen:
            self.env.write("")
        self.show_progress_problem()

    def choose(self, title: str, rows: List[tuple]) -> str:
        """Print a titled list of (key, label) rows and read the learner's choice."""
        self.env.write("")
        self.env.write(title, "heading")
        for key, label in rows:
            self.env.write(f"  {self.env.paint(key, 'key')}  {label}")
        return self.ask(self.tr.t("menu.choose")).lower()

    def show_progress_problem(self) -> None:
        show_problem(self.env, self.tr)

    def close(self) -> None:
        """Leaving the program: stop the practice lab if the menu started it."""
        if self.lab is not None:
            self.lab.stop()
            self.lab = None

    def short_lesson(self, lesson_id: str, budget: int) -> None:
        """The start of a lesson that fits ``budget`` lines, and how to read the rest."""
        lesson = catalog.load_lesson(lesson_id, self.tr.language)
        lines, whole = pager.short_form(lesson_blocks(lesson, self.env), max(3, budget - 2))
        for line in lines:
            self.env.write(line)
        if not whole:
            self.say("walk.whole_lesson", "hint", number=catalog.lesson_ids(self.tr.language).index(lesson_id) + 1)
        self.env.write("")
