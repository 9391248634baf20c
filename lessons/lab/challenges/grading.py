"""Grading a challenge answer: right or wrong, *why*, a hint, and the key only at the end.

A verdict that only says "wrong" sends the learner back to guessing.  Each wrong answer
here is matched to the mistake it most likely comes from, and the explanation says what
the learner's own scan would have shown::

    asked:  which TCP ports between 23900 and 23999 are open?
    answer: 23928, 23972
    ->  wrong.  23972 never answered: your scan shows it filtered (no-response).
        Silence is not open.  23991 is open and missing: did your range cover it?

Every message is a key plus values (``Explanation``); the screen translates it.  A
``QuestionRun`` counts tries: after a wrong answer it offers the next hint, and only after
the last try (``TRIES``) does it hand out the key.  Nothing here prints or reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, List, NamedTuple, Optional

from lessons.lab.challenges.plan import TRIES, HostPlan, Question, TargetPlan
from scanner.services import service_name

SERVICE_WORDS = {"ssh": "ssh", "http": "http", "web": "http", "www": "http", "ftp": "ftp", "echo": "echo",
                 "db": "db", "database": "db", "redis": "db", "basis-data": "db", "basisdata": "db"}
UDP_WORDS = {"closed": "closed", "tertutup": "closed", "open|filtered": "open|filtered",
             "terbuka|terfilter": "open|filtered", "open/filtered": "open|filtered",
             "open-filtered": "open|filtered", "open": "open", "terbuka": "open"}
HOW_CHOICES = ("silence", "reset", "banner")      # filtered_how: 1, 2, 3
BANNERS = {"ssh": "SSH-2.0-...", "ftp": "220 ...", "db": "+OK ... database ...", "http": "HTTP/1.1 200 OK",
           "echo": ""}


class Explanation(NamedTuple):
    key: str            # e.g. "challenge.why.extra_filtered"
    values: dict


class AnswerError(ValueError):
    """The answer could not be read (not "wrong": unreadable); ``key`` says what was expected."""

    def __init__(self, key: str, **values) -> None:
        super().__init__(key)
        self.key, self.values = key, values


@dataclass
class Verdict:
    right: bool
    explanations: List[Explanation]
    hint: Optional[Explanation] = None      # after a wrong answer with tries left
    key: Optional[Explanation] = None       # after the last try (or a right answer)


# --- reading answers -----------------------------------------------------------------------

def _numbers(text: str) -> List[int]:
    found = []
    for first, last in re.findall(r"(\d+)(?:\s*-\s*(\d+))?", text):
        low, high = int(first), int(last or first)
        if high - low > 1000:
            raise AnswerError("challenge.answer.too_wide")
        found.extend(range(low, high + 1))
    return found


def read_ports(text: str) -> List[int]:
    """'23928, 23991' or '23928 23991' or '-' (none): a sorted list."""
    if text.strip().lower() in ("-", "none", "tidak ada", "0"):
        return []
    ports = _numbers(text)
    if not ports:
        raise AnswerError("challenge.answer.need_ports")
    return sorted(set(ports))


def read_hosts(text: str, address_of: Callable[[int], str]) -> List[int]:
    """Host numbers from '10.213.7.9, .11' or '9 11' (the last number of each address)."""
    numbers = [int(part.rsplit(".", 1)[-1]) for part in re.findall(r"[\d.]*\d", text)]
    if not numbers or any(n > 255 for n in numbers):
        raise AnswerError("challenge.answer.need_hosts", example=address_of(9))
    return sorted(set(numbers))


def read_answer(question: Question, text: str, address_of: Callable[[int], str]):
    text = (text or "").strip()
    if question.kind == "open_ports":
        return read_ports(text)
    if question.kind == "filtered_port":
        ports = read_ports(text)
        if len(ports) != 1:
            raise AnswerError("challenge.answer.one_port")
        return ports[0]
    if question.kind == "hosts_up":
        return read_hosts(text, address_of)
    if question.kind == "filtered_host":
        hosts = read_hosts(text, address_of)
        if len(hosts) != 1:
            raise AnswerError("challenge.answer.one_host", example=address_of(9))
        return hosts[0]
    if question.kind == "filtered_how":
        if text in ("1", "2", "3"):
            return HOW_CHOICES[int(text) - 1]
        raise AnswerError("challenge.answer.choose", count=3)
    if question.kind == "service_on_port":
        word = SERVICE_WORDS.get(text.lower().split(" ")[0] if text else "")
        if word is None:
            raise AnswerError("challenge.answer.service", names="ssh, http, ftp, db, echo")
        return word
    if question.kind == "udp_state":
        word = UDP_WORDS.get(text.lower().replace(" ", ""))
        if word is None:
            raise AnswerError("challenge.answer.udp")
        return word
    raise AnswerError("challenge.answer.unknown")


# --- the truth each question asks about ------------------------------------------------------

def open_ports(host: HostPlan, low: int, high: int) -> List[int]:
    return sorted(p.port for p in host.ports if p.protocol == "tcp" and p.state == "open" and low <= p.port <= high)


def correct(question: Question, plan: TargetPlan):
    host = plan.host(question.host) if question.kind not in ("hosts_up", "filtered_host") else None
    if question.kind == "open_ports":
        return open_ports(host, question.low, question.high)
    if question.kind == "filtered_port":
        return next(p.port for p in host.ports if p.protocol == "tcp" and p.state == "filtered")
    if question.kind == "filtered_how":
        return "silence"
    if question.kind == "service_on_port":
        return host.port(question.port).service
    if question.kind == "udp_state":
        return host.port(question.port, "udp").state
    if question.kind == "hosts_up":
        return sorted(h.number for h in plan.hosts if h.role != "down")
    if question.kind == "filtered_host":
        walled = [h.number for h in plan.hosts if h.role == "filtered"]
        return walled[0] if walled else next(h.number for h in plan.hosts
                                             if any(p.state == "filtered" for p in h.ports))
    raise ValueError(question.kind)


# --- why an answer is wrong --------------------------------------------------------------------

def explain(question: Question, answer, plan: TargetPlan, address_of: Callable[[int], str]) -> List[Explanation]:
    """One explanation per mistake in ``answer`` (empty when it is right)."""
    right = correct(question, plan)
    if answer == right:
        return []
    kind, why = question.kind, []
    if kind == "open_ports":
        host = plan.host(question.host)
        missing = set(right) - set(answer)
        if missing:   # counted, never named: naming them would give the key away before the last try
            why.append(Explanation("challenge.why.missed_open", {"count": len(missing), "low": question.low,
                                                                 "high": question.high}))
        for port in sorted(set(answer) - set(right)):
            why.append(_not_open(port, host, question))
    elif kind == "filtered_port":
        mistake = _not_open(answer, plan.host(question.host), question)
        if mistake.key == "challenge.why.extra_open":   # open is an answer; filtered is no answer at all
            mistake = Explanation("challenge.why.open_not_filtered", {"port": answer})
        why.append(mistake)
    elif kind == "filtered_how":
        why.append(Explanation(f"challenge.why.how_{answer}", {"port": question.port}))
    elif kind == "service_on_port":
        guess = service_name(question.port) or ""
        values = {"port": question.port, "answer": answer, "banner": BANNERS.get(right, ""), "guess": guess}
        key = "challenge.why.service_guess" if answer == guess and guess else "challenge.why.service_banner"
        why.append(Explanation(key, values))
    elif kind == "udp_state":
        why.append(Explanation(f"challenge.why.udp_{right.replace('|', '_')}_not_{answer.replace('|', '_')}",
                               {"port": question.port}))
    elif kind == "hosts_up":
        missing = [plan.host(number) for number in set(right) - set(answer)]
        walled = sum(1 for host in missing if host.role == "filtered")
        if len(missing) > walled:
            why.append(Explanation("challenge.why.missed_up", {"count": len(missing) - walled}))
        if walled:
            why.append(Explanation("challenge.why.missed_walled", {"count": walled}))
        for number in sorted(set(answer) - set(right)):
            why.append(Explanation("challenge.why.extra_down", {"address": address_of(number)}))
    elif kind == "filtered_host":
        role = next((h.role for h in plan.hosts if h.number == answer), "down")
        key = "challenge.why.host_down" if role == "down" else "challenge.why.host_answers"
        why.append(Explanation(key, {"address": address_of(answer)}))
    return why


def _not_open(port: int, host: HostPlan, question: Question) -> Explanation:
    if question.low and not question.low <= port <= question.high:
        return Explanation("challenge.why.outside", {"port": port, "low": question.low, "high": question.high})
    state = host.state_of(port)
    if state == "open":
        return Explanation("challenge.why.extra_open", {"port": port})
    if state == "filtered":
        return Explanation("challenge.why.extra_filtered", {"port": port})
    plan = host.port(port)
    how = plan.how if plan is not None else "nothing"
    return Explanation("challenge.why.extra_closed_" + how.replace("-", "_"), {"port": port})


def key_for(question: Question, plan: TargetPlan, address_of: Callable[[int], str]) -> Explanation:
    right = correct(question, plan)
    if question.kind == "hosts_up":
        right = ", ".join(address_of(n) for n in right)
    elif question.kind == "filtered_host":
        right = address_of(right)
    elif isinstance(right, list):
        right = ", ".join(map(str, right)) or "-"
    return Explanation(f"challenge.key.{question.kind}", {"answer": right, "port": question.port})


def hint_for(question: Question, tries_used: int, plan: TargetPlan) -> Explanation:
    """The first hint says how to look; the second narrows it down."""
    values = {"port": question.port, "low": question.low or plan.low, "high": question.high or plan.high}
    if question.kind == "open_ports":
        values["count"] = len(correct(question, plan))
    return Explanation(f"challenge.hint.{question.kind}.{min(tries_used, 2)}", values)


@dataclass
class QuestionRun:
    """One question being answered: tries used, and whether it was won."""

    question: Question
    plan: TargetPlan
    address_of: Callable[[int], str]
    tries: int = TRIES
    used: int = 0
    won: bool = False
    history: list = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.won or self.used >= self.tries

    def answer(self, text: str) -> Verdict:
        """Grade one typed answer (AnswerError for an unreadable one: it costs no try)."""
        value = read_answer(self.question, text, self.address_of)
        self.used += 1
        why = explain(self.question, value, self.plan, self.address_of)
        self.history.append((value, not why))
        if not why:
            self.won = True
            return Verdict(True, [Explanation(f"challenge.right.{self.question.kind}", {"port": self.question.port})])
        if self.used >= self.tries:
            return Verdict(False, why, key=key_for(self.question, self.plan, self.address_of))
        return Verdict(False, why, hint=hint_for(self.question, self.used, self.plan))
