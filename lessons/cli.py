"""The command line: ``python main.py [command] ...``.

Without a command the guided menu opens.  The commands are for people who already know
what they want (and for scripts):

    scan HOST [-p SPEC] [--timeout SECONDS|auto] [--retries N] [--workers N] [--banners] [--all]
              [--format text|json|csv] [-o FILE] [--yes] [--udp] [--ipv6]
    lessons            list the lessons
    lesson ID          show one lesson
    lab                start the practice lab on loopback
    quiz [LESSON]      answer questions about a lesson

Exit codes follow the shell's conventions: 0 done, 1 the target could not be resolved or
reached, 2 a usage or input error, 130 interrupted by Ctrl+C (partial results are still
printed or written).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional

from lessons import catalog
from lessons.i18n import LANGUAGES, Translator, language_from_environment, normalise_language
from lessons.output import results_table, short_spec, summary_line, text_report
from lessons.progress import store
from lessons.render import render_lesson
from lessons.session import consent_record, run_scan
from lessons.terminal import Environment
from scanner.errors import InputError, TargetError, clip
from scanner.inputs import parse_ports, parse_retries, parse_target, parse_timeout, parse_workers
from scanner.engine import DEFAULT_WORKERS
from scanner.report import to_csv, to_json, write_atomically
from scanner.results import Reason

EXIT_OK, EXIT_UNREACHABLE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
# A host that was typed correctly but has no address to scan: exit 1, not a usage error.
UNRESOLVED_CODES = {"target.unresolved", "target.never_exists", "target.no_address", "target.no_ipv6"}


class UsageError(Exception):
    """argparse found a problem; carries the one-line message."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line and exit 2, not a usage dump
        raise UsageError(f"{self.prog}: {message}")


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
    return common


# argparse's own words, looked up through its module-level gettext function.
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


def _speak_argparse(tr: Translator) -> None:
    def translate(message: str) -> str:
        key = ARGPARSE_MESSAGES.get(message)
        return tr.t(key) if key else message

    argparse._ = translate  # argparse calls _() when it builds each message


def build_parser(tr: Optional[Translator] = None) -> argparse.ArgumentParser:
    tr = tr or Translator()
    _speak_argparse(tr)
    common = _common_options(tr, for_command=True)
    parser = _Parser(prog="python main.py", parents=[_common_options(tr, for_command=False)],
                     description=tr.t("help.description"))
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)

    scan = commands.add_parser("scan", parents=[common], help=tr.t("help.scan"))
    scan.add_argument("host")
    scan.add_argument("-p", "--ports", default="common", help=tr.t("help.ports"))
    scan.add_argument("--timeout", default="1", help=tr.t("help.timeout"))
    scan.add_argument("--retries", default=None, metavar="N", help=tr.t("help.retries"))
    scan.add_argument("--workers", default=str(DEFAULT_WORKERS), help=tr.t("help.workers", default=DEFAULT_WORKERS))
    scan.add_argument("--banners", action="store_true", help=tr.t("help.banners"))
    scan.add_argument("--all", action="store_true", help=tr.t("help.all"))
    scan.add_argument("--format", choices=("text", "json", "csv"), default="text", help=tr.t("help.format"))
    scan.add_argument("-o", "--output", metavar="FILE", help=tr.t("help.output"))
    scan.add_argument("--yes", action="store_true", help=tr.t("consent.statement"))
    scan.add_argument("--udp", action="store_true", help=tr.t("help.udp"))
    scan.add_argument("--ipv6", action="store_true", help=tr.t("help.ipv6"))

    commands.add_parser("lessons", parents=[common], help=tr.t("help.lessons"))
    lesson = commands.add_parser("lesson", parents=[common], help=tr.t("help.lesson"))
    lesson.add_argument("lesson_id")
    lab = commands.add_parser("lab", parents=[common], help=tr.t("help.lab"))
    lab.add_argument("--bind", default="127.0.0.1", metavar="ADDRESS", help=tr.t("help.bind"))
    lab.add_argument("--base-port", default="8000", metavar="PORT", help=tr.t("help.base_port"))
    quiz = commands.add_parser("quiz", parents=[common], help=tr.t("help.quiz"))
    quiz.add_argument("lesson_id", nargs="?")
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


