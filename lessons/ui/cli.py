"""The command line: ``python main.py [command] ...``.

Without a command the guided menu opens.  The commands are for people who already know
what they want (and for scripts):

    scan HOST [-p SPEC] [--timeout SECONDS|auto] [--retries N] [--workers N] [--banners] [--all]
              [--format text|json|csv] [-o FILE] [--yes] [--udp] [--ipv6]
              [--max-hosts N] [--no-ping] [--packets [N]]   (HOST may be a network: 127.0.0.0/29)
    lessons            list the lessons
    lesson ID          show one lesson
    lab                start the practice lab on loopback
                       [--classroom [--seed S | --class-code C] [--answers] [--anonymous]]
    challenge [N]      a practice target with hidden answers [--seed S] [--report scan.json]
    quiz [LESSON]      answer questions about a lesson
    exercises          list the exercises: write your own scanner
    exercise N [--check|--watch|--hint|--reset|--solution]

Exit codes follow the shell's conventions: 0 done, 1 the target could not be resolved or
reached (or the computer ran out of threads, memory or files), 2 a usage or input error,
130 interrupted by Ctrl+C, 143 by SIGTERM, 129 by SIGHUP (partial results are still
printed and written: the report file first, so a closed or broken stdout never loses it).
"""

from __future__ import annotations

import argparse
import difflib
import functools
import re
import signal
import sys
import textwrap
from typing import List, Optional

from lessons.ui.command_line import (SCAN_EXAMPLES, TOP_EXAMPLES, add_version, examples, program_name,
                                     unknown_command, unknown_option)
from lessons.ui.exits import (EXIT_INTERRUPTED, EXIT_OK, EXIT_UNREACHABLE, EXIT_USAGE, end_on_signals, ended_by_signal,
                              fail, interrupted_code, interrupted_message, resource_detail,
                              silence_stdout)
from lessons.ui.i18n import LANGUAGES, Translator, language_from_environment, language_named_by, normalise_language
from lessons.ui.progress import store
from lessons.ui.screens.settings import first_run_language
from lessons.ui.terminal import Environment
from lessons.ui.commands.exercise import add_parsers as add_exercise_parsers
from scanner.engine import DEFAULT_WORKERS
from scanner.errors import clip, is_out_of_resources
from scanner.inputs import DEFAULT_TIMEOUT
from scanner.limits import fit_threads_to_memory


class UsageError(Exception):
    """argparse found a problem; carries the one-line message."""


class _Parser(argparse.ArgumentParser):
    """argparse in the learner's language, one line per mistake.

    argparse builds its words (``usage:``, ``invalid choice: ...``) in English; this parser
    passes its own translated titles and help, and translates a message when it reports one,
    so nothing process-wide (argparse's module-level ``_``) is ever replaced."""

    def __init__(self, *args, tr: Translator, **kwargs) -> None:
        prefix = tr.t("argparse.usage")

        class Formatter(argparse.RawDescriptionHelpFormatter):   # the examples epilog is a table: wrapped by hand
            def add_usage(self, usage, actions, groups, prefix_given=None):
                super().add_usage(usage, actions, groups, prefix_given if prefix_given is not None else prefix)

        helper = argparse.ArgumentParser(add_help=False)   # -h first, as argparse's own, in our words
        helper.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help=tr.t("argparse.help"))
        self.tr = tr
        kwargs["parents"] = [helper] + list(kwargs.get("parents", []))
        super().__init__(*args, add_help=False, formatter_class=Formatter, **kwargs)
        self._positionals.title = tr.t("argparse.positional")
        self._optionals.title = tr.t("argparse.options")

    def error(self, message: str) -> None:  # one line and exit 2, not a usage dump
        raise UsageError(f"{self.prog}: {translated(self.tr, message)}{did_you_mean(self, self.tr, message)}")


def option_names(parser: argparse.ArgumentParser) -> List[str]:
    """Every option any command takes (--timeout, --ports, ...), its own and its commands'."""
    names = []
    for action in parser._actions:
        names += [name for name in action.option_strings if name.startswith("--")]
        if isinstance(action, argparse._SubParsersAction):
            for command in action.choices.values():
                names += option_names(command)
    return sorted(set(names))


