"""The guided walk: one port scan asked for step by step, with a lesson at every step.

The walkthrough asks four questions in the order a real scan needs them — which host,
which ports, how long to wait, and whether you are allowed to — and beside each
question shows a short lesson and the exact Python call the step makes, filled in with
the learner's own answers.  Every question shows its default in brackets (Enter takes
it) and understands three commands: ``?`` shows the lesson again, ``b`` goes back one
step, ``q`` returns to the main menu.  A wrong answer gets the parser's one-line
message and the same question again.

On a real terminal every step is one screen that fits 80x24: the code of the last
answer, the start of the lesson (the whole one behind ``?``, paged) and the question.
After the scan, slow motion replays one port of each state the scan found with the real
call, then the results table, then the port map and what it means, each on its own
screen, so nothing the learner must read scrolls away unread.

The host may also be a network (``127.0.0.1-4``, ``192.168.56.0/24``): permission is then
asked for every address of the block, host discovery runs before the port scan, slow
motion replays one host that is up, and the results come host by host, with a port map
of one row per host.

The answers are a typed ``WalkAnswers`` (``screens/scan.py``) that becomes the same
``ScanRequest`` the command line builds.  The walk reads and writes only through an
``Environment``, so tests can drive the whole walk with a scripted input stream (which
never pauses), and tmux or a pseudo-terminal can drive the real thing.
"""

from __future__ import annotations

import dataclasses
import textwrap
from dataclasses import dataclass
from typing import Callable, List, Optional

from lessons import catalog
from lessons.ui import pager
from lessons.ui.app import BackToMenu
from lessons.ui.consent import UNCLEAR_ECHO, consent_record, is_no, is_yes, network_consent_record
from lessons.render import lesson_blocks
from lessons.ui.screens import code, scan
from lessons.ui.screens.scan import WalkAnswers
from scanner.errors import InputError, clip
from scanner.inputs import parse_ports, parse_targets, parse_timeout


@dataclass
class Step:
    """One question of the walkthrough."""

    name: str                      # also the ui.json key prefix: step.<name>.*; the answer's field
    lesson: str                    # the lesson shown beside it
    default: Callable[[], str]
    parse: Callable[[str], object]


LEGAL_MARK = "UU ITE"   # the law the ethics lesson's legal warning names, in every language


class _ConsentRefused(Exception):
    pass


class _ConsentUnclear(Exception):
    pass


def steps(app, answers: Optional[WalkAnswers] = None) -> List[Step]:
    """The four questions, each offering the learner's last answer as its default."""
    answers = answers or WalkAnswers()
    return [
        Step("host", "targets", lambda: app.last_host, parse_targets),
        Step("ports", "ports", lambda: app.last_ports, parse_ports),
        Step("timeout", "timeouts", lambda: app.tr.decimal(app.last_timeout), parse_timeout),
        Step("consent", "ethics", lambda: "", lambda text: parse_consent(app, text, answers)),
    ]


def parse_consent(app, text: str, answers: WalkAnswers) -> dict:
    """The consent step's answer: a consent record (naming the whole block for a network) for a yes;
    a no (or Enter) and anything else raise."""
    if is_yes(app.tr, text):
        if answers.network:
            return network_consent_record(app.tr, answers.host, "prompt")
        return consent_record(app.tr, "prompt")
    if is_no(app.tr, text):
        raise _ConsentRefused  # Enter takes the default shown: [y/N]
    raise _ConsentUnclear


def guided_scan(app) -> None:
    """Menu entry 1: the walk with a lesson beside every question."""
    walk(app, teach=True)


def quick_scan(app) -> None:
    """Menu entry 2: the same questions without the lessons."""
    walk(app, teach=False)


def walk(app, teach: bool, preset: Optional[WalkAnswers] = None, offer_save: bool = True):
    """Ask every step ``preset`` does not answer, in order (b goes back), then scan.
    Returns the ``ScanReport`` (or ``NetworkReport``), or None when permission was refused."""
    answers = dataclasses.replace(preset) if preset else WalkAnswers()
    asked = [step for step in steps(app, answers) if getattr(answers, step.name) is None]
    app.pending_code = []
    index = 0
    if teach and not app.env.on_screen:
        app.say("walk.intro", "hint")
    while index < len(asked):
        step = asked[index]
        if teach and not app.env.on_screen:
            app.show_lesson(step.lesson)
            app.pause()
        result = ask_step(app, step, index, len(asked), answers, teach)
        if result == "back":
            index = max(0, index - 1)
            continue
        if result == "refused":
            app.say("consent.cancelled", "warning")
            app.say("walk.consent_lesson", "hint", lesson=app.tr.lesson_title("ethics"))
            return None
        index += 1
    return scan.scan_and_explain(app, answers, teach, offer_save)


