"""Quizzes cannot be won by a trick: the right choice does not give itself away.

A learner who has not read the lesson still answers a multiple-choice question well if the
key is the longest option, or the only one that explains itself ("..., because ..."), or
if the distractors are silly.  These tests measure the first two tricks over every quiz
in each language; the third is the writers' job (distractors are misconceptions students
really hold, as long and as careful as the key).  The English and Indonesian versions of
a question keep the key in the same place, so a class that answers together with one
``PORTSCAN_LAB_SEED`` sees the same letter for it in both languages.
"""

import re
import textwrap

import pytest

from lessons import catalog
from lessons.ui.i18n import LANGUAGES

LONGEST_WINS_AT_MOST = 0.40       # share of multiple-choice questions a "pick the longest" guess wins
MUCH_LONGER_AT_MOST = 0.10        # share where the key is >= 1.5x as long as every distractor
LONE_CLAUSE_AT_MOST = 0.10        # share where only the key carries an explanatory clause
# Words and signs that start an explanation inside a choice, in both languages.
CLAUSE = re.compile(r"[:;]|\((?!\))| - |\b(because|so|since|which|karena|sehingga|jadi|sebab|yang berarti)\b",
                    re.IGNORECASE)
SCREEN_WIDTH = 80
SCREEN_HEIGHT = 24


def multiple_choice(language):
    return [(lesson_id, question) for lesson_id in catalog.LESSON_ORDER
            for question in catalog.load_quiz(lesson_id, language) if not question.is_short_answer]


def key_and_distractors(question):
    key = next(text for text, right in question.choices if right)
    return key, [text for text, right in question.choices if not right]


def share(language, predicate):
    """(share of the multiple-choice questions, the questions hit); a predicate may score a fraction."""
    questions = multiple_choice(language)
    scores = [(lesson_id, question, float(predicate(question))) for lesson_id, question in questions]
    hits = [(lesson_id, question.text) for lesson_id, question, score in scores if score]
    return sum(score for _l, _q, score in scores) / len(questions), hits


def longest_wins(question):
    """What a "pick the longest" guess wins on average: a tie of k longest choices wins 1/k."""
    key, others = key_and_distractors(question)
    longest = max(len(text) for text in others + [key])
    return 1 / sum(len(text) == longest for text in others + [key]) if len(key) == longest else 0


def shortest_wins(question):
    """Writers who shy away from long keys make the shortest choice the tell instead."""
    key, others = key_and_distractors(question)
    shortest = min(len(text) for text in others + [key])
    return 1 / sum(len(text) == shortest for text in others + [key]) if len(key) == shortest else 0


def much_longer(question):
    key, others = key_and_distractors(question)
    return all(len(key) >= 1.5 * len(text) for text in others)


def lone_clause(question):
    key, others = key_and_distractors(question)
    return bool(CLAUSE.search(key)) and not any(CLAUSE.search(text) for text in others)


@pytest.mark.parametrize("language", LANGUAGES)
def test_picking_the_longest_choice_rarely_wins(language):
    ratio, hits = share(language, longest_wins)
    assert ratio <= LONGEST_WINS_AT_MOST, (f"{ratio:.0%}", hits)


@pytest.mark.parametrize("language", LANGUAGES)
def test_picking_the_shortest_choice_rarely_wins(language):
    ratio, hits = share(language, shortest_wins)
    assert ratio <= LONGEST_WINS_AT_MOST, (f"{ratio:.0%}", hits)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_key_is_rarely_much_longer_than_every_distractor(language):
    ratio, hits = share(language, much_longer)
    assert ratio <= MUCH_LONGER_AT_MOST, (f"{ratio:.0%}", hits)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_key_is_rarely_the_only_choice_that_explains_itself(language):
    ratio, hits = share(language, lone_clause)
    assert ratio <= LONE_CLAUSE_AT_MOST, (f"{ratio:.0%}", hits)


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_distractor_is_a_throwaway(language):
    """A distractor under half the key's length is usually one nobody would pick."""
    for lesson_id, question in multiple_choice(language):
        key, others = key_and_distractors(question)
        for text in others:
            assert len(text) * 2 >= len(key), (language, lesson_id, question.text, text)


