"""The menu driven with scripted input and captured output (no terminal needed)."""

import io
import os
import re

import pytest

from lessons.ui.i18n import Translator
from lessons.ui.app import App
from lessons.ui.screens import main_menu
from lessons.ui.terminal import Environment
from tests.servers import Listener, free_port


def run_menu(lines, language="en"):
    stdin = io.StringIO("".join(line + "\n" for line in lines))
    stdout = io.StringIO()
    env = Environment(stdin=stdin, stdout=stdout, stderr=stdout, colour=False, language=language)
    code = main_menu.run(App(env, Translator(language)))
    return code, stdout.getvalue()


def test_guided_scan_of_a_loopback_listener_teaches_and_finds_the_port():
    with Listener() as listener:
        closed = free_port()
        code, screen = run_menu(["1", "127.0.0.1", f"{closed},{listener.port}", "0.5", "y", "", "0"])
    assert code == 0
    assert "What to scan: the target" in screen   # lesson beside the host step (#18: targets, not networks)
    assert "s.settimeout(0.5)" in screen                         # show the code, with the learner's value
    assert f"s.connect_ex(('127.0.0.1', {listener.port}))  # -> 0" in screen   # slow motion
    assert f"{listener.port}/tcp" in screen and "open" in screen
    assert "Not shown: 1 closed port" in screen
    assert "What this means" in screen
    assert "Goodbye" in screen


def test_refused_consent_sends_nothing():
    with Listener() as listener:
        code, screen = run_menu(["1", "127.0.0.1", str(listener.port), "0.5", "n", "0"])
        assert listener.accepted == 0
    assert "Scan cancelled" in screen and "Nothing was sent" in screen
    assert "Slow motion" not in screen and "/tcp" not in screen


def test_invalid_answers_are_explained_and_asked_again():
    code, screen = run_menu(["2", "http://example.com", "999.1.1.1", "127.0.0.1", "80-20", "0", "22", "abc",
                             "-1", "0.2", "n", "0"])
    assert "Type only the host name, for example example.com" in screen
    assert "999.1.1.1 is not a valid IPv4 address" in screen
    assert "The range 80-20 runs backwards" in screen
    assert "Port 0 is outside 1-65535" in screen
    assert "abc is not a number of seconds" in screen
    assert "more than 0 seconds" in screen
    assert "Traceback" not in screen
    assert screen.count("[3/4] Timeout") == 3  # asked again after each bad answer
    assert screen.count("[2/4] Ports") == 3


def test_back_help_and_quit_commands():
    code, screen = run_menu(["2", "b", "127.0.0.1", "22", "b", "80", "?", "q", "0"])
    assert "nothing to go back to" in screen
    # b at the timeout question returns to the ports question, which is asked a second time
    assert screen.count("[2/4] Ports") == 2
    assert "Timeouts: how long to wait" in screen  # ? shows the lesson even in the quick scan
    assert "Back at the main menu" in screen
    assert code == 0


def test_end_of_input_anywhere_leaves_cleanly():
    for script in ([], ["1"], ["2", "127.0.0.1"], ["3"], ["5"]):
        code, screen = run_menu(script)
        assert code == 0 and "Goodbye" in screen and "Traceback" not in screen


def test_unknown_menu_choice_gets_one_line_and_the_menu_again():
    code, screen = run_menu(["9", "hello", "0"])
    assert "'9' is not on the menu" in screen and "'hello' is not on the menu" in screen
    assert screen.count("Main menu") == 3


def test_lessons_library_opens_by_number_and_name():
    code, screen = run_menu(["3", "1", "handshake", "nosuchlesson", "", "0"])
    assert "What is a port scanner?" in screen
    assert "The TCP three-way handshake" in screen
    assert "There is no lesson 'nosuchlesson'" in screen


def test_saving_a_report_from_the_menu(tmp_path):
    target = tmp_path / "lab1.json"
    bad = tmp_path / "no-such-folder" / "x.json"
    with Listener() as listener:
        code, screen = run_menu(["2", "127.0.0.1", str(listener.port), "0.5", "yes", "x", "j", str(bad),
                                 "j", str(target), "0"])
    assert "'x' is not one of t, j, c" in screen
    assert "Could not write" in screen
    import json
    data = json.loads(target.read_text())
    assert data["consent"]["statement"].startswith("I own this host")
    assert data["ports"][0]["port"] == listener.port and data["ports"][0]["state"] == "open"
    assert not [name for name in os.listdir(tmp_path) if name.startswith(".portscan-")]


def test_quiz_scores_are_saved(isolated_home):
    from lessons.ui.progress import store
    code, screen = run_menu(["5", "ports", "a", "c", "a", "", "0"])  # three multiple-choice questions
    assert "Score: " in screen
    assert store().quiz_scores()["ports"]["total"] == 3
    assert (isolated_home / "progress.json").exists()


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", "\x00\x01"])
def test_corrupt_progress_file_is_set_aside_not_a_crash(isolated_home, content):
    isolated_home.mkdir(parents=True, exist_ok=True)
    (isolated_home / "progress.json").write_text(content)
    code, screen = run_menu(["3", "1", "", "0"])
    assert code == 0
    assert "could not be read" in screen and "set aside" in screen
    assert [p for p in os.listdir(isolated_home) if p.startswith("progress.json.corrupt-")]


