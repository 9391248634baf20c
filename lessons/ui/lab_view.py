"""The practice lab on screen: what it holds, starting it, and the grading of a scan of it.

The lab (``lessons.lab``) is a known target: because we know which of its ports are open,
closed and filtered, a learner's scan can be graded, port by port, with the reason for
each answer.  The practice network (``lessons.lab.network``) is graded the same way, host
by host: first whether discovery found each address up, then its ports.  The menu's lab
screen (``screens/lab.py``) and the ``lab`` command (``commands/lab.py``) both use these.
"""

from __future__ import annotations

import ipaddress
import textwrap

from lessons.lab import PracticeLab
from lessons.lab.options import parse_base_port, parse_bind_address
from lessons.ui.i18n import Translator
from lessons.ui.pager import Lines, line_blocks
from lessons.ui.terminal import Environment
from scanner.errors import PortscanError


def lab_table(lab: PracticeLab, env: Environment, tr: Translator, network: bool = True) -> None:
    hosts = ", ".join(lab.hosts)
    env.write_wrapped(tr.t("lab.title", hosts=hosts), "heading")
    env.write(env.paint(f"{tr.t('lab.column.port'):<11} {tr.t('table.state'):<11} {tr.t('table.service'):<9} "
                        f"{tr.t('lab.column.what')}", "heading"))
    for service in lab.services:
        port = f"{service.port}/{service.protocol}"
        word = tr.state(service.expected_state)   # only the word is marked: reverse video must not run on
        state = env.paint(word, service.expected_state.value) + " " * max(1, 11 - len(word))
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
    in_namespace = getattr(network, "namespace", None) is not None
    env.write_wrapped(tr.t("lab.network.in_namespace" if in_namespace else "lab.network.down_needs_root"), "hint")


def start_lab(env: Environment, tr: Translator, host: str = "127.0.0.1", base_port="8000", *, command_line=False,
              network_namespace: bool = False):
    """Start a lab, or say why not and return None.

    In the menu the reason is folded on screen; on the command line it is one line on
    stderr, like every other usage error, so a script can read it."""
    try:
        address, base = parse_bind_address(host), parse_base_port(base_port)
        allow_all = ipaddress.ip_address(address).is_unspecified  # only when typed: never the default
        lab = PracticeLab(host=address, base_port=base, allow_all_interfaces=allow_all, network=True,
                          network_namespace=network_namespace and ipaddress.ip_address(address).is_loopback).start()
    except PortscanError as error:
        if command_line:
            env.stderr.write(tr.error(error) + "\n")
        else:
            env.error(tr.error(error))
        return None
    if lab.warning_needed:  # warn about an address the lab really listens on
        env.write_wrapped(tr.t("lab.warning_exposed", host=address), "warning")
    return lab


def grade(result, env: Environment, tr: Translator) -> None:
    """Sentences from the comparison: what was found, and why each lab port looks as it does."""
    env.write("")
    env.write(tr.t("lab.grade.title"), "heading")
    grade_ports(result, env, tr)


def network_grade_blocks(result, env: Environment, tr: Translator) -> list:
    """Sentences from ``compare_network`` as pager blocks: the title, each host up or down with its
    ports (a host and its ports stay on one page), then addresses found outside the block."""
    blocks = line_blocks(env.wrap(tr.t("lab.network.grade.title", block=result.block), "heading"))
    for host in result.hosts:
        graded = Lines(env)
        grade_host(host, result.block, graded, tr)
        blocks += line_blocks(graded.lines, keep_together=True)
    graded = Lines(env)
    grade_outside(result, graded, tr)
    return blocks + graded.blocks()


def grade_host(host, block: str, env: Environment, tr: Translator) -> None:
    """One host of the practice network: up or down as expected, then its ports."""
    values = {"address": host.address, "name": tr.t(f"lab.network.host.{host.name}"), "block": block}
    if host.why == "not_scanned":
        env.write_wrapped(tr.t("lab.network.grade.not_scanned", **values), "hint")
    elif host.why in ("no_machine", "looked_up"):   # the practice network in a namespace: no machine there
        env.write_wrapped(tr.t(f"lab.network.grade.{host.why}", **values),
                          "ok" if host.why == "no_machine" else "warning")
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
