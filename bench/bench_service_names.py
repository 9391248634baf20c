#!/usr/bin/env python3
"""Service names beside ``nmap -sV``: the same real servers, the same ports, both tools' names and times.

    sudo python3 -m bench.bench_service_names [--runs 3]

Starts real nginx, OpenSSH, exim, MariaDB and Redis in a network namespace
(``bench.real_services``), on their usual ports and on unusual ones, then for each port
runs ``nmap -sV -sT -n -Pn -p PORT 127.0.0.1`` and ``main.py scan 127.0.0.1 -p PORT
--banners`` inside it, and once more for every port together.  Prints a Markdown table:
each tool's name for the service, and the median wall time of ``--runs`` runs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

from bench.real_services import SERVICES, RealServices

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(command: list) -> tuple:
    started = time.monotonic()
    proc = subprocess.run(command, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    return time.monotonic() - started, proc.stdout


def nmap_names(output: str) -> dict:
    return {int(port): name for port, name in re.findall(r"^(\d+)/tcp\s+open\s+(\S+)", output, re.MULTILINE)}


def our_names(output: str) -> dict:
    report = json.loads(output)
    return {row["port"]: f"{row['service']} ({row['service_source']})" for row in report["ports"]}


def measure(services: RealServices, ports: list, runs: int) -> tuple:
    spec = ",".join(map(str, ports))
    nmap = services.namespace.command("nmap", "-sV", "-sT", "-n", "-Pn", "-p", spec, "127.0.0.1")
    ours = services.namespace.command(sys.executable, os.path.join(ROOT, "main.py"), "scan", "127.0.0.1", "-p", spec,
                                      "--banners", "--format", "json", "--yes")
    nmap_times, our_times = [], []
    for _ in range(runs):
        seconds, nmap_out = timed(nmap)
        nmap_times.append(seconds)
        seconds, our_out = timed(ours)
        our_times.append(seconds)
    return nmap_names(nmap_out), statistics.median(nmap_times), our_names(our_out), statistics.median(our_times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("nmap") is None or os.geteuid() != 0:
        print("needs root and nmap")
        return 2
    with RealServices() as services:
        for service, why in services.missing.items():
            print(f"skipped {service}: {why}")
        print("| server | port | nmap -sV | time | portscan-lab --banners | time |")
        print("| --- | --- | --- | --- | --- | --- |")
        for port, service in services.ports().items():
            nmap, nmap_seconds, ours, our_seconds = measure(services, [port], args.runs)
            print(f"| {SERVICES[service][0]} | {port} | {nmap.get(port, '?')} | {nmap_seconds:.2f} s "
                  f"| {ours.get(port, '?')} | {our_seconds:.2f} s |")
        everything = sorted(services.ports())
        nmap, nmap_seconds, ours, our_seconds = measure(services, everything, args.runs)
        same = sum(1 for port in everything if ours.get(port, "").split(" ")[0] == nmap.get(port))
        print(f"| all {len(everything)} together | | {len(nmap)} named | {nmap_seconds:.2f} s "
              f"| {same} of {len(everything)} named as nmap does | {our_seconds:.2f} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
