"""Command-line conventions a newcomer expects (issue 20).

--version on every command; "did you mean --timeout?" for a mistyped option; -p as nmap
reads it (22-, -100, ssh,http); --help with a network target among its examples; the JSON
report's version, timeout_seconds and timeout_mode; one default timeout for the command
line and the guided walk; and a Ctrl+C after the progress bar starting on a fresh line.
"""

import io
import json
import os
import re
import subprocess
import sys
import time

import pytest

import scanner
from lessons.ui import cli
from lessons.ui.command_line import program_name
from lessons.ui.i18n import Translator
from scanner.errors import PortSpecError
from scanner.inputs import DEFAULT_TIMEOUT, parse_ports
from scanner.version import __version__
from tests.conftest import ROOT, program_env

COMMANDS = [[]] + [[name] for name in cli.build_parser(Translator("en")).command_parsers]   # every command there is


def run_cli(capsys, *argv):
    """main() in this process: (exit code, stdout, stderr)."""
    try:
        code = cli.main(list(argv))
    except SystemExit as done:   # --version and --help end inside argparse
        code = done.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "top")
def test_version_on_every_command(isolated_home, capsys, command):
    code, out, err = run_cli(capsys, *command, "--version")
    assert code == 0 and out.strip() == f"portscan-lab {__version__}" and not err


def test_the_version_is_defined_once():
    assert scanner.__version__ == __version__
    assert re.fullmatch(r"\d+\.\d+\.\d+([ab]\d+|rc\d+)?", __version__)
    with open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8") as stream:
        pyproject = stream.read()
    assert re.search(r'dynamic\s*=\s*\[[^\]]*"version"', pyproject)
    assert 'version = {attr = "scanner.version.__version__"}' in pyproject


@pytest.mark.parametrize("language, said", [("en", "did you mean --timeout?"), ("id", "maksud Anda --timeout?")])
@pytest.mark.parametrize("argv", [["scan", "127.0.0.1", "--timout", "5"], ["scan", "--timeotu=5", "127.0.0.1"],
                                  ["scan", "127.0.0.1", "-timeout", "5"]])
def test_a_mistyped_option_gets_did_you_mean(isolated_home, capsys, language, said, argv):
    code, out, err = run_cli(capsys, "--lang", language, *argv)
    assert code == 2 and not out
    assert err.count("\n") == 1 and said in err, err


def test_did_you_mean_knows_each_commands_own_options(isolated_home, capsys):
    assert "--base-port" in run_cli(capsys, "lab", "--base-prot", "0")[2]
    assert "--lang" in run_cli(capsys, "--lnag", "id", "lessons")[2]
    assert "-p?" in run_cli(capsys, "scan", "127.0.0.1", "-P", "22")[2]
    code, _out, err = run_cli(capsys, "scan", "127.0.0.1", "--xyzzy")   # nothing close: argparse's own words
    assert code == 2 and "did you mean" not in err and "--xyzzy" in err


def test_abbreviations_and_values_that_start_with_a_dash_are_not_mistakes(isolated_home, capsys):
    code, out, _err = run_cli(capsys, "scan", "127.0.0.1", "--time", "0.5", "-p", "-3", "--format", "json")
    assert code == 0 and json.loads(out)["ports_requested"] == 3
    code, out, _err = run_cli(capsys, "scan", "127.0.0.1", "-p5-6", "--format=json", "--timeout=0.5")
    assert code == 0 and json.loads(out)["ports_requested"] == 2


@pytest.mark.parametrize("language, said", [("en", "did you mean lessons?"), ("id", "maksud Anda lessons?")])
def test_a_mistyped_command_gets_did_you_mean(isolated_home, capsys, language, said):
    code, out, err = run_cli(capsys, "--lang", language, "lesons")
    assert code == 2 and not out and err.count("\n") == 1 and said in err, err


@pytest.mark.parametrize("spec, expected", [
    ("22-", tuple(range(22, 65536))), ("-100", tuple(range(1, 101))), ("65530 -", tuple(range(65530, 65536))),
    ("ssh,http", (22, 80)), ("SSH https", (22, 443)), ("ssh,80-81,-2", (1, 2, 22, 80, 81)),
])
def test_ports_as_nmap_reads_them(spec, expected):
    assert parse_ports(spec) == expected


@pytest.mark.parametrize("language", ["en", "id"])
def test_an_unknown_service_name_is_one_readable_line(isolated_home, capsys, language):
    with pytest.raises(PortSpecError) as caught:
        parse_ports("ssh,sshh")
    assert caught.value.code == "ports.unknown_service" and "sshh" in str(caught.value)
    code, out, err = run_cli(capsys, "--lang", language, "scan", "127.0.0.1", "-p", "ssh,sshh")
    assert code == 2 and not out and err.count("\n") == 1 and "sshh" in err
    assert ("service name" if language == "en" else "nama layanan") in err


