"""Where the program reads and writes, passed around as one object.

Interactive programs are hard to test when they call ``input()`` and ``print()``
directly.  Instead every screen here talks to an ``Environment`` (the idea comes from
httpie): real standard streams in ``main.py``, ``io.StringIO`` objects in tests.

Colour is a courtesy, not a requirement.  We colour only when output goes to a
terminal, and never when the ``NO_COLOR`` environment variable is set (no-color.org) or
``--no-color`` is given: pipes, files and screen readers get plain text.  On Windows,
``colorama.just_fix_windows_console()`` makes the console understand the ANSI codes.
"""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from dataclasses import dataclass, field
from typing import IO, Optional

try:
    import colorama
except ImportError:  # plain text still works without the one dependency
    colorama = None

ANSI = {
    "bold": "\x1b[1m", "dim": "\x1b[2m", "reset": "\x1b[0m",
    "red": "\x1b[31m", "green": "\x1b[32m", "yellow": "\x1b[33m", "blue": "\x1b[34m",
    "magenta": "\x1b[35m", "cyan": "\x1b[36m", "white": "\x1b[37m",
    "bright_green": "\x1b[92m", "bright_yellow": "\x1b[93m", "bright_white": "\x1b[97m",
}

# Meaning -> colour, in one place so the whole program (and a projector) stays consistent.
ROLES = {
    "open": ("bold", "bright_green"), "closed": ("dim",), "filtered": ("bold", "bright_yellow"),
    "open|filtered": ("bold", "yellow"),
    "title": ("bold", "cyan"), "heading": ("bold",), "code": ("cyan",), "diagram": ("blue",),
    "prompt": ("bold", "bright_white"), "error": ("bold", "red"), "hint": ("dim",),
    "warning": ("bold", "yellow"), "ok": ("green",), "key": ("bold", "cyan"),
}

# A projector washes out dim and dark colours: presenter mode swaps them for bright ones.
PRESENTER_ROLES = dict(ROLES, closed=("bright_white",), hint=("bold", "bright_white"),
                       code=("bold", "cyan"), diagram=("bold", "cyan"), heading=("bold", "bright_yellow"))

SCREEN_WIDTH = 80
PROMPT_ROOM = 16  # columns kept free after a prompt for the answer


def colour_wanted(stream: IO, no_color_flag: bool = False, environ=os.environ) -> bool:
    if no_color_flag or "NO_COLOR" in environ and environ.get("NO_COLOR", "") != "":
        return False
    if environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


@dataclass
class Environment:
    stdin: IO = field(default_factory=lambda: sys.stdin)
    stdout: IO = field(default_factory=lambda: sys.stdout)
    stderr: IO = field(default_factory=lambda: sys.stderr)
    colour: bool = False
    width: int = SCREEN_WIDTH
    presenter: bool = False
    language: str = "en"

    @classmethod
    def from_system(cls, no_color: bool = False, presenter: bool = False, language: str = "en") -> "Environment":
        if colorama is not None:
            colorama.just_fix_windows_console()
        if hasattr(sys.stdin, "reconfigure"):  # bytes that are not text must not crash a prompt
            sys.stdin.reconfigure(errors="replace")
        columns = shutil.get_terminal_size((SCREEN_WIDTH, 24)).columns
        return cls(colour=colour_wanted(sys.stdout, no_color), width=max(40, min(SCREEN_WIDTH, columns)),
                   presenter=presenter, language=language)

    @property
    def interactive(self) -> bool:
        isatty = getattr(self.stdin, "isatty", None)
        return bool(isatty and isatty())

    # -- writing ---------------------------------------------------------------------
    def paint(self, text: str, role: str) -> str:
        roles = PRESENTER_ROLES if self.presenter else ROLES
        if not self.colour or role not in roles:
            return text
        return "".join(ANSI[code] for code in roles[role]) + text + ANSI["reset"]

    def write(self, text: str = "", role: Optional[str] = None, end: str = "\n") -> None:
        self.stdout.write((self.paint(text, role) if role else text) + end)
        self.stdout.flush()

    def write_wrapped(self, text: str, role: Optional[str] = None, first: str = "", rest: str = "") -> None:
        """Write a long sentence folded to the screen width (80 columns at most)."""
        for line in textwrap.wrap(text, self.width - 1, initial_indent=first, subsequent_indent=rest,
                                  break_on_hyphens=False) or [""]:
            self.write(line, role)

    def error(self, text: str) -> None:
        self.write_wrapped(text, "error")

    # -- reading ---------------------------------------------------------------------
    def read_line(self, prompt: str) -> Optional[str]:
        """One line from the learner, or None at end of input (Ctrl+D).

        A prompt longer than the screen is folded: all but its last line are printed
        first, and the last line (with room left for the answer) is the prompt itself.
        """
        if len(prompt) > self.width - PROMPT_ROOM:
            lines = textwrap.wrap(prompt, self.width - PROMPT_ROOM, break_on_hyphens=False)
            for line in lines[:-1]:
                self.write(line, "prompt")
            prompt = lines[-1] + " "
        self.stdout.write(self.paint(prompt, "prompt"))
        self.stdout.flush()
        line = self.stdin.readline()
        if not line:
            self.stdout.write("\n")
            return None
        if not self.interactive:
            self.stdout.write(line if line.endswith("\n") else line + "\n")  # echo scripted answers
        return line.rstrip("\r\n")
