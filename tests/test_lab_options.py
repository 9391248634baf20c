"""The practice lab's own options (--bind, --base-port) and where it listens."""

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT, program_env


def run_program(home, *args, language="en"):
    return subprocess.run([sys.executable, os.path.join(ROOT, "main.py"), *args], capture_output=True,
                          env=program_env(home, PYTHONIOENCODING="utf-8", LANGUAGE=language), timeout=60)


# 4. A bad --base-port or --bind for the lab: one line on stderr, exit 2, like other usage errors.
@pytest.mark.parametrize("args", [["--base-port", "70000"], ["--base-port", "x"], ["--bind", "8.8.8.8x"],
                                  ["--bind", "example.com"]])
@pytest.mark.parametrize("language", ["en", "id"])
@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_bad_lab_options_get_one_line_on_stderr_and_exit_2(isolated_home, args, language):
    result = run_program(isolated_home, "lab", *args, language=language)
    stderr = result.stderr.decode()
    assert result.returncode == 2, stderr
    assert result.stdout.decode().strip() == ""
    assert len(stderr.strip().splitlines()) == 1 and len(stderr.strip()) > 20, stderr
    assert "Traceback" not in stderr


@pytest.mark.terminal
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
