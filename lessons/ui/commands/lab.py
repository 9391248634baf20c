"""``python3 main.py lab``: the practice lab in the foreground, until Ctrl+C.

``--bind`` and ``--base-port`` choose where it listens (``lessons/lab/options.py`` checks them).
As root on Linux the practice network runs in a network namespace (``lessons/lab/network_ns.py``).
``lab --classroom`` is the challenge command's classroom mode (``commands/challenge.py``).
"""

from __future__ import annotations

import time

from lessons.lab import netns
from lessons.ui import pager
from lessons.ui.exits import EXIT_INTERRUPTED, EXIT_OK
from lessons.ui.app import line_reader
from lessons.ui.i18n import Translator
from lessons.ui.lab_view import lab_table, network_table, start_lab
from lessons.ui.pager import Lines
from lessons.ui.terminal import Environment


def command_lab(args, env: Environment, tr: Translator) -> int:
    # As root on Linux the practice network runs in a namespace of its own (real DROP, a real down host).
    lab = start_lab(env, tr, args.bind, args.base_port, command_line=True,
                    network_namespace=netns.unavailable() is None)
    if lab is None:
        return 2
    try:
        # On a terminal it is paged, the title first and how to use the lab on the first page.
        table, running, network = (Lines(env), Lines(env), Lines(env)) if env.on_screen else (env, env, env)
        lab_table(lab, table, tr, network=False)
        table.write("")
        tcp_ports = [s.port for s in lab.services if s.protocol == "tcp"]
        host = lab.hosts[0] if lab.hosts[0] not in ("0.0.0.0", "::") else "127.0.0.1"
        running.write_wrapped(tr.t("lab.running_cli", host=host, low=min(tcp_ports), high=max(tcp_ports)), "ok")
        network_table(lab, network, tr)
        if env.on_screen:
            blocks = table.blocks() + pager.line_blocks(running.lines, keep_together=True) + network.blocks()
            ask = line_reader(env, at_end="q")   # Ctrl+D: show no more pages; the lab keeps running
            pager.show(env, blocks, ask, tr, finish=False, reserve=1)
        while lab.running:
            time.sleep(0.2)
    except KeyboardInterrupt:
        env.write("")
        code = EXIT_INTERRUPTED   # Ctrl+C, as the README's exit codes say
    else:
        code = EXIT_OK
    finally:
        lab.stop()
    env.write(tr.t("lab.stopped"))
    return code
