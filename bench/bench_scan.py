#!/usr/bin/env python3
"""Benchmark: portscan-lab's ``scan`` command against the truth, and against nmap.

Run from the project folder (standard library only, loopback only)::

    python3 bench/bench_scan.py [--runs N] [--json FILE]

What it does:

1. starts a few listeners on 127.0.0.1 (port 0: the kernel picks free ports) in this
   process; every other port stays closed;
2. computes the *truth* — every TCP port listening on 127.0.0.1 — from ``/proc/net/tcp``
   (state 0A, local address 127.0.0.1 or 0.0.0.0) and ``/proc/net/tcp6`` (``::`` and
   ``::ffff:127.0.0.1`` listeners also accept IPv4 connections), before and after every
   run, because other programs on the machine may open or close listeners meanwhile;
3. runs the scanner as a whole process, ``python3 main.py scan 127.0.0.1 -p all --format
   json`` (and ``-p 1-1024``), measuring wall time, the child's CPU time (user + system)
   and peak RSS (``os.wait4`` rusage ``ru_utime``, ``ru_stime``, ``ru_maxrss``); when ``nmap`` is on PATH it runs ``nmap -sT -n -Pn
   -p- 127.0.0.1`` (and ``-p 1-1024``) in the same way, interleaved with ours;
4. counts false open ports (open in our output, not listening in the truth) and missed
   ones (listening throughout the run, not reported open) over every run;
5. prints a table and PASS/FAIL against the targets, and exits 1 if a target fails.

Targets: full range <= 0.6 x nmap's wall time (median), 1-1024 <= 0.3 s (median), peak
RSS <= 40 MB, zero false open ports.  Nothing here sends a packet beyond loopback.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import Optional

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = "127.0.0.1"  # loopback only, always

TARGET_FULL_RATIO = 0.6       # ours / nmap, full range, median wall time
TARGET_SMALL_SECONDS = 0.3    # 1-1024, median wall time
TARGET_RSS_MB = 40.0          # peak RSS of our process, worst run
TARGET_FALSE_OPEN = 0

LISTEN = "0A"
IPV4_ANY_OR_LOOPBACK = {"00000000", "0100007F"}               # 0.0.0.0, 127.0.0.1 (little-endian hex)
IPV6_ACCEPTING_IPV4 = {"00000000000000000000000000000000",    # :: (dual-stack)
                       "0000000000000000FFFF00000100007F"}    # ::ffff:127.0.0.1


# --- the truth ---------------------------------------------------------------------------

def _listening(path: str, addresses: set, accepting_only: bool) -> set:
    ports = set()
    try:
        with open(path, encoding="ascii") as table:
            next(table, None)
            for line in table:
                fields = line.split()
                if len(fields) < 5 or fields[3] != LISTEN:
                    continue
                address, _, port = fields[1].partition(":")
                if address.upper() not in addresses:
                    continue
                # For a listening socket tx_queue:rx_queue is backlog:accept-queue length.  A full
                # queue (length > backlog) drops new SYNs: that port answers like a filtered one.
                backlog, _, queued = fields[4].partition(":")
                if accepting_only and int(queued, 16) > int(backlog, 16):
                    continue
                ports.add(int(port, 16))
    except OSError:
        pass
    return ports


def listening_ports(accepting_only: bool = False) -> set:
    """Every TCP port listening on 127.0.0.1 right now (with ``accepting_only``, minus full queues)."""
    return (_listening("/proc/net/tcp", IPV4_ANY_OR_LOOPBACK, accepting_only)
            | _listening("/proc/net/tcp6", IPV6_ACCEPTING_IPV4, accepting_only))


# --- listeners in this process ------------------------------------------------------------

class Listeners:
    """``count`` loopback listeners on port 0 that accept and close every connection."""

    def __init__(self, count: int) -> None:
        self.socks = []
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((TARGET, 0))
            sock.listen(128)
            sock.settimeout(0.05)
            self.socks.append(sock)
        self.ports = sorted(sock.getsockname()[1] for sock in self.socks)
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._serve, args=(sock,), daemon=True) for sock in self.socks]

    def _serve(self, sock: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.close()

    def __enter__(self) -> "Listeners":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(2)
        for sock in self.socks:
            sock.close()


# --- running one program -------------------------------------------------------------------

TIME_COMMAND = "/usr/bin/time"


def with_rss_probe(argv: list, report_path: str) -> list:
    """``argv`` run under GNU time, which writes the program's own peak RSS (KB) to ``report_path``.

    A child's ``ru_maxrss`` starts at its parent's size (Linux keeps the high-water mark of the
    memory it had before ``exec``), so a benchmark process of 34 MB would make every program it
    starts look 34 MB.  GNU time is small when it forks the program: that figure is the program's.
    Without GNU time, ``argv`` is returned unchanged (and the figure is a ceiling).
    """
    if not os.access(TIME_COMMAND, os.X_OK):
        return argv
    return [TIME_COMMAND, "-f", "%M", "-o", report_path, *argv]


def run_measured(argv: list, timeout: float = 300.0, rss_report: Optional[str] = None) -> dict:
    """Run ``argv`` to the end: wall seconds, CPU seconds, peak RSS (MB), exit code and stdout.

    ``rss_report``: the file ``with_rss_probe`` had GNU time write the program's peak RSS to.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                env=dict(os.environ, NO_COLOR="1"))
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.002)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status
        out.seek(0)
        err.seek(0)
        # ru_maxrss is in kilobytes on Linux (bytes on macOS).
        rss_mb = usage.ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
        cpu = usage.ru_utime + usage.ru_stime   # the child's own CPU seconds (user + system), from wait4
        try:
            with open(rss_report or "", encoding="ascii") as report:
                rss_mb = int(report.read().split()[-1]) / 1024
        except (OSError, ValueError, IndexError):
            pass
        return {"wall": wall, "rss_mb": rss_mb, "cpu": cpu, "code": proc.returncode,
                "stdout": out.read().decode("utf-8", "replace"), "stderr": err.read().decode("utf-8", "replace")}


