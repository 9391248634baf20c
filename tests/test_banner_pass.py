"""The banner pass: bounded in time, safe to open in a spreadsheet, on when the setting says so."""

import io
import socket
import threading

import pytest

from lessons.ui.app import App
from lessons.ui.i18n import Translator
from lessons.ui.screens import main_menu
from lessons.ui.terminal import Environment
from scanner.banners import grab_banner
from scanner.inputs import parse_targets
from scanner.network import scan_network
from scanner.report import to_csv
from scanner.results import PortResult, PortState, Reason
from tests.servers import Listener


def run_menu(lines):
    stdout = io.StringIO()
    env = Environment(stdin=io.StringIO("".join(line + "\n" for line in lines)), stdout=stdout, colour=False)
    assert main_menu.run(App(env, Translator("en"))) == 0
    return stdout.getvalue()


# --- --banners over a network: one deadline for the whole pass --------------------------------------

def test_network_banner_pass_shares_one_deadline_across_hosts(monkeypatch):
    """Before, each host got its own capped pass, one after another: 4096 hosts with silent
    open ports could cost 30 s each.  Now one deadline covers them all and stops the host
    being read when it passes; later hosts are not started."""
    from scanner import banners
    from scanner.request import read_network_banners as _read_banners

    calls = []

    def silent_service(address, family, ports, timeout=1.0, host_header="", progress=None, stop=None, **_):
        calls.append(address)
        stopped = stop.wait(10)   # a silent port: only the deadline ends it (10 s: a safety bound)
        calls.append(stopped)
        return {}

    monkeypatch.setattr(banners, "identify_services", silent_service)
    monkeypatch.setattr(banners, "PASS_CAP_SECONDS", 0.2)
    with Listener() as first, Listener(host="127.0.0.2") as second:
        network = scan_network(parse_targets("127.0.0.1-2"), sorted({first.port, second.port}), ping=False)
    _read_banners(network)
    assert calls == ["127.0.0.1", True]   # stopped by the shared deadline; 127.0.0.2 never started
    assert not network.interrupted and all(host.report is not None for host in network.hosts)


def test_banners_cannot_start_a_spreadsheet_formula():
    from scanner.results import ScanReport, Target
    target = Target("127.0.0.1", "127.0.0.1", "127.0.0.1", socket.AF_INET, ("127.0.0.1",))
    result = PortResult(22, PortState.OPEN, Reason.SYN_ACK, banner='=HYPERLINK("http://x","y")', service="@ssh")
    report = ScanReport(target, (22,), [result], "1", 1.0, 1, "", 0.0, True)
    rows = to_csv(report).splitlines()
    assert rows[1].split(",")[4] == "'@ssh"
    assert "'=HYPERLINK" in rows[1]


@pytest.mark.slow   # over a third of a second: kept out of the quick loop
def test_a_server_that_drips_bytes_cannot_hold_the_banner_pass():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    stop = threading.Event()

    def drip():
        conn, _ = server.accept()
        with conn:
            while not stop.wait(0.05):
                try:
                    conn.sendall(b"x")  # never a newline, never done
                except OSError:
                    return

    threading.Thread(target=drip, daemon=True).start()
    outcome = []
    grabber = threading.Thread(target=lambda: outcome.append(
        grab_banner("127.0.0.1", socket.AF_INET, server.getsockname()[1], timeout=0.2)), daemon=True)
    grabber.start()
    grabber.join(30)  # a guard against a hang, not a speed check
    stop.set()
    server.close()
    assert not grabber.is_alive(), "grab_banner never returned"
    assert outcome and set(outcome[0]) <= {"x"}


def test_banners_setting_shows_banners_in_a_quick_scan():
    with Listener(greeting=b"SSH-2.0-hello_class\r\n") as listener:
        screen = run_menu(["6", "5", "0", "2", "127.0.0.1", str(listener.port), "0.5", "y", "", "0"])
    assert "| SSH-2.0-hello_class" in screen
