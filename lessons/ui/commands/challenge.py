"""``python3 main.py challenge [N] [--seed S] [--report scan.json]``: practice that can be failed.

Without ``N`` it lists the challenges and their best scores.  With ``N`` it draws the target
from the seed (a random one when none is given; it is printed, so the same target can be
started again), starts it (in a network namespace as root, on loopback otherwise), and asks
its questions while the learner scans from another terminal.  The target runs until the
last question is answered or Ctrl+C (exit 130; every socket and the namespace are closed).

``--report scan.json`` grades a saved report instead: the seed gives the hidden layout and the
report's own addresses say where it ran, so the target need not be running any more.
"""

from __future__ import annotations

import json
import secrets
from typing import Optional

from lessons.lab.challenges import CHALLENGE_COUNT, draw
from lessons.lab.challenges.board import Board, seed_from_class_code
from lessons.lab.challenges.reports import clean_report, grade_report
from lessons.lab.challenges.target import ChallengeTarget, preferred_octet, report_truth
from lessons.lab.options import parse_bind_address
from lessons.ui.safe_files import read_regular_file
from lessons.ui.screens.challenges import challenge_rows, run_challenge, show_report_grade
from lessons.ui.screens.classroom import show_board
from scanner.errors import PortscanError, clip
from scanner.inputs import is_loopback_address

EXIT_OK, EXIT_UNREACHABLE, EXIT_USAGE = 0, 1, 2
SEED_LIMIT = 10 ** 9
REPORT_BYTES_LIMIT = 20_000_000
CLASSROOM_CHALLENGE = 3     # one host, three services to find, one of them in disguise


def _whole_number(text: Optional[str]) -> Optional[int]:
    """``text`` as a plain decimal number (ASCII digits, at most 10), else None: ``int()``
    also takes '²'-like digits it then refuses, '1_000' and 5,000-digit strings."""
    text = (text or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 10 else None


def parse_number(text: Optional[str], tr) -> int:
    if 1 <= (_whole_number(text) or 0) <= CHALLENGE_COUNT:
        return int(text)
    raise ValueError(tr.t("challenge.bad_number", count=CHALLENGE_COUNT, given=clip(str(text))))


def parse_seed(text: Optional[str], tr) -> int:
    if text is None:
        return secrets.randbelow(SEED_LIMIT)
    seed = _whole_number(text)
    if seed is not None and seed < SEED_LIMIT:
        return seed
    raise ValueError(tr.t("challenge.bad_seed", given=clip(text)))


def command_challenge(args, env, tr) -> int:
    if args.number is None:
        env.write_wrapped(tr.t("challenge.list.title"), "heading")
        for key, label in challenge_rows(tr):
            env.write(f"{key:>2}. {label}")
        env.write_wrapped(tr.t("challenge.list.how_to_start"), "hint")   # the list alone left "now what?"
        return EXIT_OK
    try:
        number, seed = parse_number(args.number, tr), parse_seed(args.seed, tr)
    except ValueError as problem:
        env.stderr.write(f"{problem}\n")
        return EXIT_USAGE
    if args.report:
        if args.seed is None:
            env.stderr.write(tr.t("challenge.report.start_first") + "\n")
            return EXIT_USAGE
        return grade_saved_report(args.report, number, seed, env, tr)
    return run_challenge(env, tr, number, seed, ask=env.read_line)


def grade_saved_report(path: str, number: int, seed: int, env, tr) -> int:
    try:
        raw = read_regular_file(path, REPORT_BYTES_LIMIT)
        data = json.loads(raw.decode("utf-8", errors="replace"))
    except (OSError, ValueError, RecursionError) as error:
        detail = getattr(error, "strerror", None) or str(error)
        env.stderr.write(tr.t("challenge.report.unreadable", path=clip(path, 200), detail=clip(detail, 80)) + "\n")
        return EXIT_USAGE
    data = clean_report(data)      # untrusted: only what grading reads, of the types it expects
    if data is None:
        env.stderr.write(tr.t("challenge.report.not_a_report") + "\n")
        return EXIT_USAGE
    addresses = [h["address"] for h in data.get("hosts", [data]) if h["address"]]
    drawn = draw(number, seed)
    found = report_truth(drawn, addresses)
    if found is None:
        octet = preferred_octet(drawn)
        env.stderr.write(tr.t("challenge.report.wrong_target", number=number, seed=seed,
                              target=f"10.213.{octet}.x / 127.77.{octet}.x") + "\n")
        return EXIT_USAGE
    plan, address_of = found
    grade = grade_report(data, plan, address_of)
    if grade.problem:
        target = address_of(plan.hosts[0].number)
        env.stderr.write(tr.t(f"challenge.report.{grade.problem}", number=number, seed=seed, target=target) + "\n")
        return EXIT_USAGE
    show_report_grade(grade, number, seed, env, tr)
    return EXIT_OK


# --- classroom mode: ``lab --classroom`` ------------------------------------------------------------

def command_classroom(args, env, tr, *, rounds: int = 0) -> int:
    """A seeded target for the whole class and its live board, until Ctrl+C (exit 130)."""
    try:
        if args.class_code is not None:
            seed = seed_from_class_code(args.class_code)
            if seed is None or args.seed is not None:
                raise ValueError(tr.t("classroom.bad_code", given=clip(args.class_code)))
        else:
            seed = parse_seed(args.seed, tr)
        address = parse_bind_address(args.bind)
    except ValueError as problem:
        env.stderr.write(f"{problem}\n")
        return EXIT_USAGE
    except PortscanError as error:
        env.stderr.write(tr.error(error) + "\n")
        return EXIT_USAGE
    if not is_loopback_address(address):
        env.write_wrapped(tr.t("classroom.bind_warning", address=address), "warning")
        answer = env.read_line(tr.t("classroom.bind_confirm", address=address))
        if (answer or "").strip().lower() not in ("yes", "ya"):
            env.stderr.write(tr.t("classroom.bind_cancelled") + "\n")
            return EXIT_UNREACHABLE
    board = Board(anonymous=args.anonymous)
    try:
        target = ChallengeTarget(draw(CLASSROOM_CHALLENGE, seed), bind=address, connection_hook=board.record).start()
    except (PortscanError, OSError) as error:
        detail = tr.error(error) if isinstance(error, PortscanError) else (error.strerror or str(error))
        env.stderr.write(tr.t("challenge.could_not_start", detail=clip(str(detail), 120)) + "\n")
        return EXIT_UNREACHABLE if isinstance(error, OSError) else EXIT_USAGE
    try:
        show_board(board, target, env, tr, answers=args.answers, anonymous=args.anonymous, rounds=rounds)
    finally:
        target.stop()
    return EXIT_OK
