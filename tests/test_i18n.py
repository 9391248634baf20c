"""English and Bahasa Indonesia stay at full parity, and Indonesian screens are Indonesian."""

import io
import json
import os
import re
import string
import subprocess
import sys

import pytest

from lessons import catalog
from lessons.ui.i18n import CONTENT_DIR, LANGUAGES, Translator, language_from_environment, load_strings
from lessons.ui.app import App
from lessons.ui.screens import main_menu
from lessons.ui.terminal import Environment
from scanner.errors import ENGLISH_MESSAGES
from tests.conftest import ROOT, program_env
from tests.servers import Listener


def placeholders(text):
    return sorted(name for _, name, _, _ in string.Formatter().parse(text) if name) + \
        sorted(re.findall(r"%\(?\w*\)?[sr]", text))


def test_ui_strings_have_the_same_keys_and_placeholders_in_every_language():
    english = load_strings("en")
    for language in LANGUAGES:
        strings = load_strings(language)
        assert set(strings) == set(english), f"{language}: {sorted(set(strings) ^ set(english))}"
        for key, text in strings.items():
            assert text.strip(), (language, key)
            assert placeholders(text) == placeholders(english[key]), (language, key)


def test_every_scanner_error_has_a_message_in_every_language():
    for language in LANGUAGES:
        strings = load_strings(language)
        for code in ENGLISH_MESSAGES:
            assert "error." + code in strings, (language, code)


def test_every_lesson_and_quiz_exists_in_every_language_with_the_same_answers():
    files = {language: sorted(os.listdir(os.path.join(CONTENT_DIR, language))) for language in LANGUAGES}
    assert files["id"] == files["en"]
    for lesson_id in catalog.lesson_ids("en"):
        english = catalog.load_quiz(lesson_id, "en")
        indonesian = catalog.load_quiz(lesson_id, "id")
        assert len(english) == len(indonesian), lesson_id
        for en_q, id_q in zip(english, indonesian):
            assert [right for _t, right in en_q.choices] == [right for _t, right in id_q.choices], lesson_id
            assert en_q.is_short_answer == id_q.is_short_answer, lesson_id


def english_sentences():
    """Fragments of the English UI that must never appear on an Indonesian screen."""
    fragments = set()
    indonesian = set(load_strings("id").values())
    for key, text in load_strings("en").items():
        if text in indonesian or key.startswith("argparse."):
            continue  # identical in both (e.g. a bare technical word)
        for piece in re.split(r"\{[^}]*\}|%\(?\w*\)?[sr]", text):
            words = re.findall(r"[A-Za-z']+", piece)
            if len(words) >= 4:
                fragments.add(piece.strip(" .,:;()[]"))
    return fragments


def assert_no_english(screen):
    leaked = [fragment for fragment in english_sentences() if fragment and fragment in screen]
    assert not leaked, leaked


def test_indonesian_menu_screens_show_no_english_sentences(tmp_path):
    with Listener() as listener:
        script = ["1", "127.0.0.1", "80-20", str(listener.port), "abc", "0.5", "y", "j", str(tmp_path / "r.json"),
                  "3", "1", "", "5", "ports", "a", "x", "16", "c", "", "6", "4", "n", "0", "9", "0"]
        stdin = io.StringIO("".join(line + "\n" for line in script))
        stdout = io.StringIO()
        env = Environment(stdin=stdin, stdout=stdout, colour=False, language="id")
        assert main_menu.run(App(env, Translator("id"))) == 0
    screen = stdout.getvalue()
    assert "Pilihan Anda" in screen or "pilihan" in screen.lower()
    assert "terbuka" in screen
    assert_no_english(screen)
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["consent"]["statement"] == load_strings("id")["consent.statement"]


@pytest.mark.parametrize("args", [["--help"], ["scan", "--help"], ["scan", "http://example.com"],
                                  ["scan", "127.0.0.1", "-p", "0"], ["scan", "127.0.0.1", "--timeout", "x"],
                                  ["scan"], ["lesson", "nosuch"], ["lessons"],
                                  ["scan", "127.0.0.1", "-p", "1-20"]])
@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_indonesian_command_line_shows_no_english_sentences(isolated_home, args):
    result = subprocess.run([sys.executable, os.path.join(ROOT, "main.py"), "--lang", "id", *args],
                            capture_output=True, text=True, env=program_env(isolated_home), timeout=60)
    screen = result.stdout + result.stderr
    assert "Traceback" not in screen
    assert_no_english(screen)


def test_language_comes_from_the_environment():
    assert language_from_environment({"LANG": "id_ID.UTF-8"}) == "id"
    assert language_from_environment({"LC_ALL": "id_ID.UTF-8", "LANG": "en_US.UTF-8"}) == "id"
    assert language_from_environment({"LANG": "de_DE.UTF-8"}) == "en"
    assert language_from_environment({}) == "en"


def test_lang_environment_variable_switches_the_whole_program(isolated_home):
    result = subprocess.run([sys.executable, os.path.join(ROOT, "main.py"), "lesson", "handshake"],
                            capture_output=True, text=True, env=program_env(isolated_home, LANG="id_ID.UTF-8"))
    assert "Jabat tangan tiga arah" in result.stdout


def test_language_setting_is_saved_from_the_menu(isolated_home):
    stdout = io.StringIO()
    env = Environment(stdin=io.StringIO("6\n1\nxx\nid\n0\n0\n"), stdout=stdout, colour=False)
    main_menu.run(App(env, Translator("en")))
    assert "Unknown language 'xx'" in stdout.getvalue()
    result = subprocess.run([sys.executable, os.path.join(ROOT, "main.py"), "lessons"],
                            capture_output=True, text=True, env=program_env(isolated_home))
    assert "Apa itu pemindai port?" in result.stdout
