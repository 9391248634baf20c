"""The command line: ``python main.py [command] ...``.

Without a command the guided menu opens.  The commands are for people who already know
what they want (and for scripts):

    scan HOST [-p SPEC] [--timeout SECONDS|auto] [--retries N] [--workers N] [--banners] [--all]
              [--format text|json|csv] [-o FILE] [--yes] [--udp] [--ipv6]
              [--max-hosts N] [--no-ping] [--packets [N]]   (HOST may be a network: 127.0.0.0/29)
    lessons            list the lessons
    lesson ID          show one lesson
    lab                start the practice lab on loopback
    quiz [LESSON]      answer questions about a lesson

Exit codes follow the shell's conventions: 0 done, 1 the target could not be resolved or
reached (or the computer ran out of threads, memory or files), 2 a usage or input error,
130 interrupted by Ctrl+C, 143 by SIGTERM, 129 by SIGHUP (partial results are still
printed and written: the report file first, so a closed or broken stdout never loses it).
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
import textwrap
from typing import List, Optional

from lessons import catalog
from lessons.command_line import (SCAN_EXAMPLES, TOP_EXAMPLES, add_version, examples, program_name,
                                  unknown_command, unknown_option)
from lessons.i18n import LANGUAGES, Translator, language_from_environment, language_named_by, normalise_language
from lessons.output import results_table, short_spec, summary_line, text_report
from lessons.progress import store
from lessons.session import OutOfResources, Terminated, consent_record, is_out_of_resources, run_scan
from lessons.terminal import Environment
from scanner.errors import InputError, TargetError, clip
from scanner.inputs import DEFAULT_TIMEOUT, parse_max_hosts, parse_ports, parse_retries, parse_targets, parse_timeout, parse_workers
from scanner.engine import DEFAULT_WORKERS
from scanner.report import (is_link_loop, is_own_output, is_planted_link, not_regular_file,
                             signals_held, to_csv, to_json, write_atomically)
from scanner.results import Reason

EXIT_OK, EXIT_UNREACHABLE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
PATH_ECHO_LIMIT = 200   # a file path is echoed longer than other input, but still clipped and stripped
# A host that was typed correctly but has no address to scan: exit 1, not a usage error.
UNRESOLVED_CODES = {"target.unresolved", "target.never_exists", "target.no_address", "target.no_ipv6"}


_SIGNALS_SEEN: List[int] = []
END_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


def _on_end_signal(signum, _frame) -> None:
    _SIGNALS_SEEN.append(signum)
    raise Terminated(signum)


def _end_on_signals() -> dict:
    """SIGTERM and SIGHUP raise Terminated in the main thread; returns the handlers to restore."""
    _SIGNALS_SEEN.clear()
    previous = {}
    for signum in END_SIGNALS:
        try:
            previous[signum] = signal.signal(signum, _on_end_signal)
        except (ValueError, OSError):   # not the main thread: leave the signal alone
            pass
    return previous


def _interrupted_code() -> int:
    """130 for Ctrl+C, 128 + the signal's number for SIGTERM (143) and SIGHUP (129)."""
    return 128 + _SIGNALS_SEEN[-1] if _SIGNALS_SEEN else EXIT_INTERRUPTED


def _interrupted_message(tr: Translator) -> str:
    return tr.t("cli.terminated") if _SIGNALS_SEEN else tr.t("cli.interrupted")


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
    add_version(common, tr.t("help.version"))
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
    prog = program_name()
    keep_lines = {"formatter_class": argparse.RawDescriptionHelpFormatter}   # the examples are a table: wrap by hand
    parser = _Parser(prog=prog, parents=[_common_options(tr, for_command=False)],
                     description=textwrap.fill(tr.t("help.description"), 79), epilog=examples(tr, prog, TOP_EXAMPLES), **keep_lines)
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)

    scan = commands.add_parser("scan", parents=[common], help=tr.t("help.scan"),
                               epilog=examples(tr, prog, SCAN_EXAMPLES), **keep_lines)
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
    quiz = commands.add_parser("quiz", parents=[common], help=tr.t("help.quiz"))
    quiz.add_argument("lesson_id", nargs="?", metavar="ID", help=tr.t("help.quiz_id"))
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
            import ctypes

            ctypes.CDLL("libgcc_s.so.1")
        except (ImportError, OSError):
            pass


