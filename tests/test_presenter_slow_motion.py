"""Presenter mode's slow motion: one probe per Enter, and a filtered port's wait long enough to watch.

On a projector the instructor talks between probes, so each probe after the first waits
for Enter instead of a fixed 0.8 s.  A scan's timeout (0.5 s) is over before a room has
found the countdown, so presenter mode replays a silent port with at least 5 s, says so,
and shows that number in the code it runs (``s.settimeout(5)``).
"""

from __future__ import annotations

import io
import re
import time

import pytest

from lessons.ui.app import App
from lessons.ui.i18n import Translator
from lessons.ui.screens import main_menu
from lessons.ui.screens.slow_motion import PRESENTER_WAIT
from lessons.ui.terminal import Environment
from tests.servers import FilteredPort, Listener, free_port
from tests.tmux_screen import TMUX, Screen


def test_scripted_presenter_asks_for_enter_between_probes_and_stretches_the_silent_one():
    with Listener() as listener, FilteredPort() as filtered:
        closed = free_port()
        lines = ["2", "127.0.0.1", f"{closed},{listener.port},{filtered.port}", "0.5", "y"] + [""] * 12 + ["0"]
        stdin = io.StringIO("".join(line + "\n" for line in lines))
        stdout = io.StringIO()
        env = Environment(stdin=stdin, stdout=stdout, stderr=stdout, colour=False, presenter=True)
        started = time.monotonic()
        main_menu.run(App(env, Translator("en")))
        took = time.monotonic() - started
    screen = stdout.getvalue()
    assert screen.count("(Enter: the next probe)") == 2            # open, then closed, then filtered
    assert f"s.settimeout({PRESENTER_WAIT:g})" in screen and "the scan waited 0.5 s" in screen
    assert re.search(r"filtered \(5\.\d s\)", screen)
    assert took >= PRESENTER_WAIT


def test_without_a_filtered_port_the_scan_timeout_stays():
    with Listener() as listener:
        lines = ["2", "127.0.0.1", f"{free_port()},{listener.port}", "0.5", "y"] + [""] * 10 + ["0"]
        stdin = io.StringIO("".join(line + "\n" for line in lines))
        stdout = io.StringIO()
        env = Environment(stdin=stdin, stdout=stdout, stderr=stdout, colour=False, presenter=True)
        main_menu.run(App(env, Translator("en")))
    screen = stdout.getvalue()
    assert "s.settimeout(0.5)" in screen and "Presenter mode: 5" not in screen


@pytest.mark.terminal
@pytest.mark.skipif(TMUX is None, reason="tmux is not installed")
@pytest.mark.parametrize("language", ["en", "id"])
def test_on_a_projector_the_countdown_runs_for_seconds_on_one_80x24_screen(isolated_home, language):
    words = {"en": ("Your choice:", "(Enter: watch", "(Enter: the next probe)", "s left", "(Enter: the results)"),
             "id": ("Pilihan Anda:", "(Enter: lihat", "(Enter: probe berikutnya)", "belum ada jawaban",
                    "(Enter: hasilnya)")}[language]
    choice, watch, next_probe, left, results = words
    with Listener() as listener, FilteredPort() as filtered, \
            Screen(isolated_home, "--presenter", LANGUAGE=language) as screen:
        screen.wait_for(choice)
        screen.type("2")
        for step, answer in (("[1/4]", "127.0.0.1"), ("[2/4]", f"{free_port()},{listener.port},{filtered.port}"),
                             ("[3/4]", "0.5"), ("[4/4]", "y")):
            screen.wait_for(step)
            screen.type(answer)
        screen.wait_for(watch)
        screen.type("")
        for _ in range(2):
            shown = screen.wait_for(next_probe)
            screen.wait_gone(shown, timeout=2)
            screen.type("")
        during = screen.wait_for(left, timeout=4)             # the countdown, still running...
        time.sleep(2)
        later = screen.text()
        assert left in later                                  # ...two seconds later too
        assert f"s.settimeout({PRESENTER_WAIT:g})" in during
        shown = screen.wait_for(results, timeout=PRESENTER_WAIT + 5)
        assert len(shown.splitlines()) <= 24 and "s = socket.socket" in shown   # the replay fits one screen
