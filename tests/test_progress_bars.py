"""The progress bars on stderr: what they count and what they say they wait for."""

import io

import pytest

from lessons.ui.i18n import Translator


# 3. The banner pass's bar counts banners read, not open ports, in both languages.
@pytest.mark.parametrize("language, label, scan_words", [("en", "banners read 1", ("open ", "silent ports")),
                                                          ("id", "banner terbaca 1", ("terbuka ", "port yang diam"))])
def test_the_banner_pass_bar_says_it_counts_banners(language, label, scan_words):
    from lessons.ui.session import run_scan
    from scanner.inputs import parse_targets, parse_timeout
    from scanner.request import ScanRequest
    from tests.servers import Listener

    stream = io.StringIO()
    with Listener(greeting=b"SSH-2.0-test\r\n") as server:
        request = ScanRequest(parse_targets("127.0.0.1"), (server.port,), parse_timeout("1"), banners=True)
        report = run_scan(request, Translator(language), progress_stream=stream, width=80).report
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
