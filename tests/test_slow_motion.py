"""Slow motion: which ports and hosts are replayed, and how a duration is said."""

import io

import pytest

from lessons.ui.app import App
from lessons.ui.i18n import Translator
from lessons.ui.screens import main_menu, slow_motion
from lessons.ui.terminal import Environment


def scripted(language="en", lines=()):
    stdout = io.StringIO()
    env = Environment(stdin=io.StringIO("".join(line + "\n" for line in lines)), stdout=stdout, stderr=stdout,
                      colour=False, language=language)
    return App(env, Translator(language)), stdout


@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_network_slow_motion_replays_the_host_that_shows_the_most_kinds_of_port():
    import socket

    import pytest

    from tests.servers import Listener

    try:
        second = Listener("127.0.0.2")
    except OSError as error:
        pytest.skip(f"127.0.0.2 is not usable here ({error})")
    quiet = socket.socket()   # a full accept queue on 127.0.0.2: its SYNs are dropped, like a firewall's
    fillers = []
    with Listener() as first, second:
        try:
            quiet.bind(("127.0.0.2", 0))
            quiet.listen(0)
            for _ in range(2):
                filler = socket.socket()
                filler.setblocking(False)
                filler.connect_ex(("127.0.0.2", quiet.getsockname()[1]))
                fillers.append(filler)
            silent = quiet.getsockname()[1]
            ports = sorted({first.port, second.port, silent})
            menu, out = scripted("en", ["1", "127.0.0.1-2", ",".join(map(str, ports)), "0.3", "y", "", "0"])
            main_menu.run(menu)
        finally:
            for sock in fillers + [quiet]:
                sock.close()
    screen = out.getvalue()
    assert "Replayed on one of the 2 hosts that are up: 127.0.0.2." in screen   # open, closed and filtered there
    assert f"s.connect_ex(('127.0.0.2', {silent}))  # -> 11 EAGAIN" in screen


def test_an_instant_answer_is_not_said_to_take_no_time():
    for language, expected in (("en", "< 0.1 ms"), ("id", "< 0,1 ms")):
        menu, _out = scripted(language)
        assert slow_motion.duration(menu, 0.00001) == expected
        assert slow_motion.duration(menu, 0.0003) == ("0.3 ms" if language == "en" else "0,3 ms")