def run_probed(argv: list, timeout: float = 300.0) -> dict:
    """``run_measured`` with the program's own peak RSS (see ``with_rss_probe``)."""
    with tempfile.NamedTemporaryFile(prefix="pscan-rss-", delete=False) as report:
        path = report.name
    try:
        return run_measured(with_rss_probe(argv, path), timeout, rss_report=path)
    finally:
        os.unlink(path)


def ours(spec: str) -> list:
    return [sys.executable, os.path.join(ROOT, "main.py"), "scan", TARGET, "-p", spec, "--format", "json"]


def nmap_argv(spec: str) -> list:
    return ["nmap", "-sT", "-n", "-Pn", "-p-" if spec == "all" else "-p" + spec, TARGET, "-oG", "-"]


def open_ports_ours(stdout: str) -> tuple:
    report = json.loads(stdout)
    opened = {p["port"] for p in report["ports"] if p["state"] == "open"}
    return opened, report


def open_ports_nmap(stdout: str) -> set:
    opened = set()
    for line in stdout.splitlines():
        if "Ports:" not in line:
            continue
        for entry in line.split("Ports:", 1)[1].split("\t")[0].split(","):
            parts = entry.strip().split("/")
            if len(parts) > 2 and parts[1] == "open":
                opened.add(int(parts[0]))
    return opened


# --- the benchmark -------------------------------------------------------------------------

def _load() -> float:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return 0.0


def summarise(samples: list) -> dict:
    walls = [s["wall"] for s in samples]
    rss = [s["rss_mb"] for s in samples]
    return {"runs": len(samples), "wall_median": statistics.median(walls), "wall_max": max(walls),
            "wall_min": min(walls), "rss_max_mb": max(rss), "rss_median_mb": statistics.median(rss),
            "cpu_median": statistics.median(s["cpu"] for s in samples)}


def measure_ours(spec: str, expected_count: int, tally: dict) -> dict:
    before, before_accepting = listening_ports(), listening_ports(accepting_only=True)
    sample = run_probed(ours(spec))
    after, after_accepting = listening_ports(), listening_ports(accepting_only=True)
    if sample["code"] != 0:
        raise SystemExit(f"our scanner exited {sample['code']}: {sample['stderr'].strip()[:300]}")
    opened, report = open_ports_ours(sample["stdout"])
    in_range = (lambda port: True) if spec == "all" else (lambda port: 1 <= port <= 1024)
    may_be_open = {p for p in before | after if in_range(p)}
    surely_open = {p for p in before_accepting & after_accepting if in_range(p)}
    false_open = sorted(opened - may_be_open)
    missed = sorted(surely_open - opened)
    tally["false_open"] += len(false_open)
    tally["missed"] += len(missed)
    if false_open:
        tally["false_open_ports"].extend(false_open)
    if missed:
        tally["missed_ports"].extend(missed)
    if not report.get("complete") or report.get("ports_scanned") != expected_count:
        tally["incomplete"] += 1
    return {"wall": sample["wall"], "rss_mb": sample["rss_mb"], "cpu": sample["cpu"]}


