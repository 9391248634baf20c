"""The practice lab on screen: start it, show what it holds, scan it, grade the scan.

The lab (``lessons.lab``) is a known target: because we know which of its ports are open,
closed and filtered, a learner's scan can be graded, port by port, with the reason for
each answer.  From the command line (``python main.py lab``) it runs until Ctrl+C; from
the menu it runs in the background until the menu exits.  The practice network
(``lessons.lab.network``) is graded the same way, host by host: first whether discovery
found each address up, then its ports.
"""

from __future__ import annotations

import ipaddress
import textwrap
import time

from lessons.i18n import Translator
from lessons.terminal import Environment
from scanner.errors import PortscanError, clip
from scanner.inputs import (TimeoutSetting, is_loopback_address, parse_base_port, parse_bind_address,
                            parse_target, parse_targets)
from lessons import pager
from lessons.lab import PracticeLab, compare
from lessons.lab.grading import compare_network
from lessons.lab.network import NETWORK_LAYOUT, alias_command

# Not the usual default (scanner.inputs.DEFAULT_TIMEOUT, 1 s): the lab is on loopback, where
# every answer comes within a millisecond, and its filtered port costs a whole timeout per try,
# so half a second grades the scan twice as fast and loses nothing.
LAB_SCAN_TIMEOUT = "0.5"


def lab_table(lab: PracticeLab, env: Environment, tr: Translator, network: bool = True) -> None:
    hosts = ", ".join(lab.hosts)
    env.write_wrapped(tr.t("lab.title", hosts=hosts), "heading")
    env.write(env.paint(f"{tr.t('lab.column.port'):<11} {tr.t('table.state'):<11} {tr.t('table.service'):<9} "
                        f"{tr.t('lab.column.what')}", "heading"))
    for service in lab.services:
        port = f"{service.port}/{service.protocol}"
        state = env.paint(f"{tr.state(service.expected_state):<11}", service.expected_state.value)
        what = tr.t(f"lab.service.{service.service}.{service.protocol}")
        # "closed" and "filtered" are states, not services: nothing runs there to name.
        name = "-" if service.service in ("closed", "filtered") else service.service
        indent = 11 + 1 + 11 + 1 + 9 + 1   # a narrow window folds the last column under itself, between words
        folded = textwrap.wrap(what, max(12, env_width(env) - 1 - indent), break_on_hyphens=False) or [""]
        env.write(f"{port:<11} {state} {name:<9} {folded[0]}")
        for line in folded[1:]:
            env.write(" " * indent + line)
    if network:
        network_table(lab, env, tr)
    for note in lab.notes:
        env.write_wrapped(tr.t(f"lab.note.{note.code}", **note.params), "warning")


def env_width(env) -> int:
    """The window's width for an ``Environment`` or the ``Lines`` collecting for one."""
    env = getattr(env, "env", env)
    env.refresh()
    return env.width


def network_table(lab: PracticeLab, env: Environment, tr: Translator) -> None:
    """The practice network: one line per host with every port's expected state."""
    network = lab.network
    if network is None or not network.hosts:
        return
    env.write("")
    env.write_wrapped(tr.t("lab.network.title", block=network.block), "heading")
    for host in network.hosts:
        ports = ", ".join(f"{s.port}/{s.protocol} {tr.state(s.expected_state)}"
                          + (f" ({s.service})" if s.service not in ("closed", "filtered") else "")
                          for s in host.services)
        env.write_wrapped(tr.t("lab.network.host", address=host.address,
                               name=tr.t(f"lab.network.host.{host.name}"), ports=ports), first="  ", rest="    ")
    env.write_wrapped(tr.t("lab.network.down_needs_root"), "hint")


def start_lab(env: Environment, tr: Translator, host: str = "127.0.0.1", base_port="8000", *, command_line=False):
    """Start a lab, or say why not and return None.

    In the menu the reason is folded on screen; on the command line it is one line on
    stderr, like every other usage error, so a script can read it."""
    try:
        address, base = parse_bind_address(host), parse_base_port(base_port)
        allow_all = ipaddress.ip_address(address).is_unspecified  # only when typed: never the default
        lab = PracticeLab(host=address, base_port=base, allow_all_interfaces=allow_all, network=True).start()
    except PortscanError as error:
        if command_line:
            env.stderr.write(tr.error(error) + "\n")
        else:
            env.error(tr.error(error))
        return None
    if lab.warning_needed:  # warn about an address the lab really listens on
        env.write_wrapped(tr.t("lab.warning_exposed", host=address), "warning")
    return lab


