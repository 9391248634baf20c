"""Findings of a review of the menu as a learner meets it, each pinned by a scripted test.

(The visible-screen ones are in ``test_screen_tmux.py``.)
"""

import io

from lessons.ui.i18n import Translator
from lessons.ui.app import App
from lessons.ui.screens import code, main_menu, results, slow_motion
from lessons.ui.terminal import Environment
from scanner.results import PortResult, PortState, Reason, ScanReport, Target


def scripted(language="en", lines=()):
    stdout = io.StringIO()
    env = Environment(stdin=io.StringIO("".join(line + "\n" for line in lines)), stdout=stdout, stderr=stdout,
                      colour=False, language=language)
    return App(env, Translator(language)), stdout


def lossy_report(retried=3, rate=None) -> ScanReport:
    target = Target("127.0.0.1", "127.0.0.1", "127.0.0.1", 2)
    results = [PortResult(port, PortState.CLOSED, Reason.CONN_REFUSED) for port in range(1, 21)]
    return ScanReport(target, tuple(range(1, 21)), results, "0.5", 0.5, 100, "2026-01-01T00:00:00+00:00", 0.1,
                      True, retried=retried, rate_limit_per_second=rate)


def test_the_menu_says_what_the_engine_noticed_after_the_summary_like_the_command_line():
    for language, retry_words, rate_words in (("en", "3 ports answered only on a retry", "~500 RSTs"),
                                              ("id", "3 port baru menjawab", "~500")):
        menu, out = scripted(language)
        results.show_results(menu, lossy_report(retried=3, rate=500), teach=False)
        screen = " ".join(out.getvalue().split())
        assert retry_words in screen and rate_words in screen, screen
        summary = screen.index("(0 open" if language == "en" else "(0 terbuka")
        assert summary < screen.index(retry_words)


def test_a_clean_scan_gets_no_engine_note():
    menu, out = scripted()
    results.show_results(menu, lossy_report(retried=0), teach=False)
    assert "retry" not in out.getvalue() and "RSTs" not in out.getvalue()


def test_no_screen_text_says_port_s_or_probe_s():
    import json
    import os

    from tests.conftest import ROOT

    for language in ("en", "id"):
        with open(os.path.join(ROOT, "lessons", "content", language, "ui.json"), encoding="utf-8") as handle:
            strings = json.load(handle)
        assert not [key for key, value in strings.items() if "(s)" in value], language


def test_network_slow_motion_replays_the_host_that_shows_the_most_kinds_of_port():
    import socket

    import pytest

    from tests.servers import Listener

    try:
        second = Listener("127.0.0.2")
    except OSError as error:
        pytest.skip(f"127.0.0.2 is not usable here ({error})")
    quiet = socket.socket()   # a full accept queue on 127.0.0.2: its SYNs are dropped, like a firewall's
    fillers = []
    with Listener() as first, second:
        try:
            quiet.bind(("127.0.0.2", 0))
            quiet.listen(0)
            for _ in range(2):
                filler = socket.socket()
                filler.setblocking(False)
                filler.connect_ex(("127.0.0.2", quiet.getsockname()[1]))
                fillers.append(filler)
            silent = quiet.getsockname()[1]
            ports = sorted({first.port, second.port, silent})
            menu, out = scripted("en", ["1", "127.0.0.1-2", ",".join(map(str, ports)), "0.3", "y", "", "0"])
            main_menu.run(menu)
        finally:
            for sock in fillers + [quiet]:
                sock.close()
    screen = out.getvalue()
    assert "Replayed on one of the 2 hosts that are up: 127.0.0.2." in screen   # open, closed and filtered there
    assert f"s.connect_ex(('127.0.0.2', {silent}))  # -> 11 EAGAIN" in screen


def test_a_wrong_save_choice_is_quoted_as_typed():
    menu, out = scripted("en", ["X", ""])
    results.offer_save(menu, lossy_report(retried=0))
    assert "'X' is not one of t, j, c" in out.getvalue()


def test_an_instant_answer_is_not_said_to_take_no_time():
    for language, expected in (("en", "< 0.1 ms"), ("id", "< 0,1 ms")):
        menu, _out = scripted(language)
        assert slow_motion.duration(menu, 0.00001) == expected
        assert slow_motion.duration(menu, 0.0003) == ("0.3 ms" if language == "en" else "0,3 ms")


def test_show_the_code_names_the_engine_lesson_by_number_and_title_in_the_learners_language():
    from lessons import catalog

    for language, title in (("en", "Inside this scanner"), ("id", "Di dalam pemindai ini")):
        menu, out = scripted(language)
        code.show_code(menu, ["s.settimeout(0.5)"])
        number = catalog.lesson_ids(language).index("scanner-internals") + 1
        assert f"{number}, '{title}')" in out.getvalue()
        assert "'scanner-internals'" not in out.getvalue()


def test_indonesian_network_results_gloss_why_a_host_is_up(tmp_path):
    menu, out = scripted("id", ["1", "127.0.0.1-2", "1-20", "0,3", "y", "", "0"])
    main_menu.run(menu)
    screen = out.getvalue()
    assert "Host 127.0.0.1 aktif (conn-refused (ditolak), dari port 22)" in screen


def test_quiz_answers_keep_the_symbols_of_arithmetic():
    from lessons.quiz import normalise_answer

    assert normalise_answer("SYN-ACK.") == normalise_answer("syn ack") == "synack"
    assert normalise_answer("2^16-1") != normalise_answer("2161")
    assert normalise_answer(" 2^16 - 1 ") == normalise_answer("2^16-1")


def test_scripted_answers_are_echoed_clipped_and_without_escapes():
    import io

    from lessons.ui.terminal import Environment

    out = io.StringIO()
    env = Environment(stdin=io.StringIO("\x1b]52;c;aGk=\x07127.0.0.1" + "x" * 5000 + "\n"), stdout=out)
    answer = env.read_line("Host: ")
    assert answer.startswith("\x1b]52")                 # the program itself sees what was typed
    echoed = out.getvalue()
    assert "\x1b" not in echoed and "\x07" not in echoed and len(echoed) < 300
