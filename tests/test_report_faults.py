"""Reports and scans under faults: odd -o targets, closed or broken stdout, signals, low limits.

Each test runs the real program (or the real function) in a separate process and looks
at what is left behind: exit code, one-line messages, the report file, temporary files.
No test asserts how long anything took; sleeps only give a signal something to interrupt.
"""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import time

import pytest

from lessons.ui.safe_files import write_atomically
from tests.conftest import ROOT, program_env
from tests.servers import FilteredPort, Listener

MAIN = os.path.join(ROOT, "main.py")
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
POSIX = os.name == "posix"


def run(home, *args, **popen):
    return subprocess.run([sys.executable, MAIN, *args], cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, env=program_env(home), timeout=60, **popen)


def leftovers(folder) -> list:
    return [name for name in os.listdir(folder) if name.startswith(".portscan-")]


# --- -o only ever writes a regular file ---------------------------------------------------------

@pytest.mark.skipif(not IS_ROOT, reason="os.mknod of a character device needs root")
def test_o_refuses_a_character_device_before_scanning(isolated_home, tmp_path):
    device = tmp_path / "null-twin"
    os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))   # the same device as /dev/null
    with Listener() as listener:
        proc = run(isolated_home, "scan", "127.0.0.1", "-p", str(listener.port), "-o", str(device))
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "regular file" in proc.stderr
    assert "open" not in proc.stdout                      # refused before scanning
    assert stat.S_ISCHR(os.stat(device).st_mode)            # still a device, not a report
    assert "Traceback" not in proc.stderr


@pytest.mark.skipif(not POSIX, reason="FIFOs and sockets are POSIX")
@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_o_refuses_a_fifo_a_socket_and_a_link_to_them(isolated_home, tmp_path):
    import socket

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    unix = tmp_path / "sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(unix))
    link = tmp_path / "link-to-pipe"
    link.symlink_to(fifo)
    try:
        for target in (fifo, unix, link, "/dev/stdout"):
            proc = run(isolated_home, "scan", "127.0.0.1", "-p", "1", "-o", str(target))   # never blocks on the FIFO
            assert proc.returncode == 2, (target, proc.stderr)
            assert len(proc.stderr.strip().splitlines()) == 1 and "regular file" in proc.stderr
        assert stat.S_ISFIFO(os.stat(fifo).st_mode) and os.path.islink(link)
    finally:
        server.close()


def test_o_through_a_symlink_replaces_the_target_and_keeps_the_link(isolated_home, tmp_path):
    real = tmp_path / "real.json"
    real.write_text("old\n")
    link = tmp_path / "latest.json"
    link.symlink_to(real)
    with Listener() as listener:
        proc = run(isolated_home, "scan", "127.0.0.1", "-p", str(listener.port), "-o", str(link))
    assert proc.returncode == 0, proc.stderr
    assert os.path.islink(link) and os.readlink(link) == str(real)
    assert json.loads(real.read_text())["counts"]["open"] == 1
    assert leftovers(tmp_path) == []


def test_o_dash_means_stdout(isolated_home, tmp_path):
    with Listener() as listener:
        proc = run(isolated_home, "scan", "127.0.0.1", "-p", str(listener.port), "--format", "json", "-o", "-",
                   )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["counts"]["open"] == 1
    assert not os.path.exists(os.path.join(ROOT, "-"))


@pytest.mark.skipif(not POSIX, reason="symbolic links and /proc/self/fd are POSIX")
def test_o_refuses_a_link_loop_and_keeps_the_links(isolated_home, tmp_path):
    first, second = tmp_path / "loop1", tmp_path / "loop2"
    os.symlink(second, first)
    os.symlink(first, second)
    proc = run(isolated_home, "scan", "127.0.0.1", "-p", "1", "-o", str(first))
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "loop" in proc.stderr
    assert os.path.islink(first) and os.path.islink(second)   # before: loop1 became a regular file
    with pytest.raises(OSError):
        write_atomically(str(first), "report")
    assert os.path.islink(first) and leftovers(tmp_path) == []


@pytest.mark.skipif(not POSIX, reason="/dev/stdout is POSIX")
@pytest.mark.parametrize("name", ["/dev/stdout", "/dev/stderr", "link"])
@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_o_refuses_the_file_the_programs_own_output_goes_to(isolated_home, tmp_path, name):
    """scan -o /dev/stdout > out.txt used to rename the report over out.txt: the printed
    results then went to a file with no name."""
    if name == "link":
        name = str(tmp_path / "to-stdout")
        os.symlink("/dev/stdout", name)
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    with open(out, "w") as stdout, open(err, "w") as stderr:
        proc = subprocess.run([sys.executable, MAIN, "scan", "127.0.0.1", "-p", "1", "-o", name], cwd=ROOT,
                              stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, env=program_env(isolated_home),
                              timeout=60)
    message = err.read_text()
    assert proc.returncode == 2, message
    assert len(message.strip().splitlines()) == 1 and "-o -" in message and "Traceback" not in message
    assert leftovers(tmp_path) == []


