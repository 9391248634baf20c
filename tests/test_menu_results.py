"""The menu's results: the engine's notes, the host-by-host network results, and saving a report."""

import io
import json

from lessons.ui.app import App
from lessons.ui.i18n import Translator
from lessons.ui.screens import main_menu, results
from lessons.ui.terminal import Environment
from scanner.results import PortResult, PortState, Reason, ScanReport, Target
from tests.servers import Listener


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


def run_menu(lines):
    stdout = io.StringIO()
    env = Environment(stdin=io.StringIO("".join(line + "\n" for line in lines)), stdout=stdout, colour=False)
    assert main_menu.run(App(env, Translator("en"))) == 0
    return stdout.getvalue()


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


def test_a_wrong_save_choice_is_quoted_as_typed():
    menu, out = scripted("en", ["X", ""])
    results.offer_save(menu, lossy_report(retried=0))
    assert "'X' is not one of t, j, c" in out.getvalue()


def test_indonesian_network_results_gloss_why_a_host_is_up(tmp_path):
    menu, out = scripted("id", ["1", "127.0.0.1-2", "1-20", "0,3", "y", "", "0"])
    main_menu.run(menu)
    screen = out.getvalue()
    assert "Host 127.0.0.1 aktif (conn-refused (ditolak), dari port 22)" in screen


def test_a_nul_in_the_report_file_name_is_asked_again(tmp_path):
    with Listener() as listener:
        screen = run_menu(["2", "127.0.0.1", str(listener.port), "0.5", "y", "j", "bad\x00name.json",
                           "j", str(tmp_path / "ok.json"), "0"])
    assert "Could not write" in screen
    assert json.loads((tmp_path / "ok.json").read_text())["ports"][0]["port"] == listener.port
