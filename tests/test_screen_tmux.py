"""What a learner actually sees on an 80x24 terminal: the visible screen, not the whole output.

Each test drives the real program in tmux and reads only the rows on screen
(``capture-pane`` without scrollback), the way a first-year student, an instructor on a
projector and an Indonesian learner would meet it.
"""

import random
import time
import re
import subprocess
import sys
import os

import pytest

from lessons import catalog
from tests.conftest import ROOT, program_env
from tests.servers import FilteredPort, Listener
from tests.tmux_screen import SGR, TMUX, Screen, bright_codes

pytestmark = [pytest.mark.terminal,
              pytest.mark.skipif(not TMUX, reason="tmux is not installed: the visible-screen tests need it")]

WORDS = {
    "en": {"choice": "Your choice:", "watch": "(Enter: watch", "results": "(Enter: the results)",
           "map": "(Enter: the port map", "save": "Save a report", "open": "open", "header": "PORT",
           "meaning": "What this means", "dns": "What to scan: the target", "slow": "Slow motion",
           "next": "(Enter: next question)", "lang": "en_US.UTF-8", "library": "Lesson number or name",
           "enter": "press Enter to continue", "answer": "Your answer", "right": "Right!"},
    "id": {"choice": "Pilihan Anda:", "watch": "(Enter: lihat", "results": "(Enter: hasilnya)",
           "map": "(Enter: peta port", "save": "Simpan hasil", "open": "terbuka", "header": "PORT",
           "meaning": "Apa artinya", "dns": "Apa yang dipindai: target", "slow": "Gerak lambat",
           "next": "(Enter: pertanyaan berikutnya)", "lang": "id_ID.UTF-8", "library": "Nomor atau nama pelajaran",
           "enter": "tekan Enter untuk melanjutkan", "answer": "Jawaban Anda", "right": "Benar!"},
}


PAGER_PROMPTS = ("-- page", "-- end", "-- halaman", "-- selesai", "press Enter to continue", "tekan Enter")


def read_every_page(screen, until: str, pages_at_most: int = 8) -> str:
    """Press Enter at each pager prompt of a lesson until ``until`` is on screen; that screen is returned."""
    shown = screen.wait_for_any(*PAGER_PROMPTS)
    for _ in range(pages_at_most):
        screen.type("")
        screen.wait_gone(shown)
        shown = screen.wait_for_any(until, *PAGER_PROMPTS)
        if until in shown:
            return shown
    return screen.wait_for(until)


@pytest.mark.parametrize("language", ["en", "id"])
def test_guided_walk_one_screen_per_step_at_80x24(isolated_home, language):
    words = WORDS[language]
    colours = []
    with Listener() as listener, FilteredPort() as filtered, \
            Screen(isolated_home, LANG=words["lang"], LANGUAGE="") as screen:
        screen.wait_for(words["choice"])
        screen.type("1")
        step = screen.wait_for("[1/4]")
        assert words["dns"] in step                       # the short lesson and its question together
        colours.append(screen.coloured())
        screen.type("127.0.0.1")
        step = screen.wait_for("[2/4]")
        assert "127.0.0.1" in step and "connect_ex" not in step
        screen.type(f"1-20,{listener.port},{filtered.port}")
        screen.wait_for("[3/4]")
        screen.type("0,5" if language == "id" else "0.5")
        screen.wait_for("[4/4]")
        screen.type("y")
        scanned = screen.wait_for(words["watch"])
        assert "22/22" in scanned                         # the finished progress bar is still on screen
        screen.type("")
        slow = screen.wait_for(words["results"])
        assert words["slow"] in slow
        assert f"s.connect_ex(('127.0.0.1', {listener.port}))  # -> 0" in slow
        assert "# -> 111 ECONNREFUSED" in slow
        assert f"s.connect_ex(('127.0.0.1', {filtered.port}))  # -> 11" in slow   # the timeout, replayed
        if language == "id":
            assert re.search(r"\(\d+,\d ms\)", slow)      # decimal comma in Indonesian
        colours.append(screen.coloured())
        screen.type("")
        results = screen.wait_for(words["map"])
        assert words["header"] in results                 # the table's header and the open port's row,
        assert re.search(rf"{listener.port}/tcp\s+{words['open']}", results)   # visible together
        assert "connect_ex" not in results                 # a fresh screen, not the replay's tail
        colours.append(screen.coloured())
        screen.type("")
        meaning = screen.wait_for(words["save"])
        assert words["meaning"] in meaning and "O" in meaning and "F" in meaning
        colours.append(screen.coloured())
        screen.type("")
        screen.wait_for(words["choice"])
        screen.type("0")
        screen.wait_for("[exit 0]")
    assert not [codes for codes in map(bright_codes, colours) if codes]
    if language == "id":
        from tests.test_i18n import assert_no_english
        assert_no_english("\n".join(SGR.sub("", text) for text in colours))


