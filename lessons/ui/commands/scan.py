"""``python3 main.py scan TARGET``: one scan from the command line, for people and for scripts.

The target may be one host or a network (``127.0.0.0/29``, ``127.0.0.1-4``).  Everything
is checked before anything is sent: the ports, the timeout, ``-o``'s file, ``--packets``,
and permission for anything that is not this computer.  The answers become one
``ScanRequest`` (``scanner/request.py``), the same the guided walk builds, and one route
scans it.  Then the report file is written *first* (so a closed stdout never costs it) and
the results are printed in the chosen format.  Exit codes: ``lessons/ui/exits.py``.
"""

from __future__ import annotations

from typing import Optional

from lessons.ui.consent import ask_consent
from lessons.ui.exits import (EXIT_INTERRUPTED, EXIT_OK, EXIT_UNREACHABLE, EXIT_USAGE, fail, interrupted_code,
                              interrupted_message, resource_detail)
from lessons.ui.i18n import Translator
from lessons.ui.output import engine_notes, host_lines, results_table, short_spec, summary_line
from lessons.ui.reports import (PATH_ECHO_LIMIT, format_mismatch, output_problem, report_text, save_report_first,
                                write_or_silence)
from lessons.ui.session import run_scan
from lessons.ui.terminal import Environment
from lessons.ui.wire import packet_lines, parse_packet_count, results_by_probe, show_packets, start_capture
from scanner.discovery import DISCOVERY_PORTS
from scanner.errors import InputError, TargetError, clip
from scanner.inputs import (parse_max_hosts, parse_ports, parse_retries, parse_targets, parse_timeout,
                            parse_workers)
from scanner.request import ScanOutcome, ScanRequest
from scanner.results import Reason

# A host that was typed correctly but has no address to scan: exit 1, not a usage error.
UNRESOLVED_CODES = {"target.unresolved", "target.never_exists", "target.no_address", "target.no_ipv6"}


