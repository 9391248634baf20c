"""The lesson catalogue: every lesson a screen refers to exists, is not empty, and renders."""

import json
import os
import re

import pytest

from lessons import catalog
from lessons.ui.i18n import CONTENT_DIR, LANGUAGES
from lessons.ui.app import App
from lessons.ui.screens import walk
from lessons.render import lesson_pages, render_lesson, split_pages
from lessons.ui.terminal import Environment
from lessons.ui.i18n import Translator

# Lessons named outside the step table: shown during the scan or pointed to by the results.
LESSONS_NAMED_BY_SCREENS = {"handshake", "threading", "port-states", "reading-results", "unexpected-open-port",
                            "server-side",
                            "ethics"}


def _menu_step_lessons():
    return {step.lesson for step in walk.steps(App(Environment(), Translator()))}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_lesson_a_screen_names_exists_and_is_not_empty(language):
    for lesson_id in sorted(_menu_step_lessons() | LESSONS_NAMED_BY_SCREENS):
        path = catalog.lesson_path(lesson_id, language)
        assert os.path.exists(path), f"{language}/{lesson_id}.md is missing"
        lesson = catalog.load_lesson(lesson_id, language)
        assert lesson.title and len(lesson.body.split()) > 30, f"{language}/{lesson_id} is empty"


def test_ui_strings_name_only_existing_lessons():
    for language in LANGUAGES:
        if not os.path.exists(os.path.join(CONTENT_DIR, language, "ui.json")):
            continue
        strings = json.load(open(os.path.join(CONTENT_DIR, language, "ui.json"), encoding="utf-8"))
        for key, text in strings.items():
            for lesson_id in re.findall(r"'([a-z]+(?:-[a-z]+)+|ethics|ports|dns|intro|errors)'", text):
                if lesson_id in catalog.LESSON_ORDER:
                    assert os.path.exists(catalog.lesson_path(lesson_id, language)), (key, lesson_id)


SCREEN_LINES = 22      # FORMAT.md: a page fits an 80x24 screen with room for a prompt
TEXT_WIDTH = 78        # the renderer wraps at width - 2 = 76 columns
FENCED_WIDTH = 72      # code and diagrams are never wrapped


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_lesson_file_follows_the_format_and_every_page_fits_a_screen(language):
    env = Environment(width=TEXT_WIDTH)
    for lesson_id in catalog.lesson_ids(language):
        with open(catalog.lesson_path(lesson_id, language), encoding="utf-8") as stream:
            text = stream.read()
        assert text.startswith("# "), lesson_id
        lesson = catalog.load_lesson(lesson_id, language)
        for number, page in enumerate(split_pages(lesson.body), 1):
            assert page.count("```") % 2 == 0, f"{language}/{lesson_id} page {number}: a break inside a fence"
        for number, lines in enumerate(lesson_pages(lesson, env), 1):
            assert all(len(line) <= 80 for line in lines), (language, lesson_id, number)
            assert len(lines) <= SCREEN_LINES, \
                f"{language}/{lesson_id} page {number} is longer than a screen ({len(lines)} lines)"
        for block in re.findall(r"^```[a-z]*\n(.*?)^```", text, re.S | re.M):
            wide = [line for line in block.splitlines() if len(line) > FENCED_WIDTH]
            assert not wide, (language, lesson_id, wide)


def test_every_lesson_is_registered_and_has_the_same_pages_in_both_languages():
    env = Environment(width=TEXT_WIDTH)
    for language in LANGUAGES:
        assert catalog.lesson_ids(language) == list(catalog.LESSON_ORDER), language
    for lesson_id in catalog.LESSON_ORDER:
        pages = {language: len(split_pages(catalog.load_lesson(lesson_id, language).body)) for language in LANGUAGES}
        assert len(set(pages.values())) == 1, (lesson_id, pages)
        assert all(render_lesson(catalog.load_lesson(lesson_id, language), env) for language in LANGUAGES)


def test_ethics_comes_right_after_the_introduction():
    assert catalog.LESSON_ORDER[:2] == ("intro", "ethics")


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_python_block_compiles(language):
    for lesson_id in catalog.lesson_ids(language):
        text = open(catalog.lesson_path(lesson_id, language), encoding="utf-8").read()
        for number, block in enumerate(re.findall(r"^```python\n(.*?)^```", text, re.S | re.M), 1):
            compile(block, f"{language}/{lesson_id}.md block {number}", "exec")


def test_the_python_blocks_are_the_same_code_in_both_languages():
    """Comments may be translated; the code itself may not drift apart."""
    def code_of(lesson_id, language):
        text = open(catalog.lesson_path(lesson_id, language), encoding="utf-8").read()
        blocks = re.findall(r"^```python\n(.*?)^```", text, re.S | re.M)
        return [[re.sub(r"\s*#.*$", "", line).rstrip() for line in block.splitlines()] for block in blocks]
    for lesson_id in catalog.LESSON_ORDER:
        english = code_of(lesson_id, "en")
        for language in LANGUAGES:
            translated = code_of(lesson_id, language)
            for en_block, other in zip(english, translated):
                # print() texts are translated too: compare the lines that print nothing.
                assert [l for l in en_block if "print(" not in l] == [l for l in other if "print(" not in l], \
                    (language, lesson_id)
            assert len(translated) == len(english), (language, lesson_id)