def test_presenter_mode_uses_no_bright_white_or_bright_yellow(isolated_home):
    with Listener() as listener, Screen(isolated_home, "--presenter") as screen:
        screen.wait_for("Your choice:")
        seen = [screen.coloured()]
        screen.type("2")
        for prompt, answer in (("[1/4]", "127.0.0.1"), ("[2/4]", f"1-30,{listener.port}"), ("[3/4]", "0.5"),
                               ("[4/4]", "y"), ("(Enter: watch", ""), ("(Enter: the next probe)", ""),
                               ("(Enter: the results)", ""),
                               ("(Enter: the port map", ""), ("press Enter", ""), ("Save a report", "")):
            shown = screen.wait_for(prompt)
            seen.append(screen.coloured())
            if prompt == "(Enter: the port map":         # table alone: a pause before it and after it
                assert "PORT" in shown and "connect_ex" not in shown and "Port map" not in shown
            if prompt == "press Enter":
                assert "Port map" in shown and "PORT " not in shown and "What this means" not in shown
            if prompt == "Save a report":
                assert "What this means" in shown and "Port map" not in shown
            screen.type(answer)
        screen.wait_for("Your choice:")
        screen.type("3")
        screen.wait_for("Lesson number")
        screen.type("handshake")
        screen.wait_for("The TCP three-way handshake")
        seen.append(screen.coloured())
    assert any("\x1b[" in text for text in seen)          # colours are on...
    assert not [bright_codes(text) for text in seen if bright_codes(text)]   # ...but never 93 or 97


@pytest.mark.parametrize("language", ["en", "id"])
def test_a_lesson_from_the_library_shows_its_title_not_the_list(isolated_home, language):
    words = WORDS[language]
    title = catalog.load_lesson("handshake", language).title
    with Screen(isolated_home, LANG=words["lang"], LANGUAGE="") as screen:
        screen.wait_for(words["choice"])
        screen.type("3")
        screen.wait_for(words["library"])
        screen.type("handshake")
        lesson = screen.wait_for(title)
        assert words["library"] not in lesson and "(* =" not in lesson
        listing = read_every_page(screen, words["library"])
        number = catalog.lesson_ids(language).index("handshake") + 1
        assert re.search(rf"\*\s+{number}\s+{re.escape(title[:15])}", listing)   # read: its last page was shown


def test_a_lesson_left_on_its_first_page_is_not_marked_read(isolated_home):
    with Screen(isolated_home, width=80, height=14) as screen:
        screen.wait_for("Your choice:")
        screen.type("3")
        screen.wait_for("Lesson number or name")
        screen.type("port-states")
        screen.wait_for("-- page 1 of")
        screen.type("q")                                   # skipped the rest: not read
        listing = screen.wait_for("Lesson number or name")
        number = catalog.lesson_ids("en").index("port-states") + 1
        assert "Port states" in listing and not re.search(rf"\*\s+{number}\s", listing)


