"""--retries: parsed, refused with a learner's message, carried to the engine and the report; the engine's notes."""

import json
import subprocess
import sys

import pytest

from lessons.ui.output import engine_notes
from lessons.ui.i18n import Translator
from scanner.errors import InputError
from scanner.inputs import parse_retries, parse_target
from scanner.results import ScanReport
from tests.conftest import ROOT, program_env
from tests.servers import FilteredPort, Listener


def run(home, *args):
    proc = subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, env=program_env(home), timeout=60)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    return proc


@pytest.mark.parametrize("text, expected", [("0", 0), (" 3 ", 3), ("10", 10), ("auto", None), (None, None)])
def test_parse_retries(text, expected):
    assert parse_retries(text) == expected


@pytest.mark.parametrize("text, code", [("11", "retries.out_of_range"), ("-1", "retries.not_number"),
                                        ("1.5", "retries.not_number"), ("two", "retries.not_number"),
                                        ("", "retries.not_number")])
def test_parse_retries_refuses_with_a_learner_message(text, code):
    with pytest.raises(InputError) as caught:
        parse_retries(text)
    assert caught.value.code == code
    assert str(caught.value)


@pytest.mark.parametrize("value", ["11", "many"])
@pytest.mark.slow   # over a third of a second: kept out of the quick loop
def test_bad_retries_is_one_line_and_exit_2(isolated_home, value):
    proc = run(isolated_home, "scan", "127.0.0.1", "-p", "1", "--retries", value)
    assert proc.returncode == 2
    assert len([line for line in proc.stderr.splitlines() if line.strip()]) == 1
    assert "etries" in proc.stderr


@pytest.mark.slow   # over a third of a second: kept out of the quick loop
def test_retries_reach_the_engine_and_the_report(isolated_home):
    with Listener() as listener, FilteredPort() as filtered:
        spec = f"{listener.port},{filtered.port}"
        proc = run(isolated_home, "scan", "127.0.0.1", "-p", spec, "--timeout", "0.2", "--retries", "1",
                   "--format", "json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    tries = {row["port"]: (row["state"], row["tries"]) for row in report["ports"]}
    assert tries == {listener.port: ("open", 1), filtered.port: ("filtered", 2)}
    assert report["retried"] == 0 and report["rate_limit_per_second"] is None


def _report(**fields):
    return ScanReport(target=parse_target("127.0.0.1"), ports_requested=(1,), results=[], timeout="1",
                      final_timeout=1.0, workers=1, started="", elapsed_seconds=0.0, complete=True, **fields)


def test_notes_say_what_the_engine_noticed():
    english = Translator("en")
    assert engine_notes(_report(), english) == []
    notes = engine_notes(_report(retried=12, rate_limit_per_second=500), english)
    assert notes == ["12 ports answered only on a retry: the network lost packets.",
                     "The target answered at most ~500 RSTs a second; the scan slowed down to hear them all."]
    assert engine_notes(_report(retried=1), english) == ["1 port answered only on a retry: the network lost packets."]
    indonesian = engine_notes(_report(retried=12, rate_limit_per_second=500), Translator("id"))
    assert len(indonesian) == 2 and "12" in indonesian[0] and "500" in indonesian[1]


def test_a_udp_rate_limit_is_about_icmp_errors():
    notes = engine_notes(_report(protocol="udp", rate_limit_per_second=20), Translator("en"))
    assert notes == ["The target answered at most ~20 ICMP errors a second; the scan slowed down to hear them all."]
