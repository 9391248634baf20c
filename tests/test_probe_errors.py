"""A probe that ends in an unexpected error code says so."""

from scanner.probe import classify
from scanner.results import PortState, Reason


def test_an_unexpected_error_code_is_reported_as_an_error_not_as_silence():
    import errno
    assert classify(errno.EINVAL) == (PortState.FILTERED, Reason.ERROR)