def test_resizing_to_60_columns_rewraps_the_next_page(isolated_home):
    with Screen(isolated_home, width=80, height=16) as screen:
        screen.wait_for("Your choice:")
        screen.type("3")
        screen.wait_for("Lesson number or name")
        screen.type("port-states")
        first = screen.wait_for("-- page 1 of")
        assert "Port states" in first
        assert max(len(line) for line in first.splitlines()) > 60
        screen.resize(60, 16)
        screen.type("")                                    # the next page is laid out for 60 columns
        screen.wait_for("page 2 of")
        screen.type("b")                                   # and so is the first one, seen again
        again = screen.wait_for("-- page 1 of")
        lines = screen.text(joined=True).splitlines()     # a line wrapped by the terminal comes back whole
        assert "Port states" in again
        assert all(len(line.rstrip()) <= 60 for line in lines), [line for line in lines if len(line) > 60]


def test_code_blocks_are_never_split_across_pages(isolated_home):
    lesson = catalog.load_lesson("handshake", "en")
    body = lesson.body.split("```diagram", 1)[1].split("```", 1)[0]
    diagram = [line.strip() for line in body.splitlines() if line.strip()]
    with Screen(isolated_home, "lesson", "handshake", width=80, height=12) as screen:
        pages = []
        for _ in range(10):
            page = screen.wait_for_any("-- page", "-- end", "[exit")
            pages.append(page)
            if "[exit" in page:
                break
            screen.type("")
            screen.wait_gone(page)
    assert len(pages) >= 2                                 # it was paged at all
    showing = [page for page in pages if any(line in page for line in diagram)]
    assert showing and all(all(line in page for line in diagram) for page in showing)


@pytest.mark.parametrize("language", ["en", "id"])
def test_quiz_choices_are_shuffled_with_a_fixed_seed_and_the_explanation_stays(isolated_home, language):
    words = WORDS[language]
    questions = catalog.load_quiz("handshake", language)
    order = random.Random("42")
    expected = list(questions[0].choices)
    order.shuffle(expected)
    title = catalog.load_lesson("handshake", language).title
    with Screen(isolated_home, "quiz", "handshake", "--lang", language, PORTSCAN_LAB_SEED="42") as screen:
        first = screen.wait_for(words["answer"])
        shown = re.findall(r"^\s+([a-d])\) (.+)$", first, re.MULTILINE)
        assert [text[:25] for _letter, text in shown] == [text[:25] for text, _right in expected]
        right = "abcd"[[r for _t, r in expected].index(True)]
        screen.type("?")                                  # ? shows the lesson
        screen.wait_for(title)
        read_every_page(screen, words["answer"])
        screen.type(right)
        answered = screen.wait_for(words["next"])
        assert words["right"] in answered
        assert " ".join(questions[0].explanation.split()[:5]) in " ".join(answered.split())
        screen.type("q")


def test_first_run_without_a_language_asks_for_one(isolated_home):
    with Screen(isolated_home, LANG="C.UTF-8", LANGUAGE="") as screen:
        screen.wait_for("Pilih bahasa")
        screen.type("2")
        screen.wait_for("Pilihan Anda:")
        screen.type("0")
        screen.wait_for("[exit 0]")
    assert '"language": "id"' in (isolated_home / "progress.json").read_text()


@pytest.mark.parametrize("language", ["en", "id"])
def test_piped_input_still_runs_the_whole_walk_without_pauses(isolated_home, language):
    with Listener() as listener:
        script = "\n".join(["1", "127.0.0.1", f"1-20,{listener.port}", "0.5", "y", "", "3", "9", "", "5", "dns",
                            "a", "a", "a", "", "0"]) + "\n"
        chosen = ["--lang", "id"] if language == "id" else []   # en: nothing names a language, and no question
        done = subprocess.run([sys.executable, os.path.join(ROOT, "main.py"), *chosen], input=script,
                              capture_output=True, text=True, timeout=120,
                              env=program_env(isolated_home, LANG="C.UTF-8", LANGUAGE=""))
    out = done.stdout
    assert done.returncode == 0 and "Traceback" not in out + done.stderr
    assert "Pilih bahasa" not in out                      # no question a script cannot answer
    assert "-- page" not in out and "-- halaman" not in out and "(Enter:" not in out   # no pager, no pauses
    assert re.search(rf"{listener.port}/tcp\s+{WORDS[language]['open']}", out)
    assert WORDS[language]["meaning"] in out
    assert ("Goodbye" if language == "en" else "Sampai jumpa") in out


