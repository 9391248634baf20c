"""The real program in a real pseudo-terminal, driven and read the way a person would.

pexpect starts ``python main.py`` in a pty, so the program sees a terminal (colours on,
interactive prompts) exactly as in a classroom.  We answer prompts when they appear and
check what the screen shows.
"""

import os
import re
import sys

import pytest

from tests.conftest import ROOT, program_env
from tests.servers import FilteredPort, Listener, free_port

pexpect = pytest.importorskip("pexpect", reason="pexpect drives a pseudo-terminal (not on Windows)")

ANSI = re.compile(r"\x1b\[[0-9;]*m")


pytestmark = pytest.mark.terminal   # every test here drives the program in a pseudo-terminal


def start(home, *args, **extra_env):
    child = pexpect.spawn(sys.executable, [os.path.join(ROOT, "main.py"), *args], cwd=ROOT,
                          env=program_env(home, **extra_env), encoding="utf-8", timeout=20,
                          dimensions=(40, 80))
    return child


def plain(text):
    return ANSI.sub("", text)


def converse(child, *exchanges):
    """Answer prompts in order: each exchange is (what the screen shows, what the learner types)."""
    for pattern, reply in exchanges:
        child.expect(pattern)
        child.sendline(reply)


SGR = re.compile(r"\x1b\[[0-9;]*m")
PAGER_PROMPT = r"-- page \d+ of \d+ --|-- end, page \d+ of \d+ --|press Enter to continue"


def page_through(child, until=pexpect.EOF):
    """Press Enter at every pager prompt until ``until`` shows; everything read is returned."""
    seen = ""
    while child.expect([until, PAGER_PROMPT]) == 1:
        seen += child.before + child.after
        child.sendline("")
    return seen + child.before


def leave(child):
    """Quit from the main menu and check the program ended cleanly."""
    converse(child, ("Your choice:", "0"))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_guided_scan_through_a_terminal(isolated_home):
    with Listener() as listener:
        child = start(isolated_home)
        child.expect("Your choice:")
        child.sendline("1")
        child.expect(r"\[1/4\] Host to scan")
        assert "What to scan: the target" in plain(child.before)
        child.sendline("localhost")
        child.expect(r"\[2/4\] Ports")
        assert "getaddrinfo('localhost'" in plain(child.before)
        child.sendline(f"{listener.port - 1}-{listener.port + 1}")
        child.expect(r"\[3/4\] Timeout")
        child.sendline("0.5")
        child.expect(r"\[4/4\] Do you own 127.0.0.1")
        child.sendline("y")
        child.expect(r"Enter: watch one port of each kind")   # the scan is done: a pause before the replay
        child.sendline("")
        child.expect(r"Enter: the results")
        assert f"s.connect_ex(('127.0.0.1', {listener.port}))  # -> 0" in plain(child.before)
        child.sendline("")
        child.expect("Save a report")
        screen = plain(child.before)
        assert re.search(rf"{listener.port}/tcp\s+open\s", screen)
        assert "What this means" in screen
        assert "\x1b[" in child.before  # a terminal gets colours
        child.sendline("")
        leave(child)


def test_ctrl_c_during_a_scan_keeps_partial_results_and_returns_to_the_menu(isolated_home):
    with FilteredPort() as filtered:
        child = start(isolated_home)
        converse(child, ("Your choice:", "2"), ("Host to scan", "127.0.0.1"),
                 ("Ports", f"{free_port()},{filtered.port}"), ("Timeout", "20"), ("written permission", "y"))
        child.expect("Ctrl\\+C to stop early")
        child.expect(r"\]")  # the progress bar is drawn
        child.sendintr()
        child.expect("Stopped early")
        child.expect("Save a report")
        screen = plain(child.before)
        assert "Traceback" not in screen
        child.sendline("")
        child.expect("Your choice:")
        child.sendline("q")
        child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_end_of_input_leaves_cleanly(isolated_home):
    child = start(isolated_home)
    child.expect("Your choice:")
    child.sendline("1")
    child.expect("Host to scan")
    child.sendeof()
    child.expect("Goodbye")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "Traceback" not in child.before


def test_no_color_gives_plain_text_in_a_terminal(isolated_home):
    child = start(isolated_home, "lesson", "handshake", NO_COLOR="1")
    screen = page_through(child)
    assert "three-way handshake" in screen
    assert not SGR.search(screen)                 # clearing the screen is fine; colour is not
    coloured = start(isolated_home, "lesson", "handshake")
    assert SGR.search(page_through(coloured))
    flagged = start(isolated_home, "--no-color", "lessons")
    flagged.expect(pexpect.EOF)
    assert "\x1b[" not in flagged.before and "handshake" in flagged.before


def test_invalid_answers_in_a_terminal_are_asked_again(isolated_home):
    child = start(isolated_home)
    child.expect("Your choice:")
    child.sendline("2")
    child.expect("Host to scan")
    child.sendline("http://example.com")
    child.expect("Type only the host name, for example example.com")
    child.expect("Host to scan")
    child.sendline("127.0.0.1")
    child.expect("Ports")
    child.sendline("65536")
    child.expect("Port 65536 is outside 1-65535")
    child.expect("Ports")
    child.sendline("q")
    child.expect("Back at the main menu")
    leave(child)


