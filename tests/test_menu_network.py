"""Networks in the menu, scripted: the guided walk given a block, and the practice network graded.

Loopback only: Linux routes all of 127.0.0.0/8 to this computer, so ``127.0.0.1-3`` is
three hosts that answer, and a listener on 127.0.0.2 is an open port on the second one.
"""

import io
import json
import re

import pytest

from lessons.ui.i18n import Translator
from lessons.lab.layout import LabNote
from lessons.lab.network import PracticeNetwork
from lessons.ui.screens.lab import scan_the_network
from lessons.ui.app import App
from lessons.ui.screens import main_menu
from lessons.ui.terminal import Environment
from tests.servers import Listener, free_lab_base


@pytest.fixture
def lab_on_a_free_block(monkeypatch):
    """The menu's lab starts on a free block of ports, not the default 8000-8099 another lab may hold."""
    import functools
    import socket

    from lessons.ui.screens import lab as lab_screen

    try:
        with socket.socket() as probe:
            probe.bind(("127.42.0.1", 0))
    except OSError as error:
        pytest.skip(f"127.42.0.1 is not usable here ({error}): the practice network needs 127.42.0.0/29 on loopback")
    try:
        base = free_lab_base()
    except OSError as error:
        pytest.skip(f"no free block of 100 ports on the lab's addresses: {error}")
    monkeypatch.setattr(lab_screen, "start_lab", functools.partial(lab_screen.start_lab, base_port=str(base)))
    return base


def run_menu(lines, language="en"):
    stdin = io.StringIO("".join(line + "\n" for line in lines))
    stdout = io.StringIO()
    env = Environment(stdin=stdin, stdout=stdout, stderr=stdout, colour=False, language=language)
    menu = App(env, Translator(language))
    code = main_menu.run(menu)
    return code, stdout.getvalue(), menu


def test_guided_walk_scans_a_network_host_by_host(second_loopback, tmp_path):
    port = second_loopback.port
    saved = tmp_path / "net.json"
    code, screen, _menu = run_menu(["1", "127.0.0.1-3", f"1-20,{port}", "0.3", "y", "j", str(saved), "0"])
    assert code == 0 and "Traceback" not in screen
    assert "What to scan: the target" in screen          # the host step's lesson
    assert "hosts = ['127.0.0.1', ..., '127.0.0.3']   # 3 addresses" in screen   # its code, for a block
    assert "I own these 3 addresses (127.0.0.1-3) or have written permission" in screen   # consent names the block
    assert "Host discovery first" in screen
    # slow motion on the host with an open port, with the real call
    assert "Replayed on one of the 3 hosts that are up: 127.0.0.2." in screen
    assert f"s.connect_ex(('127.0.0.2', {port}))  # -> 0" in screen
    # the results: a block per host, the totals, then the map with one row per host
    assert "Host 127.0.0.1 is up (conn-refused from port 22): 21 closed ports" in screen
    assert "Host 127.0.0.2 is up" in screen and re.search(rf"{port}/tcp\s+open", screen)
    assert re.search(r"3 hosts up, 0 down, in \d+\.\d\d s", screen)
    rows = re.findall(r"^(127\.0\.0\.\d) ([.O]+)$", screen, re.MULTILINE)
    assert [address for address, _cells in rows] == ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
    assert [cells.count("O") for _address, cells in rows] == [0, 1, 0]
    assert screen.index("3 hosts up") < screen.index("one row per host") < screen.index("What this means")
    data = json.loads(saved.read_text())
    assert [host["address"] for host in data["hosts"]] == ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
    assert data["hosts"][1]["ports"][0] == {**data["hosts"][1]["ports"][0], "port": port, "state": "open"}
    assert data["consent"]["block"] == "127.0.0.1-3" and data["consent"]["addresses"] == 3


