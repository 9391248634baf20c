"""What was typed, echoed back in a message: clipped, and without escape sequences."""

import io
import os
import subprocess
import sys

import pytest

from lessons.ui.app import App
from lessons.ui.i18n import Translator
from lessons.ui.screens import main_menu
from lessons.ui.terminal import Environment
from tests.conftest import ROOT, program_env
from tests.servers import Listener


def run_program(home, *args, stdin=b"", language="en"):
    return subprocess.run([sys.executable, os.path.join(ROOT, "main.py"), *args], input=stdin, capture_output=True,
                          env=program_env(home, PYTHONIOENCODING="utf-8", LANGUAGE=language), timeout=60)


HOSTILE = "\x1b]0;owned\x07\x1b[2J" + "A" * 5000 + "\x9b31m\x07\r\n"


def no_control_and_short(text: str, limit: int = 200) -> None:
    assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text, repr(text[:200])
    assert all(len(line) <= limit for line in text.splitlines()), max(map(len, text.splitlines()))


def run_menu(lines):
    stdout = io.StringIO()
    env = Environment(stdin=io.StringIO("".join(line + "\n" for line in lines)), stdout=stdout, colour=False)
    assert main_menu.run(App(env, Translator("en"))) == 0
    return stdout.getvalue()


SAVE_UNKNOWN = Translator("en").t("save.unknown", choice="@@").split("@@")[1][:20]


def messages_about(screen: str, words: str) -> str:
    """The program's own lines that mention ``words`` (a scripted menu also shows what was typed)."""
    found = [line for line in screen.splitlines() if words in line]
    assert found, screen[-2000:]
    return "\n".join(found)


def test_escape_sequences_on_the_command_line_get_one_line_in_both_languages(isolated_home):
    for language, word in (("en", "escape sequences"), ("id", "urutan escape")):
        result = run_program(isolated_home, "scan", "\x1b[31m127.0.0.1\x1b[0m", "-p", "1", language=language)
        output = (result.stdout + result.stderr).decode()
        assert result.returncode == 2, output
        assert word in output and "host name" not in output and "bukan nama host" not in output
        assert len(output.strip().splitlines()) == 1, output


def test_scripted_answers_are_echoed_clipped_and_without_escapes():
    import io

    from lessons.ui.terminal import Environment

    out = io.StringIO()
    env = Environment(stdin=io.StringIO("\x1b]52;c;aGk=\x07127.0.0.1" + "x" * 5000 + "\n"), stdout=out)
    answer = env.read_line("Host: ")
    assert answer.startswith("\x1b]52")                 # the program itself sees what was typed
    echoed = out.getvalue()
    assert "\x1b" not in echoed and "\x07" not in echoed and len(echoed) < 300


@pytest.mark.slow   # over a third of a second: kept out of the quick loop
def test_what_was_typed_is_echoed_back_short(isolated_home):
    for args in (["scan", "x" * 5000], ["scan", "127.0.0.1", "--timeout", "9" * 5000], ["lesson", "9" * 5000]):
        result = run_program(isolated_home, *args)
        assert result.returncode == 2
        lines = (result.stdout + result.stderr).decode().splitlines()
        assert len(lines) <= 2 and max(len(line) for line in lines) <= 120, lines  # one message, input clipped


def test_a_long_hostile_lang_is_echoed_clipped_and_stripped(isolated_home):
    result = run_program(isolated_home, "--lang", HOSTILE.replace("\r\n", ""), "lessons")
    assert result.returncode == 2
    no_control_and_short(result.stderr.decode())


def test_a_long_hostile_language_setting_and_save_answer_are_echoed_clipped_and_stripped():
    screen = run_menu(["6", "1", HOSTILE.replace("\r\n", ""), "", "0", "0"])
    no_control_and_short(messages_about(screen, "Unknown language"))
    with Listener() as listener:
        screen = run_menu(["2", "127.0.0.1", str(listener.port), "0.5", "y", HOSTILE.replace("\r\n", ""), "", "0"])
    no_control_and_short(messages_about(screen, SAVE_UNKNOWN))


def test_clip_is_the_one_helper_for_echoes():
    from scanner.errors import clip

    assert clip("\x1b]0;title\x07ok\x1b[31m red") == "ok red"
    assert clip("a" * 100) == "a" * 37 + "..."
    assert clip("tab\there\nnew") == "tab here new"
