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
import re
import shutil
import sys
import textwrap
from dataclasses import dataclass, field
from typing import IO, Optional

from scanner.errors import clip

try:
    import colorama
except ImportError:  # plain text still works without the one dependency
    colorama = None

# The palette: every SGR code the program can emit, and nothing else (tests read this table).
# Structure (titles, headings, prompts, the consent sentence) is drawn with the terminal's own
# foreground plus bold, underline and reverse, which are readable on any background the
# learner or the room chose.  Only two colours remain, and only on a word or symbol that says
# the same thing by itself (filtered/F, an error message): normal red and magenta, each at
# least 3:1 against both a white and a black background in xterm's default palette, also
# when a terminal shows bold as the bright colour (tests/test_colour_contrast.py measures
# them).  Green (2.2:1 on white), yellow (1.7:1), cyan (2.0:1) and blue (2.2:1 on black) failed.
ANSI = {
    "bold": "\x1b[1m", "reset": "\x1b[0m", "underline": "\x1b[4m", "reverse": "\x1b[7m",
    "red": "\x1b[31m", "magenta": "\x1b[35m",
}

# Meaning -> attributes, in one place so the whole program (and a projector) stays consistent.
# "open" is drawn in reverse video: the room's own two colours swapped, the strongest mark
# there is, and never less readable than the text around it.
ROLES = {
    "open": ("bold", "reverse"), "closed": (), "filtered": ("bold", "magenta"),
    "open|filtered": ("magenta",),
    "title": ("bold", "underline"), "heading": ("bold",), "code": (), "diagram": (),
    "prompt": ("bold",), "error": ("bold", "red"), "hint": (),
    "warning": ("bold",), "ok": ("bold",), "key": ("bold",),
}

# On a projector even red and magenta wash out: no colour at all, only the attributes;
# code and diagrams in bold, whose thicker strokes survive a dim projector.
PRESENTER_ROLES = dict(ROLES, filtered=("bold", "underline"), error=("bold",), code=("bold",), diagram=("bold",),
                       **{"open|filtered": ("underline",)})

