"""A network scan under ``ulimit -v`` (issue 21, item 1): a result or one line, never a traceback or a stall.

Each thread used to reserve an 8 MiB stack and a 64 MiB malloc arena as address space, so
a /24 scan at 60-150 MB of limit died in raw MemoryErrors or waited forever.  The program
now shrinks both when a memory limit is set (lessons/ui/cli.py ``_small_thread_stacks``).
"""

import resource
import subprocess
import sys

import pytest

from tests.conftest import ROOT, program_env


def limited(megabytes):
    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (megabytes * 2 ** 20, megabytes * 2 ** 20))
    return apply


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS behaves this way on Linux only")
@pytest.mark.parametrize("megabytes", [80, 100, 150])
def test_a_network_scan_under_a_memory_limit_ends_with_results_or_one_line(megabytes, isolated_home):
    proc = subprocess.run([sys.executable, "main.py", "scan", "127.42.0.0/26", "-p", "1-40", "--timeout", "0.5"],
                          cwd=ROOT, capture_output=True, text=True, timeout=90, stdin=subprocess.DEVNULL,
                          env=program_env(isolated_home), preexec_fn=limited(megabytes))
    assert "Traceback" not in proc.stderr and "Fatal Python error" not in proc.stderr, proc.stderr[-2000:]
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    if proc.returncode == 1:
        assert len(proc.stderr.strip().splitlines()) == 1
    else:
        assert "hosts up" in proc.stdout