def command_lab(args, env: Environment, tr: Translator) -> int:
    lab = start_lab(env, tr, args.bind, args.base_port, command_line=True)
    if lab is None:
        return 2
    try:
        # On a terminal it is paged, the title first and how to use the lab on the first page.
        table, running, network = (Lines(env), Lines(env), Lines(env)) if env.on_screen else (env, env, env)
        lab_table(lab, table, tr, network=False)
        table.write("")
        tcp_ports = [s.port for s in lab.services if s.protocol == "tcp"]
        host = lab.hosts[0] if not lab.hosts[0] in ("0.0.0.0", "::") else "127.0.0.1"
        running.write_wrapped(tr.t("lab.running_cli", host=host, low=min(tcp_ports), high=max(tcp_ports)), "ok")
        network_table(lab, network, tr)
        if env.on_screen:
            def ask(prompt: str) -> str:
                answer = env.read_line(prompt)
                return "q" if answer is None else answer   # Ctrl+D: show no more pages; the lab keeps running

            blocks = table.blocks() + pager.line_blocks(running.lines, keep_together=True) + network.blocks()
            pager.show(env, blocks, ask, tr, finish=False, reserve=1)
        while lab.running:
            time.sleep(0.2)
    except KeyboardInterrupt:
        env.write("")
    finally:
        lab.stop()
    env.write(tr.t("lab.stopped"))
    return 0


def lab_menu(menu) -> None:
    env = menu.env
    if menu.lab is None:
        menu.lab = start_lab(env, menu.tr)
        if menu.lab is None:
            return
        env.write("")
        show_lab(menu, "lab.running_menu")
    while True:
        tr = menu.tr
        choice = menu.choose(tr.t("lab.menu.title"), [
            (key, tr.t(label)) for key, label in (("1", "lab.menu.scan"), ("2", "lab.menu.table"),
                                                  ("3", "lab.menu.lesson"), ("4", "lab.menu.stop"),
                                                  ("5", "lab.menu.network"), ("0", "settings.back"))])
        if choice in ("", "0", "q", "b"):
            return
        if choice == "1":
            scan_the_lab(menu)
        elif choice == "2":
            show_lab(menu)
        elif choice == "3":
            menu.show_lesson("server-side")
            menu.pause()
        elif choice == "5":
            scan_the_network(menu)
        elif choice == "4":
            menu.lab.stop()
            menu.lab = None
            env.write(tr.t("lab.stopped"), "ok")
            return
        else:
            env.error(tr.t("menu.unknown_choice", choice=clip(choice)))


def show_lab(menu, hint_key: str = "") -> None:
    """The lab's table (and a hint below it): paged on a terminal, so its title and first ports
    are read before the lab menu pushes them off the top of the window."""
    env, tr = menu.env, menu.tr
    if not env.on_screen:
        lab_table(menu.lab, env, tr)
        if hint_key:
            env.write_wrapped(tr.t(hint_key), "hint")
        return
    shown = Lines(env)
    lab_table(menu.lab, shown, tr)
    if hint_key:
        shown.write_wrapped(tr.t(hint_key), "hint")
    menu.page(shown.blocks())


def lab_ports(lab, services) -> tuple:
    """The lab's block of 100 ports around its first service, and every tcp port of ``services``."""
    ports = {s.port for s in services if s.protocol == "tcp"} | set(range(lab.services[0].port - 7,
                                                                         lab.services[0].port + 93))
    return tuple(sorted(p for p in ports if 1 <= p <= 65535))


def scan_the_lab(menu) -> None:
    lab, env, tr = menu.lab, menu.env, menu.tr
    ports = lab_ports(lab, lab.services)
    preset = {"host": parse_target(lab.hosts[0] if is_loopback_address(lab.hosts[0]) else "127.0.0.1"),
              "ports": ports, "timeout": TimeoutSetting(float(LAB_SCAN_TIMEOUT)), "banners": True}
    env.write_wrapped(tr.t("lab.scan_intro", low=ports[0], high=ports[-1], timeout=tr.decimal(LAB_SCAN_TIMEOUT)),
                      "hint")
    report = menu.walk(teach=False, preset=preset, offer_save=False)
    if report is None:
        return
    # On a terminal the grading is paged, so nothing scrolls away unread; the UDP part stays in one piece.
    graded, udp = (Lines(env), Lines(env)) if env.on_screen else (env, env)
    grade(compare(report, lab), graded, tr)
    udp_ports = tuple(s.port for s in lab.services if s.protocol == "udp")
    if udp_ports and report.complete:
        from scanner.udp import scan_udp

        graded.write("")
        udp.write_wrapped(tr.t("lab.udp_intro", ports=", ".join(map(str, udp_ports))), "heading")
        udp_report = scan_udp(preset["host"], udp_ports, TimeoutSetting(1.0))
        for result in udp_report.results:
            udp.write(f"  {result.port}/udp  " + env.paint(tr.state(result.state), result.state.value)
                      + f"  ({tr.reason(result.reason.value)})")
        grade(compare(udp_report, lab), udp, tr)
    if env.on_screen:
        blocks = graded.blocks() + pager.line_blocks(udp.lines, keep_together=True)
        menu.page(blocks, finish=False, reserve=3)   # the save question goes below
    menu.offer_save(report)


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