SCREEN_WIDTH = 80
SCREEN_HEIGHT = 24
NARROWEST = 40     # text is never folded narrower than this, even in a tiny window
SCRIPTED_ECHO_LIMIT = 200   # a pasted page is echoed as its start
PROMPT_ROOM = 16  # columns kept free after a prompt for the answer
CLEAR_SCREEN = "\x1b[H\x1b[2J"  # home + erase the screen (the scrollback is kept)
SENTENCE_END = re.compile(r"[?.:] ")


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
    height: int = SCREEN_HEIGHT
    follow_terminal: bool = False  # re-read the window size before each screen (a real terminal)

    @classmethod
    def from_system(cls, no_color: bool = False, presenter: bool = False, language: str = "en") -> "Environment":
        if colorama is not None:
            colorama.just_fix_windows_console()
        if hasattr(sys.stdin, "reconfigure"):  # bytes that are not text must not crash a prompt
            sys.stdin.reconfigure(errors="replace")
        env = cls(colour=colour_wanted(sys.stdout, no_color), presenter=presenter, language=language,
                  follow_terminal=True)
        env.refresh()
        return env

    def refresh(self) -> None:
        """Read the window size again: an instructor may have zoomed the font since."""
        if self.follow_terminal:
            size = shutil.get_terminal_size((SCREEN_WIDTH, SCREEN_HEIGHT))
            self.width = max(NARROWEST, min(SCREEN_WIDTH, size.columns))
            self.height = max(8, size.lines)

    def columns(self) -> int:
        """The window's real width (for the one-line progress bar, which may be narrower than text)."""
        if self.follow_terminal:
            return max(1, shutil.get_terminal_size((SCREEN_WIDTH, SCREEN_HEIGHT)).columns)
        return self.width

    @property
    def interactive(self) -> bool:
        isatty = getattr(self.stdin, "isatty", None)
        return bool(isatty and isatty())

    @property
    def on_screen(self) -> bool:
        """Both ends are a terminal: a person reads as it prints, so we page and pause.

        Piped or scripted use (either end not a terminal) never waits for anything."""
        isatty = getattr(self.stdout, "isatty", None)
        return self.interactive and bool(isatty and isatty())

    def clear(self) -> None:
        """Start a fresh screen (only on a real terminal; a pipe or file gets a blank line)."""
        if self.on_screen and os.environ.get("TERM") != "dumb":
            self.stdout.write(CLEAR_SCREEN)
            self.stdout.flush()
        else:
            self.write("")

    # -- writing ---------------------------------------------------------------------
    def paint(self, text: str, role: str) -> str:
        roles = PRESENTER_ROLES if self.presenter else ROLES
        if not self.colour or not roles.get(role):
            return text
        return "".join(ANSI[code] for code in roles[role]) + text + ANSI["reset"]

    def write(self, text: str = "", role: Optional[str] = None, end: str = "\n") -> None:
        self.stdout.write((self.paint(text, role) if role else text) + end)
        self.stdout.flush()

    def wrap(self, text: str, role: Optional[str] = None, first: str = "", rest: str = "") -> list:
        """A long sentence as lines folded to the screen width (80 columns at most), painted."""
        self.refresh()
        return [self.paint(line, role) if role else line
                for line in textwrap.wrap(text, self.width - 1, initial_indent=first, subsequent_indent=rest,
                                          break_on_hyphens=False) or [""]]

    def write_wrapped(self, text: str, role: Optional[str] = None, first: str = "", rest: str = "") -> None:
        """Write a long sentence folded to the screen width (80 columns at most)."""
        for line in self.wrap(text, role, first, rest):
            self.write(line)

    def error(self, text: str) -> None:
        self.write_wrapped(text, "error")

    # -- reading ---------------------------------------------------------------------
    def fold_prompt(self, prompt: str) -> tuple:
        """(lines printed above, the last line) of a prompt folded to the window, as ``read_line`` shows it."""
        if len(prompt) <= self.width - PROMPT_ROOM:
            return [], prompt
        head, tail = "", prompt
        for match in SENTENCE_END.finditer(prompt):
            inside_brackets = prompt[:match.end()].count("(") > prompt[:match.end()].count(")")
            if inside_brackets:   # "(Enter: watch ...)" is one phrase: never "(Enter:" alone on a line
                continue
            if len(prompt) - match.end() <= self.width - PROMPT_ROOM:
                head, tail = prompt[:match.end()], prompt[match.end():].lstrip()
                break
        lines = textwrap.wrap(head, self.width - 1, break_on_hyphens=False) if head else []
        tail_lines = textwrap.wrap(tail, self.width - PROMPT_ROOM, break_on_hyphens=False) or [""]
        return lines + tail_lines[:-1], tail_lines[-1] + " "

    def read_line(self, prompt: str) -> Optional[str]:
        """One line from the learner, or None at end of input (Ctrl+D).

        A prompt longer than the screen is folded: all but its last line are printed
        first, and the last line (with room left for the answer) is the prompt itself.
        It is folded after a sentence when it can be ("Save a report? / t = text, ..."),
        so a list of choices is never cut in the middle.
        """
        self.refresh()
        above, prompt = self.fold_prompt(prompt)
        for line in above:
            self.write(line, "prompt")
        self.stdout.write(self.paint(prompt, "prompt"))
        self.stdout.flush()
        line = self.stdin.readline()
        if not line:
            self.stdout.write("\n")
            return None
        if not self.interactive:  # echo scripted answers, clipped and without control sequences
            self.stdout.write(clip(line.rstrip("\r\n"), SCRIPTED_ECHO_LIMIT) + "\n")
        return line.rstrip("\r\n")