@pytest.mark.parametrize("columns", [20, 33])
def test_the_progress_bar_stays_on_one_line_in_a_narrow_window(isolated_home, columns):
    with FilteredPort() as filtered, Screen(isolated_home, "scan", "127.0.0.1", "-p", f"1-300,{filtered.port}",
                                            "--timeout", "1.5", width=columns, height=40) as screen:
        screen.wait_for("[exit")
        lines = screen.text(joined=True).splitlines()
    bars = [line for line in lines if line.startswith("[") and "/301" in line]
    assert len(bars) == 1, lines                          # redrawn in place: one line, never a scrolling column
    assert len(bars[0].rstrip()) < columns


NETWORK_WORDS = {
    "en": {"scan": "5  Scan the practice network", "up": "8 hosts up, 0 down", "map": "one row per host",
           "grading": "Checking your scan of the practice network", "web": "127.42.0.1 (web server) is up: right",
           "spare": "127.42.0.7 is up with nothing open: right", "match": "Every lab port matches"},
    "id": {"scan": "5  Pindai jaringan latihan", "up": "8 host aktif, 0 tidak aktif", "map": "satu baris per host",
           "grading": "Memeriksa pemindaian jaringan latihan", "web": "127.42.0.1 (server web) aktif: benar",
           "spare": "127.42.0.7 aktif tanpa port terbuka: benar", "match": "Semua port lab cocok"},
}


@pytest.mark.parametrize("language", ["en", "id"])
def test_practice_network_grading_is_read_screen_by_screen_at_80x24(isolated_home, language):
    words, net = WORDS[language], NETWORK_WORDS[language]
    screens = []
    with Screen(isolated_home, LANG=words["lang"], LANGUAGE="") as screen:
        screen.wait_for(words["choice"])
        open_the_lab(screen, words)
        screen.type("5")
        screen.wait_for("[y/N]")
        screen.type("y")
        screens = walk_to_the_save_question(screen, words)   # each pause is one screen
        screen.type("")
        screen.wait_for(net["scan"], words["choice"])
    assert words["save"] in screens[-1]
    assert any(net["up"] in page for page in screens)                        # the totals were on a screen
    assert any(net["map"] in page and "127.42.0.7 " in page and words["meaning"] in page for page in screens)
    grading = [page for page in screens if net["grading"] in page]
    assert grading and net["web"] in grading[0]                           # heading and first host together
    assert net["spare"] in screens[-1]                                    # the last host stays above the question
    assert sum(page.count(net["match"]) for page in screens) == 4         # every named host, each seen once
    assert all(len(page.splitlines()) <= 24 for page in screens)


LAB_WORDS = {
    "en": {"title": "Practice lab on 127.0.0.1", "menu": "1  Scan the practice lab",
           "grading": "Checking your scan against the lab's known answer", "udp": "And UDP:"},
    "id": {"title": "Lab latihan di 127.0.0.1", "menu": "1  Pindai lab latihan",
           "grading": "Memeriksa hasil pemindaian Anda dengan jawaban lab", "udp": "Lalu UDP:"},
}


def open_the_lab(screen, words) -> str:
    """Main menu 4: the lab's table waits for Enter (its title and first port on screen), then the lab menu."""
    language = "id" if words is WORDS["id"] else "en"
    screen.type("4")
    table = screen.wait_for(LAB_WORDS[language]["title"], "/tcp")
    last_page = ("-- end", "-- selesai", words["enter"])
    shown = screen.wait_for_any(*PAGER_PROMPTS)        # one page, or two when other labs hold its ports
    for _ in range(4):
        if any(prompt in shown for prompt in last_page):
            break
        screen.type("")
        screen.wait_gone(shown)
        shown = screen.wait_for_any(*PAGER_PROMPTS)
    screen.type("")
    screen.wait_for(LAB_WORDS[language]["menu"], words["choice"])
    return table


