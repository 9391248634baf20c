"""The menu driven with scripted input and captured output (no terminal needed)."""

import io
import os

import pytest

from lessons.i18n import Translator
from lessons.menu import Menu
from lessons.terminal import Environment
from tests.servers import Listener, free_port


def run_menu(lines, language="en"):
    stdin = io.StringIO("".join(line + "\n" for line in lines))
    stdout = io.StringIO()
    env = Environment(stdin=stdin, stdout=stdout, stderr=stdout, colour=False, language=language)
    code = Menu(env, Translator(language)).run()
    return code, stdout.getvalue()


def test_guided_scan_of_a_loopback_listener_teaches_and_finds_the_port():
    with Listener() as listener:
        closed = free_port()
        code, screen = run_menu(["1", "127.0.0.1", f"{closed},{listener.port}", "0.5", "y", "", "0"])
    assert code == 0
    assert "From names to addresses: DNS" in screen            # lesson beside the host step
    assert "s.settimeout(0.5)" in screen                         # show the code, with the learner's value
    assert f"s.connect_ex(('127.0.0.1', {listener.port}))  # -> 0" in screen   # slow motion
    assert f"{listener.port}/tcp" in screen and "open" in screen
    assert "Not shown: 1 closed port" in screen
    assert "What this means" in screen
    assert "Goodbye" in screen


def test_refused_consent_sends_nothing():
    with Listener() as listener:
        code, screen = run_menu(["1", "127.0.0.1", str(listener.port), "0.5", "n", "0"])
        assert listener.accepted == 0
    assert "Scan cancelled" in screen and "Nothing was sent" in screen
    assert "Slow motion" not in screen and "/tcp" not in screen


def test_invalid_answers_are_explained_and_asked_again():
    code, screen = run_menu(["2", "http://example.com", "999.1.1.1", "127.0.0.1", "80-20", "0", "22", "abc",
                             "-1", "0.2", "n", "0"])
    assert "Type only the host name, for example example.com" in screen
    assert "999.1.1.1 is not a valid IPv4 address" in screen
    assert "The range 80-20 runs backwards" in screen
    assert "Port 0 is outside 1-65535" in screen
    assert "abc is not a number of seconds" in screen
    assert "more than 0 seconds" in screen
    assert "Traceback" not in screen
    assert screen.count("[3/4] Timeout") == 3  # asked again after each bad answer
    assert screen.count("[2/4] Ports") == 3


def test_back_help_and_quit_commands():
    code, screen = run_menu(["2", "b", "127.0.0.1", "22", "b", "80", "?", "q", "0"])
    assert "nothing to go back to" in screen
    # b at the timeout question returns to the ports question, which is asked a second time
    assert screen.count("[2/4] Ports") == 2
    assert "Timeouts: how long to wait" in screen  # ? shows the lesson even in the quick scan
    assert "Back at the main menu" in screen
    assert code == 0


def test_end_of_input_anywhere_leaves_cleanly():
    for script in ([], ["1"], ["2", "127.0.0.1"], ["3"], ["5"]):
        code, screen = run_menu(script)
        assert code == 0 and "Goodbye" in screen and "Traceback" not in screen


def test_unknown_menu_choice_gets_one_line_and_the_menu_again():
    code, screen = run_menu(["9", "hello", "0"])
    assert "'9' is not on the menu" in screen and "'hello' is not on the menu" in screen
    assert screen.count("Main menu") == 3


def test_lessons_library_opens_by_number_and_name():
    code, screen = run_menu(["3", "1", "handshake", "nosuchlesson", "", "0"])
    assert "What is a port scanner?" in screen
    assert "The TCP three-way handshake" in screen
    assert "There is no lesson 'nosuchlesson'" in screen


def test_saving_a_report_from_the_menu(tmp_path):
    target = tmp_path / "lab1.json"
    bad = tmp_path / "no-such-folder" / "x.json"
    with Listener() as listener:
        code, screen = run_menu(["2", "127.0.0.1", str(listener.port), "0.5", "yes", "x", "j", str(bad),
                                 "j", str(target), "0"])
    assert "'x' is not one of t, j, c" in screen
    assert "Could not write" in screen
    import json
    data = json.loads(target.read_text())
    assert data["consent"]["statement"].startswith("I own this host")
    assert data["ports"][0]["port"] == listener.port and data["ports"][0]["state"] == "open"
    assert not [name for name in os.listdir(tmp_path) if name.startswith(".portscan-")]


def test_quiz_scores_are_saved(isolated_home):
    from lessons.progress import store
    code, screen = run_menu(["5", "ports", "16", "a", "c", "", "0"])
    assert "Score: " in screen
    assert store().quiz_scores()["ports"]["total"] == 3
    assert (isolated_home / "progress.json").exists()


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", "\x00\x01"])
def test_corrupt_progress_file_is_set_aside_not_a_crash(isolated_home, content):
    isolated_home.mkdir(parents=True, exist_ok=True)
    (isolated_home / "progress.json").write_text(content)
    code, screen = run_menu(["3", "1", "", "0"])
    assert code == 0
    assert "could not be read" in screen and "set aside" in screen
    assert [p for p in os.listdir(isolated_home) if p.startswith("progress.json.corrupt-")]


def test_settings_reset_asks_first(isolated_home):
    from lessons.progress import store
    code, screen = run_menu(["3", "1", "", "6", "4", "n", "4", "y", "0", "0"])
    assert "Nothing was changed" in screen and "Progress reset" in screen
    assert store().lessons_read() == set()


def test_progress_bar_shows_counts_and_says_when_only_silent_ports_are_left():
    from lessons.output import ProgressBar
    stream = io.StringIO()
    bar = ProgressBar(stream, Translator("en"), width=80)
    bar.update(50, 100, 1)
    assert " 50/100  open 1" in stream.getvalue()
    assert "ETA" not in stream.getvalue()                    # no guess from the first milliseconds
    bar.started -= 10                                        # ten seconds into the scan
    bar.last_draw = 0
    bar.update(60, 100, 1)
    assert "ETA 7s" in stream.getvalue()
    bar.last_draw = bar.last_change = bar.last_change - 5  # nothing finished for five seconds
    bar.update(60, 100, 1)
    assert "waiting for silent ports" in stream.getvalue()
    frames = stream.getvalue().split("\r")[1:]
    assert len({len(frame) for frame in frames}) == 1 and len(frames[0]) == 79  # one width, first to last


@pytest.mark.parametrize("language", ["en", "id"])
@pytest.mark.parametrize("columns", [20, 24, 33, 40, 60, 80, 200])
def test_progress_bar_fits_one_line_at_any_width(language, columns):
    from lessons.output import ProgressBar
    stream = io.StringIO()
    bar = ProgressBar(stream, Translator(language), width=lambda: columns)
    for done, stalled in ((0, False), (1, False), (30000, False), (30000, True), (65535, False)):
        bar.last_draw = 0
        if stalled:
            bar.last_change -= 5
        else:
            bar.started -= 3
        bar.update(done, 65535, 12)
    frames = stream.getvalue().split("\r")[1:]
    assert len({len(frame) for frame in frames}) == 1          # never changes width
    assert all(len(frame) < min(columns, 80) for frame in frames)  # never touches the last column
    assert all("/65535" in frame for frame in frames)
