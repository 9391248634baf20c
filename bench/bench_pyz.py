"""Measure ``portscan-lab.pyz``: its size and how fast ``--help`` starts.

    python3 bench/bench_pyz.py [--runs 20] [--python /path/to/python3.9 ...]

Builds the archive into a temporary folder with ``tools/build_pyz.py`` (the default, and
with ``--bytecode``), then times whole processes: ``python3 X.pyz --help``
beside ``python3 main.py --help`` from the checkout, for each interpreter given (default:
the one running this script).  Goals (issue 20): under 1 MB, ``--help`` under 0.3 s.
Start-up is dominated by Python itself (about 0.02 s for ``python3 -c pass``) and by
importing and compiling our modules; the machine is shared, so medians of many runs count, and
the CPU time each start-up used (user + system) is printed beside its wall time: on a busy
machine the wall time mostly measures the queue for a core.  Linux and macOS (``resource``).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import build_pyz  # noqa: E402  (tools/ is not a package)

SIZE_GOAL, START_GOAL = 1024 * 1024, 0.3


def timed(command, runs: int, cwd: str) -> tuple:
    """(wall times, CPU times) of ``runs`` whole processes.  CPU time (user + system, from
    ``getrusage``) hardly depends on what else the machine is doing; wall time does."""
    walls, cpus = [], []
    environment = dict(os.environ, PORTSCAN_LAB_HOME=cwd, PYTHONDONTWRITEBYTECODE="1")
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
                       env=environment, timeout=60)
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return walls, cpus


def row(label: str, measured: tuple) -> str:
    walls, cpus = measured
    median = statistics.median(walls)
    mark = "ok" if min(median, statistics.median(cpus)) < START_GOAL else "OVER GOAL"
    return (f"  {label:<58} wall median {median:.3f} s (min {min(walls):.3f})  "
            f"CPU median {statistics.median(cpus):.3f} s  {mark}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--python", action="append", default=[], help="another interpreter to time (repeatable)")
    args = parser.parse_args()
    runs = max(1, min(args.runs, 200))
    pythons = [sys.executable] + args.python
    with tempfile.TemporaryDirectory(prefix="bench-pyz-") as folder:
        variants = {"the default build": {"bytecode": False},
                    "--bytecode (for this Python version)": {"bytecode": True}}
        archives = {}
        for label, options in variants.items():
            path = os.path.join(folder, label.replace(" ", "").replace(",", "-") + ".pyz")
            built = build_pyz.build(path, **options)
            archives[label] = path
            mark = "ok" if built["bytes"] < SIZE_GOAL else "OVER GOAL"
            print(f"{label}: {built['bytes'] / 1024:.0f} KiB ({built['bytes']} bytes), {built['files']} files, "
                  f"colorama {built['colorama'] or 'absent'}  {mark}")
        print(f"--help start-up, {runs} runs each, goal < {START_GOAL} s (load average "
              f"{os.getloadavg()[0]:.2f}):")
        for python in pythons:
            version = subprocess.run([python, "-c", "import sys; print(sys.version.split()[0])"],
                                     capture_output=True, text=True, check=True).stdout.strip()
            print(f" Python {version} ({python})")
            print(row("python -c pass (the interpreter alone)", timed([python, "-c", "pass"], runs, folder)))
            print(row("python main.py --help (checkout)",
                      timed([python, os.path.join(ROOT, "main.py"), "--help"], runs, folder)))
            for label, path in archives.items():
                print(row(f"python X.pyz --help ({label})", timed([python, path, "--help"], runs, folder)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
