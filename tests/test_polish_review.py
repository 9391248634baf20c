"""Findings of the independent reviews, each pinned by a test that failed before its fix."""

import io
import os
import subprocess
import sys

import pytest

from lessons.ui.i18n import Translator
from scanner.errors import TargetError
from scanner.inputs import parse_target, parse_targets
from tests.conftest import ROOT, program_env


def run_program(home, *args, language="en"):
    return subprocess.run([sys.executable, os.path.join(ROOT, "main.py"), *args], capture_output=True,
                          env=program_env(home, PYTHONIOENCODING="utf-8", LANGUAGE=language), timeout=60)


def refusal(parse, text):
    with pytest.raises(TargetError) as caught:
        parse(text)
    return caught.value


# 1. Escape sequences around an address: said so, not "127.0.0.1 is not a host name".
@pytest.mark.parametrize("parse", [parse_target, parse_targets])
@pytest.mark.parametrize("text", ["\x1b[31m127.0.0.1\x1b[0m", "127.0.0.1\x07", "\x1b]0;x\x07localhost",
                                  "\x1b[31m127.0.0.0/29"])
def test_escape_sequences_in_a_host_are_named_as_such(parse, text):
    error = refusal(parse, text)
    assert error.code == "target.control_chars"
    assert "not a host name" not in str(error) and "escape sequences" in str(error)
    for language in ("en", "id"):
        message = Translator(language).error(error)
        assert "\n" not in message and "\x1b" not in message and "{" not in message


def test_escape_sequences_on_the_command_line_get_one_line_in_both_languages(isolated_home):
    for language, word in (("en", "escape sequences"), ("id", "urutan escape")):
        result = run_program(isolated_home, "scan", "\x1b[31m127.0.0.1\x1b[0m", "-p", "1", language=language)
        output = (result.stdout + result.stderr).decode()
        assert result.returncode == 2, output
        assert word in output and "host name" not in output and "bukan nama host" not in output
        assert len(output.strip().splitlines()) == 1, output


# 2. A very long host name is too long, not "use letters, digits...".
@pytest.mark.parametrize("text", ["a" * 5000, "a." * 127 + "b", ("x" * 60 + ".") * 5])
def test_a_host_name_longer_than_dns_allows_is_called_too_long(text):
    error = refusal(parse_target, text)
    assert error.code == "target.too_long"
    assert "253" in str(error) and str(len(text)) in str(error)
    assert "253" in Translator("id").error(error)


def test_a_long_name_that_fits_is_still_judged_by_its_characters():
    assert refusal(parse_target, "a" * 200 + "!").code == "target.bad_chars"


# 6. Shorthand IPv4 forms are refused alike, with the dotted form to write instead.
@pytest.mark.parametrize("text, address", [("127.1", "127.0.0.1"), ("0x7f.1", "127.0.0.1"),
                                           ("0x7f000001", "127.0.0.1"), ("1.2.3", "1.2.0.3"),
                                           ("127.0.0.01", "127.0.0.1")])
def test_shorthand_ipv4_forms_are_refused_the_same_way(text, address):
    for parse in (parse_target, parse_targets):
        error = refusal(parse, text)
        assert error.code == "target.short_ipv4"
        assert "a.b.c.d" in str(error) and address in str(error)
        assert "a.b.c.d" in Translator("id").error(error)


def test_numbers_that_no_program_reads_as_an_address_stay_bad_ipv4():
    assert refusal(parse_target, "999.1.1.1").code == "target.bad_ipv4"
    assert refusal(parse_target, "999.1").code == "target.bad_ipv4"


# 3. The banner pass's bar counts banners read, not open ports, in both languages.
@pytest.mark.parametrize("language, label, scan_words", [("en", "banners read 1", ("open ", "silent ports")),
                                                          ("id", "banner terbaca 1", ("terbuka ", "port yang diam"))])
def test_the_banner_pass_bar_says_it_counts_banners(language, label, scan_words):
    from lessons.ui.session import run_scan
    from scanner.inputs import parse_timeout
    from tests.servers import Listener

    stream = io.StringIO()
    with Listener(greeting=b"SSH-2.0-test\r\n") as server:
        report = run_scan(parse_target("127.0.0.1"), (server.port,), parse_timeout("1"), Translator(language),
                          banners=True, progress_stream=stream, width=80)
    assert any(result.banner for result in report.results)
    banner_part = stream.getvalue().split("\n", 2)[-1]   # after the scan's bar and the "Reading..." line
    assert label in banner_part, stream.getvalue()
    assert not any(word in banner_part for word in scan_words)


def test_the_banner_bar_says_what_it_waits_for():
    from lessons.ui.output import BANNER_LABELS, ProgressBar

    for language, waiting in (("en", "waiting for silent services"), ("id", "menunggu layanan yang diam")):
        stream = io.StringIO()
        bar = ProgressBar(stream, Translator(language), width=80, **BANNER_LABELS)
        bar.update(1, 3, 1)
        bar.last_draw = bar.last_change = bar.last_change - 5   # nothing finished for five seconds
        bar.update(1, 3, 1)
        assert waiting in stream.getvalue() and "silent ports" not in stream.getvalue()


# 4. A bad --base-port or --bind for the lab: one line on stderr, exit 2, like other usage errors.
@pytest.mark.parametrize("args", [["--base-port", "70000"], ["--base-port", "x"], ["--bind", "8.8.8.8x"],
                                  ["--bind", "example.com"]])
@pytest.mark.parametrize("language", ["en", "id"])
def test_bad_lab_options_get_one_line_on_stderr_and_exit_2(isolated_home, args, language):
    result = run_program(isolated_home, "lab", *args, language=language)
    stderr = result.stderr.decode()
    assert result.returncode == 2, stderr
    assert result.stdout.decode().strip() == ""
    assert len(stderr.strip().splitlines()) == 1 and len(stderr.strip()) > 20, stderr
    assert "Traceback" not in stderr


# 5. Indonesian groups thousands with a dot: 131.072, not 131,072.
def test_indonesian_counts_group_thousands_with_dots(isolated_home):
    error = refusal(lambda text: parse_targets(text, max_hosts=65536), "127.0.0.0/16,127.1.0.0/16")
    assert "131,072" in str(error) and "65,536" in str(error)
    indonesian = Translator("id").error(error)
    assert "131.072" in indonesian and "65.536" in indonesian and "131,072" not in indonesian
    assert "131,072" in Translator("en").error(error)
    too_many = Translator("id").error(refusal(parse_targets, "127.0.0.0/24,127.0.1.0/20"))
    assert "4.352 alamat" in too_many and "lebih dari 4.096" in too_many and "--max-hosts 4352" in too_many

    result = run_program(isolated_home, "scan", "127.0.0.0/16,127.1.0.0/16", "--max-hosts", "65536", "-p", "1",
                         language="id")
    output = (result.stdout + result.stderr).decode()
    assert result.returncode == 2 and "131.072" in output and "65.536" in output, output


def test_grouping_leaves_what_was_typed_alone():
    assert Translator("id").grouped(131072) == "131.072" and Translator("en").grouped(131072) == "131,072"
    assert Translator("id").grouped("4,097+") == "4.097+"
    assert Translator("id").grouped("127.0.0.1,127.0.0.2") == "127.0.0.1,127.0.0.2"
