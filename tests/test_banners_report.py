"""Banner grabbing (scanner/banners.py) and reports as data (scanner/report.py)."""

import csv
import io
import json
import os
import socket
import unicodedata

import pytest

from scanner import services
from scanner.banners import MAX_BANNER_LENGTH, clean_banner, grab_banner, grab_banners
from scanner.fingerprints import http_summary
from scanner.inputs import parse_target
from lessons.ui.safe_files import write_atomically
from scanner.report import CSV_COLUMNS, listed_results, to_csv, to_dict, to_json, with_banners
from scanner.results import PortResult, PortState, Reason, ScanReport
from scanner.services import HTTP_LIKE_PORTS
from tests.servers import Listener, SilentHTTPServer, free_port

HOSTILE = (b"\x1b[2J\x1b[H"                 # clear the screen, cursor home
           b"\x1b]0;pwned-title\x07"         # OSC: set the window title
           b"SSH-2.0-evil"
           b"\x1b[31m\x1b[5m"                # red, blinking
           b"\xc2\x9b6n"                     # C1 CSI (U+009B) "device status report"
           b"\xc2\x85\xc2\x90\x00\x07\x08"   # C1 NEL and DCS, NUL, BEL, backspace
           b" ok\r\n"
           b"second line\r\n")


def assert_printable(text):
    assert all(unicodedata.category(ch)[0] != "C" for ch in text), repr(text)
    assert "\x1b" not in text and "\n" not in text and "\r" not in text


# --- grabbing ---------------------------------------------------------------------------------

def test_ssh_greeting_is_the_banner():
    with Listener(greeting=b"SSH-2.0-test\r\n") as listener:
        assert grab_banner("127.0.0.1", socket.AF_INET, listener.port, timeout=1.0) == "SSH-2.0-test"


def test_hostile_banner_is_cleaned_to_printable_text():
    with Listener(greeting=HOSTILE) as listener:
        banner = grab_banner("127.0.0.1", socket.AF_INET, listener.port, timeout=1.0)
    assert_printable(banner)
    assert banner == "SSH-2.0-evil ok"
    assert "pwned" not in banner  # the whole OSC sequence went, not just its ESC


def test_silent_port_gets_a_polite_http_request_as_fallback():
    with SilentHTTPServer(server="tiny-test/1.0") as server:
        assert server.port not in HTTP_LIKE_PORTS  # so grab_banner waits first, then asks
        banner = grab_banner("127.0.0.1", socket.AF_INET, server.port, timeout=0.3)
    assert banner == "HTTP/1.0 200 OK | Server: tiny-test/1.0"


@pytest.mark.parametrize("host_header, sent", [("localhost", "localhost"), ("", "127.0.0.1"),
                                                ("b\u00fccher.example", "xn--bcher-kva.example")])
def test_http_like_port_is_asked_first_with_a_host_header(monkeypatch, host_header, sent):
    """Ports in HTTP_LIKE_PORTS (80, 8080...) get HEAD at once.  Our server is on a port-0 port,
    so that port is declared HTTP-like for this test instead of binding a fixed port."""
    with SilentHTTPServer(server="tiny-test/1.0") as server:
        monkeypatch.setattr(services, "HTTP_LIKE_PORTS", frozenset({server.port}))
        banner = grab_banner("127.0.0.1", socket.AF_INET, server.port, timeout=1.0, host_header=host_header)
    assert banner == "HTTP/1.0 200 OK | Server: tiny-test/1.0"
    assert server.requests == [("HEAD / HTTP/1.0", sent)]


def test_port_that_says_nothing_and_hangs_up_has_no_banner():
    with Listener() as listener:  # accepts and closes at once
        assert grab_banner("127.0.0.1", socket.AF_INET, listener.port, timeout=0.3) == ""


def test_closed_port_has_no_banner():
    assert grab_banner("127.0.0.1", socket.AF_INET, free_port(), timeout=0.3) == ""


