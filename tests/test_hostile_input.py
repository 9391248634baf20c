"""Input that once broke the program, kept as tests so it never does again.

Each case comes from trying hard to get a traceback or a hang: odd digits, damaged files,
bytes that are not text, slow servers, spreadsheet formulas in banners.
"""

import io
import json
import os
import socket
import subprocess
import sys
import threading

import pytest

from lessons.ui.i18n import Translator
from lessons.ui.app import App
from lessons.ui.screens import main_menu
from lessons.ui.terminal import Environment
from scanner.banners import grab_banner
from scanner.errors import PortSpecError, TargetError
from scanner.inputs import parse_ports, parse_target
from scanner.probe import classify
from scanner.report import to_csv
from scanner.results import PortResult, PortState, Reason
from tests.conftest import ROOT, program_env
from tests.servers import Listener


def run_program(home, *args, stdin=b""):
    return subprocess.run([sys.executable, os.path.join(ROOT, "main.py"), *args], input=stdin,
                          capture_output=True, env=program_env(home, PYTHONIOENCODING="utf-8"), timeout=60)


def run_menu(lines):
    stdout = io.StringIO()
    env = Environment(stdin=io.StringIO("".join(line + "\n" for line in lines)), stdout=stdout, colour=False)
    assert main_menu.run(App(env, Translator("en"))) == 0
    return stdout.getvalue()


@pytest.mark.parametrize("args", [["lesson", "²"], ["quiz", "²"], ["lab", "--base-port", "²"],
                                  ["scan", "127.0.0.1", "-p", "9" * 5000], ["scan", "127.0.0.1", "--workers", "9" * 5000],
                                  ["scan", "127.0.0.1%lo"], ["scan", "127.0.0.1", "-p", ",".join(["1-65535"] * 500)],
                                  ["scan", "127.0.0.1", "-o", ""], ["lab", "--bind", "8.8.8.8x"]])
def test_odd_command_lines_get_one_line_and_exit_2(isolated_home, args):
    result = run_program(isolated_home, *args)
    output = (result.stdout + result.stderr).decode("utf-8", "replace")
    assert result.returncode == 2, output
    assert "Traceback" not in output
    assert output.strip() and len(output.strip().splitlines()) <= 2, output
    assert "other computers can reach" not in output  # no warning before the address is even valid


def test_bytes_that_are_not_text_on_standard_input_do_not_crash_the_menu(isolated_home):
    result = run_program(isolated_home, stdin=b"\xff\xfe\n0\n")
    assert result.returncode == 0
    assert b"Traceback" not in result.stderr + result.stdout


def test_a_unicode_digit_in_the_menus_is_just_a_wrong_answer():
    screen = run_menu(["3", "²", "", "5", "²", "", "0"])
    assert "There is no lesson '²'" in screen
    assert screen.count("There is no lesson '²'") == 2  # the quiz menu names what was typed, too


@pytest.mark.parametrize("content", [
    {"settings": {"language": "fr"}}, {"quiz": {"intro": 5}}, {"quiz": {"intro": {"x": 1}}},
    {"lessons_read": [[1]]}, {"settings": {"colour": "yes"}}, [[[]]], "x" * 3,
])
def test_a_progress_file_with_the_wrong_shape_is_set_aside(isolated_home, content):
    isolated_home.mkdir(parents=True, exist_ok=True)
    (isolated_home / "progress.json").write_text(json.dumps(content))
    result = run_program(isolated_home, "lessons")
    assert result.returncode == 0 and b"Traceback" not in result.stderr
    screen = run_menu(["5", "ports", "a", "b", "c", "", "0"])
    assert "Traceback" not in screen
    assert [p for p in os.listdir(isolated_home) if p.startswith("progress.json.corrupt-")]