def test_settings_reset_asks_first(isolated_home):
    from lessons.ui.progress import store
    code, screen = run_menu(["3", "1", "", "6", "4", "n", "4", "y", "0", "0"])
    assert "Nothing was changed" in screen and "Progress reset" in screen
    assert store().lessons_read() == set()


def test_progress_bar_shows_counts_and_says_when_only_silent_ports_are_left():
    from lessons.ui.output import ProgressBar
    stream = io.StringIO()
    bar = ProgressBar(stream, Translator("en"), width=80)
    bar.update(50, 100, 1)
    assert " 50/100  open 1" in stream.getvalue()
    assert "ETA" not in stream.getvalue()                    # no guess from the first milliseconds
    bar.started -= 10                                        # ten seconds into the scan
    bar.last_draw = 0
    bar.update(60, 100, 1)
    assert "ETA 7s" in stream.getvalue()
    bar.last_draw = bar.last_change = bar.last_change - 5  # nothing finished for five seconds
    bar.update(60, 100, 1)
    assert "waiting for silent ports" in stream.getvalue()
    frames = stream.getvalue().split("\r")[1:]
    assert len({len(frame) for frame in frames}) == 1 and len(frames[0]) == 77  # one width; room for an echoed ^C


@pytest.mark.parametrize("language", ["en", "id"])
@pytest.mark.parametrize("columns", [20, 24, 33, 40, 60, 80, 200])
def test_progress_bar_fits_one_line_at_any_width(language, columns):
    from lessons.ui.output import ProgressBar
    stream = io.StringIO()
    bar = ProgressBar(stream, Translator(language), width=lambda: columns)
    for done, stalled in ((0, False), (1, False), (30000, False), (30000, True), (65535, False)):
        bar.last_draw = 0
        if stalled:
            bar.last_change -= 5
        else:
            bar.started -= 3
        bar.update(done, 65535, 12)
    frames = stream.getvalue().split("\r")[1:]
    assert len({len(frame) for frame in frames}) == 1          # never changes width
    assert all(len(frame) < min(columns, 80) for frame in frames)  # never touches the last column
    assert all("/65535" in frame for frame in frames)


# -- the pieces behind the screens -------------------------------------------------------
def test_page_breaks_never_fall_inside_a_code_block_or_leave_a_heading_alone():
    from lessons.ui.pager import paginate
    from lessons.render import render_blocks
    text = "para one\n\n## Heading\n\n```\n1\n2\n3\n4\n5\n```\n\npara two\n\n```diagram\na\nb\nc\n```\n"
    blocks = render_blocks(text, Environment(), title="T")
    for height in range(5, 16):
        for start, end in paginate(blocks, height):
            kinds = [block.kind for block in blocks[start:end]]
            assert sum(len(block.lines) for block in blocks[start:end]) <= height or len(kinds) == 1
            following = [block for block in blocks[end:] if block.kind != "blank"][:1]
            alone = [k for k in kinds if k != "blank"][-1:] == ["heading"]
            assert not alone or not following or len(following[0].lines) + 2 > height  # only when both cannot fit


def test_short_form_fits_its_budget_and_keeps_code_whole():
    from lessons import catalog
    from lessons.ui.pager import short_form
    from lessons.render import lesson_blocks
    env = Environment(width=60)
    for language in ("en", "id"):
        for lesson_id in catalog.lesson_ids(language):
            blocks = lesson_blocks(catalog.load_lesson(lesson_id, language), env)
            lines, _whole = short_form(blocks, 10)
            assert 2 < len(lines) <= 10, lesson_id
            for block in blocks:
                if block.kind == "code" and block.lines[0] in lines:
                    assert all(line in lines for line in block.lines), lesson_id


def test_unclear_consent_asks_again_and_only_no_cancels():
    with Listener() as listener:
        code, screen = run_menu(["2", "127.0.0.1", str(listener.port), "0.5", "yse", "y", "", "0"])
        assert "'yse' is not y or n" in screen and f"{listener.port}/tcp" in screen
        code, screen = run_menu(["2", "127.0.0.1", str(listener.port), "0.5", "no", "0"], language="en")
        assert "Scan cancelled" in screen and "is not y or n" not in screen   # (tests/test_walk_consent.py: more)


