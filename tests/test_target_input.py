"""What a learner types as a host or a network, and the one-line message a mistake gets."""

import pytest

from lessons.ui.i18n import Translator
from scanner.errors import TargetError
from scanner.inputs import parse_target, parse_targets


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


# --- a list of blocks over the limit names the list and its total ---------------------------------

@pytest.mark.parametrize("spec, max_hosts, words", [
    ("127.0.0.0/24,127.0.1.0/20", None, ["4,352 addresses", "more than 4,096", "--max-hosts 4352"]),
    ("127.0.0.0/16,127.1.0.0/16", 65536, ["131,072 addresses", "at most 65,536"]),
    ("127.0.0.0/24,127.0.1.1-20", 256, ["276 addresses", "more than 256", "--max-hosts 276"]),
])
def test_a_list_over_the_host_limit_gets_a_true_message(spec, max_hosts, words):
    """Before: 'has 65,536 addresses; more than 0 needs --max-hosts 65536' (already given)."""
    from scanner.errors import NetworkSpecError

    with pytest.raises(NetworkSpecError) as caught:
        parse_targets(spec, **({"max_hosts": max_hosts} if max_hosts else {}))
    message = str(caught.value)
    assert all(word in message for word in words), message
    assert "more than 0 " not in message


@pytest.mark.parametrize("text, code", [("::1%lo", "target.scoped"), ("127.0.0.1:8007", "target.has_port"),
                                        ("[::1]:22", "target.has_port"), ("example.com:80", "target.has_port")])
def test_hosts_with_a_scope_or_a_port_are_explained(text, code):
    with pytest.raises(TargetError) as caught:
        parse_target(text)
    assert caught.value.code == code


def test_a_scoped_ipv4_address_is_not_an_address():
    with pytest.raises(TargetError):
        parse_target("127.0.0.1%lo")
