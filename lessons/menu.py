"""The interactive menu: a guided walk through one port scan, with a lesson at every step.

The walkthrough asks four questions in the order a real scan needs them — which host,
which ports, how long to wait, and whether you are allowed to — and beside each
question shows a short lesson and the exact Python call the step makes, filled in with
the learner's own answers.  Every question shows its default in brackets (Enter takes
it) and understands three commands: ``?`` shows the lesson again, ``b`` goes back one
step, ``q`` returns to the main menu.  A wrong answer gets the parser's one-line
message and the same question again.

The menu reads and writes only through an ``Environment``, so tests can drive the whole
walk with a scripted input stream, and a pseudo-terminal test can drive the real thing.
"""

from __future__ import annotations

import datetime
import errno
import os
import socket
import time
from dataclasses import dataclass
from typing import Callable, List, Optional

from lessons import catalog
from lessons.i18n import Translator
from lessons.output import port_map, results_table, short_spec, summary_line
from lessons.progress import store
from lessons.render import render_lesson
from lessons.session import Terminated, consent_record, run_scan
from lessons.terminal import Environment
from scanner.errors import InputError, clip
from scanner.inputs import parse_ports, parse_target, parse_timeout
from scanner.report import write_atomically
from scanner.probe import probe_port
from scanner.results import PortState, ScanReport

SLOW_MOTION_PORTS = 3
PORT_MAP_MINIMUM = 16
PRESENTER_PAGE_LINES = 14


class EndOfInput(Exception):
    """The learner closed the input (Ctrl+D): leave quietly."""


class BackToMenu(Exception):
    """The learner typed q: abandon this walk and show the main menu."""


@dataclass
class Step:
    """One question of the walkthrough."""

    name: str                      # also the ui.json key prefix: step.<name>.*
    lesson: str                    # the lesson shown beside it
    default: Callable[[], str]
    parse: Callable[[str], object]


