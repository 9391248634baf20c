"""Permission to scan: asked, understood and written down the same way everywhere.

Scanning a computer you are not allowed to scan can be a crime, so a scan of anything but
this computer (loopback) needs a clear "yes".  The walk asks it as its last step, the
command line asks it (or takes ``--yes``), and the answer is kept as a *consent record*
in the report: the statement agreed to, how (``prompt`` or ``--yes``) and when.  For a
network the record names the whole block and how many addresses it holds.
"""

from __future__ import annotations

import datetime
from typing import Optional

from lessons.ui.i18n import Translator
from scanner.errors import clip

UNCLEAR_ECHO = 16   # what was typed, echoed short enough for a one-line explanation


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def consent_record(tr: Translator, method: str) -> dict:
    """What the learner agreed to for one host; stored in the report."""
    return {"statement": tr.t("consent.statement"), "method": method, "time": _now()}


def network_consent_record(tr: Translator, targets, method: str) -> dict:
    """What the learner agreed to, naming the block and its size; stored in the report."""
    count = len(targets.targets)
    return {"statement": tr.t("consent.statement_network", count=count, block=targets.text),
            "method": method, "block": targets.text, "addresses": count, "time": _now()}


def is_yes(tr: Translator, answer: Optional[str]) -> bool:
    """One of the language's yes words ("y", "yes", "ya", ...); anything else, or no answer, is not."""
    return (answer or "").lower().strip(" .!") in tr.t("consent.yes_words").split("|")


def is_no(tr: Translator, answer: Optional[str]) -> bool:
    """Enter alone (the default shown is [y/N]) or one of the language's no words."""
    answer = (answer or "").lower().strip(" .!")
    return not answer or answer in tr.t("consent.no_words").split("|")


def ask_consent(env, tr: Translator, targets, yes: bool):
    """The command line's consent: (consent record or None, refusal message or None).

    ``--yes`` agrees without asking; a loopback target needs no consent; otherwise the
    question is asked on a terminal, and a script without ``--yes`` is refused."""
    network = targets.is_network
    target = targets.targets[0]
    if yes:
        return (network_consent_record(tr, targets, "--yes") if network else consent_record(tr, "--yes")), None
    if (targets.is_loopback if network else target.is_loopback):
        return None, None
    values = {"count": len(targets.targets), "block": targets.text, "address": target.address}
    if not env.interactive:
        return None, tr.t("consent.needs_yes_network" if network else "consent.needs_yes", **values)
    answer = env.read_line(tr.t("consent.ask_network" if network else "consent.ask_cli", **values) + " ")
    while answer is not None and not is_yes(tr, answer) and not is_no(tr, answer):   # unclear: ask again
        env.error(tr.t("consent.unclear", answer=clip(answer, UNCLEAR_ECHO)))
        answer = env.read_line("[y/N] ")
    if not is_yes(tr, answer):
        return None, tr.t("consent.cancelled")
    return (network_consent_record(tr, targets, "prompt") if network else consent_record(tr, "prompt")), None
