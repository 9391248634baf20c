"""Show the code: the Python a step of the walk really runs, with the learner's own values.

After each answer the walk shows the call it leads to (``socket.getaddrinfo`` for the host,
the ``for port in range(...)`` loop for the ports, ``s.settimeout`` for the timeout), so the
learner can see there is no magic between the question and the scan.
"""

from __future__ import annotations

import socket
from typing import List

from lessons import catalog
from lessons.ui.output import short_spec
from scanner.discovery import DISCOVERY_PORTS


def code_lines(app, lines: List[str]) -> List[str]:
    """The "Show the code" box as screen lines: a comment too wide for a narrow window goes on as a
    comment (the terminal would cut it mid-word)."""
    env = app.env
    engine = "scanner-internals"   # named as the library lists it, in the learner's language
    out = env.wrap(app.tr.t("code.heading", title=app.tr.lesson_title(engine),
                             number=catalog.lesson_ids(app.tr.language).index(engine) + 1), "heading")
    for line in lines:
        if len(line) + 2 < env.width:
            out.append(env.paint("  " + line, "code"))
        else:
            rest = "  # " if line.lstrip().startswith("#") else "      "
            out += env.wrap(line, "code", first="  ", rest=rest)
    return out + [""]


def show_code(app, lines: List[str]) -> None:
    """The "Show the code" box, written out."""
    for line in code_lines(app, lines):
        app.env.write(line)


def code_for(app, name: str, value, answers=None) -> List[str]:
    """The Python this step runs, with the learner's own values filled in (``value``: the step's answer)."""
    if name == "host" and value.is_network:
        ends = [repr(a) for a in value.addresses]
        hosts = f"hosts = [{', '.join(ends if len(ends) <= 2 else (ends[0], '...', ends[-1]))}]"
        count = app.tr.t("code.network_count", count=len(value.targets))
        first = [f"{hosts}   {count}"] if len(hosts) + len(count) + 6 < app.env.width else [hosts, count]
        return first + [app.tr.t("code.discovery", ports=", ".join(map(str, DISCOVERY_PORTS)))]
    if name == "host":
        value = value.targets[0]
        family = "AF_INET6" if value.family == socket.AF_INET6 else "AF_INET"
        if value.host == value.address:
            return [app.tr.t("code.literal", address=value.address),
                    f"family = socket.{family}"]
        found = ", ".join(value.all_addresses[:3]) + (" ..." if len(value.all_addresses) > 3 else "")
        return [f"socket.getaddrinfo({value.host!r}, None, type=socket.SOCK_STREAM)",
                f"# -> {found}",
                app.tr.t("code.chosen", address=value.address, family=family)]
    if name == "ports":
        if len(value) > 1 and value[-1] - value[0] + 1 == len(value):
            loop = f"for port in range({value[0]}, {value[-1] + 1}):"
        else:
            loop = f"for port in {list(value[:6])}{' + ...' if len(value) > 6 else ''}:"
        return [loop, "    probe(address, port)   " + app.tr.t("code.loop_body"),
                app.tr.count("code.port_count", len(value), spec=short_spec(value))]
    if name == "timeout":
        if value.auto:
            return ["s.settimeout(1.0)", app.tr.t("code.auto_timeout")]
        return [f"s.settimeout({value.seconds:g})",
                app.tr.t("code.timeout_meaning", seconds=app.tr.decimal(value.seconds))]
    return [app.tr.t("code.consent_saved")]
