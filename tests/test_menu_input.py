"""The menu's input: bytes that are not text and digits of other scripts."""

import io
import os
import subprocess
import sys

from lessons.ui.app import App
from lessons.ui.i18n import Translator
from lessons.ui.screens import main_menu
from lessons.ui.terminal import Environment
from tests.conftest import ROOT, program_env


def run_program(home, *args, stdin=b""):
    return subprocess.run([sys.executable, os.path.join(ROOT, "main.py"), *args], input=stdin,
                          capture_output=True, env=program_env(home, PYTHONIOENCODING="utf-8"), timeout=60)


def run_menu(lines):
    stdout = io.StringIO()
    env = Environment(stdin=io.StringIO("".join(line + "\n" for line in lines)), stdout=stdout, colour=False)
    assert main_menu.run(App(env, Translator("en"))) == 0
    return stdout.getvalue()


def test_bytes_that_are_not_text_on_standard_input_do_not_crash_the_menu(isolated_home):
    result = run_program(isolated_home, stdin=b"\xff\xfe\n0\n")
    assert result.returncode == 0
    assert b"Traceback" not in result.stderr + result.stdout


def test_a_unicode_digit_in_the_menus_is_just_a_wrong_answer():
    screen = run_menu(["3", "²", "", "5", "²", "", "0"])
    assert "There is no lesson '²'" in screen
    assert screen.count("There is no lesson '²'") == 2  # the quiz menu names what was typed, too