def test_quiz_choices_are_shuffled_per_attempt_and_a_seed_fixes_the_order(monkeypatch):
    import random
    from lessons import catalog
    monkeypatch.setenv("PORTSCAN_LAB_SEED", "3")
    questions = catalog.load_quiz("handshake", "en")
    expected = list(questions[0].choices)
    random.Random("3").shuffle(expected)
    code, screen = run_menu(["5", "handshake", "?", "a", "a", "a", "", "0"])
    shown = [line.split(") ", 1)[1] for line in screen.splitlines()
             if line.startswith(("   a) ", "   b) ", "   c) ", "   d) "))]
    assert [text[:25] for text in shown[:len(expected)]] == [text[:25] for text, _right in expected]
    assert len(re.findall(r"The TCP three-way handshake( \(1/\d\))?\n====", screen)) == 1   # ? shows the lesson
    positions = set()
    monkeypatch.delenv("PORTSCAN_LAB_SEED")
    for _ in range(12):
        code, screen = run_menu(["5", "handshake", "q", "", "0"])
        first = [line for line in screen.splitlines() if line.startswith(("   a) ", "   b) ", "   c) "))][:3]
        positions.add(tuple(first))
    assert len(positions) > 1                                             # not always the file's order


def test_short_answers_ignore_case_spaces_and_punctuation():
    from lessons.quiz import normalise_answer
    assert normalise_answer(" SYN-ACK. ") == normalise_answer("syn ack") == "synack"
    assert normalise_answer("Enam Belas!") == "enambelas"
    assert normalise_answer("0,5") == normalise_answer("0.5")


def test_a_lesson_counts_as_read_only_when_printed_whole(isolated_home):
    from lessons.ui.progress import store
    run_menu(["3", "handshake", "", "0"])
    assert "handshake" in store().lessons_read()
    with Listener() as listener:  # the walk on a non-terminal prints whole lessons: they count
        run_menu(["2", "127.0.0.1", str(listener.port), "0.5", "y", "", "0"])
    assert store().lessons_read() == {"handshake"}   # the quick scan shows no lesson


@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_slow_motion_replays_one_port_of_each_state_found():
    from tests.servers import FilteredPort
    with Listener() as listener, FilteredPort() as filtered:
        code, screen = run_menu(["1", "127.0.0.1", f"1-3,{listener.port},{filtered.port}", "0.3", "y", "", "0"])
    replay = screen.split("Slow motion", 1)[1].split("PORT", 1)[0]
    assert f"s.connect_ex(('127.0.0.1', {listener.port}))  # -> 0" in replay
    assert "s.connect_ex(('127.0.0.1', 1))  # -> 111 ECONNREFUSED" in replay
    assert f"s.connect_ex(('127.0.0.1', {filtered.port}))  # -> 11" in replay
    assert replay.count("connect_ex") == 3 and " ms)" in replay


def test_only_closed_ports_point_at_the_practice_lab():
    code, screen = run_menu(["1", "127.0.0.1", "1-3", "0.3", "y", "", "0"])
    assert "Start the practice lab (main menu, 4)" in screen


def test_port_map_rows_are_round_every_symbol_is_explained_and_open_never_hides_filtered():
    from lessons.ui.output import port_map
    from scanner.results import PortResult, PortState, Reason, ScanReport
    from scanner.inputs import parse_ports, parse_target
    ports = parse_ports("1-1024,36405")
    states = {80: PortState.OPEN, 81: PortState.FILTERED, 36405: PortState.OPEN}
    results = [PortResult(p, states.get(p, PortState.CLOSED), Reason.CONN_REFUSED) for p in ports if not 500 <= p < 510]
    report = ScanReport(parse_target("127.0.0.1"), ports, results, "1", 1.0, 10, "now", 0.1, True)
    lines = port_map(report, Environment(), Translator("en"))
    labels = [line.split()[0] for line in lines[1:] if line[:1] == " " and line.split()[0].isdigit()]
    assert labels and all(int(label) % 50 == 0 for label in labels)
    assert any(line.strip() == "..." for line in lines)          # the gap before 36405, not empty rows
    assert len(lines) < 18
    assert any("*" in line for line in lines[1:-2])              # 80 open and 81 filtered share a cell
    assert any("?" in line for line in lines[1:-2])              # 500 was asked for, has no result
    legend = " ".join(lines[-2:])
    for symbol in ("O ", "F ", "* ", "o ", ". ", "? ", "blank"):
        assert symbol in legend


def test_indonesian_screens_use_a_decimal_comma_and_gloss_reasons():
    with Listener() as listener:
        code, screen = run_menu(["2", "127.0.0.1", str(listener.port), "0,5", "ya", "", "0"], language="id")
    assert "batas waktu (timeout) 0,5" in screen or "0,5" in screen.split("Memindai", 1)[1].splitlines()[0]
    assert re.search(r"Selesai: 1 port, \d+,\d\d detik", screen) or re.search(r"\d+,\d\d detik", screen)
    assert "syn-ack (dijawab)" in screen
    assert not re.search(r"\b0\.5\b", screen.split("Memindai", 1)[1].replace("settimeout(0.5)", ""))


def test_empty_port_list_items_are_refused():
    from scanner.errors import InputError
    from scanner.inputs import parse_ports
    for text in ("22,,80", ",80", "22,"):
        with pytest.raises(InputError):
            parse_ports(text)
    assert parse_ports("22, 80") == (22, 80)