@pytest.mark.parametrize("language", ["en", "id"])
@pytest.mark.parametrize("command", [[], ["scan"]])
def test_help_shows_a_network_target_among_its_examples(isolated_home, capsys, language, command):
    code, out, _err = run_cli(capsys, "--lang", language, *command, "--help")
    assert code == 0
    examples = out.split(Translator(language).t("help.examples"), 1)[1]
    assert re.search(r"scan \d+\.\d+\.\d+\.\d+/\d+", examples)   # a CIDR block
    assert all(len(line) <= 80 for line in out.splitlines())


def test_the_program_names_itself_as_it_was_started(tmp_path):
    assert program_name("main.py") == f"{'py' if sys.platform == 'win32' else 'python3'} main.py"
    assert program_name("/usr/local/bin/portscan-lab") == "portscan-lab"
    assert program_name("/tmp/x/portscan-lab.pyz").endswith(" portscan-lab.pyz")


@pytest.mark.parametrize("timeout, seconds, mode", [("0.5", 0.5, "fixed"), ("auto", 1.0, "auto"), (None, 1.0, "fixed")])
def test_the_json_report_carries_version_and_a_numeric_timeout(isolated_home, capsys, timeout, seconds, mode):
    extra = ["--timeout", timeout] if timeout else []
    code, out, _err = run_cli(capsys, "scan", "127.0.0.1", "-p", "1-3", "--format", "json", *extra)
    report = json.loads(out)
    assert code == 0 and report["version"] == __version__
    assert report["timeout"] == (timeout or DEFAULT_TIMEOUT)   # the old field keeps its old value
    assert report["timeout_seconds"] == seconds and isinstance(report["timeout_seconds"], float)
    assert report["timeout_mode"] == mode


def test_a_network_report_carries_them_too(isolated_home, capsys):
    code, out, _err = run_cli(capsys, "scan", "127.0.0.1-2", "-p", "1-2", "--timeout", "auto", "--format", "json")
    report = json.loads(out)
    assert report["version"] == __version__ and report["timeout"] == "auto"
    assert report["timeout_seconds"] == 1.0 and report["timeout_mode"] == "auto"


def test_the_walk_and_the_command_line_share_one_default_timeout():
    from lessons.ui.app import App
    from lessons.ui.terminal import Environment

    parser = cli.build_parser(Translator("en"))
    scan_parser = parser.command_parsers["scan"]
    assert scan_parser.get_default("timeout") == DEFAULT_TIMEOUT
    env = Environment(stdin=io.StringIO(""), stdout=io.StringIO(), colour=False)
    assert App(env, Translator("en")).last_timeout == DEFAULT_TIMEOUT
    assert f"(default: {DEFAULT_TIMEOUT})" in scan_parser.format_help()


@pytest.mark.terminal
def test_ctrl_c_after_the_progress_bar_starts_on_a_fresh_line(isolated_home):
    from tests.tmux_screen import TMUX, Screen

    if TMUX is None:
        pytest.skip("tmux is not installed (apt-get install tmux)")
    # --workers 1 makes a full-range scan of loopback take a few seconds: time for Ctrl+C.
    with Screen(isolated_home, "scan", "127.0.0.1", "-p", "all", "--workers", "1", width=80) as screen:
        screen.wait_for("/65535")
        time.sleep(0.5)
        screen._tmux("send-keys", "-t", screen.name, "C-c")
        text = screen.wait_for("[exit 130]")
    lines = text.splitlines()
    bars = [line for line in lines if re.match(r"\[[#.]+\]", line)]
    assert len(bars) == 1, text                           # the bar was not drawn a second time
    assert bars[0].rstrip().endswith("^C"), text          # the echoed ^C stayed on the bar's line
    after = lines[lines.index(bars[0]) + 1]
    assert after and not after.startswith(("C", " ")), text   # the next line starts at its first column


def test_the_installed_command_and_main_py_run_the_same_start():
    """pyproject's console script names the function main.py calls."""
    with open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8") as stream:
        pyproject = stream.read()
    match = re.search(r'portscan-lab\s*=\s*"([\w.]+):(\w+)"', pyproject)
    assert match, "no [project.scripts] portscan-lab entry"
    module, function = match.groups()
    with open(os.path.join(ROOT, "main.py"), encoding="utf-8") as stream:
        main_py = stream.read()
    assert f"from {module} import {function}" in main_py


def test_main_py_version_as_a_process(isolated_home):
    done = subprocess.run([sys.executable, os.path.join(ROOT, "main.py"), "--version"], capture_output=True,
                          text=True, env=program_env(isolated_home), timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == f"portscan-lab {__version__}"