def measure_nmap(spec: str, tally: dict) -> dict:
    before, before_accepting = listening_ports(), listening_ports(accepting_only=True)
    sample = run_probed(nmap_argv(spec))
    after, after_accepting = listening_ports(), listening_ports(accepting_only=True)
    if sample["code"] != 0:
        raise SystemExit(f"nmap exited {sample['code']}: {sample['stderr'].strip()[:300]}")
    opened = open_ports_nmap(sample["stdout"])
    in_range = (lambda port: True) if spec == "all" else (lambda port: 1 <= port <= 1024)
    tally["false_open"] += len(opened - {p for p in before | after if in_range(p)})
    tally["missed"] += len({p for p in before_accepting & after_accepting if in_range(p)} - opened)
    return {"wall": sample["wall"], "rss_mb": sample["rss_mb"], "cpu": sample["cpu"]}


def new_tally() -> dict:
    return {"false_open": 0, "missed": 0, "incomplete": 0, "false_open_ports": [], "missed_ports": []}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="full-range repetitions (default 10)")
    parser.add_argument("--small-runs", type=int, default=None, help="1-1024 repetitions (default: --runs)")
    parser.add_argument("--listeners", type=int, default=5, help="loopback listeners to start (default 5)")
    parser.add_argument("--no-nmap", action="store_true", help="do not run nmap even if it is installed")
    parser.add_argument("--json", metavar="FILE", help="also save the figures as JSON")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    small_runs = args.small_runs if args.small_runs is not None else args.runs
    have_nmap = shutil.which("nmap") is not None and not args.no_nmap

    samples = {"ours_full": [], "ours_small": [], "nmap_full": [], "nmap_small": []}
    tally = {"ours": new_tally(), "nmap": new_tally()}
    with Listeners(args.listeners) as listeners:
        truth = listening_ports()
        missing = [p for p in listeners.ports if p not in truth]
        if missing and os.path.exists("/proc/net/tcp"):
            raise SystemExit(f"/proc/net/tcp does not show our own listeners {missing}: cannot compute the truth")
        print(f"Listeners started on {TARGET}: {', '.join(map(str, listeners.ports))}")
        print(f"Truth (listening on {TARGET} now): {len(truth)} port(s): {', '.join(map(str, sorted(truth)))}")
        print(f"Runs: {args.runs} x full range, {small_runs} x 1-1024; nmap: {'yes' if have_nmap else 'not found'}")
        load_before = _load()
        print(f"Load average before: {load_before:.2f} on {os.cpu_count()} CPU(s)")

        # Byte-compile our modules once, as any install does: this machine sets
        # PYTHONDONTWRITEBYTECODE, which would otherwise make every run recompile them.
        import compileall

        for folder in ("scanner", "lessons"):
            compileall.compile_dir(os.path.join(ROOT, folder), quiet=1)
        compileall.compile_file(os.path.join(ROOT, "main.py"), quiet=1)
        # One warm-up of each, not measured: the first run pays for cold caches.
        run_measured(ours("1-1024"))
        if have_nmap:
            run_measured(nmap_argv("1-1024"))

        for run in range(max(args.runs, small_runs)):
            if run < args.runs:
                samples["ours_full"].append(measure_ours("all", 65535, tally["ours"]))
                if have_nmap:
                    samples["nmap_full"].append(measure_nmap("all", tally["nmap"]))
            if run < small_runs:
                samples["ours_small"].append(measure_ours("1-1024", 1024, tally["ours"]))
                if have_nmap:
                    samples["nmap_small"].append(measure_nmap("1-1024", tally["nmap"]))
            print(f"  run {run + 1}: ours full {samples['ours_full'][-1]['wall']:.3f} s"
                  + (f", nmap full {samples['nmap_full'][-1]['wall']:.3f} s" if have_nmap and run < args.runs else ""),
                  flush=True)

    load_after = _load()
    figures = {name: summarise(values) for name, values in samples.items() if values}
    ratio_full = (figures["ours_full"]["wall_median"] / figures["nmap_full"]["wall_median"]) if have_nmap else None
    ratio_small = (figures["ours_small"]["wall_median"] / figures["nmap_small"]["wall_median"]) if have_nmap else None
    rss_peak = max(figures["ours_full"]["rss_max_mb"], figures["ours_small"]["rss_max_mb"])

    print()
    header = f"{'':<18}{'median s':>10}{'max s':>9}{'CPU s':>8}{'peak RSS MB':>13}{'ours/nmap':>11}"
    print(header)
    print("-" * len(header))
    for label, key, ratio in (("ours  -p all", "ours_full", ratio_full), ("nmap  -p-", "nmap_full", None),
                              ("ours  -p 1-1024", "ours_small", ratio_small), ("nmap  -p 1-1024", "nmap_small", None)):
        if key not in figures:
            continue
        f = figures[key]
        ratio_text = f"{ratio:.2f}x" if ratio is not None else ""
        print(f"{label:<18}{f['wall_median']:>10.3f}{f['wall_max']:>9.3f}{f['cpu_median']:>8.2f}"
              f"{f['rss_max_mb']:>13.1f}{ratio_text:>11}")
    print()
    ours_tally = tally["ours"]
    print(f"ours: false open ports {ours_tally['false_open']}, missed open ports {ours_tally['missed']}, "
          f"incomplete reports {ours_tally['incomplete']} (over {args.runs + small_runs} scans)")
    if ours_tally["false_open_ports"]:
        print(f"      false opens: {ours_tally['false_open_ports'][:20]}")
    if ours_tally["missed_ports"]:
        print(f"      missed: {ours_tally['missed_ports'][:20]}")
    if have_nmap:
        print(f"nmap: false open ports {tally['nmap']['false_open']}, missed open ports {tally['nmap']['missed']}")
        best = figures["ours_full"]["wall_min"] / figures["nmap_full"]["wall_min"]
        print(f"full range, fastest run of each: ours/nmap {best:.2f}x (the target uses medians)")

    checks = []
    if have_nmap:
        checks.append(("full range <= %.1fx nmap (median)" % TARGET_FULL_RATIO, ratio_full <= TARGET_FULL_RATIO,
                       f"{ratio_full:.2f}x"))
    else:
        checks.append(("full range <= %.1fx nmap (median)" % TARGET_FULL_RATIO, None, "nmap not installed"))
    checks.append((f"1-1024 <= {TARGET_SMALL_SECONDS} s (median)",
                   figures["ours_small"]["wall_median"] <= TARGET_SMALL_SECONDS,
                   f"{figures['ours_small']['wall_median']:.3f} s"))
    checks.append((f"peak RSS <= {TARGET_RSS_MB:g} MB", rss_peak <= TARGET_RSS_MB, f"{rss_peak:.1f} MB"))
    checks.append(("zero false open ports", ours_tally["false_open"] == TARGET_FALSE_OPEN,
                   str(ours_tally["false_open"])))
    checks.append(("every report complete", ours_tally["incomplete"] == 0, str(ours_tally["incomplete"])))
    busy = max(load_before, load_after) > (os.cpu_count() or 1)
    print(f"\nLoad average after: {load_after:.2f}" + (" -- WARNING: the machine was busy, timings are noisy;"
                                                         " rerun when it is idle" if busy else ""))
    print()
    for name, ok, value in checks:
        verdict = "SKIP" if ok is None else ("PASS" if ok else "FAIL")
        print(f"  {verdict}  {name:<36} {value}")
    failed = any(ok is False for _name, ok, _value in checks)
    print("\nRESULT:", "FAIL" if failed else "PASS")

    if args.json:
        data = {"machine": {"python": platform.python_version(), "platform": platform.platform(),
                            "cpus": os.cpu_count()},
                "runs": args.runs, "small_runs": small_runs, "listeners": args.listeners,
                "figures": figures, "ratio_full": ratio_full,
                "ratio_full_fastest": (figures["ours_full"]["wall_min"] / figures["nmap_full"]["wall_min"]
                                       if have_nmap else None), "ratio_small": ratio_small,
                "peak_rss_mb": rss_peak, "tally": tally, "load_average": [load_before, load_after],
                "checks": [{"name": n, "ok": ok, "value": v} for n, ok, v in checks], "passed": not failed}
        with open(args.json, "w", encoding="utf-8") as stream:
            json.dump(data, stream, indent=2)
            stream.write("\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