def test_a_damaged_part_of_the_progress_file_costs_only_itself(isolated_home):
    from lessons.ui.progress import ProgressStore
    isolated_home.mkdir(parents=True, exist_ok=True)
    good = {"last": 2, "best": 3, "total": 3, "attempts": 2}
    (isolated_home / "progress.json").write_text(json.dumps({
        "lessons_read": ["dns", 7], "quiz": {"ports": good, "dns": {"best": "x"}},
        "settings": {"language": "id", "from_a_newer_version": 1}}))
    store = ProgressStore(str(isolated_home / "progress.json"))
    assert store.problem["key"] == "progress.repaired"
    assert store.lessons_read() == {"dns"}
    assert store.quiz_scores() == {"ports": good}
    assert store.setting("language") == "id" and store.setting("from_a_newer_version") == 1
    kept = [p for p in os.listdir(isolated_home) if p.startswith("progress.json.corrupt-")]
    assert kept and '"best": "x"' in (isolated_home / kept[0]).read_text()


def test_an_absurdly_nested_progress_file_is_set_aside(isolated_home):
    isolated_home.mkdir(parents=True, exist_ok=True)
    (isolated_home / "progress.json").write_text("[" * 5000 + "]" * 5000)
    result = run_program(isolated_home, "lessons")
    assert result.returncode == 0 and b"Traceback" not in result.stderr
    assert b"could not be read" in result.stderr


def test_unknown_settings_from_a_newer_version_are_kept(isolated_home):
    isolated_home.mkdir(parents=True, exist_ok=True)
    (isolated_home / "progress.json").write_text(json.dumps({"settings": {"warna": True}}))
    result = run_program(isolated_home, "lessons")
    assert b"could not be read" not in result.stderr and b"damaged" not in result.stderr
    assert not [p for p in os.listdir(isolated_home) if p.startswith("progress.json.corrupt-")]


@pytest.mark.parametrize("text, code", [("::1%lo", "target.scoped"), ("127.0.0.1:8007", "target.has_port"),
                                        ("[::1]:22", "target.has_port"), ("example.com:80", "target.has_port")])
def test_hosts_with_a_scope_or_a_port_are_explained(text, code):
    with pytest.raises(TargetError) as caught:
        parse_target(text)
    assert caught.value.code == code


def test_what_was_typed_is_echoed_back_short(isolated_home):
    for args in (["scan", "x" * 5000], ["scan", "127.0.0.1", "--timeout", "9" * 5000], ["lesson", "9" * 5000]):
        result = run_program(isolated_home, *args)
        assert result.returncode == 2
        lines = (result.stdout + result.stderr).decode().splitlines()
        assert len(lines) <= 2 and max(len(line) for line in lines) <= 120, lines  # one message, input clipped


