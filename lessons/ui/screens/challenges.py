"""The challenge screen: where to scan, one question at a time, and what each answer shows.

The screen never prints the answer key up front.  It says *where* the target is (an address
or a /29 block and a port range), how to scan it from another terminal, and then asks.  A
wrong answer gets the reason and a hint; the key comes only after the last try.  The target
keeps running the whole time, so the learner can scan again between tries.

Everything it says comes from ``lessons/content/<lang>/ui-challenges.json``; the grading
itself is ``lessons.lab.challenges.grading`` (no screen there).
"""

from __future__ import annotations

import ipaddress
import secrets
from typing import Callable, Optional

from lessons.lab.challenges import CHALLENGE_COUNT, TRIES, draw
from lessons.lab.challenges.grading import AnswerError, QuestionRun
from lessons.lab.challenges.plan import Question
from lessons.lab.challenges.reports import ReportGrade
from lessons.lab.challenges.target import ChallengeTarget
from lessons.ui.progress import store
from scanner.errors import PortscanError, clip

SEED_LIMIT = 10 ** 9

Ask = Callable[[str], Optional[str]]


def describe_target(target, env, tr) -> None:
    """Title, how the target is built (one line), where to scan, and an example command."""
    plan = target.plan
    env.write_wrapped(tr.t("challenge.title", number=plan.number, count=CHALLENGE_COUNT,
                           name=tr.t(f"challenge.name.{plan.number}")) + f" (seed {plan.seed})", "heading")
    if target.mode == "namespace":
        env.write_wrapped(tr.t("challenge.mode.namespace"), "hint")
    elif target.mode == "bind":
        env.write_wrapped(tr.t("challenge.mode.bind", address=target.bind), "hint")
    else:
        env.write_wrapped(tr.t("challenge.mode.loopback", reason=target.fallback_reason or "-"), "hint")
    for note in plan.notes:
        env.write_wrapped(tr.t(f"challenge.note.{note}"), "hint")
    if plan.network and target.mode != "bind":
        block = ipaddress.ip_network(target.scan_block)
        env.write_wrapped(tr.t("challenge.where.network", block=block, first=block.network_address,
                               last=block.broadcast_address, low=plan.low, high=plan.high))
    else:
        env.write_wrapped(tr.t("challenge.where.host", address=target.scan_block, low=plan.low, high=plan.high))
    env.write_wrapped(tr.t("challenge.how_to_scan"))
    extra = " --udp" if any(q.kind == "udp_state" for q in plan.questions) else ""
    env.write(tr.t("challenge.example", target=target.scan_block, low=plan.low, high=plan.high, extra=extra),
              "key")


def question_text(question: Question, target, tr) -> str:
    plan = target.plan
    values = {"low": question.low, "high": question.high, "port": question.port,
              "address": target.address(plan.host(question.host).number), "block": target.scan_block}
    return tr.t(f"challenge.q.{question.kind}", **values)


def say(explanation, env, tr, role=None) -> None:
    values = dict(explanation.values)
    if explanation.key == "challenge.key.udp_state":
        values["answer"] = _state(values["answer"], tr)
    env.write_wrapped(tr.t(explanation.key, **values), role)


def play(target, env, tr, ask: Ask) -> tuple:
    """Ask every question of the running ``target``; returns (score, total, tries used).  ``ask``
    returns None at the end of input, which (like typing q) ends the challenge early."""
    questions = target.plan.questions
    score = tried = 0
    for index, question in enumerate(questions, 1):
        env.write("")
        env.write_wrapped(tr.t("challenge.question", index=index, total=len(questions),
                               text=question_text(question, target, tr)), "heading")
        if question.kind == "filtered_how":
            for choice in (1, 2, 3):
                env.write(tr.t(f"challenge.q.filtered_how.{choice}"))
        run = QuestionRun(question, target.truth, target.address)
        while not run.finished:
            typed = ask(tr.t("challenge.prompt", try_number=run.used + 1, tries=TRIES))
            if typed is None or typed.strip().lower() == "q":
                return score, len(questions), tried
            try:
                verdict = run.answer(typed)
            except AnswerError as problem:
                env.error(tr.t(problem.key, **problem.values))
                continue
            tried += 1
            for explanation in verdict.explanations:
                say(explanation, env, tr, "ok" if verdict.right else "warning")
            if verdict.hint is not None:
                say(verdict.hint, env, tr, "hint")
            if verdict.key is not None:
                say(verdict.key, env, tr, "key")
        score += run.won
    return score, len(questions), tried