def main(argv: Optional[List[str]] = None, env: Optional[Environment] = None) -> int:
    _load_thread_exit_support()
    previous = _end_on_signals()
    try:
        code = _main(argv, env)
    except KeyboardInterrupt:   # before a command began (reading settings, parsing)
        code = _interrupted_code()
    except BaseException as error:
        if not is_out_of_resources(error):
            raise
        sys.stderr.write(Translator(language_from_environment()).t("cli.out_of_resources",
                                                                   detail=_resource_detail(error)) + "\n")
        code = EXIT_UNREACHABLE
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if _SIGNALS_SEEN and code in (EXIT_OK, EXIT_INTERRUPTED):
        code = _interrupted_code()   # e.g. the lab stopped cleanly on SIGTERM: still say why it ended
    return code


def _resource_detail(error: BaseException) -> str:
    if isinstance(error, MemoryError):
        return "MemoryError"
    return clip(str(error.strerror if isinstance(error, OSError) and error.strerror else error), 60)


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
        from lessons.settings import first_run_language

        language = env.language = first_run_language(env, language)
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
        try:
            env.write("")
            env.write(_interrupted_message(tr), "warning")
        except (OSError, ValueError, KeyboardInterrupt):   # stdout gone, or a second Ctrl+C: just end
            pass
        return _interrupted_code()
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_OK
    except OSError as error:  # the system said no (e.g. an address this machine cannot use)
        if is_out_of_resources(error):
            raise
        env.stderr.write(tr.t("cli.os_error", detail=error.strerror or error) + "\n")
        return EXIT_UNREACHABLE


def command_lessons(env: Environment, tr: Translator) -> int:
    for number, lesson_id in enumerate(catalog.lesson_ids(tr.language), 1):
        title = catalog.load_lesson(lesson_id, tr.language).title
        env.write(f"{number:>2}. {env.paint(f'{lesson_id:<22}', 'key')} {title}")
    env.write(tr.t("lessons.how_to_open"), "hint")
    return EXIT_OK


def command_lesson(name: Optional[str], env: Environment, tr: Translator) -> int:
    if name is None:  # "lesson" alone: the list, and how to open one
        command_lessons(env, tr)
        return _fail(env, tr.t("lesson.needs_id"), EXIT_USAGE)
    lesson_id = catalog.find_lesson(name, tr.language)
    if lesson_id is None:
        env.error(tr.t("lessons.unknown", name=clip(name)))
        return EXIT_USAGE
    from lessons import pager
    from lessons.render import lesson_blocks

    def ask(prompt: str) -> str:
        answer = env.read_line(prompt)
        return "q" if answer is None else answer  # Ctrl+D leaves the pager

    lesson = catalog.load_lesson(lesson_id, tr.language)
    if pager.show(env, lambda: lesson_blocks(lesson, env), ask, tr, finish=False, like_cat=True):
        store().mark_lesson_read(lesson_id)
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
        targets = parse_targets(args.host, max_hosts=parse_max_hosts(args.max_hosts), prefer_ipv6=args.ipv6)
        target = targets.targets[0]
    except TargetError as error:
        return _fail(env, tr.error(error), EXIT_UNREACHABLE if error.code in UNRESOLVED_CODES else EXIT_USAGE)
    except InputError as error:
        return _fail(env, tr.error(error), EXIT_USAGE)
    if args.output is not None and args.output != "-":  # find a bad -o before the scan; "-" is stdout
        problem = _output_problem(args.output)
        if problem:
            key, folder = problem
            shown = clip(args.output.replace("\x00", ""), PATH_ECHO_LIMIT)
            detail = tr.t(key, folder=clip(folder, PATH_ECHO_LIMIT))   # the folder is typed input too
            return _fail(env, tr.t("report.path_problem", path=shown, detail=detail), EXIT_USAGE)
    packet_limit = None
    if args.packets is not None:  # --packets [N]: checked before anything is sent
        from lessons.wire import parse_packet_count

        try:
            packet_limit = parse_packet_count(args.packets)
        except ValueError:
            return _fail(env, tr.t("packets.bad_count"), EXIT_USAGE)
    if targets.is_network:  # more than one address: discovery, then a block per host
        from lessons.netscan import command_scan_network

        return command_scan_network(args, env, tr, targets, ports, timeout, workers, packet_limit, retries)

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

    if args.output and _format_mismatch(args.output, args.format):
        shown = clip(args.output.replace("\x00", ""))  # r.csv that will hold JSON: say so
        env.stderr.write(tr.t("cli.format_mismatch", path=shown, format=args.format.upper()) + "\n")

    show_progress = args.format == "text" and hasattr(env.stderr, "isatty") and env.stderr.isatty()
    if args.format == "text":
        starting = tr.count("scan.starting", len(ports), target=target.text, address=target.address,
                            spec=short_spec(ports), timeout=tr.decimal(str(timeout)))
        write_or_silence(env, lambda: env.write_wrapped(starting))
    capture = None
    if args.packets is not None and not args.udp:
        from lessons.wire import packet_lines, results_by_probe, show_packets, start_capture

        capture, problem = start_capture([target.address], ports, tr)
        if problem:  # one line, and the scan runs as usual
            env.stderr.write(problem + "\n")
    try:
        report, shortage = run_scan(target, ports, timeout, tr, workers=workers, banners=args.banners, udp=args.udp,
                                    retries=retries, progress_stream=env.stderr if show_progress else None, width=env.columns,
                                    consent=consent), None
    except OutOfResources as error:   # e.g. no thread for the banner pass: the scan itself is kept
        report, shortage = error.report, error.cause
        if report is None:
            raise shortage from None
    finally:
        if capture is not None:
            capture.stop()

    write_error = save_report_first(args, tr, lambda file_format: report_text(report, tr, file_format, args.all))
    printed = write_or_silence(env, lambda: _print_results(report, args, env, tr))
    if capture is not None and printed:  # after the results; on stderr when stdout carries JSON or CSV
        show_packets(env, packet_lines(capture, results_by_probe(report), tr, packet_limit), args.format)
    if write_error:
        return _fail(env, write_error, EXIT_USAGE)
    if args.output and args.output != "-" and args.format == "text" and printed:
        env.write(tr.t("report.saved", path=clip(args.output, PATH_ECHO_LIMIT)), "ok")
    if shortage is not None:
        return _fail(env, tr.t("cli.out_of_resources", detail=_resource_detail(shortage)), EXIT_UNREACHABLE)
    if report.interrupted:
        _fail(env, _interrupted_message(tr), EXIT_INTERRUPTED)
        return _interrupted_code()
    unreachable = {Reason.HOST_UNREACH, Reason.NET_UNREACH}
    if report.results and all(r.reason in unreachable for r in report.results):
        return _fail(env, tr.t("scan.unreachable", address=target.address), EXIT_UNREACHABLE)
    return EXIT_OK