def test_service_names_stay_right_when_threads_ask_at_once():
    from scanner import services
    services.service_name.cache_clear()
    ports = list(range(1, 3000))
    found = {}

    def look_up():
        for port in ports:
            found.setdefault(port, set()).add(services.service_name(port))

    workers = [threading.Thread(target=look_up) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    for port, names in found.items():
        assert len(names) == 1, (port, names)
        assert all(name == "" or services.SERVICE_NAME.match(name) for name in names)


def test_a_nul_in_the_report_file_name_is_asked_again(tmp_path):
    with Listener() as listener:
        screen = run_menu(["2", "127.0.0.1", str(listener.port), "0.5", "y", "j", "bad\x00name.json",
                           "j", str(tmp_path / "ok.json"), "0"])
    assert "Could not write" in screen
    assert json.loads((tmp_path / "ok.json").read_text())["ports"][0]["port"] == listener.port


def test_turning_colours_on_never_sends_escape_codes_into_a_pipe():
    screen = run_menu(["6", "2", "2", "0", "0"])
    assert "\x1b[" not in screen
    assert "Colours stay off here" in screen


def test_a_port_list_pasted_thousands_of_times_is_refused():
    with pytest.raises(PortSpecError) as caught:
        parse_ports(",".join(["1-65535"] * 5000))
    assert caught.value.code == "ports.too_long"
    assert len(parse_ports(",".join(["1-65535"] * 100))) == 65535


def test_a_scoped_ipv4_address_is_not_an_address():
    with pytest.raises(TargetError):
        parse_target("127.0.0.1%lo")


def test_an_unexpected_error_code_is_reported_as_an_error_not_as_silence():
    import errno
    assert classify(errno.EINVAL) == (PortState.FILTERED, Reason.ERROR)


def test_banners_cannot_start_a_spreadsheet_formula():
    from scanner.results import ScanReport, Target
    target = Target("127.0.0.1", "127.0.0.1", "127.0.0.1", socket.AF_INET, ("127.0.0.1",))
    result = PortResult(22, PortState.OPEN, Reason.SYN_ACK, banner='=HYPERLINK("http://x","y")', service="@ssh")
    report = ScanReport(target, (22,), [result], "1", 1.0, 1, "", 0.0, True)
    rows = to_csv(report).splitlines()
    assert rows[1].split(",")[4] == "'@ssh"
    assert "'=HYPERLINK" in rows[1]


def test_a_server_that_drips_bytes_cannot_hold_the_banner_pass():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    stop = threading.Event()

    def drip():
        conn, _ = server.accept()
        with conn:
            while not stop.wait(0.05):
                try:
                    conn.sendall(b"x")  # never a newline, never done
                except OSError:
                    return

    threading.Thread(target=drip, daemon=True).start()
    outcome = []
    grabber = threading.Thread(target=lambda: outcome.append(
        grab_banner("127.0.0.1", socket.AF_INET, server.getsockname()[1], timeout=0.2)), daemon=True)
    grabber.start()
    grabber.join(30)  # a guard against a hang, not a speed check
    stop.set()
    server.close()
    assert not grabber.is_alive(), "grab_banner never returned"
    assert outcome and set(outcome[0]) <= {"x"}


def test_banners_setting_shows_banners_in_a_quick_scan():
    with Listener(greeting=b"SSH-2.0-hello_class\r\n") as listener:
        screen = run_menu(["6", "5", "0", "2", "127.0.0.1", str(listener.port), "0.5", "y", "", "0"])
    assert "| SSH-2.0-hello_class" in screen


def test_lab_on_localhost_is_loopback_and_needs_no_warning(isolated_home):
    pexpect = pytest.importorskip("pexpect", reason="pexpect drives a pseudo-terminal (not on Windows)")
    child = pexpect.spawn(sys.executable, [os.path.join(ROOT, "main.py"), "lab", "--bind", "localhost",
                                           "--base-port", "0"], cwd=ROOT, env=program_env(isolated_home),
                          encoding="utf-8", timeout=20, dimensions=(40, 80))
    child.expect("Press Ctrl\\+C to stop it")
    assert "WARNING" not in child.before
    assert "scan 127.0.0.1 -p 8000-8099" not in child.before  # the real block is named, not the default one
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130   # Ctrl+C, as the README's exit codes say


SAVE_UNKNOWN = Translator("en").t("save.unknown", choice="@@").split("@@")[1][:20]
HOSTILE = "\x1b]0;owned\x07\x1b[2J" + "A" * 5000 + "\x9b31m\x07\r\n"


def no_control_and_short(text: str, limit: int = 200) -> None:
    assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text, repr(text[:200])
    assert all(len(line) <= limit for line in text.splitlines()), max(map(len, text.splitlines()))


def test_a_long_hostile_lang_is_echoed_clipped_and_stripped(isolated_home):
    result = run_program(isolated_home, "--lang", HOSTILE.replace("\r\n", ""), "lessons")
    assert result.returncode == 2
    no_control_and_short(result.stderr.decode())


def messages_about(screen: str, words: str) -> str:
    """The program's own lines that mention ``words`` (a scripted menu also shows what was typed)."""
    found = [line for line in screen.splitlines() if words in line]
    assert found, screen[-2000:]
    return "\n".join(found)


def test_a_long_hostile_language_setting_and_save_answer_are_echoed_clipped_and_stripped():
    screen = run_menu(["6", "1", HOSTILE.replace("\r\n", ""), "", "0", "0"])
    no_control_and_short(messages_about(screen, "Unknown language"))
    with Listener() as listener:
        screen = run_menu(["2", "127.0.0.1", str(listener.port), "0.5", "y", HOSTILE.replace("\r\n", ""), "", "0"])
    no_control_and_short(messages_about(screen, SAVE_UNKNOWN))


def test_clip_is_the_one_helper_for_echoes():
    from scanner.errors import clip

    assert clip("\x1b]0;title\x07ok\x1b[31m red") == "ok red"
    assert clip("a" * 100) == "a" * 37 + "..."
    assert clip("tab\there\nnew") == "tab here new"
