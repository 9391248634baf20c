"""``python3 main.py scan TARGET``: one scan from the command line, for people and for scripts.

The target may be one host or a network (``127.0.0.0/29``, ``127.0.0.1-4``).  Everything
is checked before anything is sent: the ports, the timeout, ``-o``'s file, ``--packets``,
and permission for anything that is not this computer.  Then the scan runs with a progress
bar on stderr, the report file is written *first* (so a closed stdout never costs it),
and the results are printed in the chosen format.  Exit codes: ``lessons/ui/exits.py``.
"""

from __future__ import annotations

from typing import Optional

from lessons.ui.consent import ask_consent
from lessons.ui.exits import (EXIT_INTERRUPTED, EXIT_OK, EXIT_UNREACHABLE, EXIT_USAGE, fail, interrupted_code,
                              interrupted_message, resource_detail)
from lessons.ui.i18n import Translator
from lessons.ui.output import BANNER_LABELS, ProgressBar, engine_notes, host_lines, results_table, short_spec, summary_line
from lessons.ui.reports import (PATH_ECHO_LIMIT, format_mismatch, output_problem, report_text, save_report_first,
                                write_or_silence)
from lessons.ui.session import OutOfResources, read_network_banners, run_scan, scan_udp_host
from lessons.ui.terminal import Environment
from lessons.ui.wire import packet_lines, parse_packet_count, results_by_probe, show_packets, start_capture
from scanner.discovery import DISCOVERY_PORTS
from scanner.errors import InputError, TargetError, clip
from scanner.inputs import (TargetSet, TimeoutSetting, parse_max_hosts, parse_ports, parse_retries, parse_targets,
                            parse_timeout, parse_workers)
from scanner.network import scan_network
from scanner.results import Reason

# A host that was typed correctly but has no address to scan: exit 1, not a usage error.
UNRESOLVED_CODES = {"target.unresolved", "target.never_exists", "target.no_address", "target.no_ipv6"}


def command_scan(args, env: Environment, tr: Translator) -> int:
    try:
        ports = parse_ports(args.ports)
        timeout = parse_timeout(args.timeout)
        retries = parse_retries(args.retries)
        workers = parse_workers(args.workers)
        targets = parse_targets(args.host, max_hosts=parse_max_hosts(args.max_hosts), prefer_ipv6=args.ipv6)
        target = targets.targets[0]
    except TargetError as error:
        return fail(env, tr.error(error), EXIT_UNREACHABLE if error.code in UNRESOLVED_CODES else EXIT_USAGE)
    except InputError as error:
        return fail(env, tr.error(error), EXIT_USAGE)
    if args.output is not None and args.output != "-":  # find a bad -o before the scan; "-" is stdout
        problem = output_problem(args.output)
        if problem:
            key, folder = problem
            shown = clip(args.output.replace("\x00", ""), PATH_ECHO_LIMIT)
            detail = tr.t(key, folder=clip(folder, PATH_ECHO_LIMIT))   # the folder is typed input too
            return fail(env, tr.t("report.path_problem", path=shown, detail=detail), EXIT_USAGE)
    packet_limit = None
    if args.packets is not None:  # --packets [N]: checked before anything is sent
        try:
            packet_limit = parse_packet_count(args.packets)
        except ValueError:
            return fail(env, tr.t("packets.bad_count"), EXIT_USAGE)
    if targets.is_network:  # more than one address: discovery, then a block per host
        return command_scan_network(args, env, tr, targets, ports, timeout, workers, packet_limit, retries)

    consent, refusal = ask_consent(env, tr, targets, args.yes)
    if refusal:
        return fail(env, refusal, EXIT_USAGE)

    if args.output and format_mismatch(args.output, args.format):
        shown = clip(args.output.replace("\x00", ""))  # r.csv that will hold JSON: say so
        env.stderr.write(tr.t("cli.format_mismatch", path=shown, format=args.format.upper()) + "\n")

    show_progress = args.format == "text" and hasattr(env.stderr, "isatty") and env.stderr.isatty()
    if args.format == "text":
        starting = tr.count("scan.starting", len(ports), target=target.text, address=target.address,
                            spec=short_spec(ports), timeout=tr.decimal(str(timeout)))
        write_or_silence(env, lambda: env.write_wrapped(starting))
    capture = None
    if args.packets is not None and not args.udp:
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
        return fail(env, write_error.message, write_error.code)
    if args.output and args.output != "-" and args.format == "text" and printed:
        env.write(tr.t("report.saved", path=clip(args.output, PATH_ECHO_LIMIT)), "ok")
    if shortage is not None:
        return fail(env, tr.t("cli.out_of_resources", detail=resource_detail(shortage)), EXIT_UNREACHABLE)
    if report.interrupted:
        fail(env, interrupted_message(tr), EXIT_INTERRUPTED)
        return interrupted_code()
    unreachable = {Reason.HOST_UNREACH, Reason.NET_UNREACH}
    if report.results and all(r.reason in unreachable for r in report.results):
        return fail(env, tr.t("scan.unreachable", address=target.address), EXIT_UNREACHABLE)
    return EXIT_OK