def finish(number: int, score: int, total: int, env, tr) -> None:
    store().record_challenge(number, score, total)
    env.write("")
    env.write_wrapped(tr.t("challenge.score", number=number, score=score, total=total), "ok")


def show_report_grade(grade: ReportGrade, number: int, seed: int, env, tr) -> None:
    """Every port and host of the truth: right, MISSED or WRONG, and why (words, not colour alone)."""
    env.write_wrapped(tr.t("challenge.report.title", number=number, seed=seed), "heading")
    # What the report does not list is only counted: naming it would hand the key to anyone
    # who turns in an empty report (``{"address": ..., "ports": []}``) without scanning.
    unlisted = [item for item in grade.items if not item.reported]
    for item in grade.items:
        if not item.reported:
            continue
        verdict = tr.t(f"challenge.report.verdict.{item.verdict}")
        reported = _state(item.reported, tr) if item.reported else tr.t("challenge.report.not_listed")
        values = dict(verdict=verdict, address=item.address, port=item.port, protocol=item.protocol,
                      expected=_state(item.expected, tr), reported=reported)
        line = tr.t("challenge.report.item.port" if item.port else "challenge.report.item.host", **values)
        env.write_wrapped(line, None if item.verdict == "right" else "warning", rest="        ")
        if item.reason:
            env.write_wrapped(tr.t(f"challenge.report.why.{item.reason}", **item.values), "hint", rest="       ")
    for things in ("ports", "hosts"):
        missed = [item for item in unlisted if item.verdict != "right" and bool(item.port) == (things == "ports")]
        if missed:
            env.write_wrapped(tr.t("challenge.report.unlisted", count=len(missed),
                                   things=tr.t(f"challenge.report.unlisted.{things}")), "warning", rest="        ")
            for reason in sorted({item.reason for item in missed if item.reason}):
                env.write_wrapped(tr.t(f"challenge.report.why.{reason}"), "hint", rest="       ")
    env.write_wrapped(tr.t("challenge.report.summary", right=grade.count("right"), missed=grade.count("missed"),
                           wrong=grade.count("wrong")), "heading")


def _state(value: str, tr) -> str:
    if value in ("open", "closed", "filtered", "open|filtered"):
        return tr.t(f"state.{value}")
    if value in ("up", "down"):
        return tr.t(f"challenge.report.state.{value}")
    return value


def run_challenge(env, tr, number: int, seed: Optional[int], *, ask, use_namespace: Optional[bool] = None) -> int:
    """Start challenge ``number``, ask its questions, save the score, stop the target."""
    seed = secrets.randbelow(SEED_LIMIT) if seed is None else seed
    try:
        target = ChallengeTarget(draw(number, seed), use_namespace=use_namespace).start()
    except (PortscanError, OSError) as error:
        detail = tr.error(error) if isinstance(error, PortscanError) else (error.strerror or str(error))
        env.stderr.write(tr.t("challenge.could_not_start", detail=clip(str(detail), 120)) + "\n")
        return 1
    try:
        describe_target(target, env, tr)
        env.write_wrapped(tr.t("challenge.waiting"), "hint")
        score, total, tried = play(target, env, tr, ask)
        if tried:   # a challenge left before the first answer is not a score
            finish(number, score, total, env, tr)
    finally:
        target.stop()
    env.write(tr.t("challenge.finished"))
    return 0


def challenge_rows(tr) -> list:
    """(key, label) for every challenge, with the best saved score."""
    scores = store().challenge_scores()
    rows = []
    for number in range(1, CHALLENGE_COUNT + 1):
        saved = scores.get(str(number))
        best = tr.t("challenge.list.best", best=saved["best"], total=saved["total"]) if saved else ""
        rows.append((str(number), tr.t(f"challenge.name.{number}") + best))
    return rows


def challenges_menu(menu) -> None:
    """The lab menu's entry: pick a challenge, play it, back to the list."""
    while True:
        choice = menu.choose(menu.tr.t("challenge.list.title"), challenge_rows(menu.tr) + [("0", menu.tr.t(
            "settings.back"))])
        if choice in ("", "0", "q", "b"):
            return
        if choice.isascii() and choice.isdigit() and 1 <= int(choice) <= CHALLENGE_COUNT:
            try:
                run_challenge(menu.env, menu.tr, int(choice), None, ask=menu.env.read_line)
            except KeyboardInterrupt:
                menu.env.write("")
                menu.env.write(menu.tr.t("challenge.finished"), "ok")
        else:
            menu.env.error(menu.tr.t("challenge.bad_number", count=CHALLENGE_COUNT, given=choice[:20]))
