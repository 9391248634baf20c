"""Quizzes: a few questions per lesson, an explanation after every answer.

Retrieval practice — answering a question instead of re-reading — is one of the best
ways to make something stick, and the explanation right after the answer is where the
learning happens, so a wrong answer is never just "wrong": it says why.  Questions live
beside the lessons in ``lessons/content/<lang>/<lesson>.quiz``; scores are saved with
the learner's progress.
"""

from __future__ import annotations

import string
from typing import Optional

from lessons import catalog
from lessons.i18n import Translator
from lessons.progress import store
from lessons.terminal import Environment
from scanner.errors import clip
from scanner.inputs import whole_number


class QuizEnded(Exception):
    pass


def normalise_answer(text: str) -> str:
    return " ".join(text.strip().lower().rstrip(".!").split())


def run_quiz(env: Environment, tr: Translator, lesson_id: str, ask) -> tuple:
    """Ask every question of one lesson; returns (score, total).  ``ask(prompt)`` reads a line."""
    questions = catalog.load_quiz(lesson_id, tr.language)
    title = catalog.load_lesson(lesson_id, tr.language).title
    env.write("")
    env.write(tr.t("quiz.title", title=title, count=len(questions)), "title")
    score = 0
    for number, question in enumerate(questions, 1):
        env.write("")
        env.write_wrapped(f"{number}. {question.text}", "heading", rest="   ")
        letters = string.ascii_lowercase[: len(question.choices)]
        for letter, (text, _right) in zip(letters, question.choices):
            env.write_wrapped(f"   {letter}) {text}", rest="      ")
        while True:
            answer = ask(tr.t("quiz.answer_short") if question.is_short_answer
                         else tr.t("quiz.answer_choice", letters="/".join(letters)))
            answer = normalise_answer(answer)
            if answer == "q":
                raise QuizEnded
            if not answer:
                env.write(tr.t("quiz.empty"), "error")
                continue
            if question.is_short_answer:
                correct = answer in question.answers
                right_text = question.answers[0] if question.answers else ""
                break
            number = whole_number(answer, max_digits=2)
            if number is not None and 1 <= number <= len(letters):
                answer = letters[number - 1]  # people also answer "2" for b)
            if len(answer) == 1 and answer in letters:
                choice = letters.index(answer)
                correct = question.choices[choice][1]
                right = next(i for i, (_t, is_right) in enumerate(question.choices) if is_right)
                right_text = f"{letters[right]}) {question.choices[right][0]}"
                break
            env.error(tr.t("quiz.not_a_choice", answer=clip(answer), letters=", ".join(letters)))
        if correct:
            score += 1
            env.write(tr.t("quiz.right"), "ok")
        else:
            env.write_wrapped(tr.t("quiz.wrong", answer=right_text), "error")
        env.write_wrapped(question.explanation)
    env.write("")
    env.write(tr.t("quiz.score", score=score, total=len(questions)), "heading")
    progress = store()
    progress.record_quiz(lesson_id, score, len(questions))
    if progress.problem:
        _show_problem(env, tr)
    else:
        best = progress.quiz_scores()[lesson_id]["best"]
        env.write(tr.t("quiz.best", best=best, total=len(questions)), "hint")
    return score, len(questions)


def choose_and_run(env: Environment, tr: Translator, ask, lesson_name: Optional[str] = None) -> None:
    """Pick a lesson (by number or name) and run its quiz; Enter goes back."""
    while True:
        if lesson_name is None:
            scores = store().quiz_scores()
            env.write("")
            env.write(tr.t("quiz.choose_title"), "heading")
            for number, lesson_id in enumerate(catalog.lesson_ids(tr.language), 1):
                title = catalog.load_lesson(lesson_id, tr.language).title
                result = scores.get(lesson_id)
                mark = f"  [{result['best']}/{result['total']}]" if result else ""
                env.write(f" {number:>3}  {title}{env.paint(mark, 'ok')}")
            lesson_name = ask(tr.t("quiz.choose"))
            if lesson_name.strip().lower() in ("", "q", "b", "0"):
                return
        lesson_id = catalog.find_lesson(lesson_name, tr.language)
        if lesson_id is None:
            env.error(tr.t("lessons.unknown_menu", name=clip(lesson_name.strip())))
            lesson_name = None
            continue
        lesson_name = None
        if not catalog.load_quiz(lesson_id, tr.language):
            env.write(tr.t("quiz.none", lesson=lesson_id), "error")
            continue
        try:
            run_quiz(env, tr, lesson_id, ask)
        except QuizEnded:
            env.write(tr.t("quiz.stopped"), "hint")


def quiz_menu(menu) -> None:
    choose_and_run(menu.env, menu.tr, menu.ask)


def command_quiz(lesson_name: Optional[str], env: Environment, tr: Translator) -> int:
    from lessons.menu import EndOfInput

    def ask(prompt: str) -> str:
        answer = env.read_line(prompt)
        if answer is None:
            raise EndOfInput
        return answer

    if lesson_name is not None and catalog.find_lesson(lesson_name, tr.language) is None:
        env.error(tr.t("lessons.unknown", name=clip(lesson_name)))
        return 2
    _show_problem(env, tr)
    try:
        if lesson_name is not None:
            run_quiz(env, tr, catalog.find_lesson(lesson_name, tr.language), ask)
        else:
            choose_and_run(env, tr, ask)
    except (EndOfInput, QuizEnded):
        env.write("")
    return 0


def _show_problem(env: Environment, tr: Translator) -> None:
    message = store().take_problem(tr)
    if message:
        env.write_wrapped(message, "warning")