def _print_results(report, args, env: Environment, tr: Translator) -> None:
    """The results on stdout, in the chosen format (JSON and CSV exactly as the file gets them)."""
    if args.format != "text":
        env.write(report_text(report, tr, args.format, args.all), end="")
    else:
        for line in results_table(report, env, tr, include_closed=args.all):
            env.write(line)
        env.write_wrapped(summary_line(report, tr))
        for note in engine_notes(report, tr):
            env.write_wrapped(note)


def command_scan_network(args, env: Environment, tr: Translator, targets: TargetSet, ports: tuple,
                         timeout: TimeoutSetting, workers: int, packet_limit: Optional[int] = None,
                         retries: Optional[int] = None) -> int:
    """``scan BLOCK``: the network version of ``command_scan`` (same exit codes)."""
    consent, refusal = ask_consent(env, tr, targets, args.yes)
    if refusal:
        return fail(env, refusal, EXIT_USAGE)
    ping = not getattr(args, "no_ping", False)
    text = args.format == "text"
    show_progress = text and hasattr(env.stderr, "isatty") and env.stderr.isatty()
    if text:
        def starting() -> None:
            env.write_wrapped(tr.count("net.starting", len(ports), target=clip(targets.text, 60),
                                       addresses=len(targets.targets), spec=short_spec(ports), timeout=str(timeout)))
            env.write_wrapped(tr.t("net.discovering", ports=",".join(map(str, DISCOVERY_PORTS))) if ping
                              else tr.t("net.no_ping"), "hint")

        write_or_silence(env, starting)   # a reader already gone costs the screen, never the report
    bar = ProgressBar(env.stderr, tr, env.columns, enabled=show_progress)
    scan_host = scan_udp_host if getattr(args, "udp", False) else None
    capture = None
    if getattr(args, "packets", None) is not None and scan_host is None:
        capture, problem = start_capture(targets.addresses, ports, tr)
        if problem:  # one line, and the scan runs as usual
            env.stderr.write(problem + "\n")
    try:
        network = scan_network(targets, ports, timeout, workers=workers, ping=ping, progress=bar.update,
                               retries=retries, scan_host=scan_host)
    finally:
        bar.finish()
        if capture is not None:
            capture.stop()
    network.consent = consent
    if args.banners and scan_host is None and not network.interrupted:
        banner_bar = ProgressBar(env.stderr, tr, env.columns, enabled=show_progress, **BANNER_LABELS)
        try:
            read_network_banners(network, banner_bar.update)
        finally:
            banner_bar.finish()
    if scan_host is not None:
        network.protocol = "udp"

    write_error = save_report_first(args, tr, lambda file_format: report_text(network, tr, file_format, args.all))
    printed = write_or_silence(env, lambda: _print_network(network, args, env, tr))
    if capture is not None and printed:  # after the results; on stderr when stdout carries JSON or CSV
        show_packets(env, packet_lines(capture, results_by_probe(*(h.report for h in network.hosts)), tr,
                                       packet_limit), args.format)
    if write_error:
        return fail(env, write_error.message, write_error.code)
    if args.output and args.output != "-" and text and printed:
        env.write(tr.t("report.saved", path=clip(args.output, PATH_ECHO_LIMIT)), "ok")
    if network.shortage is not None:   # out of threads or memory: what was found is printed and saved above
        return fail(env, tr.t("cli.out_of_resources", detail=resource_detail(network.shortage)), EXIT_UNREACHABLE)
    if network.interrupted:
        fail(env, interrupted_message(tr), EXIT_INTERRUPTED)
        return interrupted_code()
    return EXIT_OK


def _print_network(network, args, env: Environment, tr: Translator) -> None:
    """The results on stdout, in the chosen format (JSON and CSV exactly as the file gets them)."""
    if args.format != "text":
        env.write(report_text(network, tr, args.format, args.all), end="")
    else:
        env.write("")
        for line in host_lines(network, env, tr, args.all):
            if len(line) < env.width or "\x1b" in line:
                env.write(line)
            else:  # a long host name or IPv6 address: fold, never run off an 80-column screen
                env.write_wrapped(line, rest="  ")
