"""A newcomer is always served: on loopback every client is 127.0.0.1, so the lab sheds the
connection idle longest instead of refusing whoever arrives; a service caps what it buffers in
total; and a lab started with too few file descriptors says one line, with no traceback.

Real sockets, bounded counts, safety timeouts; nothing asserts how long anything took.
"""

import resource
import signal
import socket
import subprocess
import sys
import textwrap

import pytest

from lessons.lab import PracticeLab
from lessons.lab import services as lab_services
from tests.conftest import ROOT, program_env

SAFETY_TIMEOUT = 5.0

TRICKLER = textwrap.dedent("""
    import socket, sys, time
    port, count = int(sys.argv[1]), int(sys.argv[2])
    held = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.setblocking(False)
        held.append(sock)
    print("ready", flush=True)
    end = time.monotonic() + 30
    while time.monotonic() < end and sys.stdin.readable():
        for sock in held:       # one byte of a request that never ends, now and then
            try:
                sock.send(b"G")
            except OSError:
                pass
        time.sleep(0.5)
""")


def needs_files(count):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if min(soft, hard) < count:
        pytest.skip(f"RLIMIT_NOFILE {soft} is too low for this many connections")


def http_get(port):
    with socket.create_connection(("127.0.0.1", port), timeout=SAFETY_TIMEOUT) as sock:
        sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
        return sock.recv(64)


@pytest.mark.slow   # over a third of a second: kept out of the quick loop
def test_one_process_with_400_trickling_connections_and_another_gets_5_of_5_http_answers():
    needs_files(1200)
    with PracticeLab(base_port=0, also_ipv6=False) as lab:
        port = lab.service("http").port
        trickler = subprocess.Popen([sys.executable, "-c", TRICKLER, str(port), "400"], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, text=True)
        try:
            assert trickler.stdout.readline().strip() == "ready"
            answers = [http_get(port) for _ in range(5)]
        finally:
            trickler.kill()
            trickler.wait()
        assert [a.startswith(b"HTTP/1.1 200") for a in answers] == [True] * 5, answers
        assert lab.stats["shed"] >= 400 - lab_services.PER_CLIENT
        assert lab.running and not lab.handler_errors


@pytest.mark.slow   # over a third of a second: kept out of the quick loop
def test_200_echo_clients_that_never_read_do_not_block_an_honest_echo():
    needs_files(700)
    try:
        with socket.socket() as probe:
            probe.bind(("127.0.1.200", 0))
    except OSError as error:
        pytest.skip(f"127.0.1.x is not local here: {error}")
    with PracticeLab(base_port=0, also_ipv6=False) as lab:
        port = lab.service("echo").port
        flooders = []
        try:
            chunk = b"x" * 65536
            for index in range(1, 201):   # 200 addresses, each sending and never reading
                sock = socket.socket()
                sock.bind((f"127.0.1.{index}", 0))
                sock.settimeout(SAFETY_TIMEOUT)
                sock.connect(("127.0.0.1", port))
                sock.setblocking(False)
                flooders.append(sock)
            for _ in range(8):            # fill the kernel's and the lab's buffers
                for sock in flooders:
                    try:
                        sock.send(chunk)
                    except OSError:
                        pass
            served = 0
            for attempt in range(5):
                with socket.create_connection(("127.0.0.1", port), timeout=SAFETY_TIMEOUT) as honest:
                    line = f"honest {attempt}\n".encode()
                    honest.sendall(line)
                    heard = b""
                    while not heard.endswith(b"\n"):
                        piece = honest.recv(100)
                        if not piece:
                            break
                        heard += piece
                    served += heard == line
            assert served == 5
            assert lab.running and not lab.handler_errors
        finally:
            for sock in flooders:
                sock.close()


@pytest.mark.parametrize("files", [16, 24, 32])
@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_the_lab_out_of_files_says_one_line_and_no_traceback(isolated_home, files):
    """Too few files for the lab: one line and exit 1.  Just enough: it runs until Ctrl+C.
    Either way no asyncio "Exception ignored ... '_ssock'" traceback."""
    def limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (files, files))

    proc = subprocess.Popen([sys.executable, "main.py", "lab", "--base-port", "0"], cwd=ROOT, preexec_fn=limit,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=program_env(isolated_home))
    try:
        proc.wait(8)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)   # it is running: end it as a person would
    out, err = proc.communicate(timeout=20)
    assert "Traceback" not in err and "_ssock" not in err and "Exception ignored" not in err, err
    if proc.returncode == 1:
        assert len(err.strip().splitlines()) == 1 and "files" in err
    else:
        assert "every socket is closed" in out
    if files == 16:
        assert proc.returncode == 1, "16 files are too few for the lab"