def test_write_atomically_refuses_a_device_even_when_called_directly(tmp_path):
    fifo = tmp_path / "pipe"
    if not POSIX:
        pytest.skip("FIFOs are POSIX")
    os.mkfifo(fifo)
    with pytest.raises(OSError):
        write_atomically(str(fifo), "report\n")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and leftovers(tmp_path) == []


# --- stdout closed or broken: the report is written first ----------------------------------------

@pytest.mark.skipif(not POSIX, reason="closing a descriptor for the child is POSIX")
def test_report_is_written_when_stdout_is_closed(isolated_home, tmp_path):
    out = tmp_path / "r.txt"
    with Listener() as listener:
        proc = run(isolated_home, "scan", "127.0.0.1", "-p", str(listener.port), "-o", str(out),
                   preexec_fn=lambda: os.close(1))
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 0
    assert str(listener.port) in out.read_text()


def test_report_is_written_when_stdout_is_piped_to_head(isolated_home, tmp_path):
    out = tmp_path / "r.json"
    with Listener() as listener:
        child = subprocess.Popen([sys.executable, MAIN, "scan", "127.0.0.1", "-p", f"1-2000,{listener.port}",
                                  "--all", "-o", str(out)], cwd=ROOT, env=program_env(isolated_home),
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            child.stdout.readline()     # like `| head -1`: one line, then the reader is gone
            child.stdout.close()
            _out, err = child.communicate(timeout=60)
        finally:
            if child.poll() is None:
                child.kill()
    assert b"Traceback" not in err and b"Exception ignored" not in err, err
    assert child.returncode == 0
    assert json.loads(out.read_text())["counts"]["open"] >= 1


# --- signals ---------------------------------------------------------------------------------------

def start_slow_scan(home, report, filtered_port, open_port):
    """A scan that waits for silent ports, started so a signal can arrive mid-scan."""
    argv = [sys.executable, MAIN, "scan", "127.0.0.1", "-p", f"{open_port},{filtered_port}", "--timeout", "10",
            "-o", str(report)]
    child = subprocess.Popen(argv, cwd=ROOT, env=program_env(home), stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    child.stdout.readline()   # "Scanning ..." : the scan has begun
    time.sleep(0.5)           # the open port answers at once; the filtered one keeps the scan waiting
    return child


@pytest.mark.skipif(not POSIX, reason="SIGTERM and SIGHUP are POSIX signals")
@pytest.mark.parametrize("signum, code", [(getattr(signal, "SIGTERM", 15), 143), (getattr(signal, "SIGHUP", 1), 129)])
@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_sigterm_and_sighup_mid_scan_keep_partial_results(isolated_home, tmp_path, signum, code):
    report = tmp_path / "partial.json"
    with Listener() as listener, FilteredPort() as filtered:
        child = start_slow_scan(isolated_home, report, filtered.port, listener.port)
        try:
            child.send_signal(signum)
            out, err = child.communicate(timeout=30)
        finally:
            if child.poll() is None:
                child.kill()
    assert child.returncode == code, err
    assert "Traceback" not in err
    saved = json.loads(report.read_text())
    assert saved["interrupted"] is True and saved["complete"] is False
    assert [p["port"] for p in saved["ports"] if p["state"] == "open"] == [listener.port]
    assert str(listener.port) in out                 # and printed
    assert leftovers(tmp_path) == []


WRITER = r"""
import os, sys
from lessons.ui.safe_files import write_atomically
folder, handled = sys.argv[1], sys.argv[2] == "handled"
if not handled:
    import signal
    signal.signal(signal.SIGINT, signal.SIG_DFL)
text = "x" * 4_000_000 + "\n"
print("ready", flush=True)
try:
    for number in range(10_000):
        write_atomically(os.path.join(folder, "report.txt"), f"{number}\n" + text)
except KeyboardInterrupt:
    sys.exit(130)
"""


@pytest.mark.skipif(not POSIX, reason="signals are POSIX")
@pytest.mark.parametrize("signame, handled", [("SIGTERM", "default"), ("SIGINT", "handled"), ("SIGINT", "default"),
                                              ("SIGHUP", "default")])
@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_no_signal_mid_write_leaves_a_temporary_file(tmp_path, signame, handled):
    for attempt in range(3):   # a few different moments in the write
        child = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), handled], cwd=ROOT,
                                 env=dict(os.environ, PYTHONPATH=ROOT), stdout=subprocess.PIPE, text=True)
        try:
            child.stdout.readline()
            time.sleep(0.05 + 0.07 * attempt)
            child.send_signal(getattr(signal, signame))
            child.wait(30)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        assert leftovers(tmp_path) == []
        if (tmp_path / "report.txt").exists():
            content = (tmp_path / "report.txt").read_text()
            assert content.endswith("x\n") and len(content) > 4_000_000   # whole, never half