def test_guided_scan_in_bahasa_indonesia_through_a_terminal(isolated_home):
    with Listener() as listener:
        child = start(isolated_home, "--lang", "id")
        child.expect("Pilihan Anda:")
        child.sendline("1")
        child.expect(r"\[1/4\] Host yang akan dipindai")
        assert "Apa yang dipindai: target" in plain(child.before)
        child.sendline("127.0.0.1")
        child.expect(r"\[2/4\]")
        child.sendline(str(listener.port))
        child.expect(r"\[3/4\]")
        child.sendline("0,5")  # Indonesian decimal comma
        child.expect(r"\[4/4\] Apakah Anda pemilik 127.0.0.1")
        child.sendline("ya")
        child.expect(r"Enter: lihat satu port")
        child.sendline("")
        child.expect(r"Enter: hasilnya")
        assert "Gerak lambat" in plain(child.before)
        child.sendline("")
        child.expect("Simpan hasil")
        screen = plain(child.before)
        assert re.search(rf"{listener.port}/tcp\s+terbuka", screen)
        assert "Apa artinya" in screen
        child.sendline("")
        child.expect("Pilihan Anda:")
        child.sendline("0")
        child.expect("Sampai jumpa")
        child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_presenter_mode_pauses_before_the_results_and_between_table_map_and_meaning(isolated_home):
    with Listener() as listener:
        child = start(isolated_home, "--presenter")
        child.expect("Presenter mode")
        converse(child, ("Your choice:", "2"), (r"\[1/4\] Host", "127.0.0.1"),
                 (r"\[2/4\] Ports", f"1-20,{listener.port}"), (r"\[3/4\] Timeout", "0.5"),
                 (r"\[4/4\]", "y"))
        child.expect(r"Enter: watch one port")   # the scan's last line stays until Enter
        child.sendline("")
        child.expect(r"Enter: the next probe")   # presenter: one probe at a time, on Enter
        assert "# -> 0" in plain(child.before)   # slow motion, even in a quick scan
        child.sendline("")
        child.expect(r"Enter: the results")
        assert "# -> 111" in plain(child.before)
        child.sendline("")
        child.expect(r"Enter: the port map")
        assert re.search(rf"{listener.port}/tcp\s+open", plain(child.before))
        child.sendline("")
        child.expect(r"press Enter to continue")  # the map alone, for the class to look at
        assert "Port map" in plain(child.before) and "What this means" not in plain(child.before)
        child.sendline("")
        child.expect("Save a report")
        assert "What this means" in plain(child.before)
        child.sendline("")
        leave(child)


def test_refused_consent_in_a_terminal_makes_no_connection(isolated_home):
    with Listener() as listener:
        child = start(isolated_home)
        converse(child, ("Your choice:", "1"), (r"\[1/4\] Host", "127.0.0.1"),
                 (r"\[2/4\] Ports", "?"))      # ? shows the lesson again
        child.expect("Ports: physical and logical")
        page_through(child, r"\[2/4\] Ports")  # the whole lesson, page by page
        child.sendline("b")                      # back to the host question
        child.expect(r"\[1/4\] Host")
        child.sendline("")                       # Enter takes the default shown in brackets
        child.expect(r"\[2/4\] Ports")
        child.sendline(str(listener.port))
        child.expect(r"\[3/4\] Timeout")
        child.sendline("")
        child.expect(r"\[4/4\]")
        child.sendline("no")
        child.expect("Scan cancelled")
        child.expect("Your choice:")
        assert listener.accepted == 0            # not one connection reached the listener
        child.sendline("0")
        child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_quiz_command_in_bahasa_indonesia(isolated_home):
    child = start(isolated_home, "quiz", "ports", "--lang", "id")
    child.expect("Kuis")
    for number in range(3):
        child.expect(r"\(.*q = ")
        child.sendline("a")
        # the explanation stays until Enter; after the last question, Enter shows the score
        child.expect(r"Enter: pertanyaan berikutnya" if number < 2 else r"Enter: lihat skor")
        child.sendline("")
    child.expect("tekan Enter")
    child.sendline("")
    child.expect(pexpect.EOF)
    screen = plain(child.before)
    assert "Traceback" not in screen
    child.close()
    assert child.exitstatus == 0
    progress = (isolated_home / "progress.json").read_text()
    assert '"ports"' in progress


@pytest.mark.parametrize("language", ["en", "id"])
def test_every_screen_line_fits_80_columns(isolated_home, language):
    import io
    from lessons.ui.i18n import Translator
    from lessons.ui.app import App
    from lessons.ui.screens import main_menu
    from lessons.ui.terminal import Environment

    with Listener() as listener:
        script = ["1", "localhost", f"1-40,{listener.port}", "0.3", "y", "x", "", "3", "9", "", "4", "1", "y", "",
                  "2", "0", "5", "dns", "a", "b", "c", "", "6", "0", "9", "0"]
        stdout = io.StringIO()
        env = Environment(stdin=io.StringIO("\n".join(script) + "\n"), stdout=stdout, colour=False, language=language)
        main_menu.run(App(env, Translator(language)))
    too_long = [line for line in stdout.getvalue().splitlines() if len(line) > 80]
    assert not too_long, too_long
