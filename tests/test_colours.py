"""Colours: never escape codes into a pipe."""

import io

from lessons.ui.app import App
from lessons.ui.i18n import Translator
from lessons.ui.screens import main_menu
from lessons.ui.terminal import Environment


def run_menu(lines):
    stdout = io.StringIO()
    env = Environment(stdin=io.StringIO("".join(line + "\n" for line in lines)), stdout=stdout, colour=False)
    assert main_menu.run(App(env, Translator("en"))) == 0
    return stdout.getvalue()


def test_turning_colours_on_never_sends_escape_codes_into_a_pipe():
    screen = run_menu(["6", "2", "2", "0", "0"])
    assert "\x1b[" not in screen
    assert "Colours stay off here" in screen