def main(argv: Optional[List[str]] = None, env: Optional[Environment] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    saved = store()
    early_language = _peek_language(argv) or saved.setting("language") or language_from_environment()
    try:
        args = build_parser(Translator(early_language)).parse_args(argv)
    except UsageError as error:
        sys.stderr.write(f"{error}\n{Translator(early_language).t('cli.see_help')}\n")
        return EXIT_USAGE
    try:
        language = normalise_language(args.lang or early_language)
    except ValueError:
        sys.stderr.write(Translator(early_language).t("cli.bad_language", given=args.lang,
                                                      choices=", ".join(LANGUAGES)) + "\n")
        return EXIT_USAGE
    presenter = args.presenter or bool(saved.setting("presenter", False))
    if env is None:
        no_color = args.no_color or saved.setting("colour", True) is False
        env = Environment.from_system(no_color=no_color, presenter=presenter, language=language)
    else:
        env.language, env.presenter = language, env.presenter or presenter
    tr = Translator(language)
    problem = saved.take_problem(tr)
    if problem:  # on stderr: it must never get mixed into JSON or CSV on stdout
        _fail(env, problem, EXIT_OK)
    try:
        if args.command == "scan":
            return command_scan(args, env, tr)
        if args.command == "lessons":
            return command_lessons(env, tr)
        if args.command == "lesson":
            return command_lesson(args.lesson_id, env, tr)
        if args.command == "lab":
            from lessons.labscreen import command_lab

            return command_lab(args, env, tr)
        if args.command == "quiz":
            from lessons.quiz import command_quiz

            return command_quiz(args.lesson_id, env, tr)
        from lessons.menu import Menu

        return Menu(env, tr).run()
    except KeyboardInterrupt:
        env.write("")
        env.write(tr.t("cli.interrupted"), "warning")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK
    except OSError as error:  # the system said no (e.g. an address this machine cannot use)
        env.stderr.write(tr.t("cli.os_error", detail=error.strerror or error) + "\n")
        return EXIT_UNREACHABLE


def command_lessons(env: Environment, tr: Translator) -> int:
    for number, lesson_id in enumerate(catalog.lesson_ids(tr.language), 1):
        title = catalog.load_lesson(lesson_id, tr.language).title
        env.write(f"{number:>2}. {env.paint(f'{lesson_id:<22}', 'key')} {title}")
    env.write(tr.t("lessons.how_to_open"), "hint")
    return EXIT_OK


def command_lesson(name: str, env: Environment, tr: Translator) -> int:
    lesson_id = catalog.find_lesson(name, tr.language)
    if lesson_id is None:
        env.error(tr.t("lessons.unknown", name=clip(name)))
        return EXIT_USAGE
    for line in render_lesson(catalog.load_lesson(lesson_id, tr.language), env):
        env.write(line)
    return EXIT_OK


def _fail(env: Environment, message: str, code: int) -> int:
    """The message as one line on stderr (scripts read it; what was typed is already clipped)."""
    env.stderr.write(message + "\n")
    return code


def command_scan(args, env: Environment, tr: Translator) -> int:
    try:
        ports = parse_ports(args.ports)
        timeout = parse_timeout(args.timeout)
        retries = parse_retries(args.retries)
        workers = parse_workers(args.workers)
        target = parse_target(args.host, prefer_ipv6=args.ipv6)
    except TargetError as error:
        return _fail(env, tr.error(error), EXIT_UNREACHABLE if error.code in UNRESOLVED_CODES else EXIT_USAGE)
    except InputError as error:
        return _fail(env, tr.error(error), EXIT_USAGE)
    if args.output is not None:  # find a bad -o before the scan, not after it
        problem = _output_problem(args.output)
        if problem:
            key, folder = problem
            shown = args.output.replace("\x00", "")
            return _fail(env, tr.t("report.path_problem", path=shown, detail=tr.t(key, folder=folder)), EXIT_USAGE)

    consent = None
    if args.yes:
        consent = consent_record(tr, "--yes")
    elif not target.is_loopback:
        if not env.interactive:
            return _fail(env, tr.t("consent.needs_yes", address=target.address), EXIT_USAGE)
        answer = env.read_line(tr.t("consent.ask_cli", address=target.address) + " ")
        if (answer or "").strip().lower() not in tr.t("consent.yes_words").split("|"):
            return _fail(env, tr.t("consent.cancelled"), EXIT_USAGE)
        consent = consent_record(tr, "prompt")

    show_progress = args.format == "text" and hasattr(env.stderr, "isatty") and env.stderr.isatty()
    if args.format == "text":
        env.write_wrapped(tr.count("scan.starting", len(ports), target=target.text, address=target.address,
                                   spec=short_spec(ports), timeout=str(timeout)))
    report = run_scan(target, ports, timeout, tr, workers=workers, banners=args.banners, udp=args.udp, retries=retries,
                      progress_stream=env.stderr if show_progress else None, width=env.width, consent=consent)

    if args.format == "json":
        env.write(to_json(report, args.all), end="")
    elif args.format == "csv":
        env.write(to_csv(report, args.all), end="")
    else:
        for line in results_table(report, env, tr, include_closed=args.all):
            env.write(line)
        env.write_wrapped(summary_line(report, tr))
        for note in engine_notes(report, tr):
            env.write_wrapped(note)
    if args.output:
        text = report_text(report, tr, _file_format(args.output, args.format), args.all)
        try:
            write_atomically(os.path.expanduser(args.output), text)
        except OSError as error:
            return _fail(env, tr.t("report.write_failed", path=args.output, detail=error.strerror or error), EXIT_USAGE)
        if args.format == "text":
            env.write(tr.t("report.saved", path=args.output), "ok")
    if report.interrupted:
        env.stderr.write(tr.t("cli.interrupted") + "\n")
        return EXIT_INTERRUPTED
    unreachable = {Reason.HOST_UNREACH, Reason.NET_UNREACH}
    if report.results and all(r.reason in unreachable for r in report.results):
        return _fail(env, tr.t("scan.unreachable", address=target.address), EXIT_UNREACHABLE)
    return EXIT_OK


def engine_notes(report, tr: Translator) -> List[str]:
    """What the engine noticed about the network: lost packets, a rate-limited target."""
    notes = []
    if getattr(report, "retried", 0):
        notes.append(tr.count("scan.note_retried", report.retried))
    if getattr(report, "rate_limit_per_second", None):
        key = "scan.note_rate_limit_udp" if report.protocol == "udp" else "scan.note_rate_limit"
        notes.append(tr.t(key, rate=report.rate_limit_per_second))
    return notes


def _output_problem(path: str) -> Optional[tuple]:
    """Why a report cannot be written to ``path``, as (ui.json key, folder); None when it can."""
    if not path.strip() or "\x00" in path:
        return "report.no_name", ""
    path = os.path.expanduser(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        return "report.no_folder", folder
    if os.path.isdir(path):
        return "report.is_folder", folder
    if not os.access(folder, os.W_OK):
        return "report.no_permission", folder
    return None


def _file_format(path: str, chosen: str) -> str:
    """--format json/csv decide; with text, the file name's ending does (.json, .csv, else text)."""
    if chosen != "text":
        return chosen
    ending = path.lower().rsplit(".", 1)[-1]
    return ending if ending in ("json", "csv") else "text"


def report_text(report, tr: Translator, file_format: str, include_closed: bool = False) -> str:
    if file_format == "json":
        return to_json(report, include_closed)
    if file_format == "csv":
        return to_csv(report, include_closed)
    return text_report(report, tr, include_closed)


