"""The lesson catalogue: lesson and quiz files on disk, found by id and language.

Keeping lessons as data (like rustlings keeps its exercises in ``info.toml``) means a
teacher can fix a sentence without touching code, a translator can add a language by
adding a folder, and a test can check that every lesson a menu step refers to exists.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import List, Optional

from scanner.inputs import whole_number

CONTENT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "content")
LANGUAGES = ("en", "id")          # a language is a folder of content/
DEFAULT_LANGUAGE = "en"

# The order a learner meets them in the lessons library: ethics right after the
# introduction, what to type as a target, then what a first scan shows and how to check
# it (reading-results, practice-lab) before the socket calls behind it; the simple scanner
# (errors) before the engine (scanner-internals); every term explained before a later
# lesson relies on it.
LESSON_ORDER = (
    "intro", "ethics", "targets", "ports", "handshake", "port-states", "reading-results", "practice-lab",
    "sockets", "address-families", "socket-types", "dns", "client-server", "server-side", "timeouts",
    "errors", "retransmission", "banners", "threading", "scanner-internals", "tcp-states", "networks",
    "local-network", "firewalls", "firewall-lab", "udp-scanning", "unexpected-open-port", "packet-capture",
    "wireshark", "nmap", "platforms",
)


@dataclass(frozen=True)
class Lesson:
    id: str
    language: str
    title: str
    body: str  # the Markdown-subset text after the title line


@dataclass(frozen=True)
class Question:
    text: str
    choices: tuple          # (text, is_right) pairs; empty for a short-answer question
    answers: tuple          # accepted short answers, lower case
    explanation: str
    screen_lines: tuple = ()  # "| " lines: a screen quoted exactly, shown under the question

    @property
    def is_short_answer(self) -> bool:
        return not self.choices


class LessonNotFound(LookupError):
    pass


def lesson_path(lesson_id: str, language: str, suffix: str = ".md") -> str:
    return os.path.join(CONTENT_DIR, language, lesson_id + suffix)


def lesson_ids(language: str = DEFAULT_LANGUAGE) -> List[str]:
    """Known lessons in teaching order (files not in LESSON_ORDER come last, sorted)."""
    folder = os.path.join(CONTENT_DIR, language)
    found = {name[:-3] for name in os.listdir(folder) if name.endswith(".md")}
    ordered = [lesson for lesson in LESSON_ORDER if lesson in found]
    return ordered + sorted(found - set(ordered))


def load_lesson(lesson_id: str, language: str = DEFAULT_LANGUAGE) -> Lesson:
    if not lesson_id.replace("-", "").isalnum():
        raise LessonNotFound(lesson_id)
    path = lesson_path(lesson_id, language)
    if not os.path.exists(path):
        path = lesson_path(lesson_id, DEFAULT_LANGUAGE)
    try:
        with open(path, encoding="utf-8") as stream:
            text = stream.read()
    except OSError:
        raise LessonNotFound(lesson_id) from None
    first, _, body = text.partition("\n")
    return Lesson(lesson_id, language, first.lstrip("#").strip(), body.strip("\n"))


def load_quiz(lesson_id: str, language: str = DEFAULT_LANGUAGE) -> List[Question]:
    path = lesson_path(lesson_id, language, ".quiz")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as stream:
        return parse_quiz(stream.read())


def parse_quiz(text: str) -> List[Question]:
    questions = []
    for block in text.strip().split("\n\n"):
        question, choices, answers, explanation, screen = "", [], [], "", []
        for line in block.strip().splitlines():
            marker, _, rest = line.partition(" ")
            if marker == "|":
                screen.append(rest.rstrip())  # kept as printed: columns matter
                continue
            rest = rest.strip()
            if marker == "?":
                question = rest
            elif marker in ("+", "-"):
                choices.append((rest, marker == "+"))
            elif marker == "~":
                answers.extend(a.strip().lower() for a in rest.split("|") if a.strip())
            elif marker == "=":
                explanation = rest
        if question:
            questions.append(Question(question, tuple(choices), tuple(answers), explanation, tuple(screen)))
    return questions


def find_lesson(name: str, language: str = DEFAULT_LANGUAGE) -> Optional[str]:
    """A lesson id from what the learner typed: an id, a number in the list, or a unique prefix."""
    ids = lesson_ids(language)
    name = name.strip().lower()
    if name in ids:
        return name
    number = whole_number(name, max_digits=3)
    if number is not None and 1 <= number <= len(ids):
        return ids[number - 1]
    matches = [lesson for lesson in ids if lesson.startswith(name)] if name else []
    return matches[0] if len(matches) == 1 else None
