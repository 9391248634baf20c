"""Asking a quiz on screen: one question at a time, an explanation after every answer.

``?`` shows the lesson again, ``q`` leaves the quiz; scores are saved with the learner's
progress and shown beside each lesson in the list.  The answer-comparing rules live in the
quiz model (``lessons.quiz``).
"""

from __future__ import annotations

import string
from typing import Optional

from lessons import catalog
from lessons.quiz import SCREEN_INDENT, normalise_answer, shuffler
from lessons.render import render_lesson
from lessons.ui import pager
from lessons.ui.i18n import Translator
from lessons.ui.progress import show_problem, store
from lessons.ui.terminal import Environment
from scanner.errors import clip
from scanner.inputs import whole_number


class QuizEnded(Exception):
    """The learner typed q in the middle of a quiz."""


def run_quiz(env: Environment, tr: Translator, lesson_id: str, ask, show_lesson=None) -> tuple:
    """Ask every question of one lesson; returns (score, total).  ``ask(prompt)`` reads a line.

    ``show_lesson(lesson_id)`` is what ``?`` does (the menu pages the lesson)."""
    questions = catalog.load_quiz(lesson_id, tr.language)
    title = catalog.load_lesson(lesson_id, tr.language).title
    order = shuffler()
    if not env.on_screen:
        env.write("")
        env.write(tr.t("quiz.title", title=title, count=len(questions)), "title")
    score = 0
    for number, question in enumerate(questions, 1):
        choices = list(question.choices)
        order.shuffle(choices)
        letters = string.ascii_lowercase[: len(choices)]
        correct, right_text = _ask_question(env, tr, ask, show_lesson, lesson_id, title, number, len(questions),
                                            question, choices, letters)
        if correct:
            score += 1
            env.write(tr.t("quiz.right"), "ok")
        else:
            env.write_wrapped(tr.t("quiz.wrong", answer=right_text), "error")
        env.write_wrapped(question.explanation)
        if env.on_screen:  # the explanation is where the learning happens: it stays until Enter
            going_on = ask(tr.t("quiz.next" if number < len(questions) else "quiz.next_score"))
            if normalise_answer(going_on) == "q" and number < len(questions):
                raise QuizEnded   # q stops here as it does at a question, not "next question"
    env.write("")
    env.write(tr.t("quiz.score", score=score, total=len(questions)), "heading")
    progress = store()
    progress.record_quiz(lesson_id, score, len(questions))
    if progress.problem:
        show_problem(env, tr)
    else:
        best = progress.quiz_scores()[lesson_id]["best"]
        env.write(tr.t("quiz.best", best=best, total=len(questions)), "hint")
    if env.on_screen:
        ask(tr.t("menu.press_enter"))
    return score, len(questions)


def _ask_question(env, tr, ask, show_lesson, lesson_id, title, number, total, question, choices, letters) -> tuple:
    """Show one question (its own screen on a terminal) until it gets an answer: (right?, right answer)."""
    problem = None
    while True:
        if env.on_screen or problem is None:
            if env.on_screen:
                env.refresh()
                env.clear()
                env.write(tr.t("quiz.title", title=title, count=total), "title")
                env.write(tr.t("quiz.question_of", number=number, total=total), "hint")
            env.write("")
            env.write_wrapped(f"{number}. {question.text}", "heading", rest="   ")
            for line in question.screen_lines:   # a screen quoted exactly: never re-wrapped
                env.write(SCREEN_INDENT + line if line else "")
            for letter, (text, _right) in zip(letters, choices):
                env.write_wrapped(f"   {letter}) {text}", rest="      ")
            if problem and env.on_screen:
                env.error(problem)
        typed = ask(tr.t("quiz.answer_short") if question.is_short_answer
                    else tr.t("quiz.answer_choice", letters="/".join(letters)))
        if typed.strip() == "?":
            if show_lesson is not None:
                show_lesson(lesson_id)
            else:
                for line in render_lesson(catalog.load_lesson(lesson_id, tr.language), env):
                    env.write(line)
            problem = None  # the question again, below the lesson
            continue
        answer = normalise_answer(typed)
        if answer == "q":
            raise QuizEnded
        if not answer:
            problem = tr.t("quiz.empty")
        elif question.is_short_answer:
            accepted = {normalise_answer(text) for text in question.answers}
            return answer in accepted, (question.answers[0] if question.answers else "")
        else:
            choice = whole_number(answer, max_digits=2)
            if choice is not None and 1 <= choice <= len(letters):
                answer = letters[choice - 1]  # people also answer "2" for b)
            if len(answer) == 1 and answer in letters:
                right = next(i for i, (_t, is_right) in enumerate(choices) if is_right)
                return choices[letters.index(answer)][1], f"{letters[right]}) {choices[right][0]}"
            problem = tr.t("quiz.not_a_choice", answer=clip(typed.strip()), letters=", ".join(letters))
        if not env.on_screen:
            env.error(problem)


def choose_and_run(env: Environment, tr: Translator, ask, lesson_name: Optional[str] = None,
                   show_lesson=None) -> None:
    """Pick a lesson (by number or name) and run its quiz; Enter goes back."""
    problem = None   # a wrong choice, said below the list (on a terminal the list is redrawn first)
    stopped = False  # a quiz left with q: said below the list too
    while True:
        if lesson_name is None:
            scores = store().quiz_scores()
            if env.on_screen:
                env.refresh()
                env.clear()
            else:
                env.write("")
            env.write(tr.t("quiz.choose_title"), "heading")
            rows = []
            for number, lesson_id in enumerate(catalog.lesson_ids(tr.language), 1):
                title = catalog.load_lesson(lesson_id, tr.language).title
                result = scores.get(lesson_id)
                mark = f"[{result['best']}/{result['total']}]" if result else ""   # never cut: it is the point
                rows.append((f"{number:>3}  ", title, mark))
            for line in pager.columns(env, rows):   # two columns when one would scroll the title away
                env.write(line)
            if stopped and env.on_screen:
                env.write(tr.t("quiz.stopped"), "hint")
            if problem and env.on_screen:
                env.error(problem)
            problem, stopped = None, False
            lesson_name = ask(tr.t("quiz.choose"))
            if lesson_name.strip().lower() in ("", "q", "b", "0"):
                return
        lesson_id = catalog.find_lesson(lesson_name, tr.language)
        if lesson_id is None:
            problem = tr.t("lessons.unknown_menu", name=clip(lesson_name.strip()))
        elif not catalog.load_quiz(lesson_id, tr.language):
            problem = tr.t("quiz.none", lesson=tr.lesson_title(lesson_id))
        if problem:
            if not env.on_screen:
                env.error(problem)
            lesson_name = None
            continue
        lesson_name = None
        try:
            run_quiz(env, tr, lesson_id, ask, show_lesson)
        except QuizEnded:
            stopped = True
            if not env.on_screen:
                env.write(tr.t("quiz.stopped"), "hint")


def quiz_menu(app) -> None:
    """The menu's quiz screen: pick a lesson, answer its questions."""
    choose_and_run(app.env, app.tr, app.ask, show_lesson=app.show_lesson)