def test_grab_banners_keeps_only_ports_that_spoke():
    with Listener(greeting=b"220 mail ESMTP ready\r\n") as mail, Listener(greeting=b"SSH-2.0-x\r\n") as ssh, \
            Listener() as quiet:
        found = grab_banners("127.0.0.1", socket.AF_INET, [mail.port, ssh.port, quiet.port, free_port()],
                             timeout=0.3)
    assert found == {mail.port: "220 mail ESMTP ready", ssh.port: "SSH-2.0-x"}
    assert grab_banners("127.0.0.1", socket.AF_INET, []) == {}


# --- cleaning -----------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    (b"SSH-2.0-OpenSSH_9.2\r\n", "SSH-2.0-OpenSSH_9.2"),
    (b"\x1b[2Jclear", "clear"),
    (b"\x1b]0;title\x07after", "after"),
    (b"\x1b]2;title\x1b\\after", "after"),
    (b"a\x00b\x07c", "abc"),
    (b"tab\there", "tab here"),
    (b"  lots   of   space  ", "lots of space"),
    ("caf\u00e9 \u2603".encode(), "caf\u00e9 \u2603"),
    (b"", ""),
])
def test_clean_banner(raw, expected):
    assert clean_banner(raw) == expected


def test_clean_banner_drops_c1_controls_and_bidi_overrides():
    raw = "x\u009b31my\u0085z\u202eevil\u200b".encode("utf-8")
    cleaned = clean_banner(raw)
    assert_printable(cleaned)
    assert cleaned == "xyzevil"


def test_clean_banner_survives_invalid_utf8():
    cleaned = clean_banner(b"\xff\xfe\x9bbinary\x80")
    assert_printable(cleaned)
    assert "binary" in cleaned


def test_clean_banner_caps_the_length():
    cleaned = clean_banner(b"A" * 500)
    assert len(cleaned) == MAX_BANNER_LENGTH and cleaned.endswith("...")
    assert clean_banner(b"B" * 10, limit=5) == "BB..."


