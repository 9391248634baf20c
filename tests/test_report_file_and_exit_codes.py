"""``-o`` never silently replaces a read-only file; a full disk is exit 1, not 2; Ctrl+C on the lab is 130.

The README's exit codes: 1 when the computer ran out of something (a full disk is one),
2 for a usage error, found before scanning, 130 for Ctrl+C.  Each test runs the real
program as a separate process, as a person would.
"""

import os
import shutil
import signal
import stat
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, program_env
from tests.servers import Listener, free_lab_base

MAIN = os.path.join(ROOT, "main.py")


def run(home, *args, **options):
    return subprocess.run([sys.executable, MAIN, *args], cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, env=program_env(home), timeout=60, **options)


@pytest.mark.parametrize("language, words", [("en", "read-only"), ("id", "hanya-baca")])
@pytest.mark.slow   # over a third of a second: kept out of the quick loop
def test_a_read_only_report_file_is_refused_before_scanning(isolated_home, tmp_path, language, words):
    report = tmp_path / "report.json"
    report.write_text("the learner's earlier report\n")
    report.chmod(0o444)
    with Listener() as listener:
        proc = subprocess.run([sys.executable, MAIN, "scan", "127.0.0.1", "-p", str(listener.port), "-o", str(report)],
                              cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
                              env=program_env(isolated_home, LANGUAGE=language))
        assert listener.accepted == 0                        # refused before anything was sent
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and words in proc.stderr and "report.json" in proc.stderr, proc.stderr
    assert report.read_text() == "the learner's earlier report\n"
    assert stat.S_IMODE(report.stat().st_mode) == 0o444


def test_a_writable_report_file_is_still_replaced(isolated_home, tmp_path):
    report = tmp_path / "report.json"
    report.write_text("old\n")
    with Listener() as listener:
        proc = run(isolated_home, "scan", "127.0.0.1", "-p", str(listener.port), "-o", str(report))
    assert proc.returncode == 0, proc.stderr
    assert '"open": 1' in report.read_text()


def _small_full_disk_command(folder, *scan_args):
    """A shell command that mounts a tiny tmpfs on ``folder`` in a private mount namespace, fills it and scans."""
    inner = (f"mount -t tmpfs -o size=8k portscan-full {folder} && "
             f"(head -c 1048576 /dev/zero > {folder}/filler 2>/dev/null; true) && "
             f"exec {sys.executable} {MAIN} scan " + " ".join(scan_args))
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", inner]


def test_a_full_disk_is_exit_1_with_one_line_and_the_results_still_printed(isolated_home, tmp_path):
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare to mount a small full tmpfs in a private mount namespace")
    folder = tmp_path / "full"
    folder.mkdir()
    with Listener() as listener:
        proc = subprocess.run(_small_full_disk_command(folder, "127.0.0.1", "-p", str(listener.port), "-o",
                                                       f"{folder}/report.json"),
                              cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
                              env=program_env(isolated_home))
    if "mount:" in proc.stderr:
        pytest.skip(f"could not mount a tmpfs here: {proc.stderr.strip()}")
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert proc.stderr.count("\n") == 1 and "report.json" in proc.stderr, proc.stderr
    assert f"{listener.port}/tcp" in proc.stdout and "open" in proc.stdout   # the results are still printed
    assert "Traceback" not in proc.stderr


@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_ctrl_c_on_the_lab_exits_130(isolated_home):
    base = free_lab_base()
    lab = subprocess.Popen([sys.executable, MAIN, "lab", "--base-port", str(base)], cwd=ROOT, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=program_env(isolated_home))
    try:
        deadline = time.monotonic() + 30
        for line in lab.stdout:
            if "Ctrl+C" in line or time.monotonic() > deadline:
                break
        lab.send_signal(signal.SIGINT)    # what Ctrl+C sends
        code = lab.wait(20)
    finally:
        if lab.poll() is None:
            lab.kill()
            lab.wait()
    assert code == 130, (code, lab.stderr.read())
