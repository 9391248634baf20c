"""The lesson catalogue: every lesson a screen refers to exists, is not empty, and renders."""

import json
import os
import re

import pytest

from lessons import catalog
from lessons.i18n import CONTENT_DIR, LANGUAGES
from lessons.menu import Menu
from lessons.render import render_lesson
from lessons.terminal import Environment
from lessons.i18n import Translator

# Lessons named outside the step table: shown during the scan or pointed to by the results.
LESSONS_NAMED_BY_SCREENS = {"handshake", "threading", "port-states", "reading-results", "unexpected-open-port",
                            "server-side",
                            "ethics"}


def _menu_step_lessons():
    return {step.lesson for step in Menu(Environment(), Translator()).steps()}


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


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_lesson_file_follows_the_format_and_fits_a_screen(language):
    env = Environment(width=80)
    for lesson_id in catalog.lesson_ids(language):
        with open(catalog.lesson_path(lesson_id, language), encoding="utf-8") as stream:
            text = stream.read()
        assert text.startswith("# "), lesson_id
        assert text.count("```") % 2 == 0, f"{lesson_id}: unclosed fence"
        lines = render_lesson(catalog.load_lesson(lesson_id, language), env)
        assert all(len(line) <= 80 for line in lines), lesson_id
        assert len(lines) <= 26, f"{language}/{lesson_id} is longer than a screen ({len(lines)} lines)"


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