def test_the_scanner_internals_steps_run_as_one_script(tmp_path):
    """The lesson's fast_scan code really works (on loopback port 1, which nothing listens on here)."""
    text = open(catalog.lesson_path("scanner-internals", "en"), encoding="utf-8").read()
    start, collect = re.findall(r"^```python\n(.*?)^```", text, re.S | re.M)[1:3]
    start = start.replace("range(1, 1025)", "[1]")
    namespace = {}
    exec(compile(start + collect.replace("print(states)", ""), "scanner-internals", "exec"), namespace)
    assert set(namespace["states"]) == {1}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_lesson_has_a_quiz_with_answerable_questions(language):
    for lesson_id in catalog.lesson_ids(language):
        questions = catalog.load_quiz(lesson_id, language)
        assert questions, f"{language}/{lesson_id}.quiz is missing or empty"
        for question in questions:
            assert question.explanation, (lesson_id, question.text)
            if question.is_short_answer:
                assert question.answers, (lesson_id, question.text)
            else:
                assert sum(right for _text, right in question.choices) == 1, (lesson_id, question.text)


def test_seed_concepts_are_taught():
    """Every concept from ../shared/seeds appears in the English catalogue."""
    text = " ".join(open(catalog.lesson_path(i, "en"), encoding="utf-8").read().lower()
                    for i in catalog.lesson_ids("en"))
    for concept in ["physical", "well-known", "registered", "ephemeral", "bsd", "af_inet6", "af_packet",
                    "pf_packet", "sock_stream", "sock_dgram", "syn-ack", "rst", "bind", "listen", "accept",
                    "connect", "gethostbyname", "getaddrinfo", "gaierror", "settimeout", "thread",
                    "keyboardinterrupt", "connectionrefusederror", "oserror", "socket.error", "permission",
                    "written", "udp", "filtered", "firewall", "library", "python 2", "''"]:
        assert concept in text, f"no lesson teaches {concept!r}"


def test_renderer_wraps_paragraphs_and_keeps_code():
    env = Environment(width=40)
    lines = catalog.Lesson("x", "en", "T", "word " * 30 + "\n\n```python\n" + "x" * 60 + "\n```\n- a `b` c")
    rendered = render_lesson(lines, env)
    assert rendered[0] == "T"
    assert "  " + "x" * 60 in rendered  # code is never wrapped
    assert "- a b c" in rendered        # inline code marks vanish without colour
    assert all(len(line) <= 40 for line in rendered if "x" * 60 not in line)


def test_the_networks_lesson_matches_discovery_and_the_address_cap():
    """The lesson shown for network targets states what scanner.discovery and scanner.inputs really do."""
    from scanner.discovery import DISCOVERY_PORTS
    from scanner.inputs import DEFAULT_MAX_HOSTS, MAX_HOSTS_LIMIT
    for language in LANGUAGES:
        body = catalog.load_lesson("networks", language).body
        assert all(str(port) in body for port in DISCOVERY_PORTS), language
        assert str(DEFAULT_MAX_HOSTS) in body and str(MAX_HOSTS_LIMIT) in body, language
        assert "--no-ping" in body and "--max-hosts" in body, language
    order = catalog.LESSON_ORDER
    assert order.index("ethics") < order.index("dns") < order.index("networks")
    # issue 18: checking a first scan against the lab comes early; the lab lesson points ahead to networks
    assert order.index("practice-lab") < order.index("sockets") and order.index("errors") < order.index("scanner-internals")


def _diagram_lines(text):
    return [line for block in re.findall(r"```diagram\n(.*?)```", text, re.S) for line in block.splitlines()]


def test_indonesian_lessons_quote_the_indonesian_screens():
    """Quoted output uses the decimal comma and the reason texts the Indonesian screens print."""
    for lesson_id in catalog.lesson_ids("id"):
        lines = _diagram_lines(open(catalog.lesson_path(lesson_id, "id"), encoding="utf-8").read())
        for line in lines:
            assert not re.search(r"\d\.\d+ detik", line), f"id/{lesson_id}: {line!r} (the screen prints 0,01 detik)"
            for reason, shown in (("syn-ack", "syn-ack (dijawab)"), ("no-response", "no-response (tanpa jawaban)")):
                if re.match(r"\d+/(tcp|udp) ", line) and line.rstrip().endswith(reason):
                    pytest.fail(f"id/{lesson_id}: {line!r} (the screen prints {shown!r})")


def test_practice_lab_lesson_names_the_network_and_its_menu_entry():
    for language in LANGUAGES:
        text = open(catalog.lesson_path("practice-lab", language), encoding="utf-8").read()
        assert "127.42.0.0/29" in text and "127.42.0.4" in text, language
        tr = Translator(language)
        assert tr.t("lab.menu.network") in text and " 5 " in text, language