def _print_results(report, args, env: Environment, tr: Translator) -> None:
    """The results on stdout, in the chosen format."""
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


def save_report_first(args, tr: Translator, text_for) -> Optional[str]:
    """Write ``-o``'s file before anything is printed; the one-line error, or None.

    Signals are held until the file is in place, so a closed or broken stdout, or SIGTERM
    while printing, can no longer cost the report.  ``text_for(file_format)`` makes its text.
    """
    if not args.output or args.output == "-":
        return None
    with signals_held():
        try:
            write_atomically(os.path.expanduser(args.output), text_for(_file_format(args.output, args.format)))
        except OSError as error:
            return tr.t("report.write_failed", path=clip(args.output, PATH_ECHO_LIMIT), detail=error.strerror or error)
    return None


def write_or_silence(env: Environment, write) -> bool:
    """Run ``write`` (printing to stdout); a reader that is already gone (``| head``, ``| true``)
    or a closed stdout costs the screen output, never the scan or its report file.  False when
    stdout is gone."""
    try:
        write()
        return True
    except (BrokenPipeError, ValueError):   # ValueError: a closed stream
        _silence_stdout()
        return False


def _silence_stdout() -> None:
    """Send further output (and the interpreter's final flush) to the null device."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError, AttributeError):
        pass


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
    try:
        os.lstat(path)
    except OSError as error:   # found now, not after a long scan
        if error.errno == errno.ENAMETOOLONG:
            return "report.name_too_long", ""
    if is_link_loop(path):   # a -> b -> a: there is no file to write, and the link must not be replaced
        return "report.link_loop", ""
    if is_planted_link(path):   # /tmp/report.txt -> /etc/shadow, left there by someone else
        return "report.unsafe_link", ""
    folder = os.path.dirname(os.path.realpath(path))   # a link's target folder gets the file
    if not os.path.isdir(folder):
        return "report.no_folder", folder
    if os.path.isdir(path):
        return "report.is_folder", folder
    if not_regular_file(path):   # /dev/null, a FIFO, a socket: a report never replaces one
        return "report.not_regular", folder
    if is_own_output(path):   # -o /dev/stdout > out.txt: the printed results would lose their file
        return "report.own_output", folder
    if not os.access(folder, os.W_OK):
        return "report.no_permission", folder
    return None


def _format_mismatch(path: str, chosen: str) -> bool:
    """--format json or csv with a file name whose ending says something else (.csv, .txt)."""
    named = _file_format(path, "text")
    return chosen != "text" and named != chosen and (named != "text" or path.lower().endswith((".txt", ".text")))


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