def consent_statement(app, answers: WalkAnswers) -> str:
    """What the learner agrees to: this host, or every address of the block."""
    if answers.network:
        return app.tr.t("consent.statement_network", count=len(answers.host.targets), block=answers.host.text)
    return app.tr.t("consent.statement")


def step_prompt(app, step: Step, index: int, total: int, answers: WalkAnswers) -> str:
    """The question as the learner sees it: "[2/4] Ports (...) [1-1024]: " (consent: "[y/N]")."""
    key = f"step.{step.name}.question"
    if step.name == "consent" and answers.network:
        key = "step.consent.question_network"
    host = answers.host
    label = app.tr.t(key, address=host.targets[0].address if host else "", block=host.text if host else "",
                     count=len(host.targets) if host else 0)
    number = f"[{index + 1}/{total}] " if total > 1 else ""
    if step.name == "consent":
        return f"{number}{label} [y/N]: "
    default = step.default()
    return number + label + (f" [{default}]" if default else "") + ": "


def step_screen(app, step: Step, index: int, total: int, problem: Optional[str], answers: WalkAnswers) -> None:
    """One screen per question on a terminal: the last answer's code, a short lesson, the question."""
    env = app.env
    env.refresh()
    env.clear()
    used = 0
    if app.pending_code:
        code.show_code(app, app.pending_code)
        used += len(code.code_lines(app, app.pending_code))
    env.write(app.tr.t("walk.step_title", number=index + 1, total=total), "heading")
    keys = app.tr.t("walk.keys")
    statement = consent_statement(app, answers) if step.name == "consent" else ""
    below = [keys, statement, problem or ""]
    # below the lesson: a blank line, the keys, the consent statement, a problem, the prompt as folded
    # on a narrow screen (at 60 columns "[1/4] Host to scan ... [127.0.0.1]:" takes two lines)
    above, _last = env.fold_prompt(step_prompt(app, step, index, total, answers))
    reserve = sum(len(textwrap.wrap(text, env.width - 1)) for text in below if text) + 3 + len(above)
    lesson = catalog.load_lesson(step.lesson, app.tr.language)
    budget = env.height - used - 1 - reserve
    lines, _whole = pager.short_form(lesson_blocks(lesson, env), budget)
    legal = []
    if step.name == "consent" and not any(LEGAL_MARK in line for line in lines):
        # a small window has no room for the ethics lesson's legal bullet: its one-sentence form instead
        legal = env.wrap(app.tr.t("walk.legal_warning"), "warning")
        lines, _whole = pager.short_form(lesson_blocks(lesson, env), budget - len(legal) - 1)
    for line in lines + ([""] if lines and legal else []) + legal:
        env.write(line)
    env.write("")
    app.say("walk.keys", "hint")
    if problem:
        env.error(problem)


def ask_step(app, step: Step, index: int, total: int, answers: WalkAnswers, teach: bool) -> str:
    """Ask one step until its answer parses: "ok", "back" (b) or "refused" (no permission)."""
    tr = app.tr
    problem = None
    screens = teach and app.env.on_screen
    while True:
        if screens:
            step_screen(app, step, index, total, problem, answers)
        problem = None
        default = step.default()
        if step.name == "consent":
            app.env.write_wrapped(consent_statement(app, answers), "warning")
        text = app.ask(step_prompt(app, step, index, total, answers))
        command = text.lower()
        if command == "?":
            app.show_lesson(step.lesson)
            continue
        if command == "b":
            if index == 0:
                problem = tr.t("walk.first_step")
                if not screens:
                    app.say("walk.first_step", "hint")
                continue
            return "back"
        if command == "q":
            raise BackToMenu
        if step.name != "consent" and not text:
            text = default
        try:
            value = step.parse(text)
        except _ConsentRefused:
            return "refused"
        except _ConsentUnclear:   # asked again, as often as it takes: the earlier answers are kept
            problem = tr.t("consent.unclear", answer=clip(text, UNCLEAR_ECHO))
            if not screens:
                app.env.error(problem)
            continue
        except InputError as error:
            problem = tr.error(error)
            if not screens:
                app.env.error(problem)
                app.say("walk.try_again", "hint")
            continue
        setattr(answers, step.name, value)
        remember(app, step.name, text)
        if teach:
            lines = code.code_for(app, step.name, value, answers)
            if screens:
                app.pending_code = lines  # shown at the top of the next screen
            else:
                code.show_code(app, lines)
                app.pause()
        elif step.name == "host" and value.is_network:
            app.say("walk.network", "hint", block=value.text, count=len(value.targets))
        elif step.name == "host":
            app.say("walk.resolved", "hint", host=value.targets[0].host, address=value.targets[0].address)
        return "ok"


def remember(app, name: str, text: str) -> None:
    """Keep what the learner typed, to offer it as the default next time."""
    if name == "host":
        app.last_host = text
    elif name == "ports":
        app.last_ports = text
    elif name == "timeout":
        app.last_timeout = text.replace(",", ".")