STARTER = r"""
import sys
sys.argv = [sys.argv[1]] + sys.argv[2:]
with open(sys.argv[0]) as source:
    code = compile(source.read(), sys.argv[0], "exec")
sys.path.insert(0, __import__("os").path.dirname(sys.argv[0]))
try:
    sys.stderr.write("python is up\n"); sys.stderr.flush()
    exec(code, {"__name__": "__main__", "__file__": sys.argv[0]})
except KeyboardInterrupt as interrupt:
    if interrupt.__traceback__.tb_next is not None:
        raise   # raised inside main.py: the test must see it
    sys.exit(130)   # landed in this starter's own lines, before main.py's first line ran
"""


@pytest.mark.skipif(not POSIX, reason="signals are POSIX")
@pytest.mark.parametrize("delay", [0.0, 0.01, 0.03, 0.06, 0.1, 0.2])
@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_ctrl_c_at_start_up_exits_130_quietly(isolated_home, delay):
    """From the first line of main.py on (Python's own start-up before it is out of our hands)."""
    child = subprocess.Popen([sys.executable, "-c", STARTER, MAIN, "lessons"], cwd=ROOT,
                             env=program_env(isolated_home), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    child.stderr.readline()
    time.sleep(delay)
    child.send_signal(signal.SIGINT)
    _out, err = child.communicate(timeout=30)
    frames = re.findall(r'File "([^"]+)"', err)
    # A traceback whose only frame is the starter itself means the signal came before main.py's first line
    # (the harness's own moment); one that names main.py or the program's modules is a real failure.
    assert "Traceback" not in err or frames == ["<string>"], err
    # done already, ended quietly by Ctrl+C, or (Ctrl+C while Python shuts down) ended by the signal itself,
    # which a shell shows as 130 too
    assert child.returncode in (0, 130, -signal.SIGINT)


# --- out of resources --------------------------------------------------------------------------------

LIMITED = r"""
import resource, runpy, sys
kind, value = sys.argv[1], int(sys.argv[2])
resource.setrlimit(getattr(resource, kind), (value, value))
sys.argv = [sys.argv[3]] + sys.argv[4:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def run_limited(home, kind, value, *args):
    return subprocess.run([sys.executable, "-c", LIMITED, kind, str(value), MAIN, *args], cwd=ROOT,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, env=program_env(home), timeout=120)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS behaves this way on Linux")
@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_low_address_space_gives_one_line_never_a_traceback(isolated_home, tmp_path):
    report = tmp_path / "r.json"
    ran_out = 0
    with Listener(greeting=b"SSH-2.0-test\r\n") as listener:
        for megabytes in (20, 25, 30, 33, 36, 40):   # from "imports fail" to "threads fail" to "enough"
            proc = run_limited(isolated_home, "RLIMIT_AS", megabytes * 1_000_000, "scan", "127.0.0.1",
                               "-p", str(listener.port), "--banners", "-o", str(report))
            assert "Traceback" not in proc.stderr, (megabytes, proc.stderr)
            assert proc.returncode in (0, 1), (megabytes, proc.returncode, proc.stderr)
            if proc.returncode == 1:
                ran_out += 1
                assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
            if report.exists():
                assert json.loads(report.read_text())["counts"]["open"] == 1   # whole, with the results
                report.unlink()
    if not ran_out:
        pytest.skip("nothing ran out of memory at these limits on this machine")


def test_no_thread_for_the_banner_pass_keeps_the_scan_and_says_one_line(isolated_home, tmp_path, monkeypatch,
                                                                        capsys):
    import io
    import threading

    from lessons.ui import cli
    from lessons.ui.terminal import Environment
    from scanner import banners

    class NoBannerThreads(threading.Thread):
        def start(self):
            if self.name == "banner":
                raise RuntimeError("can't start new thread")
            super().start()

    monkeypatch.setattr(banners.threading, "Thread", NoBannerThreads)
    report = tmp_path / "r.json"
    stdout, stderr = io.StringIO(), io.StringIO()
    env = Environment(stdin=io.StringIO(""), stdout=stdout, stderr=stderr, colour=False)
    with Listener(greeting=b"SSH-2.0-test\r\n") as listener:
        code = cli.main(["scan", "127.0.0.1", "-p", str(listener.port), "--banners", "-o", str(report)], env)
    assert code == 1
    assert stderr.getvalue().strip().count("\n") == 0 and "can't start new thread" in stderr.getvalue()
    saved = json.loads(report.read_text())
    assert saved["counts"]["open"] == 1 and "banner_seconds" in saved
    assert str(listener.port) in stdout.getvalue()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_NOFILE behaves this way on Linux")
def test_no_file_descriptors_at_start_up_is_one_line(isolated_home):
    proc = run_limited(isolated_home, "RLIMIT_NOFILE", 12, "scan", "127.0.0.1", "-p", "1-100")
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode in (0, 1)
