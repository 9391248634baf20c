"""Slow motion: one port of each state the scan found, replayed with the real call, one at a time.

A scan of a thousand ports is over before anyone sees a probe.  Slow motion takes one open,
one closed and one filtered port (when the scan found them) and calls ``connect_ex`` on each
again, paced, showing the call, the number it returned and what that number means; on a
terminal a countdown runs beside a probe that gets no answer, so "filtered" is *felt*.
"""

from __future__ import annotations

import errno
import socket
import threading
import time

from scanner.probe import probe_port
from scanner.results import PortState, Reason, ScanReport

SLOW_MOTION_PACE = 0.8   # seconds between replayed probes on a screen: one thing at a time
COUNTDOWN_AFTER = 0.3    # a probe still silent after this long gets a visible countdown
PRESENTER_WAIT = 5.0     # presenter mode: the filtered port's countdown runs at least this long


def network_slow_motion(app, network, teach: bool) -> bool:
    """Slow motion on one host of the network: the one that shows the most kinds of port (open,
    closed, filtered), an open port first, so a class sees as much as one host can show."""
    scanned = [host for host in network.up if host.report is not None and host.report.results]

    def shows(host) -> tuple:
        counts = host.report.counts()
        return (sum(1 for state in ("open", "closed", "filtered") if counts.get(state)), bool(counts.get("open")))

    chosen = max(scanned, key=shows) if scanned else None   # max keeps the first of equals
    if chosen is None:
        app.say("slow.network_none", "hint")
        return False
    try:
        return slow_motion(app, chosen.target, chosen.report, teach,
                                note=app.tr.t("slow.network_host", address=chosen.address,
                                               count=len(network.up)))
    except KeyboardInterrupt:  # skip the replay, never the results
        app.env.write("")
        return False


def replay_ports(app, report: ScanReport) -> list:
    """One port of each state the scan found (open first), to replay slowly."""
    picks = []
    for state in (PortState.OPEN, PortState.CLOSED, PortState.FILTERED):
        found = report.by_state(state)
        if state is PortState.CLOSED:  # a self-connection is "closed" too, but teaches something else
            found = [r for r in found if r.reason is Reason.CONN_REFUSED] or found
        if found:
            picks.append(found[0])
    return picks


def slow_motion(app, target, report: ScanReport, teach: bool, note: str = "") -> bool:
    """Replay one port of each state the scan found, one real ``connect_ex`` at a time."""
    env, tr = app.env, app.tr
    picks = replay_ports(app, report)
    if not picks:
        return False
    seconds = report.final_timeout
    stretched = env.presenter and any(r.state is PortState.FILTERED for r in picks) and seconds < PRESENTER_WAIT
    if stretched:   # a room needs time to see a silent port stay silent
        seconds = PRESENTER_WAIT
    if env.on_screen:
        app.screen_pause("slow.press_enter")
        env.clear()
    counts = report.counts()
    only_closed = counts.get("closed") and not counts.get("open") and not counts.get("filtered")
    if teach:
        if env.on_screen:  # what follows: title, 2 code lines, 3 per probe, the note, the prompt
            pauses = len(picks) - 1 if env.presenter else 0   # presenter: Enter between probes
            app.short_lesson("handshake", env.height - 6 - 2 * len(picks) - (4 if only_closed else 0)
                              - (len(env.wrap(note)) if note else 0) - pauses
                              - (len(env.wrap(stretched_note(app, report))) if stretched else 0))
        else:
            app.show_lesson("handshake")
            app.pause()
    env.write_wrapped(tr.count("slow.title", len(picks)), "heading")
    if note:
        env.write_wrapped(note, "hint")
    if stretched:
        env.write_wrapped(stretched_note(app, report), "hint")
    family = "AF_INET6" if target.family == socket.AF_INET6 else "AF_INET"
    for line in (f"s = socket.socket(socket.{family}, socket.SOCK_STREAM)", f"s.settimeout({seconds:g})"):
        env.write("  " + line, "code")
    paced = env.on_screen or env.presenter
    for number, result in enumerate(picks):
        if number and env.presenter:   # the instructor says what comes next, then shows it
            app.ask(tr.t("slow.next_probe"))
        elif number and paced:
            time.sleep(SLOW_MOTION_PACE)
        call = f"s.connect_ex(({target.address!r}, {result.port}))"
        env.write(env.paint("  " + call, "code"), end="")
        outcome = probe_with_countdown(app, target, result.port, seconds, len(call) + 2)
        code = "0" if outcome.code == 0 else f"{outcome.code} {errno.errorcode.get(outcome.code, '')}".strip()
        env.write(env.paint(f"  # -> {code}", "code"))
        took = tr.t("slow.took", time=duration(app, outcome.rtt))
        meaning = tr.t(f"slow.meaning.{outcome.state.value}")
        word = tr.state(outcome.state)   # only the state word is marked, the sentence stays plain
        lines = env.wrap(f"{word} ({took}): {meaning}", first="      ", rest="      ")
        lines[0] = lines[0].replace(word, env.paint(word, outcome.state.value), 1)
        for line in lines:
            env.write(line)
    if only_closed:
        env.write("")
        app.say("slow.only_closed", "warning")
    env.write("")
    return True


def stretched_note(app, report: ScanReport) -> str:
    """Why presenter mode waits longer on the silent port than the scan did."""
    return app.tr.t("slow.presenter_wait", seconds=app.tr.decimal(PRESENTER_WAIT),
                    scan=app.tr.decimal(report.final_timeout))


def duration(app, seconds: float) -> str:
    """How long a probe took, in the learner's decimal style ("0,3 ms" in Indonesian)."""
    if seconds < 0.00005:   # "0.0 ms" would say it took no time at all
        return "< " + app.tr.decimal(0.1, 1) + " ms"
    if seconds < 1:
        return app.tr.decimal(seconds * 1000, 1) + " ms"
    return app.tr.decimal(seconds, 1) + " s"


def probe_with_countdown(app, target, port: int, seconds: float, column: int):
    """The real probe; on a terminal a countdown runs beside it while no answer comes."""
    if not app.env.on_screen or seconds < COUNTDOWN_AFTER:
        return probe_port(target.address, port, seconds, target.family)
    outcome: list = []
    worker = threading.Thread(target=lambda: outcome.append(
        probe_port(target.address, port, seconds, target.family)), daemon=True)
    started = time.monotonic()
    worker.start()
    shown = ""
    while worker.is_alive():
        worker.join(0.1)
        left = max(0.0, seconds - (time.monotonic() - started))
        if worker.is_alive() and time.monotonic() - started >= COUNTDOWN_AFTER:
            text = "  " + app.tr.t("slow.countdown", seconds=app.tr.decimal(left, 1))
            room = max(0, app.env.columns() - column - 1)
            if len(text) > room:   # a narrow window: drop the "(Ctrl+C ...)" aside, or say only the seconds
                text = text.split(" (")[0]
                if len(text) > room:
                    text = "  " + app.tr.decimal(left, 1) + " s"
                if len(text) > room:
                    text = ""
            app.env.stdout.write(text + "\b" * len(text))  # the cursor stays where the answer goes
            app.env.stdout.flush()
            shown = text
    if shown:
        app.env.stdout.write(" " * len(shown) + "\b" * len(shown))
    if not outcome:
        raise OSError(errno.EIO, "probe failed")
    return outcome[0]