def walk_to_the_save_question(screen, words, most: int = 12) -> list:
    """Enter at every pause until the save question; every screen seen on the way."""
    screens = []
    # a scan's first pause or page (a "press Enter" above it may be an older one)
    shown = screen.wait_for_any("(Enter:", "-- page 1", "-- halaman 1")
    for _ in range(most):
        screens.append(shown)
        if words["save"] in shown:
            break
        screen.type("")
        screen.wait_gone(shown)
        shown = screen.wait_for_any(*PAGER_PROMPTS, "(Enter:", words["save"])
    return screens


@pytest.mark.parametrize("language", ["en", "id"])
def test_the_lab_table_and_its_grading_are_read_screen_by_screen_at_80x24(isolated_home, language):
    words, lab = WORDS[language], LAB_WORDS[language]
    with Screen(isolated_home, LANG=words["lang"], LANGUAGE="") as screen:
        screen.wait_for(words["choice"])
        table = open_the_lab(screen, words)              # the table's title was not pushed off by the menu
        assert re.search(r"^80\d\d/tcp ", table, re.MULTILINE)
        screen.type("1")
        screen.wait_for("[y/N]")
        screen.type("y")
        screens = walk_to_the_save_question(screen, words)
        screen.type("")
        screen.wait_for(lab["menu"], words["choice"])
        screen.type("2")                                 # "show what the lab holds": paged the same way
        screen.wait_for(lab["title"], "/tcp")
        screen.wait_for_any(*PAGER_PROMPTS)
    grading = [page for page in screens if lab["grading"] in page]
    assert grading and re.search(r"^- \d+/tcp ", grading[0], re.MULTILINE)   # the title with its first port
    udp = [page for page in screens if lab["udp"] in page]
    assert udp and len(re.findall(r"^  \d+/udp ", udp[0], re.MULTILINE)) == 2   # the UDP part is one piece
    assert all(len(page.splitlines()) <= 24 for page in screens)


def test_a_typo_at_the_first_language_question_gets_one_line_and_the_question_again(isolated_home):
    with Screen(isolated_home, LANG="C.UTF-8", LANGUAGE="") as screen:
        screen.wait_for("Pilih bahasa")
        screen.type("3")
        asked = screen.wait_for("'3': type 1 for English or 2 for Bahasa Indonesia / ketik 1 atau 2.")
        assert asked.count("Pilih bahasa") == 2
        screen.type("2")
        screen.wait_for("Pilihan Anda:")
        screen.type("0")
        screen.wait_for("[exit 0]")


QUIZ_WORDS = {"en": {"title": "Quiz: choose a lesson", "unknown": "There is no lesson 'nope'"},
              "id": {"title": "Kuis: pilih pelajaran", "unknown": "Tidak ada pelajaran 'nope'"}}


@pytest.mark.parametrize("language", ["en", "id"])
def test_the_quiz_list_fits_the_screen_and_a_wrong_name_stays_visible(isolated_home, language):
    words, quiz = WORDS[language], QUIZ_WORDS[language]
    last = len(catalog.lesson_ids(language))
    with Screen(isolated_home, LANG=words["lang"], LANGUAGE="") as screen:
        screen.wait_for(words["choice"])
        screen.type("5")
        listed = screen.wait_for(quiz["title"], words["library"])
        assert re.search(r"^\s+1  ", listed, re.MULTILINE) and re.search(rf"\s{last}  ", listed)   # first and last
        screen.type("nope")
        shown = screen.wait_for(quiz["unknown"], words["library"])
        assert quiz["title"] in shown                      # the one-line message, the list and the question
        screen.type("")
        screen.wait_for(words["choice"])


