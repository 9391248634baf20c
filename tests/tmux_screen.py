"""The real program in a real terminal (tmux), read the way a person reads it: the visible screen.

``capture-pane -p`` without ``-S`` returns only the rows a person sees right now, not the
scrollback, so a test can say "the results header and the open port's row are on the
screen together" instead of "somewhere in the output".  Each screen runs on its own tmux
server (``-L`` with a unique socket name), so parallel test runs and other people's tmux
sessions are never touched, and only our own session is killed afterwards.
"""

from __future__ import annotations

import itertools
import os
import re
import shlex
import shutil
import subprocess
import sys
import time

from tests.conftest import ROOT, program_env

TMUX = shutil.which("tmux")
SGR = re.compile(r"\x1b\[([0-9;]*)m")
_numbers = itertools.count()


class Screen:
    def __init__(self, home, *args, width: int = 80, height: int = 24, **extra_env) -> None:
        self.name = f"ui9-{os.getpid()}-{next(_numbers)}"
        self.socket = self.name  # one private tmux server per screen
        environment = program_env(home, **extra_env)
        command = " ".join(["env", "-i"] + [shlex.quote(f"{k}={v}") for k, v in environment.items()]
                           + [shlex.quote(sys.executable), shlex.quote(os.path.join(ROOT, "main.py"))]
                           + [shlex.quote(a) for a in args])
        # Keep the pane after the program ends, so its last screen can still be read.
        command += '; echo "[exit $?]"; sleep 120'
        self._tmux("new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height),
                   "-c", ROOT, command)

    def _tmux(self, *args: str) -> str:
        done = subprocess.run([TMUX, "-L", self.socket, "-f", os.devnull, *args], capture_output=True,
                              text=True, timeout=20)
        return done.stdout

    def text(self, joined: bool = False) -> str:
        """The visible screen as text (``joined``: a line the terminal wrapped comes back whole)."""
        return self._tmux("capture-pane", "-p", *(["-J"] if joined else []), "-t", self.name)

    def coloured(self) -> str:
        return self._tmux("capture-pane", "-p", "-e", "-t", self.name)

    def type(self, text: str, enter: bool = True) -> None:
        if text:
            self._tmux("send-keys", "-t", self.name, "-l", text)
        if enter:
            self._tmux("send-keys", "-t", self.name, "Enter")

    def wait_for(self, *needles: str, timeout: float = 20.0) -> str:
        """Wait until every needle is visible at once; the screen then, or an assertion error."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.text()
            if all(needle in screen for needle in needles):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"not on screen: {needles}\n--- screen ---\n{screen}")
            time.sleep(0.1)

    def wait_for_any(self, *needles: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.text()
            if any(needle in screen for needle in needles):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"none on screen: {needles}\n--- screen ---\n{screen}")
            time.sleep(0.1)

    def wait_gone(self, screen: str, timeout: float = 20.0) -> None:
        """Wait until the screen shows something other than ``screen`` (the next page)."""
        deadline = time.monotonic() + timeout
        while self.text() == screen and time.monotonic() < deadline:
            time.sleep(0.05)

    def resize(self, width: int, height: int) -> None:
        self._tmux("resize-window", "-t", self.name, "-x", str(width), "-y", str(height))

    def close(self) -> None:
        self._tmux("kill-session", "-t", self.name)  # our own server ends with its only session
        folder = os.path.join(os.environ.get("TMUX_TMPDIR") or "/tmp", f"tmux-{os.getuid()}")
        try:
            os.unlink(os.path.join(folder, self.socket))  # the server may leave its socket file behind
        except OSError:
            pass

    def __enter__(self) -> "Screen":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def bright_codes(coloured: str) -> list:
    """SGR parameters 93 (bright yellow) and 97 (bright white) found on screen: they vanish on light backgrounds."""
    found = []
    for match in SGR.finditer(coloured):
        found += [code for code in match.group(1).split(";") if code in ("93", "97")]
    return found
