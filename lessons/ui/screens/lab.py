"""The menu's lab screen: start the practice lab, show what it holds, scan it, grade the scan.

From the menu the lab runs in the background until the menu exits (``app.lab``).  A scan
of the lab is the quick walk with the lab's answers filled in; its grading comes after the
results, paged on a terminal so nothing scrolls away unread.
"""

from __future__ import annotations

from lessons.lab import compare
from lessons.lab.grading import compare_network
from lessons.lab.network import NETWORK_LAYOUT, alias_command
from lessons.ui import pager
from lessons.ui.lab_view import grade, lab_table, network_grade_blocks, start_lab
from lessons.ui.pager import Lines
from lessons.ui.screens import walk
from lessons.ui.screens.challenges import challenges_menu
from lessons.ui.screens.results import offer_save
from lessons.ui.screens.scan import WalkAnswers
from scanner.errors import clip
from scanner.inputs import TimeoutSetting, is_loopback_address, parse_targets
from scanner.network import host_reports_by_address
from scanner.udp import scan_udp

LAB_SCAN_TIMEOUT = "0.5"


def lab_menu(app) -> None:
    env = app.env
    if app.lab is None:
        app.lab = start_lab(env, app.tr)
        if app.lab is None:
            return
        env.write("")
        show_lab(app, "lab.running_menu")
    while True:
        tr = app.tr
        choice = app.choose(tr.t("lab.menu.title"), [
            (key, tr.t(label)) for key, label in (("1", "lab.menu.scan"), ("2", "lab.menu.table"),
                                                  ("3", "lab.menu.lesson"), ("4", "lab.menu.stop"),
                                                  ("5", "lab.menu.network"), ("6", "labmenu.challenges"),
                                                  ("0", "settings.back"))])
        if choice in ("", "0", "q", "b"):
            return
        if choice == "1":
            scan_the_lab(app)
        elif choice == "2":
            show_lab(app)
        elif choice == "3":
            app.show_lesson("server-side")
            app.pause()
        elif choice == "5":
            scan_the_network(app)
        elif choice == "6":
            challenges_menu(app)
        elif choice == "4":
            app.lab.stop()
            app.lab = None
            env.write(tr.t("lab.stopped"), "ok")
            return
        else:
            env.error(tr.t("menu.unknown_choice", choice=clip(choice)))


def show_lab(app, hint_key: str = "") -> None:
    """The lab's table (and a hint below it): paged on a terminal, so its title and first ports
    are read before the lab menu pushes them off the top of the window."""
    env, tr = app.env, app.tr
    if not env.on_screen:
        lab_table(app.lab, env, tr)
        if hint_key:
            env.write_wrapped(tr.t(hint_key), "hint")
        return
    shown = Lines(env)
    lab_table(app.lab, shown, tr)
    if hint_key:
        shown.write_wrapped(tr.t(hint_key), "hint")
    app.page(shown.blocks())


def lab_ports(lab, services) -> tuple:
    """The lab's block of 100 ports around its first service, and every tcp port of ``services``."""
    ports = {s.port for s in services if s.protocol == "tcp"} | set(range(lab.services[0].port - 7,
                                                                         lab.services[0].port + 93))
    return tuple(sorted(p for p in ports if 1 <= p <= 65535))


def scan_the_lab(app) -> None:
    lab, env, tr = app.lab, app.env, app.tr
    ports = lab_ports(lab, lab.services)
    preset = WalkAnswers(host=parse_targets(lab.hosts[0] if is_loopback_address(lab.hosts[0]) else "127.0.0.1"),
                         ports=ports, timeout=TimeoutSetting(float(LAB_SCAN_TIMEOUT)), banners=True)
    env.write_wrapped(tr.t("lab.scan_intro", low=ports[0], high=ports[-1], timeout=tr.decimal(LAB_SCAN_TIMEOUT)),
                      "hint")
    report = walk.walk(app, teach=False, preset=preset, offer_save=False)
    if report is None:
        return
    # On a terminal the grading is paged, so nothing scrolls away unread; the UDP part stays in one piece.
    graded, udp = (Lines(env), Lines(env)) if env.on_screen else (env, env)
    grade(compare(report, lab), graded, tr)
    udp_ports = tuple(s.port for s in lab.services if s.protocol == "udp")
    if udp_ports and report.complete:
        graded.write("")
        udp.write_wrapped(tr.t("lab.udp_intro", ports=", ".join(map(str, udp_ports))), "heading")
        udp_report = scan_udp(preset.host.targets[0], udp_ports, TimeoutSetting(1.0))
        for result in udp_report.results:
            udp.write(f"  {result.port}/udp  " + env.paint(tr.state(result.state), result.state.value)
                      + f"  ({tr.reason(result.reason.value)})")
        grade(compare(udp_report, lab), udp, tr)
    if env.on_screen:
        blocks = graded.blocks() + pager.line_blocks(udp.lines, keep_together=True)
        app.page(blocks, finish=False, reserve=3)   # the save question goes below
    offer_save(app, report)


def network_unavailable(lab):
    """(ui key, values) saying in one line why the practice network is not running, or None."""
    network = lab.network
    if network is not None and network.hosts:
        return None
    for note in lab.notes:
        if note.code == "network_skipped":
            return "lab.note.network_skipped", note.params
    for note in lab.notes:
        if note.code == "network_unavailable":
            return "lab.network.unavailable", {"command": note.params["command"]}
    return "lab.network.unavailable", {"command": alias_command(NETWORK_LAYOUT[0].address)}


def scan_the_network(app) -> None:
    """Discovery and the port scan over the practice network's block, then grading host by host."""
    lab, env, tr = app.lab, app.env, app.tr
    missing = network_unavailable(lab)
    if missing:
        key, values = missing
        env.write_wrapped(tr.t(key, **values), "warning")
        return
    network = lab.network
    ports = lab_ports(lab, [s for host in network.hosts for s in host.services])
    preset = WalkAnswers(host=parse_targets(network.block), ports=ports, timeout=TimeoutSetting(float(LAB_SCAN_TIMEOUT)))
    env.write_wrapped(tr.t("lab.network.scan_intro", block=network.block, low=ports[0], high=ports[-1],
                           timeout=tr.decimal(LAB_SCAN_TIMEOUT)), "hint")
    report = walk.walk(app, teach=False, preset=preset, offer_save=False)
    if report is None:
        return
    result = compare_network(host_reports_by_address(report), lab)
    app.page(network_grade_blocks(result, env, tr), finish=False, reserve=3)   # the save question goes below
    offer_save(app, report)
