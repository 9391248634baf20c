"""Input parsing: hosts, ports, timeouts and workers (scanner/inputs/).

Every mistake must come back as an ``InputError`` subclass with a one-line message and a
``code`` the user interface can translate (``error.<code>`` in ``ui.json``).
"""

import os
import socket

import pytest

from scanner.errors import InputError, PortSpecError, TargetError, TimeoutSpecError
from scanner.inputs import (describe_ports, is_loopback_address, parse_ports, parse_target, parse_timeout,
                            parse_workers)
from scanner.services import COMMON_PORTS

CONTENT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lessons", "content")


def _ui(language):
    """The strings a screen can show in ``language`` (English error texts come from scanner.errors)."""
    from lessons.ui.i18n import load_strings

    if not os.path.exists(os.path.join(CONTENT, language, "ui.json")):
        return None
    return load_strings(language)


def check_error(error, expected_class):
    """The common contract of every input error."""
    assert isinstance(error, InputError)
    assert isinstance(error, expected_class)
    message = str(error)
    assert message.strip(), "empty message"
    assert "\n" not in message and "\r" not in message, f"not one line: {message!r}"
    english = _ui("en")
    key = "error." + error.code
    assert key in english, f"{key} missing from lessons/content/en/ui.json"
    english[key].format(**error.params)  # every placeholder has a value
    indonesian = _ui("id")
    if indonesian is not None:  # the translation may not exist yet
        assert key in indonesian, f"{key} missing from lessons/content/id/ui.json"
        indonesian[key].format(**error.params)


# --- hosts -------------------------------------------------------------------------------

def test_ipv4_literal():
    target = parse_target("127.0.0.1")
    assert (target.address, target.family, target.family_name) == ("127.0.0.1", socket.AF_INET, "ipv4")
    assert target.is_loopback
    assert target.all_addresses == ("127.0.0.1",)


@pytest.mark.parametrize("text", ["::1", "[::1]", " [::1] "])
def test_ipv6_literal_with_or_without_brackets(text):
    target = parse_target(text)
    assert target.address == "::1"
    assert target.host == "::1"
    assert target.family == socket.AF_INET6
    assert target.family_name == "ipv6"
    assert target.is_loopback


def test_localhost_resolves_to_loopback():
    target = parse_target("localhost")
    assert target.host == "localhost"
    assert target.is_loopback
    assert target.family in (socket.AF_INET, socket.AF_INET6)
    assert target.address in target.all_addresses


def test_surrounding_spaces_are_ignored():
    assert parse_target("  127.0.0.1 \t").address == "127.0.0.1"


@pytest.mark.parametrize("text, suggestion", [
    ("http://example.com", "example.com"),
    ("https://user@example.com:8443/path?q=1", "example.com"),
    ("http://[::1]:8080/", "::1"),
    ("example.com/index.html", "example.com"),
])
def test_url_is_refused_with_a_hint(text, suggestion):
    with pytest.raises(TargetError) as caught:
        parse_target(text)
    check_error(caught.value, TargetError)
    assert caught.value.code == "target.url"
    assert caught.value.params["suggestion"] == suggestion
    assert suggestion in str(caught.value)


@pytest.mark.parametrize("text, code", [
    ("999.1.1.1", "target.bad_ipv4"),
    ("1.2.3", "target.short_ipv4"),
    ("", "target.empty"),
    ("   ", "target.empty"),
    ("1:2:3", "target.bad_ipv6"),
    ("[::1", "target.bad_ipv6"),
    ("bad host!", "target.bad_chars"),
])
def test_bad_hosts(text, code):
    with pytest.raises(TargetError) as caught:
        parse_target(text)
    check_error(caught.value, TargetError)
    assert caught.value.code == code


def test_none_is_an_empty_host():
    with pytest.raises(TargetError) as caught:
        parse_target(None)
    assert caught.value.code == "target.empty"


@pytest.mark.parametrize("spec, expected", [("22 80", (22, 80)), ("1 - 3, 443", (1, 2, 3, 443)),
                                            ("22,80 443", (22, 80, 443))])
def test_spaces_separate_ports_and_never_join_digits(spec, expected):
    assert parse_ports(spec) == expected


def test_auto_timeout_in_both_languages():
    assert parse_timeout("otomatis").auto and parse_timeout("AUTO").auto


def test_unresolvable_name():
    # .invalid never resolves (RFC 6761): the resolver says no.
    with pytest.raises(TargetError) as caught:
        parse_target("nonexistent.invalid")
    check_error(caught.value, TargetError)
    assert caught.value.code == "target.never_exists"
    assert "nonexistent.invalid" in str(caught.value)


def test_a_failed_lookup_becomes_a_learner_readable_error():
    def resolver_that_says_no(*args):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(TargetError) as caught:
        parse_target("no-such-host.example", resolver=resolver_that_says_no)
    check_error(caught.value, TargetError)
    assert caught.value.code == "target.unresolved"
    assert "Name or service not known" in str(caught.value)


@pytest.mark.parametrize("address, expected", [
    ("127.0.0.1", True), ("127.255.0.9", True), ("::1", True), ("::ffff:127.0.0.1", True),
    ("192.0.2.1", False), ("10.0.0.1", False), ("::", False), ("2001:db8::1", False), ("localhost", False),
])
def test_is_loopback_address(address, expected):
    assert is_loopback_address(address) is expected