def did_you_mean(parser: argparse.ArgumentParser, tr: Translator, message: str) -> str:
    """ " (did you mean --timeout?)" after "unrecognized arguments: --timout 1": a typo, named."""
    if not message.startswith("unrecognized arguments: "):
        return ""
    for word in message.split(": ", 1)[1].split():
        if word.startswith("--"):
            close = difflib.get_close_matches(word.split("=")[0], option_names(parser), n=1, cutoff=0.7)
            if close:
                return " " + tr.t("argparse.did_you_mean", option=close[0])
    return ""


def _common_options(tr: Translator, for_command: bool) -> argparse.ArgumentParser:
    """--lang, --no-color and --presenter work before or after the command name.

    On a command's parser they default to SUPPRESS, so that leaving them out there does
    not overwrite a value given before the command (an argparse subtlety).
    """
    common = argparse.ArgumentParser(add_help=False)
    extra = {"default": argparse.SUPPRESS} if for_command else {}
    common.add_argument("--lang", metavar="en|id", help=tr.t("help.lang"),
                        **({"default": argparse.SUPPRESS} if for_command else {"default": None}))
    common.add_argument("--no-color", action="store_true", help=tr.t("help.no_color"), **extra)
    common.add_argument("--presenter", action="store_true", help=tr.t("help.presenter"), **extra)
    add_version(common, tr.t("help.version"))
    return common


# argparse's own words (as Python writes them in English) and their ui.json keys.
ARGPARSE_MESSAGES = {
    "usage: ": "argparse.usage",
    "the following arguments are required: %s": "argparse.required",
    "invalid choice: %(value)r (choose from %(choices)s)": "argparse.invalid_choice",
    "unrecognized arguments: %s": "argparse.unrecognized",
    "expected one argument": "argparse.expected_one",
    "argument %(argument_name)s: %(message)s": "argparse.argument",
    "invalid %(type)s value: %(value)r": "argparse.invalid_value",
    "show this help message and exit": "argparse.help",
    "positional arguments": "argparse.positional",
    "options": "argparse.options",
}


def _template_pattern(template: str):
    """An English argparse message as a pattern that finds its values again."""
    pattern = ""
    for index, part in enumerate(re.split(r"(%\([a-z_]+\)[sr]|%s)", template)):
        if index % 2:
            name = re.match(r"%\(([a-z_]+)\)", part)
            pattern += f"(?P<{name.group(1) if name else 'value_0'}>.*?)"
        else:
            pattern += re.escape(part)
    return re.compile(pattern + r"\Z", re.DOTALL)


ARGPARSE_PATTERNS = [(_template_pattern(english), key) for english, key in ARGPARSE_MESSAGES.items()]


def translated(tr: Translator, message: str) -> str:
    """One of argparse's English messages in the learner's language (unknown ones stay English)."""
    for pattern, key in ARGPARSE_PATTERNS:
        found = pattern.match(message)
        if found is None:
            continue
        values = found.groupdict()
        if "message" in values:   # "argument --format: invalid choice: ...": the inner message too
            values["message"] = translated(tr, values["message"])
        template = re.sub(r"%\(([a-z_]+)\)r", r"%(\1)s", tr.t(key))   # the values are already quoted
        return template % (values["value_0"] if "value_0" in values else values)
    return message


