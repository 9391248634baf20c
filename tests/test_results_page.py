"""The results page: first what was scanned, last what to do next.

A results table read a week later (or on a classmate's screen) means little without the
scan behind it, so the page opens with the target, the range, the timeout and the time
taken.  "What this means" ends with advice the counts cannot give: the program behind an
unexpected open port (``ss -ltnp``), a second look with a longer timeout before blaming a
firewall, and the practice lab when everything was closed.  Commands are never folded in
the middle, so a learner can copy them whole.
"""

from __future__ import annotations

import io
import re

import pytest

from lessons.ui.app import App
from lessons.ui.i18n import Translator
from lessons.ui.screens import main_menu
from lessons.ui.terminal import Environment
from tests.servers import FilteredPort, Listener, free_port

WORDS = {
    "en": {"scanned": "Scanned 127.0.0.1:", "header": "PORT", "next": "What to do next", "lab": "practice lab",
           "timeout": "timeout 0.5 s", "took": r"took \d+\.\d\d s", "longer": "a 2 s timeout"},
    "id": {"scanned": "Dipindai 127.0.0.1:", "header": "PORT", "next": "Langkah berikutnya", "lab": "lab latihan",
           "timeout": "batas waktu 0,5 detik", "took": r"selama \d+,\d\d detik", "longer": "batas waktu 2 detik"},
}


def quick_scan(ports: str, language: str, width: int = 80) -> str:
    lines = ["2", "127.0.0.1", ports, "0.5", "y", "", "0"]
    stdin = io.StringIO("".join(line + "\n" for line in lines))
    stdout = io.StringIO()
    env = Environment(stdin=stdin, stdout=stdout, stderr=stdout, colour=False, language=language, width=width)
    main_menu.run(App(env, Translator(language)))
    return stdout.getvalue()


def results_page(screen: str, language: str) -> str:
    return screen[screen.index(WORDS[language]["scanned"]):]


@pytest.mark.parametrize("language", ["en", "id"])
def test_the_page_starts_with_target_range_timeout_and_time_taken(language):
    words = WORDS[language]
    with Listener() as listener:
        closed = free_port()
        screen = quick_scan(f"{closed},{listener.port}", language)
    page = results_page(screen, language)
    first = " ".join(page.split(words["header"], 1)[0].split())      # everything above the table
    assert f"{min(closed, listener.port)},{max(closed, listener.port)}" in first   # the range as typed
    assert words["timeout"] in first and re.search(words["took"], first)


@pytest.mark.parametrize("language", ["en", "id"])
def test_an_open_port_gets_the_command_that_names_its_program(language):
    with Listener() as listener:
        page = results_page(quick_scan(str(listener.port), language), language)
    advice = page.split(WORDS[language]["next"], 1)[1]
    assert str(listener.port) in advice
    assert "ss -ltnp" in advice and "netstat -ano" in advice


@pytest.mark.parametrize("language", ["en", "id"])
def test_a_filtered_port_gets_a_second_look_with_a_longer_timeout_then_the_firewall(language):
    with FilteredPort() as filtered:
        page = results_page(quick_scan(str(filtered.port), language), language)
    advice = page.split(WORDS[language]["next"], 1)[1]
    assert str(filtered.port) in advice and WORDS[language]["longer"] in advice
    assert "firewall" in advice.lower() and "sudo nft list ruleset" in advice


@pytest.mark.parametrize("language", ["en", "id"])
def test_all_closed_points_at_the_practice_lab(language):
    closed = free_port()
    advice = results_page(quick_scan(str(closed), language), language).split(WORDS[language]["next"], 1)[1]
    assert WORDS[language]["lab"] in advice and "ss -ltnp" not in advice


@pytest.mark.parametrize("width", [60, 80])
def test_commands_and_numbers_with_units_are_never_folded_apart(width):
    with Listener() as listener, FilteredPort() as filtered:
        for language in ("en", "id"):
            page = results_page(quick_scan(f"{listener.port},{filtered.port}", language, width), language)
            lines = page.splitlines()
            for command in ("ss -ltnp", "netstat -ano", "sudo nft list ruleset", "lsof -i -P"):
                assert any(command in line for line in lines), (language, width, command)
            assert all(len(line) < width for line in lines if not line.startswith("Save"))
            joined = "\n".join(lines)
            assert not re.search(r"\d\n(s|detik)\b", joined)


def test_many_open_ports_are_named_a_few_at_a_time():
    with Listener() as a, Listener() as b, Listener() as c, Listener() as d:
        ports = sorted(listener.port for listener in (a, b, c, d))
        advice = results_page(quick_scan(",".join(map(str, ports)), "en"), "en").split("What to do next", 1)[1]
    assert ", ".join(map(str, ports[:3])) + " and 1 more" in " ".join(advice.split())


def test_a_network_s_page_names_the_block_and_how_many_addresses_it_holds():
    with Listener() as listener:
        lines = ["2", "127.0.0.1-2", f"{listener.port},{free_port()}", "0.5", "y", "", "0"]
        stdin = io.StringIO("".join(line + "\n" for line in lines))
        stdout = io.StringIO()
        env = Environment(stdin=stdin, stdout=stdout, stderr=stdout, colour=False, language="en")
        main_menu.run(App(env, Translator("en")))
    screen = " ".join(stdout.getvalue().split())
    assert "Scanned 127.0.0.1-2 (2 addresses): 2 ports each" in screen and "timeout 0.5 s" in screen
    assert f"127.0.0.1:{listener.port}" in screen.split("What to do next", 1)[1]
