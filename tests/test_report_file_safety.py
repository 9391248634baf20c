"""Writing the -o report: never through a planted link, problems found before the scan, never lost."""

import json
import os

import pytest

from tests.servers import Listener

# --- -o never writes through a link another user planted in /tmp ----------------------------------

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


# --- -o echoes: the folder is clipped and cleaned; a too-long name is found before scanning ------

def _scan_o(home, output):
    import subprocess
    import sys

    from tests.conftest import ROOT, program_env

    return subprocess.run([sys.executable, os.path.join(ROOT, "main.py"), "scan", "127.0.0.1", "-p", "1", "-o",
                           output], cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          env=program_env(home), timeout=60)


@pytest.mark.skipif(not IS_ROOT, reason="giving a link to another owner (os.lchown) needs root")
def test_o_refuses_a_link_another_user_planted_in_a_sticky_shared_folder(isolated_home, tmp_path):
    """A student leaves /tmp/report.txt -> /etc/shadow; root runs scan -o /tmp/report.txt.
    Before, realpath() + rename replaced the victim (bypassing the kernel's protected_symlinks)."""
    import subprocess
    import sys

    from lessons.ui.safe_files import write_atomically
    from tests.conftest import ROOT, program_env

    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    planted = shared / "report.txt"
    os.symlink(victim, planted)
    os.lchown(planted, 65534, 65534)
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "main.py"), "scan", "127.0.0.1", "-p", "1", "-o",
                           str(planted)], cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          env=program_env(isolated_home), timeout=60)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "shared folder" in proc.stderr
    with pytest.raises(OSError):
        write_atomically(str(planted), "report\n")
    assert victim.read_text() == "precious\n" and os.path.islink(planted)
    folder_link = shared / "scans"   # a planted link to a folder: /tmp/scans -> /etc/cron.d
    os.symlink(tmp_path, folder_link)
    os.lchown(folder_link, 65534, 65534)
    with pytest.raises(OSError):
        write_atomically(str(folder_link / "victim"), "report\n")
    assert victim.read_text() == "precious\n"
    os.lchown(planted, 0, 0)   # the follower's own link: followed, as before
    write_atomically(str(planted), "report\n")
    assert victim.read_text() == "report\n" and os.path.islink(planted)


def test_o_missing_folder_with_escapes_is_echoed_clean_and_clipped(isolated_home, tmp_path):
    """Before: 'the folder .../a\\x1b]52;c;...\\x07 does not exist' reached the terminal raw (OSC 52
    writes the clipboard), and a 5000-character folder came back whole."""
    proc = _scan_o(isolated_home, str(tmp_path / ("a\x1b]52;c;aGk=\x07b\x1b[2J" + "z" * 5000) / "x"))
    assert proc.returncode == 2
    assert "\x1b" not in proc.stderr and "\x07" not in proc.stderr
    assert len(proc.stderr) < 600 and len(proc.stderr.strip().splitlines()) == 1


def test_o_name_too_long_is_refused_before_scanning(isolated_home, tmp_path):
    proc = _scan_o(isolated_home, str(tmp_path / ("n" * 300)))
    assert proc.returncode == 2 and "too long" in proc.stderr
    assert "Scanning" not in proc.stdout   # before: scanned first, then 'File name too long'


def test_echo_of_a_non_utf8_file_name_never_names_another_file():
    from scanner.errors import clip

    undecodable = b"r\xff.txt".decode("utf-8", "surrogateescape")
    assert clip(undecodable) != "r.txt" and clip(undecodable).startswith("r") and "\ufffd" in clip(undecodable)
    assert clip("a\x1b[2Jb\x07c") == "abc"


# --- stdout's reader gone before the first line: the scan still runs and its report is saved -------

@pytest.mark.skipif(not hasattr(os, "pipe"), reason="needs os.pipe")
@pytest.mark.parametrize("target", ["127.0.0.1", "127.0.0.1-2"])
@pytest.mark.slow   # over a third of a second: kept out of the quick loop
def test_report_is_saved_when_stdouts_reader_is_gone_before_the_first_line(isolated_home, tmp_path, target):
    """scan ... -o r.txt | true: before, the first line's EPIPE ended the program with exit 0
    before scanning, and no report was written."""
    import subprocess
    import sys

    from tests.conftest import ROOT, program_env

    report = tmp_path / "r.json"
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        with Listener() as listener:
            proc = subprocess.run([sys.executable, os.path.join(ROOT, "main.py"), "scan", target, "-p",
                                   str(listener.port), "-o", str(report)], cwd=ROOT, stdin=subprocess.DEVNULL,
                                  stdout=write_end, stderr=subprocess.PIPE, text=True, env=program_env(isolated_home),
                                  timeout=60)
    finally:
        os.close(write_end)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    saved = json.loads(report.read_text())
    ports = saved["ports"] if "ports" in saved else saved["hosts"][0]["ports"]
    assert ports[0]["state"] == "open"
