"""The walk's consent question: an unclear answer is asked again, never taken as a no.

A learner who types "maybe" or "yse" has not refused: cancelling would throw away the
host, ports and timeout they just chose.  The question comes back with a one-line
explanation (which answers there are) as often as it takes; ``n`` or Enter still cancel,
``b`` goes back one step and ``q`` to the main menu, and every earlier answer is kept.
"""

from __future__ import annotations

import io

import pytest

from lessons.ui.app import App
from lessons.ui.i18n import Translator
from lessons.ui.screens import main_menu
from lessons.ui.terminal import Environment
from tests.servers import Listener, free_port
from tests.tmux_screen import TMUX, Screen

UNCLEAR = {"en": "is not y or n", "id": "bukan y atau n"}
CANCELLED = {"en": "Scan cancelled", "id": "Pemindaian dibatalkan"}


def run_menu(lines, language="en", width=80):
    stdin = io.StringIO("".join(line + "\n" for line in lines))
    stdout = io.StringIO()
    env = Environment(stdin=stdin, stdout=stdout, stderr=stdout, colour=False, language=language, width=width)
    code = main_menu.run(App(env, Translator(language)))
    return code, stdout.getvalue()


@pytest.mark.parametrize("language", ["en", "id"])
def test_unclear_answers_are_asked_again_as_often_as_needed_and_the_scan_keeps_every_answer(language):
    with Listener() as listener:
        closed = free_port()
        unclear = ["maybe", "perhaps", "dunno", "ok?", "yess"]
        code, screen = run_menu(["2", "127.0.0.1", f"{closed},{listener.port}", "0.7", *unclear, "y", "", "0"],
                                language)
    assert code == 0
    assert screen.count(UNCLEAR[language]) == len(unclear)
    assert CANCELLED[language] not in screen
    assert f"{listener.port}/tcp" in screen                 # the ports chosen before the unclear answers
    explanations = [line for line in screen.splitlines() if UNCLEAR[language] in line]
    assert all(len(line) <= 79 for line in explanations)    # one line each at 80 columns
    assert all(" b " in line or "b =" in line for line in explanations)   # says b and q still work


def test_a_very_long_unclear_answer_is_echoed_short():
    code, screen = run_menu(["2", "127.0.0.1", "1", "0.5", "x" * 300, "n", "0"])
    line = next(line for line in screen.splitlines() if "is not y or n" in line)
    assert len(line) <= 79 and "x" * 20 not in line


@pytest.mark.parametrize("language", ["en", "id"])
def test_no_and_enter_still_cancel(language):
    for refusal in ("n", ""):
        code, screen = run_menu(["2", "127.0.0.1", "1", "0.5", "hmm", refusal, "0"], language)
        assert CANCELLED[language] in screen and screen.count(UNCLEAR[language]) == 1


def test_b_after_an_unclear_answer_goes_back_one_step_and_keeps_the_rest():
    with Listener() as listener:
        code, screen = run_menu(["2", "127.0.0.1", str(listener.port), "0.5", "maybe", "b", "0.9", "y", "", "0"])
    assert "[3/4]" in screen.split("maybe", 1)[1]             # the timeout question again
    assert f"{listener.port}/tcp" in screen                  # the ports were kept
    starting = next(line for line in screen.splitlines() if line.startswith("Scanning"))
    assert "timeout 0.9" in starting                          # the new timeout, the same host and ports


def test_q_after_an_unclear_answer_returns_to_the_main_menu():
    code, screen = run_menu(["2", "127.0.0.1", "1", "0.5", "maybe", "q", "0"])
    after = screen.split("maybe", 1)[1]
    assert "Main menu" in after and "Scanning" not in after and CANCELLED["en"] not in after


def test_a_defaulted_walk_after_cancelling_offers_the_earlier_answers():
    code, screen = run_menu(["2", "127.0.0.1", "4321", "0.8", "n", "2", "", "", "", "n", "0"])
    second = screen.split(CANCELLED["en"], 1)[1]
    assert "[4321]" in second and "[0.8]" in second


@pytest.mark.terminal
@pytest.mark.skipif(TMUX is None, reason="tmux is not installed")
@pytest.mark.parametrize("language", ["en", "id"])
def test_on_screen_the_question_comes_back_with_the_last_answers_code_above_it(isolated_home, language):
    prompt = {"en": "Your choice:", "id": "Pilihan Anda:"}[language]
    with Screen(isolated_home, LANGUAGE=language) as screen:
        screen.wait_for(prompt)
        screen.type("1")
        for step, answer in (("[1/4]", "127.0.0.1"), ("[2/4]", "1-20"), ("[3/4]", "0.6")):
            screen.wait_for(step)
            screen.type(answer)
        screen.wait_for("[4/4]")
        for unclear in ("maybe", "perhaps", "dunno"):
            screen.type(unclear)
            shown = screen.wait_for(f"'{unclear}' {UNCLEAR[language]}", "[4/4]")
            assert "s.settimeout(0.6)" in shown                   # the timeout answer's code is still there
            line = next(row for row in shown.splitlines() if UNCLEAR[language] in row)
            assert len(line) < 80
        screen.type("q")
        screen.wait_for(prompt)


@pytest.mark.terminal
def test_the_command_line_question_also_asks_again_and_a_no_sends_nothing(isolated_home):
    """``scan 192.0.2.1`` (a documentation address) in a terminal: unclear answers, then n. Nothing is sent."""
    pexpect = pytest.importorskip("pexpect", reason="pexpect drives a pseudo-terminal (not on Windows)")
    import os
    import sys

    from tests.conftest import ROOT, program_env

    child = pexpect.spawn(sys.executable, [os.path.join(ROOT, "main.py"), "scan", "192.0.2.1", "-p", "80"],
                          env=program_env(isolated_home), encoding="utf-8", timeout=20, dimensions=(24, 80))
    child.expect(r"\[y/N\]")
    child.sendline("maybe")
    child.expect("'maybe' is not y or n")
    child.sendline("perhaps")
    child.expect("'perhaps' is not y or n")
    child.sendline("n")
    child.expect("Scan cancelled")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus != 0 and "Scanning" not in child.before