class _Refused(Exception):
    """A problem found before anything was sent: (message, exit code)."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.message, self.code = message, code


def command_scan(args, env: Environment, tr: Translator) -> int:
    try:
        request, packet_limit = request_from(args, env, tr)
    except _Refused as refused:
        return fail(env, refused.message, refused.code)
    if args.output and format_mismatch(args.output, args.format):
        shown = clip(args.output.replace("\x00", ""))  # r.csv that will hold JSON: say so
        env.stderr.write(tr.t("cli.format_mismatch", path=shown, format=args.format.upper()) + "\n")
    if args.format == "text":
        write_or_silence(env, lambda: _say_starting(request, env, tr))  # a reader gone costs the screen only
    capture = None
    if args.packets is not None and not request.udp:
        capture, problem = start_capture(request.targets.addresses, request.ports, tr)
        if problem:  # one line, and the scan runs as usual
            env.stderr.write(problem + "\n")
    show_progress = args.format == "text" and hasattr(env.stderr, "isatty") and env.stderr.isatty()
    try:
        outcome = run_scan(request, tr, progress_stream=env.stderr if show_progress else None, width=env.columns)
    finally:
        if capture is not None:
            capture.stop()
    report = outcome.report
    write_error = save_report_first(args, tr, lambda file_format: report_text(report, tr, file_format, args.all))
    printed = write_or_silence(env, lambda: _print(outcome, request, args, env, tr))
    if capture is not None and printed:  # after the results; on stderr when stdout carries JSON or CSV
        reports = [host.report for host in report.hosts] if request.is_network else [report]
        show_packets(env, packet_lines(capture, results_by_probe(*reports), tr, packet_limit), args.format)
    if write_error:
        return fail(env, write_error.message, write_error.code)
    if args.output and args.output != "-" and args.format == "text" and printed:
        env.write(tr.t("report.saved", path=clip(args.output, PATH_ECHO_LIMIT)), "ok")
    return _exit_code(outcome, request, env, tr)


def request_from(args, env: Environment, tr: Translator) -> tuple:
    """(``ScanRequest``, packet limit) from the parsed arguments, or ``_Refused`` before anything is sent."""
    try:
        ports = parse_ports(args.ports)
        timeout = parse_timeout(args.timeout)
        retries = parse_retries(args.retries)
        workers = parse_workers(args.workers)
        targets = parse_targets(args.host, max_hosts=parse_max_hosts(args.max_hosts), prefer_ipv6=args.ipv6)
    except TargetError as error:
        raise _Refused(tr.error(error), EXIT_UNREACHABLE if error.code in UNRESOLVED_CODES else EXIT_USAGE) from None
    except InputError as error:
        raise _Refused(tr.error(error), EXIT_USAGE) from None
    if args.output is not None and args.output != "-":  # find a bad -o before the scan; "-" is stdout
        problem = output_problem(args.output)
        if problem:
            key, folder = problem
            shown = clip(args.output.replace("\x00", ""), PATH_ECHO_LIMIT)
            detail = tr.t(key, folder=clip(folder, PATH_ECHO_LIMIT))   # the folder is typed input too
            raise _Refused(tr.t("report.path_problem", path=shown, detail=detail), EXIT_USAGE)
    packet_limit: Optional[int] = None
    if args.packets is not None:  # --packets [N]: checked before anything is sent
        try:
            packet_limit = parse_packet_count(args.packets)
        except ValueError:
            raise _Refused(tr.t("packets.bad_count"), EXIT_USAGE) from None
    consent, refusal = ask_consent(env, tr, targets, args.yes)
    if refusal:
        raise _Refused(refusal, EXIT_USAGE)
    request = ScanRequest(targets, ports, timeout, retries=retries, workers=workers,
                          protocol="udp" if args.udp else "tcp", banners=args.banners, consent=consent,
                          ping=not args.no_ping)
    return request, packet_limit


def _say_starting(request: ScanRequest, env: Environment, tr: Translator) -> None:
    ports, targets = request.ports, request.targets
    if not request.is_network:
        target = request.target
        env.write_wrapped(tr.count("scan.starting", len(ports), target=target.text, address=target.address,
                                   spec=short_spec(ports), timeout=tr.decimal(str(request.timeout))))
        return
    env.write_wrapped(tr.count("net.starting", len(ports), target=clip(targets.text, 60),
                               addresses=len(targets.targets), spec=short_spec(ports), timeout=str(request.timeout)))
    env.write_wrapped(tr.t("net.discovering", ports=",".join(map(str, DISCOVERY_PORTS))) if request.ping
                      else tr.t("net.no_ping"), "hint")


def _print(outcome: ScanOutcome, request: ScanRequest, args, env: Environment, tr: Translator) -> None:
    """The results on stdout, in the chosen format (JSON and CSV exactly as the file gets them)."""
    report = outcome.report
    if args.format != "text":
        env.write(report_text(report, tr, args.format, args.all), end="")
    elif request.is_network:
        env.write("")
        for line in host_lines(report, env, tr, args.all):
            if len(line) < env.width or "\x1b" in line:
                env.write(line)
            else:  # a long host name or IPv6 address: fold, never run off an 80-column screen
                env.write_wrapped(line, rest="  ")
    else:
        for line in results_table(report, env, tr, include_closed=args.all):
            env.write(line)
        env.write_wrapped(summary_line(report, tr))
        for note in engine_notes(report, tr):
            env.write_wrapped(note)


def _exit_code(outcome: ScanOutcome, request: ScanRequest, env: Environment, tr: Translator) -> int:
    if outcome.out_of_resources is not None:   # what was found is printed and saved above
        return fail(env, tr.t("cli.out_of_resources", detail=resource_detail(outcome.out_of_resources)),
                    EXIT_UNREACHABLE)
    if outcome.interrupted:
        fail(env, interrupted_message(tr), EXIT_INTERRUPTED)
        return interrupted_code()
    report = outcome.report
    unreachable = {Reason.HOST_UNREACH, Reason.NET_UNREACH}
    if not request.is_network and report.results and all(r.reason in unreachable for r in report.results):
        return fail(env, tr.t("scan.unreachable", address=request.target.address), EXIT_UNREACHABLE)
    return EXIT_OK
