"""Scanning a network from the command line: consent for the whole block, progress, results.

``scan 127.0.0.0/29`` names eight addresses.  Permission is asked once, for every one of
them, and the consent record names the block and how many addresses it holds.  The
results read like nmap's: a block per host that is up, one line for the hosts that are
down (with the reason), then ``N hosts up, M down, in T s``.
"""

from __future__ import annotations

import collections
import datetime
import threading
import time
from typing import List, Optional

from lessons.i18n import Translator
from lessons.output import (BANNER_LABELS, ProgressBar, map_cell, map_legend, results_table, short_spec,
                            summary_line)
from lessons.terminal import Environment
from scanner.discovery import DISCOVERY_PORTS
from scanner.errors import clip
from scanner.inputs import TargetSet, TimeoutSetting
from scanner.network import NetworkReport, scan_network
from scanner.results import PortState
from scanner.report import listed_results, network_to_csv, network_to_json

DOWN_LISTED_MAX = 8     # more hosts down than this are summed up by reason, not listed


def network_consent_record(tr: Translator, targets: TargetSet, method: str) -> dict:
    """What the learner agreed to, naming the block and its size; stored in the report."""
    count = len(targets.targets)
    return {"statement": tr.t("consent.statement_network", count=count, block=targets.text),
            "method": method, "block": targets.text, "addresses": count,
            "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}


def ask_network_consent(env: Environment, tr: Translator, targets: TargetSet, yes: bool):
    """(consent record or None, refusal message or None).  Loopback blocks need no consent."""
    if yes:
        return network_consent_record(tr, targets, "--yes"), None
    if targets.is_loopback:
        return None, None
    values = {"count": len(targets.targets), "block": targets.text}
    if not env.interactive:
        return None, tr.t("consent.needs_yes_network", **values)
    answer = env.read_line(tr.t("consent.ask_network", **values) + " ")
    if (answer or "").strip().lower() not in tr.t("consent.yes_words").split("|"):
        return None, tr.t("consent.cancelled")
    return network_consent_record(tr, targets, "prompt"), None


def host_lines(network: NetworkReport, env: Environment, tr: Translator, include_closed: bool = False) -> List[str]:
    """A block per host that is up, then the hosts that are down, then the totals."""
    lines: List[str] = []
    for host in network.up:
        name = host.address if host.target.text == host.address else f"{host.target.text} ({host.address})"
        reason = tr.reason(host.reason)   # glossed where the language needs it (ditolak, tanpa jawaban)
        reason = reason if host.reason_port is None else tr.t("net.reason_port", reason=reason, port=host.reason_port)
        report = host.report
        if report is not None and report.complete and not listed_results(report, include_closed):
            # Nothing to list: one line, so a /24 of quiet hosts still fits a screen or two.
            lines.append(tr.count("net.host_up_quiet", report.counts()["closed"], host=name, reason=reason))
            continue
        lines.append(env.paint(tr.t("net.host_up", host=name, reason=reason), "heading"))
        if report is None:
            lines.append(tr.t("net.not_scanned"))
        else:
            lines.extend(results_table(report, env, tr, include_closed))
            if not report.complete:
                lines.append(summary_line(report, tr))
        lines.append("")
    lines.extend(down_lines(network, tr))
    lines.append(network_summary(network, tr))
    return lines


def down_lines(network: NetworkReport, tr: Translator) -> List[str]:
    down = network.down
    if not down:
        return []
    if len(down) <= DOWN_LISTED_MAX:
        return [tr.t("net.host_down", host=host.address, reason=tr.reason(host.reason)) for host in down]
    reasons = collections.Counter(host.reason for host in down)
    detail = ", ".join(f"{reason} {count}" for reason, count in reasons.most_common())
    return [tr.t("net.hosts_down", count=len(down), reasons=detail)]


def network_port_map(network: NetworkReport, env: Environment, tr: Translator, max_rows: int = 16) -> List[str]:
    """The port map of a network: one row per host, one cell per port (or group of ports).

    For the guided walk: columns follow the requested ports in order, so the same port
    is in the same column on every row and a class can compare hosts at a glance.
    """
    ports = network.ports_requested
    if not ports:
        return []
    label = max(len(host.address) for host in network.hosts[:max_rows])
    columns = max(8, min(64, env.width - 2 - label))
    per_cell = -(-len(ports) // columns)
    cells_wanted = -(-len(ports) // per_cell)
    lines = [env.paint(tr.count("map.network_title", per_cell, low=ports[0], high=ports[-1], per_cell=per_cell), "heading")]
    for host in network.hosts[:max_rows]:
        if host.report is None:
            lines.append(f"{host.address:<{label}} " + env.paint(f"{host.state.value} ({host.reason})", "hint"))
            continue
        states = {r.port: r.state for r in host.report.results}
        cells = [map_cell(ports[cell * per_cell:(cell + 1) * per_cell], states, env) for cell in range(cells_wanted)]
        lines.append(f"{host.address:<{label}} " + "".join(cells))
    if len(network.hosts) > max_rows:
        lines.append(tr.t("map.more_hosts", count=len(network.hosts) - max_rows))
    lines.extend(env.paint(line, "hint") for line in map_legend(tr.t("map.legend"), env.width - 1))
    return lines


def network_summary(network: NetworkReport, tr: Translator) -> str:
    totals = network.totals()
    text = tr.count("net.summary", totals["up"], down=totals["down"], seconds=tr.decimal(network.elapsed_seconds, 2))
    if not network.complete:
        finished = sum(1 for host in network.up if host.report is not None and host.report.complete)
        text += " " + tr.t("net.incomplete", done=finished, total=totals["up"])
    if network.ping and not totals["up"]:
        text += " " + tr.t("net.none_up")
    return text


def network_text_report(network: NetworkReport, tr: Translator, include_closed: bool = False) -> str:
    """A plain-text report for a lab write-up, with the consent that covered the block."""
    plain = Environment(colour=False)
    lines = [tr.t("report.title"), "=" * len(tr.t("report.title")),
             tr.t("net.report_target", target=network.spec, count=len(network.hosts)),
             tr.t("report.started", started=network.started),
             tr.t("report.settings", count=len(network.ports_requested), timeout=network.timeout,
                  workers=network.workers, protocol=network.protocol)]
    if network.consent:
        lines.append(tr.t("report.consent", statement=network.consent["statement"], time=network.consent["time"]))
    lines.append("")
    lines.extend(host_lines(network, plain, tr, include_closed))
    return "\n".join(lines) + "\n"


def network_report_text(network: NetworkReport, tr: Translator, file_format: str, include_closed: bool) -> str:
    if file_format == "json":
        return network_to_json(network, include_closed)
    if file_format == "csv":
        return network_to_csv(network, include_closed)
    return network_text_report(network, tr, include_closed)


def _scan_udp_host(target, ports, timeout, *, workers, stop, progress, retries=None):
    """The UDP scanner in the engine's shape, for ``scan_network`` (discovery stays TCP)."""
    from scanner.udp import DEFAULT_UDP_WORKERS, scan_udp

    return scan_udp(target, ports, timeout, stop=stop, progress=progress, workers=min(workers, DEFAULT_UDP_WORKERS),
                    retries=retries)


def _read_banners(network: NetworkReport, progress=None) -> None:
    """--banners on a network: the same second pass as for one host, host after host.

    The whole pass shares one deadline (as for one host: it grows with the number of open
    ports and is capped), so many hosts with silent open ports cost half a minute, not
    half a minute each.  ``progress(done, total, found)`` covers every host together.
    """
    from scanner import banners
    from scanner.report import with_banners

    work = []
    for host in network.up:
        report = host.report
        open_ports = [r.port for r in report.results if r.state is PortState.OPEN] if report else []
        if open_ports and report.complete:
            work.append((host, open_ports, max(1.0, min(3.0, report.final_timeout * 4))))
    total = sum(len(ports) for _host, ports, _timeout in work)
    if not total:
        return
    budget = banners.pass_budget(total, max(timeout for _host, _ports, timeout in work))
    expired, current = threading.Event(), {"stop": None}

    def expire() -> None:
        expired.set()
        if current["stop"] is not None:
            current["stop"].set()

    timer = threading.Timer(budget, expire)
    timer.daemon = True
    done_before, found_before = 0, 0
    try:
        timer.start()
        for host, open_ports, timeout in work:
            stop = current["stop"] = threading.Event()
            if expired.is_set():
                break

            def host_progress(done, _total, found, _base=(done_before, found_before)):
                if progress:
                    progress(_base[0] + done, total, _base[1] + found)

            report, started = host.report, time.monotonic()
            try:
                found = banners.identify_services(host.address, host.target.family, open_ports, timeout=timeout,
                                             host_header=host.address, progress=host_progress, stop=stop)
            except KeyboardInterrupt:  # keep the scan's results; only the banners are lost
                network.interrupted = True
                report.banners_skipped = True
                return
            except (RuntimeError, MemoryError) as error:   # no thread for the banner pass: the scan is kept
                from scanner.discovery import is_shortage

                if not is_shortage(error):
                    raise
                network.shortage = network.shortage or error
                return
            host.report = with_banners(report, found)
            host.report.banner_seconds = round(time.monotonic() - started, 3)
            done_before, found_before = done_before + len(open_ports), found_before + len(found)
    finally:
        timer.cancel()


def command_scan_network(args, env: Environment, tr: Translator, targets: TargetSet, ports: tuple,
                         timeout: TimeoutSetting, workers: int, packet_limit: Optional[int] = None,
                         retries: Optional[int] = None) -> int:
    """``scan BLOCK``: the network version of ``lessons.cli.command_scan`` (same exit codes)."""
    from lessons.cli import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, _fail

    consent, refusal = ask_network_consent(env, tr, targets, args.yes)
    if refusal:
        return _fail(env, refusal, EXIT_USAGE)
    ping = not getattr(args, "no_ping", False)
    text = args.format == "text"
    show_progress = text and hasattr(env.stderr, "isatty") and env.stderr.isatty()
    if text:
        from lessons.cli import write_or_silence

        def starting() -> None:
            env.write_wrapped(tr.count("net.starting", len(ports), target=clip(targets.text, 60),
                                       addresses=len(targets.targets), spec=short_spec(ports), timeout=str(timeout)))
            env.write_wrapped(tr.t("net.discovering", ports=",".join(map(str, DISCOVERY_PORTS))) if ping
                              else tr.t("net.no_ping"), "hint")

        write_or_silence(env, starting)   # a reader already gone costs the screen, never the report
    bar = ProgressBar(env.stderr, tr, env.columns, enabled=show_progress)
    scan_host = _scan_udp_host if getattr(args, "udp", False) else None
    capture = None
    if getattr(args, "packets", None) is not None and scan_host is None:
        from lessons.wire import start_capture

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
            _read_banners(network, banner_bar.update)
        finally:
            banner_bar.finish()
    if scan_host is not None:
        network.protocol = "udp"

    from lessons.cli import PATH_ECHO_LIMIT, save_report_first, write_or_silence

    write_error = save_report_first(args, tr, lambda file_format: network_report_text(network, tr, file_format,
                                                                                        args.all))
    printed = write_or_silence(env, lambda: _print_network(network, args, env, tr))
    if capture is not None and printed:  # after the results; on stderr when stdout carries JSON or CSV
        from lessons.wire import packet_lines, results_by_probe, show_packets

        show_packets(env, packet_lines(capture, results_by_probe(*(h.report for h in network.hosts)), tr,
                                       packet_limit), args.format)
    if write_error:
        return _fail(env, write_error.message, write_error.code)
    if args.output and args.output != "-" and text and printed:
        env.write(tr.t("report.saved", path=clip(args.output, PATH_ECHO_LIMIT)), "ok")
    if network.shortage is not None:   # out of threads or memory: what was found is printed and saved above
        from lessons.cli import EXIT_UNREACHABLE, _resource_detail

        return _fail(env, tr.t("cli.out_of_resources", detail=_resource_detail(network.shortage)), EXIT_UNREACHABLE)
    if network.interrupted:
        from lessons.cli import _interrupted_code, _interrupted_message

        _fail(env, _interrupted_message(tr), EXIT_INTERRUPTED)
        return _interrupted_code()
    return EXIT_OK


def _print_network(network, args, env: Environment, tr: Translator) -> None:
    """The results on stdout, in the chosen format."""
    if args.format == "json":
        env.write(network_to_json(network, args.all), end="")
    elif args.format == "csv":
        env.write(network_to_csv(network, args.all), end="")
    else:
        env.write("")
        for line in host_lines(network, env, tr, args.all):
            if len(line) < env.width or "\x1b" in line:
                env.write(line)
            else:  # a long host name or IPv6 address: fold, never run off an 80-column screen
                env.write_wrapped(line, rest="  ")
