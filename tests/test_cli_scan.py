"""``python main.py scan ...`` as a real program: exit codes, messages, JSON/CSV contracts, files, colours.

Every scan here targets loopback.  The only non-loopback address used is 192.0.2.1
(TEST-NET-1, RFC 5737) to check that the program refuses or asks *before* sending
anything; those runs answer "no", and when the system allows it they also run in a
network namespace of their own (``unshare -rn``) that has no route anywhere.
"""

import csv
import datetime
import functools
import io
import json
import os
import re
import subprocess
import sys

import pytest

from scanner.report import CSV_COLUMNS
from tests.conftest import ROOT, program_env
from tests.servers import FilteredPort, Listener, free_port

MAIN = os.path.join(ROOT, "main.py")
TEST_NET = "192.0.2.1"  # documentation address: must never be scanned by these tests
ESC = "\x1b"

CONTRACT_KEYS = {"target", "address", "family", "ports_scanned", "timeout", "workers", "started",
                 "elapsed_seconds", "complete", "consent", "counts", "ports",
                 "retried", "rate_limit_per_second"}
PORT_KEYS = {"port", "protocol", "state", "reason", "service", "banner", "tries", "service_source"}


@functools.lru_cache(maxsize=None)
def _unshare_prefix():
    """``unshare -rn`` when this system can run a program without any network, else nothing."""
    try:
        ok = subprocess.run(["unshare", "-rn", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        ok = False
    return ("unshare", "-rn") if ok else ()


def run(home, *args, isolate=False, **extra_env):
    argv = [sys.executable, MAIN, *args]
    if isolate:
        argv = [*_unshare_prefix(), *argv]
    proc = subprocess.run(argv, cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          env=program_env(home, **extra_env), timeout=60)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    return proc


def one_line(text):
    lines = [line for line in text.strip().splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line, got {lines!r}"
    return lines[0]


# --- exit codes and messages -----------------------------------------------------------------

def test_scan_loopback_text_exit_0(isolated_home):
    with Listener() as listener:
        closed = free_port()
        proc = run(isolated_home, "scan", "127.0.0.1", "-p", f"{listener.port},{closed}")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Scanning 127.0.0.1 (127.0.0.1): 2 ports")
    assert re.search(rf"^{listener.port}/tcp\s+open\s+\S+\s+syn-ack$", proc.stdout, re.M), proc.stdout
    assert "Not shown: 1 closed port" in proc.stdout
    assert "Done: 2 ports" in proc.stdout and "(1 open, 0 filtered, 1 closed)" in proc.stdout
    assert proc.stderr == ""


def test_unresolvable_host_exit_1(isolated_home):
    proc = run(isolated_home, "scan", "nonexistent.invalid", "-p", "80")
    assert proc.returncode == 1
    assert "nonexistent.invalid" in one_line(proc.stderr)
    assert proc.stdout == ""


@pytest.mark.parametrize("args, fragment", [
    (["127.0.0.1", "-p", "80-20"], "20-80"),
    (["127.0.0.1", "-p", "abc"], "abc"),
    (["127.0.0.1", "-p", "0"], "1-65535"),
    (["127.0.0.1", "-p", "65536"], "65536"),
    (["127.0.0.1", "-p", ""], "ports"),
    (["127.0.0.1", "--timeout", "-1"], "more than 0"),
    (["127.0.0.1", "--timeout", "0"], "more than 0"),
    (["127.0.0.1", "--timeout", "abc"], "abc"),
    (["127.0.0.1", "--timeout", "nan"], "nan"),
    (["127.0.0.1", "--timeout", "1e9"], "too long"),
    (["127.0.0.1", "--workers", "0"], "Workers"),
    (["127.0.0.1", "-p", "\u00b2"], "\u00b2"),
    (["127.0.0.1", "--workers", "\u00b3"], "\u00b3"),
    (["http://example.com"], "example.com"),
    (["999.1.1.1"], "999.1.1.1"),
])
@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_bad_input_exit_2_with_one_line(isolated_home, args, fragment):
    proc = run(isolated_home, "scan", *args)
    assert proc.returncode == 2
    assert fragment in one_line(proc.stderr)
    assert proc.stdout == "", "nothing is scanned after an input error"


def test_non_loopback_needs_yes_when_not_interactive(isolated_home):
    proc = run(isolated_home, "scan", TEST_NET, "-p", "80", "--timeout", "0.2", isolate=True)
    assert proc.returncode == 2
    message = one_line(proc.stderr)
    assert TEST_NET in message and "--yes" in message
    assert "Scanning" not in proc.stdout


@pytest.mark.parametrize("args", [["scan"], ["scan", "127.0.0.1", "--format", "xml"], ["scan", "127.0.0.1", "--bogus"]])
@pytest.mark.slow   # over a third of a second: kept out of the quick loop
def test_usage_errors_exit_2_without_a_usage_dump(isolated_home, args):
    proc = run(isolated_home, *args)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert lines[0].startswith("python3 main.py")  # the problem, on one line
    assert len(lines) <= 2                         # plus at most the "--help" hint
    assert proc.stdout == ""


# --- JSON and CSV ----------------------------------------------------------------------------

def _scan_json(home, *extra):
    with Listener() as listener, FilteredPort() as filtered:
        closed = sorted({free_port() for _ in range(3)})
        ports = sorted({listener.port, filtered.port, *closed})
        proc = run(home, "scan", "127.0.0.1", "-p", ",".join(map(str, ports)), "--timeout", "0.3",
                   "--format", "json", *extra)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout), listener.port, filtered.port, closed, ports


@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_json_contract(isolated_home):
    report, open_port, filtered_port, closed, ports = _scan_json(isolated_home)
    assert CONTRACT_KEYS <= set(report)
    assert report["target"] == "127.0.0.1" and report["address"] == "127.0.0.1"
    assert report["family"] == "ipv4"
    assert report["ports_scanned"] == len(ports)
    assert report["timeout"] == "0.3"
    assert isinstance(report["workers"], int) and report["workers"] > 0
    assert datetime.datetime.fromisoformat(report["started"]).tzinfo is not None
    assert isinstance(report["elapsed_seconds"], (int, float)) and report["elapsed_seconds"] >= 0
    assert report["complete"] is True
    assert report["consent"] is None  # loopback: nobody was asked
    assert report["counts"] == {"open": 1, "closed": len(closed), "filtered": 1}
    for row in report["ports"]:
        assert set(row) == PORT_KEYS
        assert row["protocol"] == "tcp"
    listed = {row["port"]: (row["state"], row["reason"]) for row in report["ports"]}
    assert listed == {open_port: ("open", "syn-ack"), filtered_port: ("filtered", "no-response")}


@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_json_all_lists_every_port_and_yes_records_consent(isolated_home):
    report, open_port, filtered_port, closed, ports = _scan_json(isolated_home, "--all", "--yes")
    assert [row["port"] for row in report["ports"]] == ports
    assert {row["port"] for row in report["ports"] if row["state"] == "closed"} == set(closed)
    assert all(row["reason"] == "conn-refused" for row in report["ports"] if row["state"] == "closed")
    assert report["consent"]["statement"]
    assert report["consent"]["method"] == "--yes"


@pytest.mark.slow   # over a third of a second: kept out of the quick loop
def test_csv_one_row_per_listed_port(isolated_home):
    with Listener() as listener:
        closed = sorted({free_port() for _ in range(3)})
        spec = ",".join(map(str, sorted({listener.port, *closed})))
        plain = run(isolated_home, "scan", "127.0.0.1", "-p", spec, "--format", "csv")
        every = run(isolated_home, "scan", "127.0.0.1", "-p", spec, "--format", "csv", "--all")
    assert plain.returncode == every.returncode == 0
    rows = list(csv.DictReader(io.StringIO(plain.stdout)))
    assert plain.stdout.splitlines()[0].split(",") == list(CSV_COLUMNS)
    assert [(r["port"], r["state"], r["reason"]) for r in rows] == [(str(listener.port), "open", "syn-ack")]
    all_rows = list(csv.DictReader(io.StringIO(every.stdout)))
    assert [int(r["port"]) for r in all_rows] == sorted({listener.port, *closed})


def test_banners_flag_fills_the_banner_field(isolated_home):
    with Listener(greeting=b"SSH-2.0-test\r\n") as listener:
        proc = run(isolated_home, "scan", "127.0.0.1", "-p", str(listener.port), "--banners", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(proc.stdout)["ports"]
    assert row["banner"] == "SSH-2.0-test"


# --- -o FILE -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name, fmt, check", [
    ("report.json", "json", lambda text: json.loads(text)["complete"] is True),
    ("report.csv", "csv", lambda text: next(csv.reader(io.StringIO(text))) == list(CSV_COLUMNS)),
    ("report.csv", "text", lambda text: next(csv.reader(io.StringIO(text))) == list(CSV_COLUMNS)),
    ("report.json", "text", lambda text: json.loads(text)["complete"] is True),
    ("report.txt", "text", lambda text: text.startswith("portscan-lab scan report")),
])
@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_output_file_is_written_atomically(isolated_home, tmp_path, name, fmt, check):
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / name
    target.write_text("old contents\n")  # replaced whole, never appended to
    with Listener() as listener:
        proc = run(isolated_home, "scan", "127.0.0.1", "-p", str(listener.port), "--format", fmt, "-o", str(target))
    assert proc.returncode == 0, proc.stderr
    assert sorted(os.listdir(folder)) == [name], "a temporary file was left behind"
    text = target.read_text(encoding="utf-8")
    assert check(text)
    assert str(listener.port) in text
    if fmt == "text":
        assert f"Report saved to {target}" in proc.stdout


def test_output_file_in_a_missing_folder_is_one_line_exit_2(isolated_home, tmp_path):
    target = tmp_path / "missing" / "report.json"
    proc = run(isolated_home, "scan", "127.0.0.1", "-p", str(free_port()), "--format", "json", "-o", str(target))
    assert proc.returncode == 2
    assert str(target) in one_line(proc.stderr)
    assert not target.parent.exists()


# --- colours --------------------------------------------------------------------------------------

@pytest.mark.parametrize("extra_args, extra_env", [([], {}), (["--no-color"], {}), ([], {"NO_COLOR": "1"})])
@pytest.mark.slow   # over a third of a second: kept out of the quick loop
def test_no_ansi_escapes_when_not_a_terminal(isolated_home, extra_args, extra_env):
    with Listener() as listener:
        proc = run(isolated_home, "scan", "127.0.0.1", "-p", f"{listener.port},{free_port()}", *extra_args,
                   **extra_env)
    assert proc.returncode == 0
    assert ESC not in proc.stdout + proc.stderr


# --- a real terminal ------------------------------------------------------------------------------

try:
    import pexpect
except ImportError:  # Windows, or pexpect not installed: the pseudo-terminal tests are skipped
    pexpect = None

_no_pty = pytest.mark.skipif(pexpect is None, reason="pexpect drives a pseudo-terminal (not on Windows)")


def needs_pty(test):
    """A test that drives the program in a pseudo-terminal (marked ``terminal``)."""
    return pytest.mark.terminal(_no_pty(test))


def spawn(home, *args, isolate=False, **extra_env):
    argv = [MAIN, *args]
    program = sys.executable
    if isolate and _unshare_prefix():
        program, argv = "unshare", ["-rn", sys.executable, *argv]
    screen = io.StringIO()
    child = pexpect.spawn(program, argv, cwd=ROOT, env=program_env(home, **extra_env), encoding="utf-8",
                          timeout=20, dimensions=(40, 100))
    child.logfile_read = screen
    return child, screen


@needs_pty
def test_terminal_shows_the_table_in_colour(isolated_home):
    with Listener() as listener:
        closed = free_port()
        child, screen = spawn(isolated_home, "scan", "127.0.0.1", "-p", f"{listener.port},{closed}")
        child.expect(pexpect.EOF)
        child.close()
    assert child.exitstatus == 0
    text = screen.getvalue()
    plain = re.sub(r"\x1b\[[0-9;]*m", "", text)
    assert re.search(r"PORT\s+STATE\s+SERVICE\s+REASON", plain)
    assert re.search(rf"{listener.port}/tcp\s+open\s", plain)
    assert "Done: 2 ports" in plain
    assert "\x1b[" in text  # a terminal gets colours...
    assert "Traceback" not in text


@needs_pty
@pytest.mark.parametrize("extra_args, extra_env", [(["--no-color"], {}), ([], {"NO_COLOR": "1"})])
def test_terminal_without_colour_when_asked(isolated_home, extra_args, extra_env):
    with Listener() as listener:
        child, screen = spawn(isolated_home, "scan", "127.0.0.1", "-p", str(listener.port), *extra_args, **extra_env)
        child.expect(pexpect.EOF)
        child.close()
    assert child.exitstatus == 0
    assert re.search(rf"{listener.port}/tcp\s+open\s", screen.getvalue())
    assert ESC not in screen.getvalue()  # ...unless NO_COLOR or --no-color says no


@needs_pty
def test_terminal_asks_before_scanning_another_host_and_no_means_nothing_is_sent(isolated_home):
    child, screen = spawn(isolated_home, "scan", TEST_NET, "-p", "80", "--timeout", "0.2", isolate=True)
    child.expect(r"\[y/N\]")
    asked = " ".join(re.sub(r"\x1b\[[0-9;]*m", "", child.before).split())  # a long prompt is folded
    assert "Do you own it or have written permission to scan it?" in asked
    assert TEST_NET in asked
    child.sendline("n")
    child.expect("Scan cancelled")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
    assert "Scanning" not in screen.getvalue()
    assert "Traceback" not in screen.getvalue()


@needs_pty
def test_terminal_ctrl_c_exits_130_with_partial_results(isolated_home):
    with Listener() as listener, FilteredPort() as filtered:
        spec = f"{listener.port},{filtered.port}"
        child, screen = spawn(isolated_home, "scan", "127.0.0.1", "-p", spec, "--timeout", "10")
        child.expect(r"1/2 +open 1")  # the progress bar: only the silent port is left
        child.sendintr()
        child.expect(pexpect.EOF)
        child.close()
    text = re.sub(r"\x1b\[[0-9;]*m", "", screen.getvalue())
    assert child.exitstatus == 130, text
    assert re.search(rf"{listener.port}/tcp\s+open\s", text)
    assert "Stopped early: 1 of 2" in text
    assert "Interrupted (Ctrl+C)." in text
    assert "Traceback" not in text
