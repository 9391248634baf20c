"""The exercises on screen: the list, a task page, a check's verdicts, hints, the solution.

The runner (``lessons.exercises``) knows nothing about screens; this module turns its
data into lines a person reads at 80x24, in the learner's language, and is shared by
the command line (``python3 main.py exercise N --check``) and the main menu's entry
"Write your own scanner".

A verdict is built to be read top to bottom by someone who just saved a file: one line
per case (PASS or FAIL and what was asked), and under a failing case what was expected,
what their code gave, one hint and the lesson to reread.  The same hint is not repeated
for the next case that failed the same way, so an untouched starter (every case "not
written yet") still fits one screen.  What their code printed comes last, cleaned of
terminal escape sequences by the sandbox.
"""

from __future__ import annotations

import time
from typing import Callable, List, Optional

from lessons.catalog import Lesson
from lessons.exercises import CheckReport, Exercise, all_exercises, find_exercise, run_check
from lessons.exercises.catalog import exercise_for_lesson
from lessons.exercises.workspace import ensure_starter, learner_file, modified_time, reset
from lessons.render import Block, lesson_blocks
from lessons.ui import pager
from lessons.ui.progress import config_folder, store
from scanner.errors import clip

WATCH_POLL_SECONDS = 0.5
SOLUTION_AFTER_FAILURES = 3


# -- the list ----------------------------------------------------------------------------------
def exercise_rows(tr) -> List[tuple]:
    """(number, title, done) for every exercise, in order."""
    saved = store()
    return [(exercise.number, exercise.title(tr.language), saved.exercise_record(exercise.id)["passed"])
            for exercise in all_exercises()]


def list_lines(env, tr) -> List[str]:
    lines = []
    for number, title, done in exercise_rows(tr):
        mark = env.paint(tr.t("exercises.done"), "ok") if done else tr.t("exercises.not_done")
        short = title.split(": ", 1)[-1]
        lines.append(f"{number:>2}. {short[:52]:<52} [{mark}]")
    return lines


def try_it_line(env, tr, lesson_id: str) -> Optional[str]:
    """"Try it: exercise N ..." under a lesson that has an exercise, or None."""
    exercise = exercise_for_lesson(lesson_id)
    return env.paint(tr.t("exercise.try_it", number=exercise.number,
                                  command=f"python3 main.py exercise {exercise.number}"), "hint") if exercise else None


# -- the task page -----------------------------------------------------------------------------
def open_exercise(tr, exercise: Exercise) -> tuple:
    """(path, written now) of the learner's file; the starter is written the first time only."""
    return ensure_starter(config_folder(), exercise, tr.language)


def task_blocks(env, tr, exercise: Exercise, path: str, written: bool) -> List[Block]:
    """The task page as blocks for the pager, then the file's path on a line of its own."""
    title, body = exercise.task(tr.language)
    blocks = lesson_blocks(Lesson(exercise.id, tr.language, title, body), env)
    label = "exercise.starter_written" if written else "exercise.starter_kept"
    blocks.append(Block([""], "blank"))
    blocks.append(Block(env.wrap(tr.t(label), "heading") + [path], "code"))   # never wrapped: copy it whole
    blocks.append(Block(env.wrap(tr.t("exercise.how_to_check", number=exercise.number), "hint"), "text"))
    return blocks


# -- a check and its verdicts --------------------------------------------------------------------
def check_and_record(tr, exercise: Exercise, path: str) -> CheckReport:
    """Run the check and count it in progress (a pass is kept for good)."""
    report = run_check(exercise, path)
    store().record_exercise(exercise.id, passed=report.passed)
    return report


