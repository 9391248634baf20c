"""Every ```python block of every lesson runs as shown, or says on its first line that it is a fragment.

A learner copies a block into a file and runs it; a block that fails with a NameError teaches
nothing.  So each block whose first line is not ``# fragment...`` runs here in its own Python
process, with a time limit, against the practice lab started on kernel-chosen ports.  Blocks
that need a target read its port from the environment with the lab's documented port as the
default (``int(os.environ.get("LAB_SSH", "8022"))``), so the same block also runs unchanged
against ``python3 main.py lab`` (lessons/content/FORMAT.md lists the variables).
"""

import ast
import os
import re
import subprocess
import sys

import pytest

from lessons import catalog
from lessons.ui.i18n import LANGUAGES

BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
RUN_LIMIT = 30  # seconds for one block; the slowest (a 1024-port loop on loopback) needs about 1

# The variable a block reads -> (service, protocol) of the lab's layout.
LAB_VARIABLES = {
    "LAB_ECHO": ("echo", "tcp"), "LAB_FTP": ("ftp", "tcp"), "LAB_SSH": ("ssh", "tcp"),
    "LAB_CLOSED": ("closed", "tcp"), "LAB_WEB": ("http", "tcp"), "LAB_FILTERED": ("filtered", "tcp"),
    "LAB_UDP_ECHO": ("echo", "udp"), "LAB_UDP_CLOSED": ("closed", "udp"),
}


def is_fragment(block):
    first = block.lstrip("\n").splitlines()[0] if block.strip() else ""
    return first.strip().lower().startswith("# fragment")


def lesson_blocks():
    """(language/lesson#n, code) for every python block, fragments included."""
    found = []
    for language in LANGUAGES:
        for lesson_id in catalog.lesson_ids(language):
            with open(catalog.lesson_path(lesson_id, language), encoding="utf-8") as stream:
                text = stream.read()
            for number, block in enumerate(BLOCK.findall(text), 1):
                found.append((f"{language}/{lesson_id}#{number}", block))
    return found


RUNNABLE = [(name, code) for name, code in lesson_blocks() if not is_fragment(code)]


@pytest.fixture(scope="module")
def lab_environment():
    from lessons.lab import PracticeLab

    with PracticeLab(base_port=0, also_ipv6=False) as lab:
        ports = {(service.service, service.protocol): service.port for service in lab.services}
        env = dict(os.environ)
        env.update({name: str(ports[key]) for name, key in LAB_VARIABLES.items() if key in ports})
        yield env


def test_there_are_runnable_blocks_and_fragments_say_so():
    assert len(RUNNABLE) >= 10
    for name, code in lesson_blocks():
        tree = ast.parse(code, filename=name, feature_version=(3, 9))  # Python 3.9 syntax
        assert tree is not None
        if not is_fragment(code):
            assert "socket.ETH_P_ALL" not in code, f"{name}: socket.ETH_P_ALL exists only from Python 3.12"


@pytest.mark.parametrize("name, code", RUNNABLE, ids=[name for name, _code in RUNNABLE])
@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_lesson_block_runs_as_shown(name, code, lab_environment, tmp_path):
    result = subprocess.run([sys.executable, "-c", code], cwd=str(tmp_path), env=lab_environment,
                            capture_output=True, text=True, timeout=RUN_LIMIT)
    assert result.returncode == 0, f"{name} failed:\n{result.stderr[-1500:]}"


@pytest.mark.skipif(os.name != "posix", reason="RLIMIT_NOFILE is a POSIX limit")
def test_the_scanner_internals_script_survives_a_low_open_file_limit(lab_environment, tmp_path):
    """The two steps, joined, scan 1-1024 under ulimit -n 256 (macOS's default) without EMFILE."""
    steps = [code for name, code in lesson_blocks() if name.startswith("en/scanner-internals#")]
    start, collect = [code for code in steps if is_fragment(code)][:2]
    limit = "import resource\nresource.setrlimit(resource.RLIMIT_NOFILE, (256, resource.getrlimit(" \
            "resource.RLIMIT_NOFILE)[1]))\n"
    script = limit + start + collect.replace("print(states)", "print(len(states))")
    result = subprocess.run([sys.executable, "-c", script], cwd=str(tmp_path), env=lab_environment,
                            capture_output=True, text=True, timeout=RUN_LIMIT)
    assert result.returncode == 0, result.stderr[-1500:]
    assert result.stdout.strip() == "1024"
