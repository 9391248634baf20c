"""The scan at the end of a walk, on screen: the threading lesson's start, the progress bar,
slow motion of what the scan found, then the results.

A network (``127.0.0.1-4``) runs host discovery first, then the port scans under one
progress bar; slow motion replays one host that is up, and the results come host by host
with a port map of one row per host.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from lessons.ui import pager
from lessons.ui.exits import resource_detail
from lessons.ui.output import host_lines, network_port_map, short_spec
from lessons.ui.progress import store
from lessons.ui.screens import code, results, slow_motion
from lessons.ui.session import run_scan
from scanner.discovery import DISCOVERY_PORTS
from scanner.errors import clip
from scanner.inputs import TargetSet, TimeoutSetting
from scanner.request import ScanOutcome, ScanRequest


@dataclass
class WalkAnswers:
    """What the walk's questions answered so far (None: not asked yet); a preset answers some ahead."""

    host: Optional[TargetSet] = None          # the host step: one address or a block
    ports: Optional[tuple] = None
    timeout: Optional[TimeoutSetting] = None
    consent: Optional[dict] = None
    banners: Optional[bool] = None            # None: as the learner's setting says

    @property
    def network(self) -> bool:
        return self.host is not None and self.host.is_network

    def request(self) -> ScanRequest:
        """The answers as the one request every route to the engine takes."""
        assert self.host is not None and self.ports is not None and self.timeout is not None
        banners = self.banners if self.banners is not None else bool(store().setting("banners", False))
        return ScanRequest(self.host, self.ports, self.timeout, banners=banners, consent=self.consent)


def scan_and_explain(app, answers: WalkAnswers, teach: bool, offer_save: bool = True):
    """The scan, then slow motion of what it found, the results, and what they mean."""
    request = answers.request()
    before_the_scan(app, teach, room_below=14 if request.is_network else 12)
    _say_starting(app, request)
    app.say("walk.ctrl_c", "hint")
    env = app.env
    on_terminal = getattr(env.stdout, "isatty", lambda: False)()
    outcome = run_scan(request, app.tr, progress_stream=env.stdout if on_terminal else None, width=env.columns)
    if request.is_network:
        _explain_network(app, outcome, teach)
    else:
        _explain_host(app, outcome, teach)
    if outcome.out_of_resources is not None:   # what was found is shown (and can be saved) all the same
        env.error(app.tr.t("cli.out_of_resources", detail=resource_detail(outcome.out_of_resources)))
    if offer_save:
        results.offer_save(app, outcome.report)
    elif env.on_screen:  # the caller prints more (the lab's grading): what this means stays until Enter
        app.screen_pause()
    return outcome.report


def _say_starting(app, request: ScanRequest) -> None:
    tr, ports = app.tr, request.ports
    if not request.is_network:
        target = request.target
        app.env.write_wrapped(tr.count("scan.starting", len(ports), target=target.text, address=target.address,
                                       spec=short_spec(ports), timeout=tr.decimal(str(request.timeout))))
        return
    targets = request.targets
    app.env.write_wrapped(tr.count("net.starting", len(ports), target=clip(targets.text, 60),
                                   addresses=len(targets.targets), spec=short_spec(ports),
                                   timeout=tr.decimal(str(request.timeout))))
    app.env.write_wrapped(tr.t("net.discovering", ports=",".join(map(str, DISCOVERY_PORTS))), "hint")


def _explain_host(app, outcome: ScanOutcome, teach: bool) -> None:
    env, report = app.env, outcome.report
    replayed = False
    if (teach or env.presenter) and not report.interrupted:
        try:
            replayed = slow_motion.slow_motion(app, report.target, report, teach)
        except KeyboardInterrupt:  # skip the replay, never the results
            env.write("")
    results.show_results(app, report, teach, pause_first=replayed or env.presenter, replayed=replayed)


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


def _explain_network(app, outcome: ScanOutcome, teach: bool) -> None:
    """Slow motion on one host that is up, then a block per host with the totals; the map, one row
    per host, and what it all means next."""
    env, tr, network = app.env, app.tr, outcome.report
    replayed = False
    if (teach or env.presenter) and not network.interrupted:
        replayed = slow_motion.network_slow_motion(app, network, teach)
    if env.on_screen and (replayed or env.presenter):
        app.screen_pause("results.press_enter")
    elif env.presenter:
        app.pause()
    waited = max([host.report.final_timeout for host in network.up if host.report] or [0.0])
    lines = [""] + results.scanned_lines(app, network.spec, network.spec, network.ports_requested, network.timeout,
                                         waited, network.elapsed_seconds, addresses=len(network.hosts))
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
                                    here=all(host.target.is_loopback for host in network.hosts))
    results.results_pages(app, pager.line_blocks(lines), map_lines, meaning)