# --- ports -------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("22", (22,)),
    ("1-1024", tuple(range(1, 1025))),
    ("22,80,443", (22, 80, 443)),
    ("1-100,443", tuple(range(1, 101)) + (443,)),
    (" 22 , 80 ", (22, 80)),
    ("80,22,80,22-23", (22, 23, 80)),
    ("1-10,5-15", tuple(range(1, 16))),
    ("65535", (65535,)),
    ("1 - 3", (1, 2, 3)),
])
def test_port_specs(text, expected):
    assert parse_ports(text) == expected


@pytest.mark.parametrize("text", ["-", "all", "ALL", " all "])
def test_all_ports(text):
    ports = parse_ports(text)
    assert ports == tuple(range(1, 65536))


def test_common_ports():
    ports = parse_ports("common")
    assert ports == tuple(sorted(set(COMMON_PORTS)))
    assert 80 <= len(ports) <= 130
    assert {22, 80, 443, 3306, 8080} <= set(ports)
    assert all(1 <= p <= 65535 for p in ports)
    assert parse_ports("common,1") == tuple(sorted(set(ports) | {1}))


def test_ports_are_sorted_and_unique():
    ports = parse_ports("443,22,80,22")
    assert ports == tuple(sorted(set(ports)))


@pytest.mark.parametrize("text, code", [
    ("0", "ports.out_of_range"),
    ("65536", "ports.out_of_range"),
    ("0-10", "ports.out_of_range"),
    ("80-20", "ports.reversed"),
    ("abc", "ports.unknown_service"),      # letters: a service name, and this one is unknown
    ("22,abc", "ports.unknown_service"),
    ("--5", "ports.not_number"),
    ("1-x", "ports.not_number"),
    ("1-2-3", "ports.not_number"),
    ("22.5", "ports.not_number"),
    ("\u00b2", "ports.not_number"),          # superscript two: isdigit() says yes, int() says no
    ("\u0668\u0660", "ports.not_number"),    # Arabic-Indic 80: only ASCII digits are port numbers
    ("1-\u00b3", "ports.not_number"),
    ("", "ports.empty"),
    ("   ", "ports.empty"),
    (",", "ports.empty"),
    ("22,,80", "ports.empty_item"),   # nmap refuses it too: usually a typo
])
def test_bad_port_specs(text, code):
    with pytest.raises(PortSpecError) as caught:
        parse_ports(text)
    check_error(caught.value, PortSpecError)
    assert caught.value.code == code


def test_reversed_range_suggests_the_right_order():
    with pytest.raises(PortSpecError) as caught:
        parse_ports("80-20")
    assert "20-80" in str(caught.value)


def test_describe_ports_round_trips():
    for spec in ("1-3,80", "22", "1-65535", "22,80,443"):
        assert describe_ports(parse_ports(spec)) == spec
    assert describe_ports(()) == ""


# --- timeouts and workers ----------------------------------------------------------------

@pytest.mark.parametrize("text, seconds", [("0.5", 0.5), ("1", 1.0), (" 2 ", 2.0), ("0.5s", 0.5), ("0,5", 0.5),
                                           (0.25, 0.25), ("30", 30.0), ("0.01", 0.01)])
def test_fixed_timeouts(text, seconds):
    setting = parse_timeout(text)
    assert setting.seconds == seconds
    assert setting.auto is False
    assert str(setting) == f"{seconds:g}"


@pytest.mark.parametrize("text", ["auto", "AUTO", " auto "])
def test_auto_timeout(text):
    setting = parse_timeout(text)
    assert setting.auto is True
    assert setting.seconds > 0
    assert str(setting) == "auto"


@pytest.mark.parametrize("text, code", [
    ("-1", "timeout.not_positive"),
    ("-0.5", "timeout.not_positive"),
    ("0", "timeout.not_positive"),
    ("0.0", "timeout.not_positive"),
    ("abc", "timeout.not_number"),
    ("nan", "timeout.not_number"),
    ("NaN", "timeout.not_number"),
    ("inf", "timeout.not_number"),
    ("-inf", "timeout.not_number"),
    ("1e9", "timeout.too_long"),
    ("1000000000", "timeout.too_long"),
    ("31", "timeout.too_long"),
    ("0.001", "timeout.too_short"),
    ("", "timeout.empty"),
])
def test_bad_timeouts(text, code):
    with pytest.raises(TimeoutSpecError) as caught:
        parse_timeout(text)
    check_error(caught.value, TimeoutSpecError)
    assert caught.value.code == code


@pytest.mark.parametrize("text, workers", [("1", 1), ("500", 500), (" 1000 ", 1000), (5000, 5000)])
def test_workers(text, workers):
    assert parse_workers(text) == workers


@pytest.mark.parametrize("text, code", [("0", "workers.out_of_range"), ("5001", "workers.out_of_range"),
                                        ("abc", "workers.not_number"), ("-3", "workers.not_number"),
                                        ("\u00b3", "workers.not_number"),
                                        ("", "workers.not_number")])
def test_bad_workers(text, code):
    with pytest.raises(InputError) as caught:
        parse_workers(text)
    check_error(caught.value, InputError)
    assert caught.value.code == code


def test_every_input_error_code_is_translated():
    """Every code the input parsers can raise has a ui.json entry."""
    from scanner.errors import ENGLISH_MESSAGES

    english = _ui("en")
    indonesian = _ui("id")
    for code in ENGLISH_MESSAGES:
        if code.split(".")[0] not in ("target", "ports", "timeout", "workers"):
            continue
        assert "error." + code in english, code
        if indonesian is not None:
            assert "error." + code in indonesian, code
