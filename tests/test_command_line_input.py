"""Odd command lines: one line on stderr and exit code 2."""

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT, program_env


def run_program(home, *args, stdin=b""):
    return subprocess.run([sys.executable, os.path.join(ROOT, "main.py"), *args], input=stdin,
                          capture_output=True, env=program_env(home, PYTHONIOENCODING="utf-8"), timeout=60)


@pytest.mark.parametrize("args", [["lesson", "²"], ["quiz", "²"], ["lab", "--base-port", "²"],
                                  ["scan", "127.0.0.1", "-p", "9" * 5000], ["scan", "127.0.0.1", "--workers", "9" * 5000],
                                  ["scan", "127.0.0.1%lo"], ["scan", "127.0.0.1", "-p", ",".join(["1-65535"] * 500)],
                                  ["scan", "127.0.0.1", "-o", ""], ["lab", "--bind", "8.8.8.8x"]])
@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_odd_command_lines_get_one_line_and_exit_2(isolated_home, args):
    result = run_program(isolated_home, *args)
    output = (result.stdout + result.stderr).decode("utf-8", "replace")
    assert result.returncode == 2, output
    assert "Traceback" not in output
    assert output.strip() and len(output.strip().splitlines()) <= 2, output
    assert "other computers can reach" not in output  # no warning before the address is even valid