def verdict_lines(env, tr, report: CheckReport) -> List[str]:
    exercise = report.exercise
    lines: List[str] = []
    if report.problem:
        lines += env.wrap(tr.t(f"exercise.problem.{report.problem}", **report.problem_values), "error")
    shown_hints = set()
    for verdict in report.verdicts:
        mark = env.paint(tr.t("exercise.pass"), "ok") if verdict.passed else env.paint(tr.t("exercise.fail"), "error")
        lines.append(f"{mark}  {verdict.asked}" + (f" -> {verdict.gave}" if verdict.passed else ""))
        if verdict.passed:
            continue
        lines += env.wrap(f"{tr.t('exercise.expected')} {verdict.expected}", None, "      ", "        ")
        if verdict.error and verdict.mistake == "their_error":
            error = verdict.error
            lines += env.wrap(tr.t("exercise.raised", type=error["type"], message=error.get("message", ""),
                                   file=exercise.file_name, line=error.get("line") or "?"), None, "      ", "        ")
        else:
            lines += env.wrap(f"{tr.t('exercise.gave')} {verdict.gave}", None, "      ", "        ")
        if verdict.mistake not in shown_hints:
            shown_hints.add(verdict.mistake)
            lines += env.wrap(f"{tr.t('exercise.hint_label')} {tr.t('exercise.hint.' + verdict.mistake)}", "hint",
                              "      ", "        ")
            if verdict.lesson:
                lines += env.wrap(tr.t("exercise.reread", title=tr.lesson_title(verdict.lesson),
                                       command=f"python3 main.py lesson {verdict.lesson}"),
                                  "hint", "      ", "        ")
    for note in report.notes:
        lines += env.wrap(tr.t(f"exercise.note.{note}"), "warning")
    lines += summary_lines(env, tr, report)
    if report.output:
        lines += [tr.t("exercise.printed")] + ["  | " + line for line in report.output]
    return lines


def summary_lines(env, tr, report: CheckReport) -> List[str]:
    exercise = report.exercise
    count = len(report.verdicts)
    if report.passed:
        return env.wrap(tr.t("exercise.all_passed", count=count, number=exercise.number), "ok")
    lines = []
    if report.verdicts:
        passed = sum(1 for verdict in report.verdicts if verdict.passed)
        lines += env.wrap(tr.t("exercise.some_failed", passed=passed, count=count, file=exercise.file_name))
    record = store().exercise_record(exercise.id)
    if record["failed"] == SOLUTION_AFTER_FAILURES and not record["passed"]:
        lines += env.wrap(tr.t("exercise.solution_now", number=exercise.number), "hint")
    else:
        lines += env.wrap(tr.t("exercise.next_steps", number=exercise.number), "hint")
    return lines


def show_check(env, tr, exercise: Exercise, path: str, show: Callable[[List[str]], None]) -> CheckReport:
    env.write_wrapped(tr.t("exercise.checking", file=exercise.file_name), "hint")
    report = check_and_record(tr, exercise, path)
    show(verdict_lines(env, tr, report))
    return report


def watch(env, tr, exercise: Exercise, path: str, show: Callable[[List[str]], None],
          poll: float = WATCH_POLL_SECONDS) -> None:
    """Check, then check again each time the file's modification time changes, until Ctrl+C."""
    env.write_wrapped(tr.t("exercise.watch_start", file=exercise.file_name), "hint")
    seen = modified_time(path)
    show_check(env, tr, exercise, path, show)
    while True:
        time.sleep(poll)
        now = modified_time(path)
        if now != seen:
            seen = now
            env.write("")
            env.write_wrapped(tr.t("exercise.watch_changed", file=exercise.file_name), "heading")
            show_check(env, tr, exercise, path, show)


# -- hints, the solution, reset ------------------------------------------------------------------
def next_hint_lines(env, tr, exercise: Exercise) -> List[str]:
    """The next hint (counted in progress); after the last one, the last one again and a note."""
    hints = exercise.hints(tr.language)
    seen = store().exercise_record(exercise.id)["hints"]
    index = min(seen, len(hints) - 1)
    lines = env.wrap(tr.t("exercise.hint_title", number=index + 1, count=len(hints), exercise=exercise.number),
                     "heading")
    lines += env.wrap(hints[index], None, "  ", "  ")
    if seen >= len(hints) - 1:
        lines += env.wrap(tr.t("exercise.no_more_hints", number=exercise.number), "hint")
    store().record_exercise(exercise.id, hint_shown=True)
    return lines