def scan_the_network(menu) -> None:
    """Discovery and the port scan over the practice network's block, then grading host by host."""
    from scanner.network import host_reports_by_address

    lab, env, tr = menu.lab, menu.env, menu.tr
    missing = network_unavailable(lab)
    if missing:
        key, values = missing
        env.write_wrapped(tr.t(key, **values), "warning")
        return
    network = lab.network
    ports = lab_ports(lab, [s for host in network.hosts for s in host.services])
    preset = {"host": parse_targets(network.block), "ports": ports, "timeout": TimeoutSetting(float(LAB_SCAN_TIMEOUT))}
    env.write_wrapped(tr.t("lab.network.scan_intro", block=network.block, low=ports[0], high=ports[-1],
                           timeout=tr.decimal(LAB_SCAN_TIMEOUT)), "hint")
    report = menu.walk(teach=False, preset=preset, offer_save=False)
    if report is None:
        return
    result = compare_network(host_reports_by_address(report), lab)
    blocks = pager.line_blocks(env.wrap(tr.t("lab.network.grade.title", block=result.block), "heading"))
    for host in result.hosts:   # a host and its ports stay on one page
        graded = Lines(env)
        grade_host(host, result.block, graded, tr)
        blocks += pager.line_blocks(graded.lines, keep_together=True)
    graded = Lines(env)
    grade_outside(result, graded, tr)
    blocks += graded.blocks()
    menu.page(blocks, finish=False, reserve=3)   # the save question goes below
    menu.offer_save(report)


class Lines:
    """Collects what would be written, folded and painted as ``env`` would, so a terminal can page it."""

    def __init__(self, env: Environment) -> None:
        self.env = env
        self.lines: list = []
        self.groups: list = []   # one per write: a page break never splits a sentence

    def write(self, text: str = "", role=None, end: str = "\n") -> None:
        self.lines.append(self.env.paint(text, role) if role else text)
        self.groups.append(self.lines[-1:])

    def blocks(self) -> list:
        from lessons.render import Block

        return [Block(group, "blank" if group == [""] else "text") for group in self.groups]

    def paint(self, text: str, role) -> str:
        return self.env.paint(text, role)

    def write_wrapped(self, text: str, role=None, first: str = "", rest: str = "") -> None:
        wrapped = self.env.wrap(text, role, first, rest)
        self.lines += wrapped
        self.groups.append(wrapped)


def grade(result, env: Environment, tr: Translator) -> None:
    """Sentences from the comparison: what was found, and why each lab port looks as it does."""
    env.write("")
    env.write(tr.t("lab.grade.title"), "heading")
    grade_ports(result, env, tr)


def grade_network(result, env: Environment, tr: Translator) -> None:
    """Sentences from ``compare_network``: each host up or down, then its ports, with the reasons."""
    env.write("")
    env.write_wrapped(tr.t("lab.network.grade.title", block=result.block), "heading")
    for host in result.hosts:
        grade_host(host, result.block, env, tr)
    grade_outside(result, env, tr)


def grade_host(host, block: str, env: Environment, tr: Translator) -> None:
    """One host of the practice network: up or down as expected, then its ports."""
    values = {"address": host.address, "name": tr.t(f"lab.network.host.{host.name}"), "block": block}
    if host.why == "not_scanned":
        env.write_wrapped(tr.t("lab.network.grade.not_scanned", **values), "hint")
    elif host.why == "looked_down":
        env.write_wrapped(tr.t("lab.network.grade.down", **values), "warning")
    elif host.name == "spare":
        env.write_wrapped(tr.t("lab.network.grade.spare", **values), "ok" if host.verdict == "match" else "warning")
    else:
        env.write_wrapped(tr.t("lab.network.grade.up", **values), "ok")
    if host.ports is not None and host.name != "spare":
        grade_ports(host.ports, env, tr)


def grade_outside(result, env: Environment, tr: Translator) -> None:
    for address in result.outside_block:
        env.write_wrapped(tr.t("lab.network.grade.outside", address=address, block=result.block), "hint")


def grade_ports(result, env: Environment, tr: Translator) -> None:
    if result.expected_open:
        env.write_wrapped(tr.t("lab.grade.found", found=len(result.found_open), total=len(result.expected_open),
                               protocol=result.protocol), "ok" if not result.missed_open else "warning")
    for verdict in result.verdicts:
        service = verdict.service
        if not verdict.scanned:
            env.write_wrapped(tr.t("lab.grade.not_scanned", port=service.port), "hint", first="- ", rest="  ")
            continue
        why = tr.t(f"lab.why.{service.service}.{service.protocol}", port=service.port)
        if verdict.matches:
            env.write_wrapped(tr.t("lab.grade.match", port=service.port, protocol=service.protocol,
                                   state=tr.state(service.expected_state), why=why), first="- ", rest="  ")
        else:
            env.write_wrapped(tr.t("lab.grade.mismatch", port=service.port, protocol=service.protocol,
                                   seen=tr.state(verdict.observed), expected=tr.state(service.expected_state),
                                   why=why), "warning", first="- ", rest="  ")
    for port in result.unexpected_open:
        env.write_wrapped(tr.t("lab.grade.unexpected", port=port), "hint", first="- ", rest="  ")
    if result.all_match:
        env.write_wrapped(tr.t("lab.grade.all_match"), "ok")