@pytest.mark.parametrize("raw, expected", [
    (b"HTTP/1.1 404 Not Found\r\nDate: today\r\nServer: nginx/1.25\r\n\r\n",
     b"HTTP/1.1 404 Not Found | Server: nginx/1.25"),
    (b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", b"HTTP/1.0 200 OK"),
    (b"HTTP/1.0 200 OK\nserver: lower\n\n", b"HTTP/1.0 200 OK | server: lower"),
    (b"", b""),
])
def test_summarise_http(raw, expected):
    assert http_summary(raw) == expected


# --- reports ------------------------------------------------------------------------------------

def make_report(**changes):
    results = [PortResult(22, PortState.OPEN, Reason.SYN_ACK, service="ssh", rtt=0.001),
               PortResult(23, PortState.CLOSED, Reason.CONN_REFUSED),
               PortResult(80, PortState.FILTERED, Reason.NO_RESPONSE, service="http")]
    fields = dict(target=parse_target("127.0.0.1"), ports_requested=(22, 23, 80), results=results, timeout="0.5",
                  final_timeout=0.5, workers=1000, started="2024-01-01T00:00:00+00:00", elapsed_seconds=0.01,
                  complete=True)
    fields.update(changes)
    return ScanReport(**fields)


def test_to_dict_lists_non_closed_ports_and_counts_all():
    data = to_dict(make_report())
    assert data["counts"] == {"open": 1, "closed": 1, "filtered": 1}
    assert [p["port"] for p in data["ports"]] == [22, 80]
    assert data["ports"][0] == {"port": 22, "protocol": "tcp", "state": "open", "reason": "syn-ack",
                                "service": "ssh", "banner": "", "tries": 1,
                                "service_source": "port-table"}
    assert [p["port"] for p in to_dict(make_report(), include_closed=True)["ports"]] == [22, 23, 80]
    assert json.loads(to_json(make_report())) == data


def test_partial_report_says_so():
    report = make_report(results=make_report().results[:1], complete=False, interrupted=True)
    data = to_dict(report)
    assert data["complete"] is False
    assert data["ports_scanned"] == 1 and data["ports_requested"] == 3


def test_csv_rows_and_hostile_banner_quoting():
    report = with_banners(make_report(), {22: clean_banner(b'SSH-2.0-"quoted", with comma\x1b[2J')})
    rows = list(csv.DictReader(io.StringIO(to_csv(report))))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert [r["port"] for r in rows] == ["22", "80"]
    assert rows[0]["banner"] == 'SSH-2.0-"quoted", with comma'
    assert len(list(csv.DictReader(io.StringIO(to_csv(report, include_closed=True))))) == 3


def test_with_banners_returns_a_copy():
    original = make_report()
    changed = with_banners(original, {22: "SSH-2.0-x", 9999: "ignored"})
    assert changed.results[0].banner == "SSH-2.0-x"
    assert original.results[0].banner == ""
    assert listed_results(changed) == [changed.results[0], changed.results[2]]


def test_write_atomically_replaces_the_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "report.json"
    path.write_text("old\n")
    write_atomically(str(path), to_json(make_report()))
    assert json.loads(path.read_text(encoding="utf-8"))["complete"] is True
    assert os.listdir(tmp_path) == ["report.json"]


def test_write_atomically_keeps_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "report.json"
    path.write_text("old\n")
    with pytest.raises(TypeError):
        write_atomically(str(path), None)  # fails half-way, after the temporary file was made
    assert path.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["report.json"]


def test_write_atomically_keeps_unicode(tmp_path):
    path = tmp_path / "r.txt"
    write_atomically(str(path), "caf\u00e9 \u2603\n")
    assert path.read_bytes() == "caf\u00e9 \u2603\n".encode("utf-8")


# --- the banner pass as a whole: one deadline, progress, and a prompt stop ------------------------

class SilentPorts:
    """Ports that complete the handshake and then say nothing, ever (listen, never accept)."""

    def __init__(self, count: int) -> None:
        self.socks = []
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sock.listen(16)
            self.socks.append(sock)
        self.ports = [sock.getsockname()[1] for sock in self.socks]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for sock in self.socks:
            sock.close()


def test_the_banner_pass_budget_grows_with_open_ports_and_is_capped():
    from scanner.banners import PASS_CAP_SECONDS, pass_budget

    assert pass_budget(0, 3.0) == 0
    assert pass_budget(1, 3.0) < pass_budget(40, 3.0) <= PASS_CAP_SECONDS
    assert pass_budget(2000, 3.0) == PASS_CAP_SECONDS      # 2000 silent ports: capped, not 750 s


def test_a_banner_pass_over_silent_ports_shows_progress_and_stops_when_asked():
    import threading

    stop, calls, finished = threading.Event(), [], []

    def progress(done, total, found):
        calls.append((done, total, found))
        stop.set()   # like Ctrl+C as soon as the first progress line shows

    with SilentPorts(40) as silent:
        worker = threading.Thread(target=lambda: finished.append(
            grab_banners("127.0.0.1", socket.AF_INET, silent.ports, timeout=3.0, progress=progress, stop=stop)))
        worker.start()
        worker.join(15)   # a safety net: the pass would take 18 s if the stop were ignored
        assert not worker.is_alive()
    assert finished == [{}]
    assert calls[0][1] == 40 and calls[-1] == (40, 40, 0)


@pytest.mark.skipif(os.name != "posix", reason="sending SIGINT to a child is POSIX")
@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_ctrl_c_twice_in_the_banner_pass_ends_at_once_without_a_traceback(isolated_home, tmp_path):
    import json
    import signal
    import subprocess
    import sys
    import time

    from tests.conftest import ROOT, program_env

    report = tmp_path / "r.json"
    with SilentPorts(40) as silent:
        child = subprocess.Popen([sys.executable, os.path.join(ROOT, "main.py"), "scan", "127.0.0.1", "-p",
                                  ",".join(map(str, silent.ports)), "--banners", "--timeout", "1", "-o", str(report)],
                                 cwd=ROOT, env=program_env(isolated_home), stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            child.stdout.readline()        # "Scanning ..."
            time.sleep(1.0)                # the scan of open ports is over in milliseconds: now banners
            child.send_signal(signal.SIGINT)
            time.sleep(0.2)
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
            out, err = child.communicate(timeout=15)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
    assert "Traceback" not in err, err
    assert child.returncode == 130
    saved = json.loads(report.read_text())
    assert saved["counts"]["open"] == 40 and saved["interrupted"] is True
