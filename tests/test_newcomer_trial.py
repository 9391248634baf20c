"""What a first-year student trips over, tried the way they try it: tmux at 80x24, the visible screen.

Each test is one stumble found by trying the program as a newcomer: a wrong answer must get one
line and the same question again, and the next thing typed must be taken as the answer to that
question, never swallowed by a hidden "press Enter".
"""

from __future__ import annotations

import json
import os
import time
import subprocess
import sys

import pytest

from lessons.render import Block
from lessons.ui.pager import short_form
from lessons.ui.consent import is_no, is_yes
from lessons.ui.i18n import Translator
from tests.conftest import ROOT, program_env
from tests.servers import Listener
from tests.tmux_screen import TMUX, Screen

needs_tmux = pytest.mark.skipif(not TMUX, reason="tmux is not installed: the visible-screen tests need it")

WORDS = {
    "en": {"lang": "en_US.UTF-8", "choice": "Your choice:", "library": "Lesson number or name",
           "unknown": "There is no lesson '99'", "lesson": "Port states: open, closed, filtered"},
    "id": {"lang": "id_ID.UTF-8", "choice": "Pilihan Anda:", "library": "Nomor atau nama pelajaran",
           "unknown": "Tidak ada pelajaran '99'", "lesson": "Status port"},
}


@pytest.mark.terminal
@needs_tmux
@pytest.mark.parametrize("language", ["en", "id"])
def test_a_wrong_lesson_number_is_one_line_and_the_next_answer_opens_the_lesson(isolated_home, language):
    words = WORDS[language]
    with Screen(isolated_home, LANG=words["lang"], LANGUAGE="") as screen:
        screen.wait_for(words["choice"])
        screen.type("3")
        screen.wait_for(words["library"])
        screen.type("99")
        shown = screen.wait_for(words["unknown"], words["library"])
        assert shown.rstrip().splitlines()[-1].startswith(words["library"])  # the same question, at the bottom
        screen.type("6")                                  # taken as the answer, not as "press Enter"
        screen.wait_for(words["lesson"])


STEP = {"en": "Guided scan, step {} of 4", "id": "Pemindaian terpandu, langkah {} dari 4"}


@pytest.mark.terminal
@needs_tmux
@pytest.mark.parametrize("language", ["en", "id"])
def test_at_60x20_every_step_keeps_its_heading_when_the_question_folds(isolated_home, language):
    words = WORDS[language]
    heading = STEP[language]
    with Screen(isolated_home, LANG=words["lang"], LANGUAGE="", width=60, height=20) as screen:
        screen.wait_for(words["choice"])
        screen.type("1")
        for number in range(1, 5):
            screen.wait_for(heading.format(number), f"[{number}/4]")   # the heading and the question together
            if number == 4:
                screen.type("nope")                                # an unclear answer adds a line
                screen.wait_for("'nope'", heading.format(4), "[y/N]")
                screen.type("n")
                break
            screen.type("")


RESULTS = {"en": ("Scanned 127.0.0.1: 1 port", "open", "[y/N]"),
           "id": ("Dipindai 127.0.0.1: 1 port", "terbuka", "[y/N]")}


@pytest.mark.terminal
@needs_tmux
@pytest.mark.parametrize("language", ["en", "id"])
def test_the_results_screen_says_which_host_was_scanned(isolated_home, language):
    words = WORDS[language]
    heading, open_word, consent = RESULTS[language]
    with Listener() as listener, Screen(isolated_home, LANG=words["lang"], LANGUAGE="") as screen:
        screen.wait_for(words["choice"])
        screen.type("2")                              # the quick scan: the same questions, no lessons
        screen.wait_for("[1/4]")
        screen.type("127.0.0.1")
        screen.wait_for("[2/4]")
        screen.type(str(listener.port))
        screen.wait_for("[3/4]")
        screen.type("")
        screen.wait_for(consent)
        screen.type("y")
        shown = screen.wait_for(f"{listener.port}/tcp")
        assert heading in shown and open_word in shown   # a screenshot of this screen names the host


@pytest.mark.parametrize("typed, meant, language", [("--timout", "--timeout", "en"), ("--bannr", "--banners", "en"),
                                                     ("--yess", "--yes", "id")])
def test_a_mistyped_option_names_the_option_meant(isolated_home, typed, meant, language):
    finished = subprocess.run([sys.executable, os.path.join(ROOT, "main.py"), "--lang", language, "scan", "127.0.0.1",
                               typed, "1"], capture_output=True, text=True, timeout=60,
                              env=program_env(isolated_home))
    assert finished.returncode == 2 and "Traceback" not in finished.stderr
    first = finished.stderr.splitlines()[0]
    assert typed in first and meant + "?" in first     # one line: what was wrong and what was meant