def test_the_key_sits_in_the_same_place_in_both_languages():
    """Same choices count and key index: one seed shuffles both languages the same way."""
    for lesson_id in catalog.LESSON_ORDER:
        english, indonesian = (catalog.load_quiz(lesson_id, language) for language in ("en", "id"))
        assert len(english) == len(indonesian), lesson_id
        for en_question, id_question in zip(english, indonesian):
            assert len(en_question.choices) == len(id_question.choices), (lesson_id, en_question.text)
            assert [right for _t, right in en_question.choices] == \
                   [right for _t, right in id_question.choices], (lesson_id, en_question.text)
            assert en_question.screen_lines and id_question.screen_lines or \
                not en_question.screen_lines and not id_question.screen_lines, (lesson_id, en_question.text)


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_answer_is_plain_arithmetic_or_a_bare_number(language):
    for lesson_id in catalog.LESSON_ORDER:
        for question in catalog.load_quiz(lesson_id, language):
            for answer in question.answers:
                assert not re.fullmatch(r"[\d\s.,*^+\-/=x]+", answer), (language, lesson_id, question.text, answer)
            key = [text for text, right in question.choices if right]
            for text in key:
                assert not re.fullmatch(r"[\d\s.,*^+\-/=x]+", text), (language, lesson_id, question.text, text)


@pytest.mark.parametrize("language", LANGUAGES)
def test_screen_quotes_fit_the_screen(language):
    """A quoted screen is shown as is, indented by the renderer: every line fits 80 columns."""
    from lessons.quiz import SCREEN_INDENT
    for lesson_id in catalog.LESSON_ORDER:
        for question in catalog.load_quiz(lesson_id, language):
            for line in question.screen_lines:
                assert len(SCREEN_INDENT + line) <= SCREEN_WIDTH, (language, lesson_id, line)


PREDICT_THE_SCREEN = {"en": "Predict the screen", "id": "Tebak layarnya"}


def test_every_core_lesson_asks_to_predict_the_screen():
    """Built from what the program really prints (quoted with "| " lines, or named in the choices)."""
    core = ("ports", "sockets", "handshake", "port-states", "timeouts", "retransmission", "threading",
            "errors", "reading-results", "udp-scanning", "banners", "firewalls")
    for lesson_id in core:
        for language in LANGUAGES:
            quoted = [q for q in catalog.load_quiz(lesson_id, language)
                      if q.screen_lines or q.text.startswith(PREDICT_THE_SCREEN[language])]
            assert 1 <= len(quoted) <= 2, (language, lesson_id)


def _folded(text, first="", rest=""):
    # As Environment.wrap folds a sentence on an 80-column screen.
    return textwrap.wrap(text, SCREEN_WIDTH - 1, initial_indent=first, subsequent_indent=rest,
                         break_on_hyphens=False) or [""]


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_question_and_its_explanation_fit_one_screen(language):
    """80x24: the question, a quoted screen, the choices, a wrong answer's reply and the explanation."""
    from lessons.ui.i18n import Translator
    tr = Translator(language)
    for lesson_id in catalog.LESSON_ORDER:
        questions = catalog.load_quiz(lesson_id, language)
        for number, question in enumerate(questions, 1):
            lines = 3 + len(_folded(f"{number}. {question.text}", rest="   ")) + len(question.screen_lines)
            for letter, (text, _right) in zip("abcd", question.choices):
                lines += len(_folded(f"   {letter}) {text}", rest="      "))
            key = next((f"d) {text}" for text, right in question.choices if right),
                       question.answers[0] if question.answers else "")
            lines += 1 + len(_folded(tr.t("quiz.wrong", answer=key))) + len(_folded(question.explanation)) + 1
            assert lines <= SCREEN_HEIGHT, (language, lesson_id, number, lines)


@pytest.mark.parametrize("seed", ["1", "42", "class-2b"])
def test_one_seed_puts_the_key_under_the_same_letter_in_both_languages(seed):
    """As run_quiz shuffles: one Random per attempt, each question's choices in turn."""
    from lessons.quiz import SEED_VARIABLE, shuffler
    for lesson_id in catalog.LESSON_ORDER:
        letters = {}
        for language in LANGUAGES:
            order, keys = shuffler({SEED_VARIABLE: seed}), []
            for question in catalog.load_quiz(lesson_id, language):
                choices = list(question.choices)
                order.shuffle(choices)
                keys.append([right for _text, right in choices].index(True) if choices else None)
            letters[language] = keys
        assert letters["en"] == letters["id"], lesson_id
