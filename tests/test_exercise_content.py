"""The exercises as data: both languages complete, pages that fit 80x24, starters that match, hints that exist.

Every file of an exercise folder that belongs to one language has its twin in the other
(``task.en.md``/``task.id.md``, ``hints.en.txt``/``hints.id.txt``, ``starter.py``/``starter.id.py``);
the two starters are the same program (only comments and docstrings differ), and every mistake a
check can name has its hint in both ``ui-exercises.json`` files.
"""

import ast
import json
import re

import pytest

from lessons import catalog
from lessons.exercises import all_exercises
from lessons.exercises.catalog import PRACTICE_AFTER, folder_files
from lessons.ui.i18n import Translator, load_strings
from lessons.render import lesson_blocks, split_pages
from lessons.ui.terminal import Environment
from tests.test_glossary import glossary_rows, rejected_pattern, without_code

EXERCISES = all_exercises()
TWINS = {"task.en.md": "task.id.md", "hints.en.txt": "hints.id.txt", "starter.py": "starter.id.py"}
SHARED = {"solution.py", "check.json"}
BUILT_IN_MISTAKES = {"not_written", "hung", "their_error", "processes", "missing_function", "not_run",
                     "wrong_answer", "result_shape", "extra_ports", "summary", "not_in_order", "resolve_shape",
                     "wrong_address", "error_message", "banner_text", "banner_bytes", "unbounded_threads",
                     "too_slow", "too_many_sockets"}
PROBLEMS = {"timeout", "crashed", "syntax", "missing_module", "load", "exit", "processes", "targets"}


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.folder_name)
def test_every_language_has_every_file_the_other_has(exercise):
    names = set(folder_files(exercise))
    for english, indonesian in TWINS.items():
        assert english in names and indonesian in names, (exercise.folder_name, english, indonesian)
    assert names == set(TWINS) | set(TWINS.values()) | SHARED, names


def _program(source):
    """The starter's code without comments and docstrings (ast drops comments by itself)."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(getattr(body[0], "value", None), ast.Constant) and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree)


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.folder_name)
def test_both_starters_are_the_same_program(exercise):
    assert _program(exercise.starter("en")) == _program(exercise.starter("id"))
    compile(exercise.solution(), exercise.file_name, "exec")


@pytest.mark.parametrize("language", ["en", "id"])
@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.folder_name)
def test_task_pages_fit_the_screen_and_hints_exist(exercise, language):
    title, body = exercise.task(language)
    assert title.startswith("Exercise " if language == "en" else "Latihan ")
    env = Environment(width=78)
    pages = [[]]
    for block in lesson_blocks(catalog.Lesson(exercise.id, language, title, body), env):
        if block.kind == "page":
            pages.append([])
        else:
            pages[-1].extend(block.lines)
    assert all(len(page) <= 22 for page in pages), [len(page) for page in pages]
    assert all(len(line) <= 76 for page in pages for line in page)
    assert len(split_pages(body)) == len(split_pages(exercise.task("en")[1]))
    for block in re.findall(r"```python\n(.*?)```", body, flags=re.S):
        assert all(len(line) <= 72 for line in block.splitlines())
    assert len(exercise.hints(language)) == len(exercise.hints("en")) >= 2


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.folder_name)
def test_every_mistake_and_lesson_a_check_names_exists(exercise):
    spec = exercise.check_spec()
    lessons = set(catalog.lesson_ids("en"))
    assert spec["lesson"] in lessons
    named = {code for case in spec["cases"] for code in case.get("mistakes", {}).values()} | set(spec.get("hints", {}))
    for language in ("en", "id"):
        strings = load_strings(language)
        for code in named | BUILT_IN_MISTAKES:
            assert f"exercise.hint.{code}" in strings, (language, code)
        for problem in PROBLEMS:
            assert f"exercise.problem.{problem}" in strings
    assert set(spec.get("hints", {}).values()) <= lessons


def test_both_languages_have_the_same_exercise_strings():
    english = json.load(open("lessons/content/en/ui-exercises.json", encoding="utf-8"))
    indonesian = json.load(open("lessons/content/id/ui-exercises.json", encoding="utf-8"))
    assert set(english) == set(indonesian)
    for key, text in english.items():
        assert re.findall(r"\{(\w+)\}", text) == re.findall(r"\{(\w+)\}", indonesian[key]), key


def test_indonesian_exercise_pages_use_the_glossary_words():
    rejected = [spelling for _english, _chosen, spellings in glossary_rows() for spelling in spellings]
    for exercise in EXERCISES:
        prose = without_code("\n".join(exercise.task("id")))
        for spelling in rejected:
            assert not rejected_pattern(spelling).search(prose), (exercise.folder_name, spelling)


def test_the_translator_finds_every_exercise_title():
    assert Translator("id").t("exercises.menu_entry") == "Tulis pemindai Anda sendiri"


def test_every_lesson_that_names_an_exercise_exists():
    lessons = set(catalog.lesson_ids("en"))
    assert set(PRACTICE_AFTER) <= lessons
    assert set(PRACTICE_AFTER.values()) == set(range(1, 10))