def test_an_option_like_nothing_known_gets_no_guess(isolated_home):
    finished = subprocess.run([sys.executable, os.path.join(ROOT, "main.py"), "scan", "127.0.0.1", "--zzz"],
                              capture_output=True, text=True, timeout=60, env=program_env(isolated_home))
    assert finished.returncode == 2 and "?" not in finished.stderr.splitlines()[0]


@pytest.mark.parametrize("answer, agreed", [("iya", True), ("Ya", True), ("y", True),
                                            ("nggak", False), ("gak", False), ("tidak", False)])
def test_everyday_indonesian_yes_and_no_are_understood_at_the_consent_question(answer, agreed):
    tr = Translator("id")
    assert is_yes(tr, answer) is agreed and is_no(tr, answer) is (not agreed)


def test_a_lesson_cut_short_ends_in_dots_on_its_own_line_never_folded():
    paragraph = ["A plain loop waits up to the timeout on each port in turn so it",
                 "spends almost all its time waiting on the network and threads",
                 "wait on many ports at once while the GIL lets one thread run now"]
    width = max(len(line) for line in paragraph)
    lines, whole = short_form([Block(["Threads"], "title"), Block(paragraph, "text")], 3)
    assert not whole and lines[-1].endswith(" ...")
    assert all(len(line) <= width for line in lines)     # at 60 columns a wider line folds into ". / .."


@pytest.mark.parametrize("language, how", [("en", "python3 main.py challenge N"), ("id", "python3 main.py challenge N")])
def test_the_challenge_list_says_how_to_start_one(isolated_home, language, how):
    finished = subprocess.run([sys.executable, os.path.join(ROOT, "main.py"), "--lang", language, "challenge"],
                              capture_output=True, text=True, timeout=60, env=program_env(isolated_home))
    assert finished.returncode == 0 and finished.stdout.rstrip().splitlines()[-1].split(":", 1)[1].strip().startswith(how)


EXERCISE = {"en": ("Your choice:", "c check", "'x' is not one of c, w, h, s, r"),
            "id": ("Pilihan Anda:", "c periksa", "'x' bukan salah satu dari c, w, h, s, r")}


@pytest.mark.terminal
@needs_tmux
@pytest.mark.parametrize("language", ["en", "id"])
def test_a_wrong_key_on_an_exercise_page_gets_one_line_and_the_keys_again(isolated_home, language):
    choice, keys, problem = EXERCISE[language]
    with Screen(isolated_home, "--lang", language) as screen:
        screen.wait_for(choice)
        screen.type("7")
        screen.wait_for(choice)
        screen.type("1")
        screen.wait_for_any("-- ", keys)
        for _ in range(4):                                  # past the task's pages, to its keys
            if keys in screen.text():
                break
            screen.type("")
            time.sleep(0.3)
        screen.wait_for(keys)
        screen.type("x")
        shown = screen.wait_for(problem)
        assert shown.rstrip().splitlines()[-2].startswith(keys) and choice in shown.rstrip().splitlines()[-1]


QUIZ = {"en": ("Your choice:", "Question 1 of", "(Enter: next question)", "Lesson number or name"),
        "id": ("Pilihan Anda:", "Pertanyaan 1 dari", "(Enter: pertanyaan berikutnya)", "Nomor atau nama pelajaran")}


@pytest.mark.terminal
@needs_tmux
@pytest.mark.parametrize("language", ["en", "id"])
def test_q_after_an_answer_stops_the_quiz_instead_of_showing_the_next_question(isolated_home, language):
    choice, first, after, chooser = QUIZ[language]
    with Screen(isolated_home, "--lang", language) as screen:
        screen.wait_for(choice)
        screen.type("5")
        screen.wait_for(chooser)
        screen.type("5")                                   # the handshake quiz: three questions
        screen.wait_for(first)
        screen.type("a")
        screen.wait_for(after)
        screen.type("q")
        screen.wait_for(chooser)                           # back at the list, not on question 2


@pytest.mark.parametrize("ports, count", [("ssh,http", 2), ("65530-", 6), ("-3", 3)])
def test_service_names_and_open_ranges_are_taken_as_ports(isolated_home, ports, count):
    finished = subprocess.run([sys.executable, os.path.join(ROOT, "main.py"), "scan", "127.0.0.1", "-p", ports,
                               "--format", "json", "--timeout", "0.3"], capture_output=True, text=True, timeout=60,
                              env=program_env(isolated_home))
    assert finished.returncode == 0 and json.loads(finished.stdout)["ports_requested"] == count   # as nmap reads -p


@pytest.mark.parametrize("language, word", [("en", "network"), ("id", "jaringan")])
def test_scan_help_says_a_network_may_be_scanned_too(isolated_home, language, word):
    finished = subprocess.run([sys.executable, os.path.join(ROOT, "main.py"), "--lang", language, "scan", "--help"],
                              capture_output=True, text=True, timeout=60, env=program_env(isolated_home))
    positional = finished.stdout.split("\n\n")[1]           # the part that explains HOST
    assert finished.returncode == 0 and word in positional and "127.0.0.0/29" in positional
