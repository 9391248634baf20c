"""The classroom board on a projector: redrawn in place at 80x24, readable without colour.

On a terminal the board is redrawn once a second from the top of the window (cursor home,
then clear to the end), so it never scrolls; anything else (a pipe, a log file) gets a full
snapshot every ``SNAPSHOT_SECONDS``.  Every fact is a word or a number; ``#`` bars repeat the
counts for the back of the room, and no meaning is carried by colour alone.

A found service is shown by its port only: naming it would tell the class what the banner
says before they read it.  ``--answers`` adds the key, for the instructor's own screen.
"""

from __future__ import annotations

import textwrap
import time

from lessons.lab.challenges.board import Board, Snapshot

WIDTH, HEIGHT = 80, 24
REDRAW_SECONDS = 1.0
SNAPSHOT_SECONDS = 5.0
HOME_AND_CLEAR = "\x1b[H\x1b[J"


def reach_line(target, tr) -> str:
    """Who can reach the target: said on the board itself, so a redraw never hides it."""
    if target.bind and not target.bind.startswith("127.") and target.bind != "::1":
        return tr.t("classroom.bind_warning", address=target.bind)
    return tr.t("classroom.loopback_only")


def board_lines(snapshot: Snapshot, target, tr, *, answers: bool = False, anonymous: bool = False) -> list:
    """The board as at most 24 lines of at most 79 characters."""
    plan = target.plan
    head = [tr.t("classroom.title", number=plan.number, seed=plan.seed),
            tr.t("classroom.where", target=target.scan_block, low=plan.low, high=plan.high)]
    head += textwrap.wrap(reach_line(target, tr), WIDTH - 1)[:2] + [""]
    foot = ["", tr.t("classroom.stop")]
    if answers:
        key = ", ".join(f"{p.port}/{p.protocol} {p.state}" + (f" {p.service}" if p.service else "")
                        for host in target.truth.hosts for p in host.ports)
        foot[1:1] = textwrap.wrap(tr.t("classroom.answers", answers=key), WIDTH - 1)[:4]
    body = []
    for service_key, count in snapshot.found:
        port = service_key.rsplit("/", 1)[-1]
        label = f"{port}/tcp" + (f" ({service_key.split('/')[0]})" if answers else "")
        line = tr.t("classroom.found", service=label, count=count)
        body.append(f"{line}  {'#' * min(count, max(0, WIDTH - 3 - len(line)))}".rstrip())
    if not snapshot.found:
        body.append(tr.t("classroom.nothing_yet"))
    body += ["", tr.t("classroom.scanners", count=snapshot.scanner_count)]
    room = HEIGHT - 1 - len(head) - len(body) - len(foot)
    if not anonymous:
        body += [tr.t("classroom.scanner_row", address=address, count=count)
                 for address, count in snapshot.scanners[:max(0, room)]]
    lines = head + body + foot
    return [line[:WIDTH - 1] for line in lines[:HEIGHT - 1]]


def show_board(board: Board, target, env, tr, *, answers: bool = False, anonymous: bool = False,
               rounds: int = 0) -> None:
    """Redraw until Ctrl+C (or ``rounds`` redraws, for tests); the caller stops the target."""
    on_tty = env.on_screen
    every = REDRAW_SECONDS if on_tty else SNAPSHOT_SECONDS
    shown = 0
    while target.running and (rounds == 0 or shown < rounds):
        lines = board_lines(board.snapshot(), target, tr, answers=answers, anonymous=anonymous)
        if on_tty:
            env.stdout.write(HOME_AND_CLEAR + "\n".join(lines))
            env.stdout.flush()
        else:
            env.write("\n".join(lines) + "\n")
        shown += 1
        if rounds == 0 or shown < rounds:
            time.sleep(every)