def test_quick_scan_of_a_network_in_indonesian():
    with Listener("127.0.0.1") as listener:
        code, screen, _menu = run_menu(["2", "127.0.0.1,127.0.0.3", str(listener.port), "0,3", "y", "", "0"], "id")
    assert code == 0 and "Traceback" not in screen
    assert "127.0.0.1,127.0.0.3: 2 alamat" in screen
    assert "Apakah Anda pemilik 2 alamat ini (127.0.0.1,127.0.0.3)" in screen
    assert re.search(r"2 host aktif, 0 tidak aktif, dalam \d+,\d\d detik", screen)   # decimal comma
    assert "Host 127.0.0.3 aktif" in screen


def test_a_single_address_keeps_the_single_host_walk():
    with Listener() as listener:
        code, screen, _menu = run_menu(["2", "127.0.0.1", str(listener.port), "0.3", "y", "", "0"])
    assert "127.0.0.1 -> 127.0.0.1" in screen and "hosts up" not in screen and "Host discovery" not in screen
    assert re.search(rf"{listener.port}/tcp\s+open", screen)


def test_a_bad_network_is_one_line_and_asked_again_and_refusal_sends_nothing():
    with Listener("127.0.0.1") as listener:
        code, screen, _menu = run_menu(["2", "127.0.0.1-300", "127.0.0.0/33", "127.0.0.1-2", str(listener.port),
                                        "0.3", "n", "0"])
        assert listener.accepted == 0
    assert code == 0 and "Traceback" not in screen
    assert screen.count("[1/4] Host to scan") == 3                      # asked again after each bad block
    assert "Scan cancelled" in screen and "hosts up" not in screen


@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_practice_network_from_the_lab_menu_is_graded_host_by_host(lab_on_a_free_block):
    code, screen, menu = run_menu(["4", "5", "y", "", "0", "0"])
    assert code == 0 and "Traceback" not in screen
    assert "5  Scan the practice network and check the answer" in screen
    assert "I own these 8 addresses (127.42.0.0/29)" in screen            # consent names the whole block
    assert "8 hosts up, 0 down" in screen
    assert "Checking your scan of the practice network 127.42.0.0/29, host by host" in screen
    grading = screen[screen.index("Checking your scan of the practice network"):]
    for address, name in (("127.42.0.1", "web server"), ("127.42.0.2", "made-up practice database behind a firewall"),
                          ("127.42.0.3", "one unusual service"), ("127.42.0.4", "nothing open")):
        assert f"{address} ({name}) is up: right." in grading
    assert grading.count("Every lab port matches the known answer.") == 4     # all hosts match
    assert grading.count("is up with nothing open: right.") == 4              # .0, .5, .6, .7
    assert "filtered: right. Its accept queue is full" in grading             # the reason for each answer
    assert "looked down" not in grading and "expected" not in grading
    assert menu.lab is None


@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_practice_network_graded_in_indonesian(lab_on_a_free_block):
    code, screen, _menu = run_menu(["4", "5", "y", "", "0", "0"], "id")
    grading = screen[screen.index("Memeriksa pemindaian jaringan latihan"):]
    assert grading.count("Semua port lab cocok dengan jawaban yang diketahui.") == 4
    assert "127.42.0.1 (server web)" in grading


class _NoNetworkLab:
    """A lab whose practice network could not start (as on macOS, where only 127.0.0.1 exists)."""

    def __init__(self, notes):
        self.network = PracticeNetwork(hosts=())
        self.notes = notes


@pytest.mark.parametrize("language, words", [("en", "not available here"), ("id", "tidak tersedia di sini")])
def test_without_the_practice_network_one_line_says_how_to_add_an_address(language, words):
    stdout = io.StringIO()
    env = Environment(stdin=io.StringIO(""), stdout=stdout, colour=False, language=language)
    menu = App(env, Translator(language))
    note = LabNote("network_unavailable", {"address": "127.42.0.1", "detail": "Cannot assign requested address",
                                           "command": "sudo ifconfig lo0 alias 127.42.0.1 up"})
    menu.lab = _NoNetworkLab([note, note])
    scan_the_network(menu)
    text = " ".join(stdout.getvalue().split())
    assert words in text and "sudo ifconfig lo0 alias 127.42.0.1 up" in text
    assert text.count("sudo ifconfig") == 1                              # one line, not one per host
