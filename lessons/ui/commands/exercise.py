"""``python3 main.py exercises`` and ``python3 main.py exercise N [--check|--watch|--hint|--reset|--solution]``.

The command line of "Write your own scanner".  Without an option, ``exercise N`` shows
the task page (paged at 80x24 on a terminal, printed whole into a pipe) and writes the
starter into the learner's workspace the first time, printing the file's path on a line
of its own so it can be copied into an editor.  The options:

``--check``     run their file against a private practice target; exit 0 only when every
                case passed (1 otherwise, 2 for a usage error)
``--watch``     check, then check again on every save (polling the file's modification
                time: standard library only) until Ctrl+C, which exits 130 quietly
``--hint``      the next hint; ``--solution`` a worked solution, after a pass or three
                failed checks; ``--reset`` the starter again, after a yes, keeping a copy
"""

from __future__ import annotations

import argparse
import os
from typing import List

from lessons.ui import pager
from lessons.ui.progress import config_folder
from scanner.errors import clip

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
ACTIONS = ("check", "watch", "hint", "reset", "solution")


def add_parsers(commands, common: argparse.ArgumentParser, tr) -> None:
    """The two subcommands, added to the program's argparse subparsers."""
    commands.add_parser("exercises", parents=[common], help=tr.t("help.exercises"))
    exercise = commands.add_parser("exercise", parents=[common], help=tr.t("help.exercise"))
    exercise.add_argument("exercise_id", nargs="?", metavar="N", help=tr.t("help.exercise_id"))
    for action in ACTIONS:
        exercise.add_argument(f"--{action}", action="store_true", help=tr.t(f"help.exercise_{action}"))


def command_exercises(env, tr) -> int:
    from lessons.ui.screens import exercises as screen  # lazy: building the parser must not load the runner

    for line in screen.list_lines(env, tr):
        env.write(line)
    env.write_wrapped(tr.t("exercises.how_to_open"), "hint")
    return EXIT_OK


def _pager_ask(env):
    from lessons.ui.app import line_reader   # lazy: this module is loaded to build the parser, at every start

    return line_reader(env, at_end="q")   # Ctrl+D leaves the pager


def _show(env, tr, lines: List[str]) -> None:
    pager.show(env, pager.line_blocks(lines), _pager_ask(env), tr, finish=False, like_cat=True)


def command_exercise(args, env, tr) -> int:
    from lessons.exercises import all_exercises, find_exercise   # lazy: the runner, only when an exercise is asked for
    from lessons.exercises.workspace import learner_file   # lazy: as above
    from lessons.ui.screens import exercises as screen   # lazy: as above

    if args.exercise_id is None:
        command_exercises(env, tr)
        env.stderr.write(tr.t("exercise.needs_id") + "\n")
        return EXIT_USAGE
    exercise = find_exercise(args.exercise_id)
    if exercise is None:
        env.stderr.write(tr.t("exercise.unknown", name=clip(args.exercise_id), count=len(all_exercises())) + "\n")
        return EXIT_USAGE
    chosen = [action for action in ACTIONS if getattr(args, action, False)]
    if len(chosen) > 1:
        env.stderr.write(tr.t("exercise.one_action") + "\n")
        return EXIT_USAGE
    action = chosen[0] if chosen else None
    path = learner_file(config_folder(), exercise)
    if action == "hint":
        _show(env, tr, screen.next_hint_lines(env, tr, exercise))
        return EXIT_OK
    if action == "solution":
        pager.show(env, screen.solution_blocks(env, tr, exercise), _pager_ask(env), tr, finish=False, like_cat=True)
        return EXIT_OK if screen.solution_open(exercise) else EXIT_FAILED
    if action == "reset":
        answer = env.read_line(tr.t("exercise.reset_ask", path=path))
        for line in screen.reset_exercise(env, tr, exercise, answer):
            env.write_wrapped(line)
        return EXIT_OK
    if action in ("check", "watch") and not os.path.exists(path):
        env.stderr.write(tr.t("exercise.missing_file", path=path, number=exercise.number) + "\n")
        return EXIT_USAGE
    if action == "check":
        report = screen.show_check(env, tr, exercise, path, lambda lines: _show(env, tr, lines))
        return EXIT_OK if report.passed else EXIT_FAILED
    if action == "watch":
        try:
            screen.watch(env, tr, exercise, path, lambda lines: _show(env, tr, lines))
        except KeyboardInterrupt:
            env.write("")
            env.write_wrapped(tr.t("exercise.watch_stopped"), "hint")
        return EXIT_INTERRUPTED
    try:
        path, written = screen.open_exercise(tr, exercise)
    except OSError as error:
        env.stderr.write(tr.t("exercise.workspace_problem", detail=error.strerror or error) + "\n")
        return EXIT_FAILED
    blocks = screen.task_blocks(env, tr, exercise, path, written)
    pager.show(env, blocks, _pager_ask(env), tr, finish=False, like_cat=True)
    return EXIT_OK
