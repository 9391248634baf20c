import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """Progress and settings go to a fresh folder; screens default to English."""
    home = tmp_path / "portscan-home"
    monkeypatch.setenv("PORTSCAN_LAB_HOME", str(home))
    for variable in ("LC_ALL", "LC_MESSAGES", "LANGUAGE", "NO_COLOR"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    return home


def program_env(home, **extra):
    """Environment variables for running main.py as a separate process in tests."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("LC_ALL", "LC_MESSAGES", "LANGUAGE", "NO_COLOR", "COLUMNS", "LINES")}
    env.update({"PORTSCAN_LAB_HOME": str(home), "LANG": "C.UTF-8", "PYTHONUNBUFFERED": "1", "TERM": "xterm",
                "LANGUAGE": "en"})  # a language is known: no first-run language question
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def lab():
    """The practice lab with every service on a kernel-chosen port (port 0), closed afterwards."""
    from lessons.lab import PracticeLab

    with PracticeLab(base_port=0) as running_lab:
        yield running_lab


@pytest.fixture(params=["127.0.0.1", "::1"], ids=["ipv4", "ipv6"])
def host(request, lab):
    if request.param not in lab.hosts:
        pytest.skip(f"the lab could not listen on {request.param} here: {lab.notes}")
    return request.param


@pytest.fixture
def second_loopback():
    """A listener on 127.0.0.2 (Linux routes all of 127.0.0.0/8 to loopback; macOS does not)."""
    from tests.servers import Listener  # after the sys.path line above

    try:
        listener = Listener("127.0.0.2")
    except OSError as error:
        pytest.skip(f"127.0.0.2 is not usable here ({error}); add a loopback alias to run this")
    with listener:
        yield listener
