"""The practice lab as a learner meets it: from the menu and from `python main.py lab`."""

import io
import os
import socket
import sys

import pytest

from lessons.ui.i18n import Translator
from lessons.ui.app import App
from lessons.ui.screens import main_menu
from lessons.ui.terminal import Environment
from tests.conftest import ROOT, program_env

pexpect = pytest.importorskip("pexpect", reason="pexpect drives a pseudo-terminal (not on Windows)")


@pytest.mark.slow   # a few seconds: left out of the quick loop
def test_menu_lab_scan_is_graded_against_the_known_answer():
    stdout = io.StringIO()
    env = Environment(stdin=io.StringIO("4\n2\n1\ny\n\n0\n0\n"), stdout=stdout, colour=False)
    menu = App(env, Translator("en"))
    assert main_menu.run(menu) == 0
    screen = stdout.getvalue()
    assert "Practice lab on 127.0.0.1" in screen
    assert "You found 4 of 4 open tcp ports." in screen
    assert "filtered: right" in screen and "accept queue is full" in screen
    assert "SSH-2.0-portscan_lab_practice" in screen          # banners are shown for the lab
    assert "You found 1 of 1 open udp ports." in screen
    assert menu.lab is None                                     # leaving the menu stops the lab


def test_lab_consent_refused_scans_nothing():
    stdout = io.StringIO()
    env = Environment(stdin=io.StringIO("4\n1\nn\n0\n0\n"), stdout=stdout, colour=False)
    main_menu.run(App(env, Translator("en")))
    screen = stdout.getvalue()
    assert "Scan cancelled" in screen and "You found" not in screen


@pytest.mark.terminal
def test_lab_command_runs_until_ctrl_c_and_closes_every_socket(isolated_home):
    child = pexpect.spawn(sys.executable, [os.path.join(ROOT, "main.py"), "lab", "--base-port", "0"], cwd=ROOT,
                          env=program_env(isolated_home), encoding="utf-8", timeout=20, dimensions=(40, 80))
    child.expect("Press Ctrl\\+C to stop it")
    table = child.before
    ssh_line = next(line for line in table.splitlines() if " ssh " in line)
    port = int(ssh_line.split("/")[0].strip().split()[-1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        assert conn.recv(100).startswith(b"SSH-2.0-")
    child.sendintr()
    child.expect("every socket is closed")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130   # Ctrl+C, as the README's exit codes say
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.slow   # over a third of a second: kept out of the quick loop
def test_lab_command_refuses_all_interfaces_silently_and_bad_ports(isolated_home):
    import subprocess
    for args, expected in ((["--base-port", "abc"], "base port"), (["--bind", "999.1.1.1"], "127.0.0.1")):
        result = subprocess.run([sys.executable, os.path.join(ROOT, "main.py"), "lab", *args], capture_output=True,
                                text=True, env=program_env(isolated_home), timeout=30)
        assert result.returncode == 2
        assert expected in result.stdout + result.stderr
        assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.skipif(not hasattr(__import__("signal"), "SIGTERM") or os.name != "posix", reason="SIGTERM is POSIX")
@pytest.mark.slow   # over a third of a second: kept out of the quick loop
def test_lab_command_ends_cleanly_on_sigterm_with_exit_143(isolated_home):
    import signal
    import subprocess

    child = subprocess.Popen([sys.executable, os.path.join(ROOT, "main.py"), "lab", "--base-port", "0"], cwd=ROOT,
                             env=program_env(isolated_home), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        seen = ""
        for _ in range(200):   # bounded: the table, then the running line
            line = child.stdout.readline()
            seen += line
            if "Ctrl+C" in line or not line:
                break
        child.send_signal(signal.SIGTERM)
        out, err = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 143, err
    assert "every socket is closed" in out and "Traceback" not in err


@pytest.mark.slow   # over a third of a second: kept out of the quick loop
def test_lab_command_binding_a_spelling_of_every_interface_warns(isolated_home):
    """::ffff:0.0.0.0 once listened everywhere without the warning.  Run in a network namespace of its own
    (``unshare -rn``), so listening on every interface exposes nothing."""
    import subprocess

    try:
        isolated = subprocess.run(["unshare", "-rn", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.SubprocessError):
        isolated = False
    import shutil

    if not isolated or shutil.which("ip") is None:
        pytest.skip("unshare -rn (or ip) is not available: the lab must not listen on every interface of this machine")
    script = 'ip link set lo up && exec "$0" "$@"'
    child = subprocess.Popen(["unshare", "-rn", "sh", "-c", script, sys.executable, os.path.join(ROOT, "main.py"),
                              "lab", "--base-port", "0", "--bind", "::ffff:0.0.0.0"], cwd=ROOT,
                             env=program_env(isolated_home), stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        seen = ""
        for _ in range(200):
            line = child.stdout.readline()
            seen += line
            if "Ctrl+C" in line or not line:
                break
        child.send_signal(__import__("signal").SIGINT)
        child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert "WARNING" in seen and "0.0.0.0" in seen


@pytest.mark.terminal
@pytest.mark.skipif(os.name != "posix", reason="SIGTERM is POSIX")
def test_sigterm_ends_the_menu_and_stops_its_lab(isolated_home):
    import signal

    child = pexpect.spawn(sys.executable, [os.path.join(ROOT, "main.py")], cwd=ROOT, env=program_env(isolated_home),
                          encoding="utf-8", timeout=20, dimensions=(40, 100))
    child.expect("Main menu")
    child.sendline("4")                        # the practice lab, started in the background
    child.expect("runs in the background")
    child.kill(signal.SIGTERM)
    child.expect(pexpect.EOF)
    child.close()
    assert (child.exitstatus, child.signalstatus) == (143, None)
    assert "Traceback" not in child.before