def solution_open(exercise: Exercise) -> bool:
    record = store().exercise_record(exercise.id)
    return record["passed"] or record["failed"] >= SOLUTION_AFTER_FAILURES


def solution_blocks(env, tr, exercise: Exercise) -> List[Block]:
    if not solution_open(exercise):
        record = store().exercise_record(exercise.id)
        return [Block(env.wrap(tr.t("exercise.solution_locked", failed=record["failed"], number=exercise.number),
                               "warning"), "text")]
    code = ["  " + line for line in exercise.solution().splitlines()]
    return [Block(env.wrap(tr.t("exercise.solution_title", number=exercise.number), "heading"), "title"),
            Block([""], "blank")] + [Block([line], "code") for line in code]


def reset_exercise(env, tr, exercise: Exercise, answer: Optional[str]) -> List[str]:
    """Reset after a yes; ``answer`` is what the learner typed at exercise.reset_ask."""
    if (answer or "").strip().lower() not in ("y", "yes", "ya"):
        return [tr.t("exercise.reset_cancelled")]
    path, backup = reset(config_folder(), exercise, tr.language)
    lines = [tr.t("exercise.reset_done", path=path)]
    if backup:
        lines += [tr.t("exercise.reset_backup", backup=backup)]
    return lines


# -- the menu entry ----------------------------------------------------------------------------
def exercises_menu(app) -> None:
    """Main menu -> "Write your own scanner": pick an exercise, read it, check it, ask for hints."""
    tr = app.tr
    while True:
        rows = [(str(number), title.split(": ", 1)[-1] + f"  [{tr.t('exercises.done' if done else 'exercises.not_done')}]")
                for number, title, done in exercise_rows(tr)]
        choice = app.choose(tr.t("exercises.title"), rows + [("0", tr.t("exercises.back"))])
        if choice in ("", "0", "q", "b"):
            return
        exercise = find_exercise(choice)
        if exercise is None:
            app.say("exercise.unknown", "error", name=choice[:20], count=len(all_exercises()))
            continue
        exercise_screen(app, exercise)


def exercise_screen(app, exercise: Exercise) -> None:
    env, tr = app.env, app.tr
    try:
        path, written = open_exercise(tr, exercise)
    except OSError as error:
        app.say("exercise.workspace_problem", "error", detail=error.strerror or error)
        return
    app.page(lambda: task_blocks(env, tr, exercise, path, written), finish=False, reserve=2)

    def show(lines: List[str]) -> None:
        app.page(pager.line_blocks(lines), finish=False, reserve=2)

    while True:
        env.write_wrapped(tr.t("exercises.actions"), "hint")
        action = app.ask(tr.t("menu.choose")).lower()
        if action in ("", "0", "q", "b"):
            return
        if action == "c":
            show_check(env, tr, exercise, learner_file(config_folder(), exercise), show)
        elif action == "w":
            try:
                watch(env, tr, exercise, learner_file(config_folder(), exercise), show)
            except KeyboardInterrupt as interrupt:
                if type(interrupt) is not KeyboardInterrupt:
                    raise   # SIGTERM/SIGHUP (a subclass) end the program, not just the watch
                env.write("")
                app.say("exercise.watch_stopped", "hint")
        elif action == "h":
            show(next_hint_lines(env, tr, exercise))
        elif action == "s":
            app.page(solution_blocks(env, tr, exercise), finish=False, reserve=2)
        elif action == "r":
            answer = app.ask(tr.t("exercise.reset_ask", path=learner_file(config_folder(), exercise)))
            show(reset_exercise(env, tr, exercise, answer))
        else:   # one line, then the same keys and question again
            app.say("exercise.unknown_action", "error", choice=clip(action))