def test_at_60_columns_code_comments_and_pause_prompts_fold_between_words(isolated_home):
    with Screen(isolated_home, LANG="en_US.UTF-8", LANGUAGE="", width=60) as screen:
        screen.wait_for("Your choice:")
        screen.type("1")
        screen.wait_for("[1/4]")
        screen.type("")
        step = screen.wait_for("[2/4]")
        assert "this scanner')" in step                           # the heading folded, not cut mid-word
        assert "  # needed" in step                                  # a long comment goes on as a comment
        for answer in ("", "", "y"):
            screen.type(answer)
        paused = screen.wait_for("(Enter: watch one port")           # "(Enter:" never alone on its line
        assert all(len(line) < 60 for line in paused.splitlines())


def test_the_slow_motion_countdown_is_cut_between_words_in_a_narrow_window(isolated_home):
    # 62 columns: the countdown's room ends inside a word ("... 1.2 s le")
    with FilteredPort() as filtered, Screen(isolated_home, LANG="en_US.UTF-8", LANGUAGE="", width=62) as screen:
        screen.wait_for("Your choice:")
        for answer in ("1", "127.0.0.1", str(filtered.port), "2", "y"):
            screen.type(answer)
            time.sleep(0.3)
        screen.wait_for("(Enter: watch")
        screen.type("")
        countdown = re.compile(r"\)\)  +(no answer yet, )?\d\.\d s")
        seen = []
        for _ in range(100):
            seen = [line for line in screen.text().splitlines() if countdown.search(line)]
            if seen:
                break
            time.sleep(0.02)
        assert seen, "no countdown beside the silent probe"
        assert len(seen[0]) < 62 and seen[0].rstrip().endswith((" s", " left", "skips)")), seen[0]


@pytest.mark.parametrize("language", ["en", "id"])
def test_the_lab_command_shows_its_title_and_how_to_use_it_on_the_first_screen(isolated_home, language):
    running = {"en": "The lab is running.", "id": "Lab sedang berjalan."}[language]
    with Screen(isolated_home, "lab", "--lang", language, "--base-port", "0") as screen:
        first = screen.wait_for(LAB_WORDS[language]["title"].split(" 127")[0], running)
        assert re.search(r"^\d+/tcp ", first, re.MULTILINE)
        screen.wait_for_any(*PAGER_PROMPTS, "Ctrl+C")
        screen._tmux("send-keys", "-t", screen.name, "C-c")
        screen.wait_for("[exit 130]")   # Ctrl+C, as the README's exit codes say


def test_at_60_columns_the_lab_table_folds_and_its_title_stays_above_a_two_line_page_prompt(isolated_home):
    with Screen(isolated_home, LANG="id_ID.UTF-8", LANGUAGE="", width=60) as screen:
        screen.wait_for("Pilihan Anda:")
        screen.type("4")
        first = screen.wait_for("Lab latihan di 127.0.0.1", "-- halaman 1 dari")
        assert first.splitlines()[0].startswith("Lab latihan di 127.0.0.1")      # nothing pushed off the top
        assert re.search(r"^ {34}\S", first, re.MULTILINE)                       # the last column folds under itself


def test_at_60_columns_a_lesson_page_keeps_its_title_above_the_folded_page_prompt(isolated_home):
    title = catalog.load_lesson("firewalls", "id").title
    number = catalog.lesson_ids("id").index("firewalls") + 1
    with Screen(isolated_home, LANG="id_ID.UTF-8", LANGUAGE="", width=60) as screen:
        screen.wait_for("Pilihan Anda:")
        screen.type("3")
        screen.wait_for(WORDS["id"]["library"])
        screen.type(str(number))
        page = screen.wait_for("-- halaman 1 dari")
        assert page.splitlines()[0].startswith(title), page


def test_a_quiz_left_with_q_says_so_below_the_redrawn_list(isolated_home):
    with Screen(isolated_home, LANG="en_US.UTF-8", LANGUAGE="") as screen:
        screen.wait_for("Your choice:")
        screen.type("5")
        screen.wait_for(QUIZ_WORDS["en"]["title"])
        screen.type("handshake")
        screen.wait_for(WORDS["en"]["answer"])
        screen.type("q")
        shown = screen.wait_for("Quiz stopped.", WORDS["en"]["library"])
        assert QUIZ_WORDS["en"]["title"] in shown
