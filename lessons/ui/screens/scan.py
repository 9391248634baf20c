"""The scan at the end of a walk, on screen: the threading lesson's start, the progress bar,
slow motion of what the scan found, then the results.

A network (``127.0.0.1-4``) runs host discovery first, then the port scans under one
progress bar; slow motion replays one host that is up, and the results come host by host
with a port map of one row per host.
"""

from __future__ import annotations

from lessons.ui.output import ProgressBar, host_lines, network_port_map, short_spec
from lessons.ui.progress import store
from lessons.ui.screens import code, results, slow_motion
from lessons.ui.session import run_scan
from lessons.ui import pager
from scanner.discovery import DISCOVERY_PORTS
from scanner.errors import clip
from scanner.inputs import TargetSet
from scanner.network import scan_network
from scanner.results import ScanReport


def scan_and_explain(app, answers: dict, teach: bool, offer_save: bool = True) -> ScanReport:
    """The scan, then slow motion of what it found, the results, and what they mean."""
    target, ports, timeout = answers["host"], answers["ports"], answers["timeout"]
    if isinstance(target, TargetSet):
        return scan_network_and_explain(app, answers, teach, offer_save)
    env = app.env
    before_the_scan(app, teach, room_below=12)
    env.write_wrapped(app.tr.count("scan.starting", len(ports), target=target.text, address=target.address,
                                    spec=short_spec(ports), timeout=app.tr.decimal(str(timeout))))
    app.say("walk.ctrl_c", "hint")
    on_terminal = getattr(env.stdout, "isatty", lambda: False)()
    report = run_scan(target, ports, timeout, app.tr, progress_stream=env.stdout if on_terminal else None,
                      banners=bool(answers.get("banners", store().setting("banners", False))),
                      width=env.columns, consent=answers.get("consent"))
    replayed = False
    if (teach or env.presenter) and not report.interrupted:
        try:
            replayed = slow_motion.slow_motion(app, target, report, teach)
        except KeyboardInterrupt:  # skip the replay, never the results
            env.write("")
    results.show_results(app, report, teach, pause_first=replayed or env.presenter, replayed=replayed)
    if offer_save:
        results.offer_save(app, report)
    elif env.on_screen:  # the caller prints more (the lab's grading): what this means stays until Enter
        app.screen_pause()
    return report


def before_the_scan(app, teach: bool, room_below: int) -> None:
    """A fresh screen with the last step's code and, when teaching, the threading lesson's
    start, leaving ``room_below`` lines for the scan's own lines and progress bar."""
    env = app.env
    if env.on_screen and (teach or app.pending_code):
        env.clear()
    if app.pending_code:
        code.show_code(app, app.pending_code)
        app.pending_code = []
    if teach:
        if env.on_screen:
            app.short_lesson("threading", env.height - room_below)
        else:
            app.show_lesson("threading")
            app.pause()


def scan_network_and_explain(app, answers: dict, teach: bool, offer_save: bool = True):
    """A network: host discovery and the port scans (one progress bar), slow motion on one
    host that is up, then a block per host with the totals; the map, one row per host, next."""
    targets, ports, timeout = answers["host"], answers["ports"], answers["timeout"]
    env, tr = app.env, app.tr
    before_the_scan(app, teach, room_below=14)
    env.write_wrapped(tr.count("net.starting", len(ports), target=clip(targets.text, 60),
                               addresses=len(targets.targets), spec=short_spec(ports),
                               timeout=tr.decimal(str(timeout))))
    env.write_wrapped(tr.t("net.discovering", ports=",".join(map(str, DISCOVERY_PORTS))), "hint")
    app.say("walk.ctrl_c", "hint")
    on_terminal = getattr(env.stdout, "isatty", lambda: False)()
    bar = ProgressBar(env.stdout, tr, env.columns, enabled=on_terminal)
    try:
        network = scan_network(targets, ports, timeout, progress=bar.update)
    finally:
        bar.finish()
    network.consent = answers.get("consent")
    replayed = False
    if (teach or env.presenter) and not network.interrupted:
        replayed = slow_motion.network_slow_motion(app, network, teach)
    if env.on_screen and (replayed or env.presenter):
        app.screen_pause("results.press_enter")
    elif env.presenter:
        app.pause()
    waited = max([host.report.final_timeout for host in network.up if host.report] or [timeout.seconds])
    lines = [""] + results.scanned_lines(app, targets.text, targets.text, ports, network.timeout, waited,
                                         network.elapsed_seconds, addresses=len(targets.targets))
    for line in host_lines(network, env, tr):
        if len(line) < env.width or "\x1b" in line:
            lines.append(line)
        else:  # a long name or IPv6 address: folded, never run off the screen
            lines += env.wrap(line, rest="  ")
    lines += results.engine_note_lines(app, [host.report for host in network.up])
    if env.on_screen and len(lines) > env.height - 2:   # the totals on the same screen as the hosts, if it helps
        lines = [""] + [line for line in lines if line]
    map_lines = network_port_map(network, env, tr, max_rows=max(4, env.height - 8)) if network.up else []
    counts: dict = {}
    for host in network.up:
        for state, count in (host.report.counts() if host.report else {}).items():
            counts[state] = counts.get(state, 0) + count
    found: dict = {}
    for host in network.up:   # "127.0.0.2:80": the advice names the host too
        for state, ports in (results.findings(host.report) if host.report else {}).items():
            found.setdefault(state, []).extend(f"{host.address}:{port}" for port in ports)
    meaning = results.meaning_lines(app, counts, teach, found=found, timeout=waited,
                                    here=targets.is_loopback)
    results.results_pages(app, pager.line_blocks(lines), map_lines, meaning)
    if offer_save:
        results.offer_save(app, network)
    elif env.on_screen:  # the caller prints more (the lab's grading): what this means stays until Enter
        app.screen_pause()
    return network
