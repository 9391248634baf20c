"""Classroom mode: a seeded target for the class and a live board of what it has found.

Three scanning addresses (127.0.0.2-4: Linux routes all of 127/8 to this machine) reach the
target's services; the board counts them per service, fits 80x24, shows no addresses with
``--anonymous``, and the target listens on nothing but loopback unless ``--bind`` was given
and confirmed.
"""

import io
import signal
import socket
import subprocess
import sys
import time

import pytest

from lessons.ui.i18n import Translator
from lessons.lab.challenges import draw
from lessons.lab.challenges.board import Board, seed_from_class_code
from lessons.lab.challenges.target import ChallengeTarget
from lessons.ui.terminal import Environment
from lessons.ui.commands.challenge import CLASSROOM_CHALLENGE
from lessons.ui.screens.classroom import HEIGHT, WIDTH, board_lines
from tests.conftest import ROOT, program_env

SOURCES = ("127.0.0.2", "127.0.0.3", "127.0.0.4")


def sources_work():
    try:
        for source in SOURCES:
            with socket.socket() as probe:
                probe.bind((source, 0))
        return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(not sources_work(), reason="127.0.0.2-4 are not local addresses here")


def visit(port, source, host="127.0.0.1"):
    with socket.socket() as sock:
        sock.settimeout(5)
        sock.bind((source, 0))
        sock.connect((host, port))


def wait_for(condition, seconds=5.0):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def open_ports(target):
    return [p.port for h in target.truth.hosts for p in h.ports if p.state == "open"]


@pytest.mark.parametrize("language", ["en", "id"])
def test_three_scanning_addresses_appear_on_a_board_that_fits_80x24(language):
    board = Board()
    with ChallengeTarget(draw(CLASSROOM_CHALLENGE, 11), bind="127.0.0.1", connection_hook=board.record) as target:
        ports = open_ports(target)
        for source in SOURCES:
            for port in ports:
                visit(port, source)
        visit(ports[0], SOURCES[0])       # a second visit is not a second scanner
        assert wait_for(lambda: [count for _key, count in board.snapshot().found] == [3] * len(ports))
        lines = board_lines(board.snapshot(), target, Translator(language), answers=True)
    assert len(lines) <= HEIGHT - 1 and all(len(line) < WIDTH for line in lines)
    text = "\n".join(lines)
    assert all(source in text for source in SOURCES)
    assert text.count(" 3 ") >= len(ports)
    assert "\x1b" not in text, "no colour or escape carries meaning"


def test_anonymous_shows_counts_only_and_the_board_never_names_who_found_what():
    board = Board(anonymous=True)
    with ChallengeTarget(draw(CLASSROOM_CHALLENGE, 11), bind="127.0.0.1", connection_hook=board.record) as target:
        port = open_ports(target)[0]
        for source in SOURCES:
            visit(port, source)
        assert wait_for(lambda: board.snapshot().scanner_count == 3)
        lines = board_lines(board.snapshot(), target, Translator("en"), anonymous=True)
    text = "\n".join(lines)
    assert not any(source in text for source in SOURCES)
    assert "Scanning addresses seen: 3" in text
    assert not any(source in repr(board._found) for source in SOURCES), "only keyed digests per service"


def test_the_board_stays_within_24_lines_with_many_scanners():
    board = Board()
    for index in range(200):
        board.record("echo/20001", f"127.0.{index // 250}.{index % 250 + 1}")
    with ChallengeTarget(draw(CLASSROOM_CHALLENGE, 11), bind="127.0.0.1") as target:
        lines = board_lines(board.snapshot(), target, Translator("en"))
    assert len(lines) <= HEIGHT - 1 and all(len(line) < WIDTH for line in lines)


def test_a_class_code_gives_everyone_the_same_seed():
    assert seed_from_class_code("net101") == seed_from_class_code("NET101") is not None
    assert seed_from_class_code("no spaces!") is None


def listening_addresses(pid):
    out = subprocess.run(["ss", "-ltnupH"], capture_output=True, text=True).stdout
    return [line.split()[4] for line in out.splitlines() if f"pid={pid}," in line]


def test_the_class_target_listens_only_on_loopback_and_ctrl_c_ends_it(isolated_home):
    if subprocess.run(["which", "ss"], capture_output=True).returncode != 0:
        pytest.skip("the 'ss' command is not installed")
    proc = subprocess.Popen([sys.executable, "main.py", "lab", "--classroom", "--seed", "11"], cwd=ROOT,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=program_env(isolated_home))
    try:
        assert "Classroom board" in proc.stdout.readline()
        local = listening_addresses(proc.pid)
        assert local and all(address.startswith("127.") for address in local), local
        proc.send_signal(signal.SIGINT)
        proc.wait(20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130 and "Traceback" not in proc.stderr.read()


def test_bind_beyond_loopback_asks_first_and_says_who_can_reach_it(isolated_home):
    proc = subprocess.run([sys.executable, "main.py", "lab", "--classroom", "--bind", "192.0.2.10"], cwd=ROOT,
                          input="no\n", capture_output=True, text=True, timeout=30, env=program_env(isolated_home))
    assert proc.returncode == 1
    assert "every computer that can reach this address" in proc.stdout.replace("\n", " ")
    assert "Not started" in proc.stderr


def test_the_board_snapshot_is_printed_on_a_pipe(isolated_home):
    from types import SimpleNamespace

    from lessons.ui.commands.challenge import command_classroom

    out = io.StringIO()
    env = Environment(stdin=io.StringIO(), stdout=out, stderr=out)
    args = SimpleNamespace(class_code=None, seed="11", bind="127.0.0.1", answers=False, anonymous=False)
    assert command_classroom(args, env, Translator("en"), rounds=1) == 0
    assert "Classroom board: challenge 3, seed 11" in out.getvalue()
    assert "Nothing found yet" in out.getvalue() and "Only this computer can reach it" in out.getvalue()


@pytest.mark.terminal
def test_on_a_terminal_the_board_is_redrawn_in_place_at_80x24(isolated_home):
    from tests.tmux_screen import TMUX, Screen

    if not TMUX:
        pytest.skip("tmux is not installed")
    ports = [p.port for p in draw(CLASSROOM_CHALLENGE, 11).hosts[0].ports]
    with Screen(isolated_home, "lab", "--classroom", "--seed", "11") as screen:
        screen.wait_for("Ctrl+C ends the class target.")
        for source in SOURCES:
            visit(ports[0], source)
        shown = screen.wait_for("found by 3 scanning address(es)")
        lines = shown.splitlines()
        assert lines[0].startswith("Classroom board: challenge 3, seed 11"), "redrawn from the top, never scrolled"
        assert "Only this computer can reach it (loopback)." in shown
        assert shown.count("Classroom board") == 1