def build_parser(tr: Optional[Translator] = None) -> argparse.ArgumentParser:
    tr = tr or Translator()
    common = _common_options(tr, for_command=True)
    prog = program_name()
    parser = _Parser(prog=prog, parents=[_common_options(tr, for_command=False)],
                     description=textwrap.fill(tr.t("help.description"), 79),
                     epilog=examples(tr, prog, TOP_EXAMPLES), tr=tr)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND",   # one word keeps the usage in 80 columns
                                     parser_class=functools.partial(_Parser, tr=tr))

    scan = commands.add_parser("scan", parents=[common], help=tr.t("help.scan"),
                               epilog=examples(tr, prog, SCAN_EXAMPLES))
    scan.add_argument("host", help=tr.t("help.host"))
    scan.add_argument("-p", "--ports", default="common", help=tr.t("help.ports"))
    scan.add_argument("--timeout", default=DEFAULT_TIMEOUT, help=tr.t("help.timeout", default=DEFAULT_TIMEOUT))
    scan.add_argument("--retries", default=None, metavar="N", help=tr.t("help.retries"))
    scan.add_argument("--workers", default=str(DEFAULT_WORKERS), help=tr.t("help.workers", default=DEFAULT_WORKERS))
    scan.add_argument("--banners", action="store_true", help=tr.t("help.banners"))
    scan.add_argument("--all", action="store_true", help=tr.t("help.all"))
    scan.add_argument("--format", choices=("text", "json", "csv"), default="text", help=tr.t("help.format"))
    scan.add_argument("-o", "--output", metavar="FILE", help=tr.t("help.output"))
    scan.add_argument("--yes", action="store_true", help=tr.t("consent.statement"))
    scan.add_argument("--udp", action="store_true", help=tr.t("help.udp"))
    scan.add_argument("--ipv6", action="store_true", help=tr.t("help.ipv6"))
    scan.add_argument("--max-hosts", metavar="N", help=tr.t("help.max_hosts"))
    scan.add_argument("--no-ping", action="store_true", help=tr.t("help.no_ping"))
    scan.add_argument("--packets", nargs="?", const="", metavar="N", help=tr.t("help.packets"))

    commands.add_parser("lessons", parents=[common], help=tr.t("help.lessons"))
    lesson = commands.add_parser("lesson", parents=[common], help=tr.t("help.lesson"))
    lesson.add_argument("lesson_id", nargs="?", metavar="ID", help=tr.t("help.lesson_id"))
    lab = commands.add_parser("lab", parents=[common], help=tr.t("help.lab"))
    lab.add_argument("--bind", default="127.0.0.1", metavar="ADDRESS", help=tr.t("help.bind"))
    lab.add_argument("--base-port", default="8000", metavar="PORT", help=tr.t("help.base_port"))
    lab.add_argument("--classroom", action="store_true", help=tr.t("help.classroom"))
    lab.add_argument("--seed", metavar="S", help=tr.t("help.seed"))
    lab.add_argument("--class-code", metavar="CODE", help=tr.t("help.class_code"))
    lab.add_argument("--answers", action="store_true", help=tr.t("help.answers"))
    lab.add_argument("--anonymous", action="store_true", help=tr.t("help.anonymous"))
    challenge = commands.add_parser("challenge", parents=[common], help=tr.t("help.challenge"))
    challenge.add_argument("number", nargs="?", metavar="N", help=tr.t("help.challenge_number"))
    challenge.add_argument("--seed", metavar="S", help=tr.t("help.seed"))
    challenge.add_argument("--report", metavar="FILE", help=tr.t("help.report"))
    quiz = commands.add_parser("quiz", parents=[common], help=tr.t("help.quiz"))
    quiz.add_argument("lesson_id", nargs="?", metavar="ID", help=tr.t("help.quiz_id"))
    add_exercise_parsers(commands, common, tr)
    parser.command_parsers = dict(commands.choices)   # for "did you mean": each command's own options
    return parser


def _peek_language(argv: List[str]) -> Optional[str]:
    """--lang before parsing, so that argparse's own messages are already translated."""
    for index, word in enumerate(argv):
        value = word.split("=", 1)[1] if word.startswith("--lang=") else (
            argv[index + 1] if word == "--lang" and index + 1 < len(argv) else None)
        if value:
            try:
                return normalise_language(value)
            except ValueError:
                return None
    return None


def _load_thread_exit_support() -> None:
    """Load libgcc_s now, while files can still be opened.

    glibc loads it the first time a thread ends; when the scan has used every file
    descriptor that load fails and the process aborts or hangs ("libgcc_s.so.1 must be
    installed for pthread_exit to work").
    """
    if sys.platform.startswith("linux"):
        try:
            import ctypes   # lazy on purpose: only Linux needs it, and only for this

            ctypes.CDLL("libgcc_s.so.1")
        except (ImportError, OSError):
            pass


def main(argv: Optional[List[str]] = None, env: Optional[Environment] = None) -> int:
    _load_thread_exit_support()
    fit_threads_to_memory()   # under ulimit -v: small stacks for every thread of ours (lab, banners, scan)
    previous = end_on_signals()
    try:
        code = _main(argv, env)
    except KeyboardInterrupt:   # before a command began (reading settings, parsing)
        code = interrupted_code()
    except BaseException as error:
        if not is_out_of_resources(error):
            raise
        sys.stderr.write(Translator(language_from_environment()).t("cli.out_of_resources",
                                                                   detail=resource_detail(error)) + "\n")
        code = EXIT_UNREACHABLE
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if ended_by_signal() and code in (EXIT_OK, EXIT_INTERRUPTED):
        code = interrupted_code()   # e.g. the lab stopped cleanly on SIGTERM: still say why it ended
    return code