class Menu:
    def __init__(self, env: Environment, tr: Translator, lab=None) -> None:
        self.env = env
        self.tr = tr
        self.lab = lab                  # a running PracticeLab, started from the menu
        self.last_host = "127.0.0.1"
        self.last_ports = "1-1024"
        self.last_timeout = "0.5"

    # -- small helpers -------------------------------------------------------------
    def say(self, key: str, role: Optional[str] = None, **values) -> None:
        self.env.write_wrapped(self.tr.t(key, **values), role)

    def ask(self, prompt: str) -> str:
        answer = self.env.read_line(prompt)
        if answer is None:
            raise EndOfInput
        return answer.strip()

    def pause(self) -> None:
        """Presenter mode waits for Enter so the class can read; otherwise no pauses."""
        if self.env.presenter:
            self.ask(self.tr.t("menu.press_enter"))

    def show_lesson(self, lesson_id: str) -> None:
        lesson = catalog.load_lesson(lesson_id, self.tr.language)
        self.env.write("")
        lines = render_lesson(lesson, self.env)
        page = PRESENTER_PAGE_LINES if self.env.presenter else len(lines)
        for start in range(0, len(lines), page):
            if start:
                self.pause()  # projector screens stay short: one page at a time
            for line in lines[start:start + page]:
                self.env.write(line)
        self.env.write("")
        store().mark_lesson_read(lesson_id)
        self.show_progress_problem()

    def choose(self, title: str, rows: List[tuple]) -> str:
        """Print a titled list of (key, label) rows and read the learner's choice."""
        self.env.write("")
        self.env.write(title, "heading")
        for key, label in rows:
            self.env.write(f"  {self.env.paint(key, 'key')}  {label}")
        return self.ask(self.tr.t("menu.choose")).lower()

    def show_code(self, lines: List[str]) -> None:
        self.env.write(self.tr.t("code.heading"), "heading")
        for line in lines:
            self.env.write("  " + line, "code")
        self.env.write("")

    # -- main menu -----------------------------------------------------------------
    def entries(self) -> List[tuple]:
        from lessons.labscreen import lab_menu  # loaded when first shown: a plain scan starts faster
        from lessons.quiz import quiz_menu
        from lessons.settings import settings_menu

        return [("1", "menu.guided", self.guided_scan), ("2", "menu.quick", self.quick_scan),
                ("3", "menu.library", self.library), ("4", "menu.lab", lambda: lab_menu(self)),
                ("5", "menu.quiz", lambda: quiz_menu(self)), ("6", "menu.settings", lambda: settings_menu(self))]

    def run(self) -> int:
        self.env.write(self.tr.t("menu.welcome"), "title")
        self.say("menu.welcome_hint", "hint")
        if self.env.presenter:
            self.say("menu.presenter_on", "hint")
        self.show_progress_problem()
        try:
            while True:
                entries = self.entries()
                rows = [(key, self.tr.t(label)) for key, label, _handler in entries] + [("0", self.tr.t("menu.quit"))]
                try:
                    choice = self.choose(self.tr.t("menu.title"), rows)
                except KeyboardInterrupt as interrupt:
                    if isinstance(interrupt, Terminated):
                        raise   # SIGTERM/SIGHUP end the program (the lab is stopped below)
                    self.env.write("")
                    break
                if choice in ("0", "q", "quit", "exit", "keluar"):
                    break
                if not choice:
                    continue  # Enter alone: show the menu again
                handler = next((h for key, _label, h in entries if key == choice), None)
                if handler is None:
                    self.say("menu.unknown_choice", "error", choice=clip(choice))
                    continue
                try:
                    handler()
                except BackToMenu:
                    self.say("menu.back_to_menu", "hint")
                except KeyboardInterrupt as interrupt:
                    if isinstance(interrupt, Terminated):
                        raise
                    self.env.write("")
                    self.say("menu.cancelled", "warning")
        except EndOfInput:
            pass
        finally:
            self.close()
        self.say("menu.goodbye")
        return 0

    def show_progress_problem(self) -> None:
        message = store().take_problem(self.tr)
        if message:
            self.env.write_wrapped(message, "warning")

    def close(self) -> None:
        if self.lab is not None:
            self.lab.stop()
            self.lab = None

    # -- the walkthrough -------------------------------------------------------------
    def steps(self) -> List[Step]:
        return [
            Step("host", "dns", lambda: self.last_host, parse_target),
            Step("ports", "ports", lambda: self.last_ports, parse_ports),
            Step("timeout", "timeouts", lambda: self.last_timeout, parse_timeout),
            Step("consent", "ethics", lambda: "", self._parse_consent),
        ]

    def _parse_consent(self, text: str) -> dict:
        if text.lower() in self.tr.t("consent.yes_words").split("|"):
            return consent_record(self.tr, "prompt")
        raise _ConsentRefused

    def guided_scan(self) -> None:
        self.walk(teach=True)

    def quick_scan(self) -> None:
        self.walk(teach=False)

    def walk(self, teach: bool, preset: Optional[dict] = None, offer_save: bool = True) -> Optional[ScanReport]:
        """Ask every step in order (b goes back), then scan.  Returns the report."""
        steps = self.steps()
        answers: dict = dict(preset or {})
        index = 0
        if teach:
            self.say("walk.intro", "hint")
        while index < len(steps):
            step = steps[index]
            if preset and step.name in preset:
                index += 1
                continue
            if teach:
                self.show_lesson(step.lesson)
                self.pause()
            result = self.ask_step(step, index, answers, teach)
            if result == "back":
                index = max(0, index - 1)
                while index > 0 and preset and steps[index].name in preset:
                    index -= 1
                continue
            if result == "refused":
                self.say("consent.cancelled", "warning")
                self.say("walk.consent_lesson", "hint")
                return None
            index += 1
        return self.scan_and_explain(answers, teach, offer_save)

    def ask_step(self, step: Step, index: int, answers: dict, teach: bool) -> str:
        tr = self.tr
        while True:
            default = step.default()
            label = tr.t(f"step.{step.name}.question", address=getattr(answers.get("host"), "address", ""))
            prompt = f"[{index + 1}/4] {label}" + (f" [{default}]" if default else "") + ": "
            if step.name == "consent":
                self.env.write(tr.t("consent.statement"), "warning")
                prompt = f"[{index + 1}/4] {label} [y/N]: "
            text = self.ask(prompt)
            command = text.lower()
            if command == "?":
                self.show_lesson(step.lesson)
                continue
            if command == "b":
                if index == 0:
                    self.say("walk.first_step", "hint")
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
            except InputError as error:
                self.env.error(tr.error(error))
                self.say("walk.try_again", "hint")
                continue
            answers[step.name] = value
            self._remember(step.name, text)
            if teach:
                self.show_code(self.code_for(step.name, value, answers))
                self.pause()
            elif step.name == "host":
                self.say("walk.resolved", "hint", host=value.host, address=value.address)
            return "ok"

    def _remember(self, name: str, text: str) -> None:
        if name == "host":
            self.last_host = text
        elif name == "ports":
            self.last_ports = text
        elif name == "timeout":
            self.last_timeout = text

    def code_for(self, name: str, value, answers: dict) -> List[str]:
        """The Python this step runs, with the learner's own values filled in."""
        if name == "host":
            family = "AF_INET6" if value.family == socket.AF_INET6 else "AF_INET"
            if value.host == value.address:
                return [self.tr.t("code.literal", address=value.address),
                        f"family = socket.{family}"]
            found = ", ".join(value.all_addresses[:3]) + (" ..." if len(value.all_addresses) > 3 else "")
            return [f"socket.getaddrinfo({value.host!r}, None, type=socket.SOCK_STREAM)",
                    f"# -> {found}",
                    self.tr.t("code.chosen", address=value.address, family=family)]
        if name == "ports":
            if len(value) > 1 and value[-1] - value[0] + 1 == len(value):
                loop = f"for port in range({value[0]}, {value[-1] + 1}):"
            else:
                loop = f"for port in {list(value[:6])}{' + ...' if len(value) > 6 else ''}:"
            return [loop, self.tr.t("code.port_count", count=len(value), spec=short_spec(value))]
        if name == "timeout":
            if value.auto:
                return ["s.settimeout(1.0)", self.tr.t("code.auto_timeout")]
            return [f"s.settimeout({value.seconds:g})", self.tr.t("code.timeout_meaning", seconds=f"{value.seconds:g}")]
        return [self.tr.t("code.consent_saved")]

    # -- scanning ------------------------------------------------------------------
    def scan_and_explain(self, answers: dict, teach: bool, offer_save: bool = True) -> ScanReport:
        target, ports, timeout = answers["host"], answers["ports"], answers["timeout"]
        if teach:
            self.show_lesson("handshake")
            self.pause()
        if teach or self.env.presenter:
            self.slow_motion(target, ports, timeout)
            self.pause()
        if teach:
            self.show_lesson("threading")
            self.pause()
        self.env.write_wrapped(self.tr.count("scan.starting", len(ports), target=target.text,
                                             address=target.address, spec=short_spec(ports), timeout=str(timeout)))
        self.say("walk.ctrl_c", "hint")
        on_terminal = getattr(self.env.stdout, "isatty", lambda: False)()
        report = run_scan(target, ports, timeout, self.tr, progress_stream=self.env.stdout if on_terminal else None,
                          banners=bool(answers.get("banners", store().setting("banners", False))),
                          width=self.env.width, consent=answers.get("consent"))
        self.show_results(report, teach)
        if offer_save:
            self.offer_save(report)
        return report

    def slow_motion(self, target, ports, timeout, count: int = SLOW_MOTION_PORTS) -> None:
        """Probe the first few ports one at a time, showing each call and its answer."""
        family = "AF_INET6" if target.family == socket.AF_INET6 else "AF_INET"
        self.say("slow.title", "heading", count=min(count, len(ports)))
        self.show_code([f"s = socket.socket(socket.{family}, socket.SOCK_STREAM)",
                        f"s.settimeout({timeout.seconds:g})"])
        for port in ports[:count]:
            outcome = probe_port(target.address, port, timeout.seconds, target.family)
            meaning = self.tr.t(f"slow.meaning.{outcome.state.value}")
            call = f"s.connect_ex(({target.address!r}, {port}))"
            code = "0" if outcome.code == 0 else f"{outcome.code} {errno.errorcode.get(outcome.code, '')}".strip()
            self.env.write(f"  {call}  # -> {code}", "code")
            self.env.write("      " + self.env.paint(self.tr.state(outcome.state), outcome.state.value) + f": {meaning}")
            if self.env.presenter:
                time.sleep(0.6)
        self.env.write("")

    def show_results(self, report: ScanReport, teach: bool) -> None:
        self.env.write("")
        if report.banners_skipped:
            self.say("results.banners_skipped", "warning")
        elif report.interrupted:
            self.say("results.partial", "warning", done=report.ports_scanned, total=len(report.ports_requested))
        for line in results_table(report, self.env, self.tr):
            self.env.write(line)
        self.env.write_wrapped(summary_line(report, self.tr))
        if len(report.ports_requested) >= PORT_MAP_MINIMUM:
            self.env.write("")
            for line in port_map(report, self.env, self.tr):
                self.env.write(line)
        self.explain(report, teach)

    def explain(self, report: ScanReport, teach: bool) -> None:
        """The short "what this means" lesson, written from this scan's own numbers."""
        counts = report.counts()
        self.env.write("")
        self.say("meaning.title", "heading")
        for state in ("open", "filtered", "closed"):
            if counts.get(state):
                self.env.write_wrapped(self.tr.t(f"meaning.{state}", count=counts[state]), first="- ", rest="  ")
        if report.by_state(PortState.OPEN):
            self.env.write_wrapped(self.tr.t("meaning.next_steps"), "hint")
        if teach:
            self.env.write_wrapped(self.tr.t("meaning.more"), "hint")

    def offer_save(self, report: ScanReport) -> None:
        from lessons.cli import report_text

        formats = {"t": ("text", "txt"), "j": ("json", "json"), "c": ("csv", "csv")}
        while True:
            choice = self.ask(self.tr.t("save.question")).lower()
            if choice in ("", "n", "no", "tidak"):
                return
            if choice not in formats:
                self.say("save.unknown", "error", choice=clip(choice))
                continue
            file_format, ending = formats[choice]
            stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
            default = f"portscan-report-{stamp}.{ending}"
            path = self.ask(self.tr.t("save.path", default=default)) or default
            try:
                write_atomically(os.path.expanduser(path), report_text(report, self.tr, file_format))
            except ValueError:  # a NUL byte in the name
                self.say("report.write_failed", "error", path=clip(path.replace("\x00", "")),
                         detail=self.tr.t("report.bad_name"))
                continue
            except OSError as error:
                self.say("report.write_failed", "error", path=path, detail=error.strerror or error)
                continue
            self.say("report.saved", "ok", path=path)
            return

    # -- lessons library -------------------------------------------------------------
    def library(self) -> None:
        while True:
            ids = catalog.lesson_ids(self.tr.language)
            read = store().lessons_read()
            self.env.write("")
            self.say("library.title", "heading")
            for number, lesson_id in enumerate(ids, 1):
                title = catalog.load_lesson(lesson_id, self.tr.language).title
                mark = self.env.paint("*", "ok") if lesson_id in read else " "
                self.env.write(f" {mark}{number:>3}  {title}")
            choice = self.ask(self.tr.t("library.choose"))
            if choice.lower() in ("", "q", "b", "0"):
                return
            lesson_id = catalog.find_lesson(choice, self.tr.language)
            if lesson_id is None:
                self.say("lessons.unknown_menu", "error", name=clip(choice))
                continue
            self.show_lesson(lesson_id)
            self.pause()


class _ConsentRefused(Exception):
    pass



