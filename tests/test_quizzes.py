"""Quizzes teach: no question asked twice, the same answers in both languages, nothing right on one OS only."""

import re
from difflib import SequenceMatcher

import pytest

from lessons import catalog
from lessons.ui.i18n import LANGUAGES


def _normalised(text):
    return " ".join(re.findall(r"[a-z0-9_]+", text.lower()))


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_quiz_parses_and_every_question_is_answerable(language):
    for lesson_id in catalog.LESSON_ORDER:
        questions = catalog.load_quiz(lesson_id, language)
        assert len(questions) >= 3, (language, lesson_id)
        for question in questions:
            assert question.text and question.explanation, (language, lesson_id)
            if question.is_short_answer:
                assert question.answers, (language, lesson_id, question.text)
            else:
                assert len(question.choices) >= 3, (language, lesson_id, question.text)
                assert sum(right for _text, right in question.choices) == 1, (language, lesson_id, question.text)


@pytest.mark.slow   # a few seconds: left out of the quick loop
@pytest.mark.parametrize("language", LANGUAGES)
def test_no_question_is_asked_in_two_lessons(language):
    seen = []
    for lesson_id in catalog.LESSON_ORDER:
        for question in catalog.load_quiz(lesson_id, language):
            text = _normalised(question.text)
            for other_lesson, other in seen:
                if other_lesson != lesson_id:
                    similarity = SequenceMatcher(None, text, other).ratio()
                    assert similarity < 0.8, (language, lesson_id, other_lesson, question.text)
            seen.append((lesson_id, text))


def test_short_answers_accept_the_same_words_in_both_languages():
    """An Indonesian learner may answer with the English term and the other way round."""
    for lesson_id in catalog.LESSON_ORDER:
        english, indonesian = (catalog.load_quiz(lesson_id, language) for language in ("en", "id"))
        for en_question, id_question in zip(english, indonesian):
            if en_question.is_short_answer:
                assert set(en_question.answers) == set(id_question.answers), (lesson_id, en_question.text)


def test_no_quiz_asks_for_a_number_that_only_one_system_uses():
    """errno 11 is Linux's EAGAIN (35 on macOS, 10035 on Windows): never the one right answer."""
    only_one_system = {"11", "111", "35", "61", "10035", "10061", "115", "36"}
    for language in LANGUAGES:
        for lesson_id in catalog.LESSON_ORDER:
            for question in catalog.load_quiz(lesson_id, language):
                assert not only_one_system & set(question.answers), (language, lesson_id, question.text)
                right = [text for text, is_right in question.choices if is_right]
                for text in right:
                    numbers = set(re.findall(r"\d+", text))
                    if numbers & only_one_system:
                        # a right choice may name such a number only beside the other systems' numbers
                        assert len(numbers & only_one_system) >= 2, (language, lesson_id, text)


def test_the_audit_s_rote_questions_are_gone():
    for lesson_id in catalog.LESSON_ORDER:
        for question in catalog.load_quiz(lesson_id, "en"):
            assert "how many times the RTT variation" not in question.text, lesson_id
            assert "Which errno number does it return" not in question.text, lesson_id
