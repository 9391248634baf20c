"""The interactive menu: a guided walk through one port scan, with a lesson at every step.

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

The menu reads and writes only through an ``Environment``, so tests can drive the whole
walk with a scripted input stream (which never pauses), and tmux or a pseudo-terminal
can drive the real thing.
"""

from __future__ import annotations

import datetime
import errno
import os
import socket
import textwrap
import threading
import time
from dataclasses import dataclass
from typing import Callable, List, Optional

from lessons import catalog, pager
from lessons.i18n import Translator
from lessons.output import port_map, results_table, short_spec, summary_line
from lessons.progress import store
from lessons.render import Block, lesson_blocks
from lessons.session import Terminated, consent_record, run_scan
from lessons.terminal import Environment
from scanner.errors import InputError, clip
from scanner.inputs import DEFAULT_TIMEOUT, TargetSet, parse_ports, parse_targets, parse_timeout
from scanner.report import write_atomically
from scanner.probe import probe_port
from scanner.results import PortState, Reason, ScanReport

PORT_MAP_MINIMUM = 16
SLOW_MOTION_PACE = 0.8   # seconds between replayed probes on a screen: one thing at a time
COUNTDOWN_AFTER = 0.3    # a probe still silent after this long gets a visible countdown


def parse_host(text: str):
    """The host step's answer: one host (a ``Target``, exactly as before) or a network (a ``TargetSet``)."""
    targets = parse_targets(text)
    return targets if targets.is_network else targets.targets[0]


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
        self.last_timeout = DEFAULT_TIMEOUT   # the command line's default too (scanner/inputs.py)
        self.pending_code: List[str] = []   # "Show the code" of the last answer, for the next screen

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

    def screen_pause(self, key: str = "menu.press_enter") -> None:
        """Wait for Enter where a person reads the screen: a terminal, or presenter mode."""
        if self.env.on_screen or self.env.presenter:
            self.ask(self.tr.t(key))

    def page(self, content, finish: bool = True, reserve: int = 0) -> bool:
        return pager.show(self.env, content, self.ask, self.tr, finish=finish, reserve=reserve)

    def show_lesson(self, lesson_id: str) -> None:
        """The whole lesson, paged on a terminal; it counts as read once its last page was shown."""
        lesson = catalog.load_lesson(lesson_id, self.tr.language)
        if not self.env.on_screen:
            self.env.write("")
        finished = self.page(lambda: lesson_blocks(lesson, self.env))
        if not self.env.on_screen:
            self.env.write("")
        if finished:
            store().mark_lesson_read(lesson_id)
        self.show_progress_problem()

    def choose(self, title: str, rows: List[tuple]) -> str:
        """Print a titled list of (key, label) rows and read the learner's choice."""
        self.env.write("")
        self.env.write(title, "heading")
        for key, label in rows:
            self.env.write(f"  {self.env.paint(key, 'key')}  {label}")
        return self.ask(self.tr.t("menu.choose")).lower()

    def code_lines(self, lines: List[str]) -> List[str]:
        """The "Show the code" box as screen lines: a comment too wide for a narrow window goes on as a
        comment (the terminal would cut it mid-word)."""
        env = self.env
        engine = "scanner-internals"   # named as the library lists it, in the learner's language
        out = env.wrap(self.tr.t("code.heading", title=self.tr.lesson_title(engine),
                                 number=catalog.lesson_ids(self.tr.language).index(engine) + 1), "heading")
        for line in lines:
            if len(line) + 2 < env.width:
                out.append(env.paint("  " + line, "code"))
            else:
                rest = "  # " if line.lstrip().startswith("#") else "      "
                out += env.wrap(line, "code", first="  ", rest=rest)
        return out + [""]

    def show_code(self, lines: List[str]) -> None:
        for line in self.code_lines(lines):
            self.env.write(line)

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
            Step("host", "networks", lambda: self.last_host, parse_host),
            Step("ports", "ports", lambda: self.last_ports, parse_ports),
            Step("timeout", "timeouts", lambda: self.tr.decimal(self.last_timeout), parse_timeout),
            Step("consent", "ethics", lambda: "", self._parse_consent),
        ]

    def _parse_consent(self, text: str) -> dict:
        answer = text.lower().strip(" .!")
        if answer in self.tr.t("consent.yes_words").split("|"):
            return consent_record(self.tr, "prompt")
        if not answer or answer in self.tr.t("consent.no_words").split("|"):
            raise _ConsentRefused  # Enter takes the default shown: [y/N]
        raise _ConsentUnclear

    def guided_scan(self) -> None:
        self.walk(teach=True)

    def quick_scan(self) -> None:
        self.walk(teach=False)

    def walk(self, teach: bool, preset: Optional[dict] = None, offer_save: bool = True) -> Optional[ScanReport]:
        """Ask every step not given in ``preset`` in order (b goes back), then scan."""
        asked = [step for step in self.steps() if not (preset and step.name in preset)]
        answers: dict = dict(preset or {})
        self.pending_code = []
        index = 0
        if teach and not self.env.on_screen:
            self.say("walk.intro", "hint")
        while index < len(asked):
            step = asked[index]
            if teach and not self.env.on_screen:
                self.show_lesson(step.lesson)
                self.pause()
            result = self.ask_step(step, index, len(asked), answers, teach)
            if result == "back":
                index = max(0, index - 1)
                continue
            if result == "refused":
                self.say("consent.cancelled", "warning")
                self.say("walk.consent_lesson", "hint", lesson=self.tr.lesson_title("ethics"))
                return None
            index += 1
        return self.scan_and_explain(answers, teach, offer_save)

    def consent_statement(self, answers: dict) -> str:
        """What the learner agrees to: this host, or every address of the block."""
        host = answers.get("host")
        if isinstance(host, TargetSet):
            return self.tr.t("consent.statement_network", count=len(host.targets), block=host.text)
        return self.tr.t("consent.statement")

    def step_screen(self, step: Step, index: int, total: int, problem: Optional[str], answers: dict) -> None:
        """One screen per question on a terminal: the last answer's code, a short lesson, the question."""
        env = self.env
        env.refresh()
        env.clear()
        used = 0
        if self.pending_code:
            self.show_code(self.pending_code)
            used += len(self.code_lines(self.pending_code))
        env.write(self.tr.t("walk.step_title", number=index + 1, total=total), "heading")
        keys = self.tr.t("walk.keys")
        statement = self.consent_statement(answers) if step.name == "consent" else ""
        below = [keys, statement, problem or ""]
        # below the lesson: a blank line, the keys, the consent statement, a problem, the prompt (2 lines for consent)
        reserve = sum(len(textwrap.wrap(text, env.width - 1)) for text in below if text) + 3 + (step.name == "consent")
        lesson = catalog.load_lesson(step.lesson, self.tr.language)
        lines, _whole = pager.short_form(lesson_blocks(lesson, env), env.height - used - 1 - reserve)
        for line in lines:
            env.write(line)
        env.write("")
        self.say("walk.keys", "hint")
        if problem:
            env.error(problem)

    def ask_step(self, step: Step, index: int, total: int, answers: dict, teach: bool) -> str:
        tr = self.tr
        problem = None
        unclear_consent = False
        screens = teach and self.env.on_screen
        while True:
            if screens:
                self.step_screen(step, index, total, problem, answers)
            problem = None
            default = step.default()
            host = answers.get("host")
            key = f"step.{step.name}.question"
            if step.name == "consent" and isinstance(host, TargetSet):
                key = "step.consent.question_network"
            label = tr.t(key, address=getattr(host, "address", ""), block=getattr(host, "text", ""),
                         count=len(getattr(host, "targets", ())))
            number = f"[{index + 1}/{total}] " if total > 1 else ""
            prompt = number + label + (f" [{default}]" if default else "") + ": "
            if step.name == "consent":
                self.env.write_wrapped(self.consent_statement(answers), "warning")
                prompt = f"{number}{label} [y/N]: "
            text = self.ask(prompt)
            command = text.lower()
            if command == "?":
                self.show_lesson(step.lesson)
                continue
            if command == "b":
                if index == 0:
                    problem = tr.t("walk.first_step")
                    if not screens:
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
            except _ConsentUnclear:
                if unclear_consent:
                    return "refused"  # asked twice: no clear yes means no
                unclear_consent = True
                problem = tr.t("consent.unclear", answer=clip(text))
                if not screens:
                    self.env.error(problem)
                continue
            except InputError as error:
                problem = tr.error(error)
                if not screens:
                    self.env.error(problem)
                    self.say("walk.try_again", "hint")
                continue
            if step.name == "consent" and isinstance(answers.get("host"), TargetSet):
                from lessons.netscan import network_consent_record

                value = network_consent_record(tr, answers["host"], "prompt")   # names the whole block
            answers[step.name] = value
            self._remember(step.name, text)
            if teach:
                code = self.code_for(step.name, value, answers)
                if screens:
                    self.pending_code = code  # shown at the top of the next screen
                else:
                    self.show_code(code)
                    self.pause()
            elif step.name == "host" and isinstance(value, TargetSet):
                self.say("walk.network", "hint", block=value.text, count=len(value.targets))
            elif step.name == "host":
                self.say("walk.resolved", "hint", host=value.host, address=value.address)
            return "ok"

    def _remember(self, name: str, text: str) -> None:
        if name == "host":
            self.last_host = text
        elif name == "ports":
            self.last_ports = text
        elif name == "timeout":
            self.last_timeout = text.replace(",", ".")

    def code_for(self, name: str, value, answers: dict) -> List[str]:
        """The Python this step runs, with the learner's own values filled in."""
        if name == "host" and isinstance(value, TargetSet):
            from scanner.discovery import DISCOVERY_PORTS

            ends = [repr(a) for a in value.addresses]
            hosts = f"hosts = [{', '.join(ends if len(ends) <= 2 else (ends[0], '...', ends[-1]))}]"
            count = self.tr.t("code.network_count", count=len(value.targets))
            first = [f"{hosts}   {count}"] if len(hosts) + len(count) + 6 < self.env.width else [hosts, count]
            return first + [self.tr.t("code.discovery", ports=", ".join(map(str, DISCOVERY_PORTS)))]
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
            return [loop, "    probe(address, port)   " + self.tr.t("code.loop_body"),
                    self.tr.count("code.port_count", len(value), spec=short_spec(value))]
        if name == "timeout":
            if value.auto:
                return ["s.settimeout(1.0)", self.tr.t("code.auto_timeout")]
            return [f"s.settimeout({value.seconds:g})",
                    self.tr.t("code.timeout_meaning", seconds=self.tr.decimal(value.seconds))]
        return [self.tr.t("code.consent_saved")]

    # -- scanning ------------------------------------------------------------------
    def scan_and_explain(self, answers: dict, teach: bool, offer_save: bool = True) -> ScanReport:
        """The scan, then slow motion of what it found, the results, and what they mean."""
        target, ports, timeout = answers["host"], answers["ports"], answers["timeout"]
        if isinstance(target, TargetSet):
            return self.scan_network_and_explain(answers, teach, offer_save)
        env = self.env
        self.before_the_scan(teach, room_below=12)
        env.write_wrapped(self.tr.count("scan.starting", len(ports), target=target.text, address=target.address,
                                        spec=short_spec(ports), timeout=self.tr.decimal(str(timeout))))
        self.say("walk.ctrl_c", "hint")
        on_terminal = getattr(env.stdout, "isatty", lambda: False)()
        report = run_scan(target, ports, timeout, self.tr, progress_stream=env.stdout if on_terminal else None,
                          banners=bool(answers.get("banners", store().setting("banners", False))),
                          width=env.columns, consent=answers.get("consent"))
        replayed = False
        if (teach or env.presenter) and not report.interrupted:
            try:
                replayed = self.slow_motion(target, report, teach)
            except KeyboardInterrupt:  # skip the replay, never the results
                env.write("")
        self.show_results(report, teach, pause_first=replayed or env.presenter, replayed=replayed)
        if offer_save:
            self.offer_save(report)
        elif env.on_screen:  # the caller prints more (the lab's grading): what this means stays until Enter
            self.screen_pause()
        return report

    def before_the_scan(self, teach: bool, room_below: int) -> None:
        """A fresh screen with the last step's code and, when teaching, the threading lesson's
        start, leaving ``room_below`` lines for the scan's own lines and progress bar."""
        env = self.env
        if env.on_screen and (teach or self.pending_code):
            env.clear()
        if self.pending_code:
            self.show_code(self.pending_code)
            self.pending_code = []
        if teach:
            if env.on_screen:
                self.short_lesson("threading", env.height - room_below)
            else:
                self.show_lesson("threading")
                self.pause()

    def scan_network_and_explain(self, answers: dict, teach: bool, offer_save: bool = True):
        """A network: host discovery and the port scans (one progress bar), slow motion on one
        host that is up, then a block per host with the totals; the map, one row per host, next."""
        from lessons.netscan import host_lines, network_port_map
        from lessons.output import ProgressBar
        from scanner.discovery import DISCOVERY_PORTS
        from scanner.network import scan_network

        targets, ports, timeout = answers["host"], answers["ports"], answers["timeout"]
        env, tr = self.env, self.tr
        self.before_the_scan(teach, room_below=14)
        env.write_wrapped(tr.count("net.starting", len(ports), target=clip(targets.text, 60),
                                   addresses=len(targets.targets), spec=short_spec(ports),
                                   timeout=tr.decimal(str(timeout))))
        env.write_wrapped(tr.t("net.discovering", ports=",".join(map(str, DISCOVERY_PORTS))), "hint")
        self.say("walk.ctrl_c", "hint")
        on_terminal = getattr(env.stdout, "isatty", lambda: False)()
        bar = ProgressBar(env.stdout, tr, env.columns, enabled=on_terminal)
        try:
            network = scan_network(targets, ports, timeout, progress=bar.update)
        finally:
            bar.finish()
        network.consent = answers.get("consent")
        replayed = False
        if (teach or env.presenter) and not network.interrupted:
            replayed = self.network_slow_motion(network, teach)
        if env.on_screen and (replayed or env.presenter):
            self.screen_pause("results.press_enter")
        elif env.presenter:
            self.pause()
        lines = [""]
        for line in host_lines(network, env, tr):
            if len(line) < env.width or "\x1b" in line:
                lines.append(line)
            else:  # a long name or IPv6 address: folded, never run off the screen
                lines += env.wrap(line, rest="  ")
        lines += self.engine_note_lines([host.report for host in network.up])
        if env.on_screen and len(lines) > env.height - 2:   # the totals on the same screen as the hosts, if it helps
            lines = [""] + [line for line in lines if line]
        map_lines = network_port_map(network, env, tr, max_rows=max(4, env.height - 8)) if network.up else []
        counts: dict = {}
        for host in network.up:
            for state, count in (host.report.counts() if host.report else {}).items():
                counts[state] = counts.get(state, 0) + count
        meaning = self.meaning_lines(counts, bool(counts.get("open")), teach, lab_hint=not replayed)
        self.results_pages(pager.line_blocks(lines), map_lines, meaning)
        if offer_save:
            self.offer_save(network)
        elif env.on_screen:  # the caller prints more (the lab's grading): what this means stays until Enter
            self.screen_pause()
        return network

    def network_slow_motion(self, network, teach: bool) -> bool:
        """Slow motion on one host of the network: the one that shows the most kinds of port (open,
        closed, filtered), an open port first, so a class sees as much as one host can show."""
        scanned = [host for host in network.up if host.report is not None and host.report.results]

        def shows(host) -> tuple:
            counts = host.report.counts()
            return (sum(1 for state in ("open", "closed", "filtered") if counts.get(state)), bool(counts.get("open")))

        chosen = max(scanned, key=shows) if scanned else None   # max keeps the first of equals
        if chosen is None:
            self.say("slow.network_none", "hint")
            return False
        try:
            return self.slow_motion(chosen.target, chosen.report, teach,
                                    note=self.tr.t("slow.network_host", address=chosen.address,
                                                   count=len(network.up)))
        except KeyboardInterrupt:  # skip the replay, never the results
            self.env.write("")
            return False

    def short_lesson(self, lesson_id: str, budget: int) -> None:
        """The start of a lesson that fits ``budget`` lines, and how to read the rest."""
        lesson = catalog.load_lesson(lesson_id, self.tr.language)
        lines, whole = pager.short_form(lesson_blocks(lesson, self.env), max(3, budget - 2))
        for line in lines:
            self.env.write(line)
        if not whole:
            self.say("walk.whole_lesson", "hint", number=catalog.lesson_ids(self.tr.language).index(lesson_id) + 1)
        self.env.write("")

    def replay_ports(self, report: ScanReport) -> list:
        """One port of each state the scan found (open first), to replay slowly."""
        picks = []
        for state in (PortState.OPEN, PortState.CLOSED, PortState.FILTERED):
            found = report.by_state(state)
            if state is PortState.CLOSED:  # a self-connection is "closed" too, but teaches something else
                found = [r for r in found if r.reason is Reason.CONN_REFUSED] or found
            if found:
                picks.append(found[0])
        return picks

    def slow_motion(self, target, report: ScanReport, teach: bool, note: str = "") -> bool:
        """Replay one port of each state the scan found, one real ``connect_ex`` at a time."""
        env, tr = self.env, self.tr
        picks = self.replay_ports(report)
        if not picks:
            return False
        seconds = report.final_timeout
        if env.on_screen:
            self.screen_pause("slow.press_enter")
            env.clear()
        counts = report.counts()
        only_closed = counts.get("closed") and not counts.get("open") and not counts.get("filtered")
        if teach:
            if env.on_screen:  # what follows: title, 2 code lines, 3 per probe, the note, the prompt
                self.short_lesson("handshake", env.height - 6 - 2 * len(picks) - (4 if only_closed else 0)
                                  - (len(env.wrap(note)) if note else 0))
            else:
                self.show_lesson("handshake")
                self.pause()
        env.write_wrapped(tr.count("slow.title", len(picks)), "heading")
        if note:
            env.write_wrapped(note, "hint")
        family = "AF_INET6" if target.family == socket.AF_INET6 else "AF_INET"
        for line in (f"s = socket.socket(socket.{family}, socket.SOCK_STREAM)", f"s.settimeout({seconds:g})"):
            env.write("  " + line, "code")
        paced = env.on_screen or env.presenter
        for number, result in enumerate(picks):
            if number and paced:
                time.sleep(SLOW_MOTION_PACE)
            call = f"s.connect_ex(({target.address!r}, {result.port}))"
            env.write(env.paint("  " + call, "code"), end="")
            outcome = self._probe_with_countdown(target, result.port, seconds, len(call) + 2)
            code = "0" if outcome.code == 0 else f"{outcome.code} {errno.errorcode.get(outcome.code, '')}".strip()
            env.write(env.paint(f"  # -> {code}", "code"))
            took = tr.t("slow.took", time=self._duration(outcome.rtt))
            meaning = tr.t(f"slow.meaning.{outcome.state.value}")
            env.write_wrapped(f"{tr.state(outcome.state)} ({took}): {meaning}", outcome.state.value,
                              first="      ", rest="      ")
        if only_closed:
            env.write("")
            self.say("slow.only_closed", "warning")
        env.write("")
        return True

    def _duration(self, seconds: float) -> str:
        if seconds < 0.00005:   # "0.0 ms" would say it took no time at all
            return "< " + self.tr.decimal(0.1, 1) + " ms"
        if seconds < 1:
            return self.tr.decimal(seconds * 1000, 1) + " ms"
        return self.tr.decimal(seconds, 1) + " s"

    def _probe_with_countdown(self, target, port: int, seconds: float, column: int):
        """The real probe; on a terminal a countdown runs beside it while no answer comes."""
        if not self.env.on_screen or seconds < COUNTDOWN_AFTER:
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
                text = "  " + self.tr.t("slow.countdown", seconds=self.tr.decimal(left, 1))
                room = max(0, self.env.columns() - column - 1)
                if len(text) > room:   # a narrow window: drop the "(Ctrl+C ...)" aside, or say only the seconds
                    text = text.split(" (")[0]
                    if len(text) > room:
                        text = "  " + self.tr.decimal(left, 1) + " s"
                    if len(text) > room:
                        text = ""
                self.env.stdout.write(text + "\b" * len(text))  # the cursor stays where the answer goes
                self.env.stdout.flush()
                shown = text
        if shown:
            self.env.stdout.write(" " * len(shown) + "\b" * len(shown))
        if not outcome:
            raise OSError(errno.EIO, "probe failed")
        return outcome[0]

    def show_results(self, report: ScanReport, teach: bool, pause_first: bool = False,
                     replayed: bool = False) -> None:
        """Results table + summary on one screen; port map and "what this means" on the next."""
        env = self.env
        if env.on_screen and pause_first:
            self.screen_pause("results.press_enter")
        elif env.presenter:
            self.pause()
        lines = [""]
        if report.banners_skipped:
            lines += self.env.wrap(self.tr.t("results.banners_skipped"), "warning")
        elif report.interrupted:
            lines += self.env.wrap(self.tr.t("results.partial", done=report.ports_scanned,
                                             total=len(report.ports_requested)), "warning")
        table = results_table(report, env, self.tr)
        blocks = pager.line_blocks(lines) + pager.line_blocks(table) + \
            pager.line_blocks(self.env.wrap(summary_line(report, self.tr))) + \
            pager.line_blocks(self.engine_note_lines([report]))
        map_lines = port_map(report, env, self.tr) if len(report.ports_requested) >= PORT_MAP_MINIMUM else []
        meaning = self.explain_lines(report, teach, lab_hint=not replayed)
        self.results_pages(blocks, map_lines, meaning)

    def engine_note_lines(self, reports: list) -> List[str]:
        """What the engine noticed (lost packets, a rate-limited target), as the command line says it."""
        from types import SimpleNamespace

        from lessons.cli import engine_notes

        reports = [report for report in reports if report is not None]
        if not reports:
            return []
        limits = [r.rate_limit_per_second for r in reports if getattr(r, "rate_limit_per_second", None)]
        seen = SimpleNamespace(retried=sum(getattr(r, "retried", 0) or 0 for r in reports),
                               rate_limit_per_second=min(limits) if limits else None,
                               protocol=getattr(reports[0], "protocol", "tcp"))
        return [line for note in engine_notes(seen, self.tr) for line in self.env.wrap(note, "hint")]

    def results_pages(self, blocks: list, map_lines: List[str], meaning: List[Block]) -> None:
        """The results on one screen; the port map and "what this means" on the next (presenter: one each)."""
        env = self.env
        if env.on_screen and not map_lines and not env.presenter:  # a short scan: results and meaning together
            self.page(blocks + meaning, finish=False, reserve=2)
            return
        if env.on_screen:
            self.page(blocks, finish=False, reserve=1)
            self.screen_pause("results.next_page" if map_lines else "results.next_meaning")
            rest = pager.line_blocks(map_lines, keep_together=True)
            if map_lines and env.presenter:
                self.page(rest, finish=False, reserve=1)
                self.screen_pause()
                rest = []
            self.page(rest + meaning, finish=False, reserve=2)
            return
        self.page(blocks)
        if map_lines:
            self.pause()
            self.env.write("")
            self.page(pager.line_blocks(map_lines, keep_together=True))
        self.pause()
        self.page(meaning)

    def explain_lines(self, report: ScanReport, teach: bool, lab_hint: bool = True) -> List[Block]:
        """The short "what this means" lesson, written from this scan's own numbers."""
        return self.meaning_lines(report.counts(), bool(report.by_state(PortState.OPEN)), teach, lab_hint)

    def meaning_lines(self, counts: dict, any_open: bool, teach: bool, lab_hint: bool = True) -> List[Block]:
        """The heading, then one block per sentence: a page break never splits a sentence."""
        wrap, t = self.env.wrap, self.tr.t
        blocks = [Block([""], "blank"), Block([self.env.paint(t("meaning.title"), "heading")], "heading")]
        for state in ("open", "filtered", "closed"):
            if counts.get(state):
                blocks.append(Block(wrap(t(f"meaning.{state}", count=counts[state]), first="- ", rest="  "), "text"))
        if lab_hint and counts.get("closed") and not counts.get("open") and not counts.get("filtered"):
            blocks.append(Block(wrap(t("slow.only_closed"), "hint"), "text"))  # nothing to find: the lab has
        if any_open:
            blocks.append(Block(wrap(t("meaning.next_steps", lesson=self.tr.lesson_title("unexpected-open-port")),
                                     "hint"), "text"))
        if teach:
            blocks.append(Block(wrap(t("meaning.more", first=self.tr.lesson_title("port-states"),
                                       second=self.tr.lesson_title("reading-results")), "hint"), "text"))
        return blocks

    def offer_save(self, report) -> None:
        """Save a ``ScanReport`` or a ``NetworkReport`` as text, JSON or CSV."""
        from lessons.cli import report_text
        from lessons.netscan import network_report_text
        from scanner.network import NetworkReport

        def body(file_format: str) -> str:
            if isinstance(report, NetworkReport):
                return network_report_text(report, self.tr, file_format, False)
            return report_text(report, self.tr, file_format)

        formats = {"t": ("text", "txt"), "j": ("json", "json"), "c": ("csv", "csv")}
        while True:
            typed = self.ask(self.tr.t("save.question"))
            choice = typed.lower()
            if choice in ("", "n", "no", "tidak"):
                return
            if choice not in formats:
                self.say("save.unknown", "error", choice=clip(typed))   # what was typed, not its lower case
                continue
            file_format, ending = formats[choice]
            stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
            default = f"portscan-report-{stamp}.{ending}"
            path = self.ask(self.tr.t("save.path", default=default)) or default
            try:
                write_atomically(os.path.expanduser(path), body(file_format))
            except ValueError:  # a NUL byte in the name
                self.say("report.write_failed", "error", path=clip(path.replace("\x00", "")),
                         detail=self.tr.t("report.bad_name"))
                continue
            except OSError as error:
                self.say("report.write_failed", "error", path=clip(path), detail=error.strerror or error)
                continue
            self.say("report.saved", "ok", path=clip(os.path.abspath(os.path.expanduser(path)), 200))
            return

    # -- lessons library -------------------------------------------------------------
    def library(self) -> None:
        while True:
            ids = catalog.lesson_ids(self.tr.language)
            read = store().lessons_read()
            if self.env.on_screen:
                self.env.refresh()
                self.env.clear()
            else:
                self.env.write("")
            self.say("library.title", "heading")
            rows = []
            for number, lesson_id in enumerate(ids, 1):
                title = catalog.load_lesson(lesson_id, self.tr.language).title
                mark = self.env.paint("*", "ok") if lesson_id in read else " "
                rows.append((f" {mark}{number:>3}  ", title))
            for line in self._columns(rows):
                self.env.write(line)
            choice = self.ask(self.tr.t("library.choose"))
            if choice.lower() in ("", "q", "b", "0"):
                return
            lesson_id = catalog.find_lesson(choice, self.tr.language)
            if lesson_id is None:
                self.say("lessons.unknown_menu", "error", name=clip(choice))
                if self.env.on_screen:
                    self.screen_pause()
                continue
            self.show_lesson(lesson_id)
            if not self.env.on_screen:
                self.pause()

    def _columns(self, rows: List[tuple]) -> List[str]:
        return pager.columns(self.env, rows)


class _ConsentRefused(Exception):
    pass


class _ConsentUnclear(Exception):
    pass