def _main(argv: Optional[List[str]], env: Optional[Environment]) -> int:
    argv = sys.argv[1:] if argv is None else argv
    saved = store()
    early_language = _peek_language(argv) or saved.setting("language") or language_from_environment()
    parser = build_parser(Translator(early_language))
    for key, mistyped in (("cli.did_you_mean", unknown_option(parser, parser.command_parsers, argv)),
                          ("cli.did_you_mean_command", unknown_command(parser, parser.command_parsers, argv))):
        if mistyped and mistyped[1]:   # one line: what was typed and what was meant
            sys.stderr.write(Translator(early_language).t(key, prog=parser.prog, typed=clip(mistyped[0]),
                                                          meant=mistyped[1]) + "\n")
            return EXIT_USAGE
    try:
        args = parser.parse_args(argv)
    except UsageError as error:
        sys.stderr.write(f"{error}\n{Translator(early_language).t('cli.see_help', prog=parser.prog)}\n")
        return EXIT_USAGE
    try:
        language = normalise_language(args.lang or early_language)
    except ValueError:
        sys.stderr.write(Translator(early_language).t("cli.bad_language", given=clip(args.lang),
                                                      choices=", ".join(LANGUAGES)) + "\n")
        return EXIT_USAGE
    presenter = args.presenter or bool(saved.setting("presenter", False))
    if env is None:
        no_color = args.no_color or saved.setting("colour", True) is False
        env = Environment.from_system(no_color=no_color, presenter=presenter, language=language)
    else:
        env.language, env.presenter = language, env.presenter or presenter
    if args.command is None and not args.lang and not saved.setting("language") and not language_named_by():
        language = env.language = first_run_language(env, language)
    tr = Translator(language)
    problem = saved.take_problem(tr)
    if problem:  # on stderr: it must never get mixed into JSON or CSV on stdout
        fail(env, problem, EXIT_OK)
    try:
        return _dispatch(args, env, tr)
    except KeyboardInterrupt:
        try:
            env.write("")
            env.write(interrupted_message(tr), "warning")
        except (OSError, ValueError, KeyboardInterrupt):   # stdout gone, or a second Ctrl+C: just end
            pass
        return interrupted_code()
    except BrokenPipeError:
        silence_stdout()
        return EXIT_OK
    except OSError as error:  # the system said no (e.g. an address this machine cannot use)
        if is_out_of_resources(error):
            raise
        env.stderr.write(tr.t("cli.os_error", detail=error.strerror or error) + "\n")
        return EXIT_UNREACHABLE


def _dispatch(args, env: Environment, tr: Translator) -> int:
    """Run the command that was named, or the menu.  Each is imported only when it runs (a deliberate
    lazy import: ``--help`` and a plain scan start without loading the menu, the lab or the quizzes)."""
    if args.command == "scan":
        from lessons.ui.commands.scan import command_scan   # lazy: start-up time

        return command_scan(args, env, tr)
    if args.command in ("lessons", "lesson"):
        from lessons.ui.commands.lessons import command_lesson, command_lessons   # lazy: start-up time

        return command_lessons(env, tr) if args.command == "lessons" else command_lesson(args.lesson_id, env, tr)
    if args.command == "lab" and args.classroom:
        from lessons.ui.commands.challenge import command_classroom   # lazy: start-up time

        return command_classroom(args, env, tr)
    if args.command == "challenge":
        from lessons.ui.commands.challenge import command_challenge   # lazy: start-up time

        return command_challenge(args, env, tr)
    if args.command == "lab":
        from lessons.ui.commands.lab import command_lab   # lazy: start-up time

        return command_lab(args, env, tr)
    if args.command == "quiz":
        from lessons.ui.commands.quiz import command_quiz   # lazy: start-up time

        return command_quiz(args.lesson_id, env, tr)
    if args.command in ("exercises", "exercise"):
        from lessons.ui.commands.exercise import command_exercise, command_exercises   # lazy: start-up time

        return command_exercises(env, tr) if args.command == "exercises" else command_exercise(args, env, tr)
    from lessons.ui.app import App   # lazy: start-up time
    from lessons.ui.screens import main_menu   # lazy, with App above

    return main_menu.run(App(env, tr))
