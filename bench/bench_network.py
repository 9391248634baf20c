#!/usr/bin/env python3
"""Benchmark: right answers on imperfect networks, beside ``nmap -sT -n -Pn`` in the same run.

Run from the project folder, as root (Linux; needs ``ip``, ``iptables``, and nmap for the
comparison)::

    python3 bench/bench_network.py [--runs N] [--variants clean,loss2,...] [--no-nmap-for rtt40,...]

Each variant builds a fresh network namespace (``bench/netns.py``), starts listeners on
known ports (so the truth is exact: nothing else lives there), breaks the network with
iptables (and ``nfqdelay`` for delay), then runs, interleaved,
``python3 main.py scan TARGET -p SPEC --format json`` (default settings, as a student
would; ``--auto`` adds ``--timeout auto``) and ``nmap -sT -n -Pn -p SPEC TARGET``, each as a
whole process inside the namespace.  For every run it prints wall time, CPU time (user +
system of the child, from ``os.wait4``), peak RSS, missed open ports, false filtered and
false open ports, and whether our scan reported a rate limit; then medians and the
ratios ours / nmap.  The machine may be shared: CPU time and RSS are the steady figures,
wall time is noisy.

Variants and targets (medians; truth must be exact in every run; CPU <= 3x nmap's everywhere):

    clean    clean loopback, ports 1-65535                   <= 0.5 x nmap, peak RSS <= 25 MB
    loss2    2% loss, ports 1-10000, 9000-9099 filtered       <= 0.2 x nmap, no rate-limit note
    rtt40    40 ms +/- 5 ms round trip + 1% loss, 1-65535     <= 0.1 x nmap
    rtt200   200 ms round trip + 3% loss, ports 1-10000       within 180 s, no rate-limit note
    rst500   at most 500 RSTs a second, ports 1-5000          <= 1.2 x nmap, rate limit found
    rst200   at most 200 RSTs a second, ports 1-5000          within 180 s, rate limit found
    net28    127.0.1.16/28 --no-ping, 9 silent, 1-1000        <= 1.2 x nmap -Pn
    mem26    127.0.2.0/26 x 1-65535 (memory)                  peak RSS <= 1.5 x clean's
    loss6    6% loss of SYN, SYN-ACK and RST, ports 1-10000   within 180 s (not in the default run)
    rtt300j  300 ms +/- 75 ms round trip + 1% loss, 1-5000    within 180 s (not in the default run)

Nothing leaves the namespaces, which are deleted at the end.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import statistics
import sys
import tempfile
from xml.etree import ElementTree

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import netns  # noqa: E402  (bench/ is not a package)
from bench_scan import run_measured, with_rss_probe  # noqa: E402

ROOT = os.path.dirname(HERE)


class Variant:
    def __init__(self, name, title, spec, high, setup, target_ratio=None, target_seconds=None, *,
                 target="127.0.0.1", live=("127.0.0.1",), silent=(), filtered=(), ours_extra=(),
                 note_expected=None, rss_of=None):
        self.name, self.title, self.spec, self.high = name, title, spec, high
        self.setup = setup
        self.target_ratio, self.target_seconds = target_ratio, target_seconds
        self.target, self.live, self.silent = target, tuple(live), tuple(silent)
        self.filtered = tuple(filtered)          # (low, high) port ranges whose SYNs are dropped
        self.ours_extra = tuple(ours_extra)
        self.note_expected = note_expected       # True: a rate limit must be found; False: never reported
        self.rss_of = rss_of                     # (variant, factor): peak RSS within factor x that one's

    @property
    def listening(self) -> list:
        candidates = [22, 80, 443, 631, 3306, 5000, 8080, 9999, 31337, 50000, 65000]
        return [port for port in candidates if port <= self.high and not self.is_filtered(port)]

    def is_filtered(self, port: int) -> bool:
        return any(low <= port <= high for low, high in self.filtered)

    @property
    def truth(self) -> tuple:
        """(open (address, port) pairs, how many ports must come back filtered)."""
        opened = {(address, port) for address in self.live for port in self.listening}
        per_host = sum(min(high, self.high) - low + 1 for low, high in self.filtered if low <= self.high)
        hosts = _host_count(self.target)
        return opened, per_host * (hosts - len(self.silent)) + self.high * len(self.silent)


def _host_count(target: str) -> int:
    return 1 << (32 - int(target.split("/")[1])) if "/" in target else 1


def _network(silent):
    def setup(ns, tools):
        for address in silent:
            ns.drop_host(address)
    return setup


def _loss(probability):
    return lambda ns, tools: ns.lose(probability)


def _delay(rtt, jitter, loss):
    def setup(ns, tools):
        if not tools.get("nfqdelay"):
            raise RuntimeError("nfqdelay could not be built (see /work/shared/tools/nfqdelay/README.md)")
        ns.delay(tools["nfqdelay"], rtt, jitter, loss * 100)  # nfqdelay drops SYNs itself
        ns.drop(netns.SYN_ACK, loss)
        ns.drop(netns.RST, loss)
    return setup


NET28_SILENT = tuple(f"127.0.1.{n}" for n in (16, *range(24, 32)))     # 9 of 16 addresses drop everything
VARIANTS = {v.name: v for v in (
    Variant("clean", "clean loopback, full range", "1-65535", 65535, lambda ns, tools: None, target_ratio=0.5),
    Variant("loss2", "2% loss + 100 filtered, 1-10000", "1-10000", 10000,
            _loss(0.02), target_ratio=0.2,
            filtered=((9000, 9099),), note_expected=False),
    Variant("rtt40", "40 ms RTT +/-5 ms + 1% loss, full range", "1-65535", 65535, _delay(40, 5, 0.01),
            target_ratio=0.1),
    Variant("rtt200", "200 ms RTT + 3% loss, 1-10000", "1-10000", 10000, _delay(200, 0, 0.03), target_seconds=180,
            note_expected=False),
    Variant("rst500", "RSTs limited to 500/s, 1-5000", "1-5000", 5000,
            lambda ns, tools: ns.limit_rsts(500), target_ratio=1.2, note_expected=True),
    Variant("rst200", "RSTs limited to 200/s, 1-5000", "1-5000", 5000,
            lambda ns, tools: ns.limit_rsts(200), target_seconds=180, note_expected=True),
    Variant("net28", "/28 --no-ping, 9 silent, 1-1000", "1-1000", 1000, _network(NET28_SILENT), target_ratio=1.2,
            target="127.0.1.16/28", live=tuple(f"127.0.1.{n}" for n in range(17, 24)), silent=NET28_SILENT,
            ours_extra=("--no-ping",)),
    Variant("mem26", "/26 x full range (memory)", "1-65535", 65535, lambda ns, tools: None, target_seconds=600,
            target="127.0.2.0/26", live=("127.0.2.1", "127.0.2.40"), ours_extra=("--no-ping",),
            rss_of=("clean", 1.5)),
    # Harsher checks outside the target table (truth must still be exact; no time target).
    Variant("loss6", "6% loss, 1-10000", "1-10000", 10000, _loss(0.06), target_seconds=180),
    Variant("rtt300j", "300 ms RTT +/-75 ms + 1% loss, 1-5000", "1-5000", 5000, _delay(300, 75, 0.01),
            target_seconds=180),
)}

DEFAULT_VARIANTS = ("clean", "loss2", "rtt40", "rtt200", "rst500", "net28")
TARGET_CPU_RATIO = 3.0          # ours / nmap, CPU seconds, every variant
TARGET_FULL_RANGE_RSS_MB = 25.0


def parse_ours(stdout: str) -> dict:
    """Open (address, port) pairs, filtered count, rate limit and tries from our JSON (one host or a network)."""
    report = json.loads(stdout)
    hosts = report["hosts"] if "hosts" in report else [dict(report, address=report["address"])]
    opened, filtered = set(), 0
    for host in hosts:
        opened |= {(host["address"], row["port"]) for row in host["ports"] if row["state"] == "open"}
        filtered += host["counts"].get("filtered", 0)
    rows = [row for host in hosts for row in host["ports"]]
    return {"open": opened, "filtered": filtered, "complete": report["complete"], "retried": report.get("retried"),
            "rate_limit": report.get("rate_limit_per_second"),
            "max_tries": max((row.get("tries", 1) for row in rows), default=1)}


def parse_nmap(stdout: str) -> dict:
    """Open (address, port) pairs and the number of filtered ports from nmap's XML output (-oX -).

    (Its grepable output leaves out the states it does not list one by one.)
    """
    opened, filtered = set(), 0
    for host in ElementTree.fromstring(stdout).iter("host"):
        address = host.find("address").get("addr")
        for port in host.iter("port"):
            state = port.find("state").get("state")
            if state == "open":
                opened.add((address, int(port.get("portid"))))
            elif state == "filtered":
                filtered += 1
        filtered += sum(int(extra.get("count")) for extra in host.iter("extraports") if extra.get("state") == "filtered")
    return {"open": opened, "filtered": filtered, "complete": True}


def measure(ns, argv, parse, variant: Variant, timeout) -> dict:
    with tempfile.NamedTemporaryFile(prefix="pscan-rss-", delete=False) as report:
        rss_path = report.name
    try:
        sample = run_measured(ns.command(*with_rss_probe(argv, rss_path)), timeout=timeout, rss_report=rss_path)
    finally:
        os.unlink(rss_path)
    base = {"wall": sample["wall"], "cpu": sample["cpu"], "rss_mb": sample["rss_mb"]}
    if sample["code"] != 0:
        return dict(base, error=sample["stderr"].strip()[-300:] or f"exit code {sample['code']}")
    found = parse(sample["stdout"])
    truth, filtered_expected = variant.truth
    return dict(base, missed=len(truth - found["open"]), false_open=len(found["open"] - truth),
                false_filtered=max(0, found["filtered"] - filtered_expected),
                missed_filtered=max(0, filtered_expected - found["filtered"]), complete=found["complete"],
                **{k: found[k] for k in ("retried", "rate_limit", "max_tries") if k in found})


def run_variant(variant: Variant, runs: int, with_nmap: bool, tools: dict, timeout: float, extra: list) -> dict:
    ours_samples, nmap_samples = [], []
    with netns.Namespace(variant.name) as ns:
        for address in variant.live:
            ns.serve(variant.listening, address)
        for low, high in variant.filtered:
            ns.drop_ports(low, high)
        variant.setup(ns, tools)
        for run in range(runs):
            ours = measure(ns, [sys.executable, os.path.join(ROOT, "main.py"), "scan", variant.target, "-p",
                                variant.spec, "--format", "json", *variant.ours_extra, *extra],
                           parse_ours, variant, timeout)
            ours_samples.append(ours)
            print(f"  {variant.name} run {run + 1} ours: {_line(ours)}", flush=True)
            if with_nmap:
                theirs = measure(ns, ["nmap", "-sT", "-n", "-Pn", "-p" + variant.spec, variant.target, "-oX", "-"],
                                 parse_nmap, variant, timeout)
                nmap_samples.append(theirs)
                print(f"  {variant.name} run {run + 1} nmap: {_line(theirs)}", flush=True)
    return {"ours": ours_samples, "nmap": nmap_samples}


def _line(sample: dict) -> str:
    if "error" in sample:
        return f"ERROR {sample['error']}"
    extra = ""
    if "retried" in sample:
        extra = f" retried={sample['retried']} rate_limit={sample['rate_limit']} max_tries={sample['max_tries']}"
    return (f"{sample['wall']:.2f} s, CPU {sample['cpu']:.2f} s, {sample['rss_mb']:.1f} MB, missed "
            f"{sample['missed']}, false filtered {sample['false_filtered']}, missed filtered "
            f"{sample['missed_filtered']}, false open {sample['false_open']}{extra}")


def _exact(sample: dict) -> bool:
    return not (sample["missed"] or sample["false_filtered"] or sample["missed_filtered"] or sample["false_open"])


def summary(samples: list) -> dict:
    good = [s for s in samples if "error" not in s]
    if not good:
        return {}
    return {"runs": len(samples), "errors": len(samples) - len(good),
            "wall_median": statistics.median(s["wall"] for s in good),
            "wall_min": min(s["wall"] for s in good), "wall_max": max(s["wall"] for s in good),
            "cpu_median": statistics.median(s["cpu"] for s in good),
            "rss_max_mb": max(s["rss_mb"] for s in good),
            "missed": sum(s["missed"] for s in good), "false_filtered": sum(s["false_filtered"] for s in good),
            "missed_filtered": sum(s["missed_filtered"] for s in good),
            "false_open": sum(s["false_open"] for s in good), "exact_runs": sum(1 for s in good if _exact(s)),
            "noted": sum(1 for s in good if s.get("rate_limit"))}


def _verdict(variant: Variant, ours: dict, theirs: dict, everything: dict) -> tuple:
    """(PASS/FAIL text, ratio of wall, ratio of CPU)."""
    ratio = ours["wall_median"] / theirs["wall_median"] if theirs else None
    cpu_ratio = ours["cpu_median"] / theirs["cpu_median"] if theirs and theirs["cpu_median"] > 0 else None
    checks = [ours["exact_runs"] == ours["runs"],
              cpu_ratio is None or cpu_ratio <= TARGET_CPU_RATIO,
              ratio is None or variant.target_ratio is None or ratio <= variant.target_ratio,
              variant.target_seconds is None or ours["wall_max"] <= variant.target_seconds]
    if variant.note_expected is True:
        checks.append(ours["noted"] == ours["runs"] - ours["errors"])
    elif variant.note_expected is False:
        checks.append(ours["noted"] == 0)
    if variant.name == "clean":
        checks.append(ours["rss_max_mb"] <= TARGET_FULL_RANGE_RSS_MB)
    if variant.rss_of and everything.get(variant.rss_of[0]):
        checks.append(ours["rss_max_mb"] <= variant.rss_of[1] * everything[variant.rss_of[0]]["rss_max_mb"])
    return ("PASS" if all(checks) else "FAIL"), ratio, cpu_ratio


def print_table(results: dict) -> bool:
    print("| variant | ours: median wall (min-max) | CPU | peak RSS | exact runs | rate-limit note (runs) "
          "| nmap -sT: wall | CPU | peak RSS | exact | wall ratio | CPU ratio | verdict |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    ours_by_name = {name: summary(samples["ours"]) for name, samples in results.items()}
    failed = False
    for name, samples in results.items():
        variant = VARIANTS[name]
        ours, theirs = ours_by_name[name], summary(samples["nmap"])
        if not ours:
            print(f"| {variant.title} | every run failed | | | | | | | | | | | FAIL |")
            failed = True
            continue
        verdict, ratio, cpu_ratio = _verdict(variant, ours, theirs, ours_by_name)
        failed |= verdict == "FAIL"
        nmap_cells = (f"{theirs['wall_median']:.2f} s | {theirs['cpu_median']:.2f} s | {theirs['rss_max_mb']:.1f} MB "
                      f"| {theirs['exact_runs']}/{theirs['runs']}") if theirs else "not run | | |"
        print(f"| {variant.title} | {ours['wall_median']:.2f} s ({ours['wall_min']:.2f}-{ours['wall_max']:.2f}) "
              f"| {ours['cpu_median']:.2f} s | {ours['rss_max_mb']:.1f} MB | {ours['exact_runs']}/{ours['runs']} "
              f"| {ours['noted']}/{ours['runs'] - ours['errors']} | {nmap_cells} "
              f"| {'%.2fx' % ratio if ratio else '-'} | {'%.2fx' % cpu_ratio if cpu_ratio else '-'} | {verdict} |")
    return failed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="repetitions per variant (default 3)")
    parser.add_argument("--variants", default=",".join(DEFAULT_VARIANTS), help="comma-separated: " + ",".join(VARIANTS))
    parser.add_argument("--runs-for", default="", help="per-variant repetitions, e.g. loss2=20,rtt200=10")
    parser.add_argument("--no-nmap-for", default="", help="variants to run without nmap (it takes minutes there)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds before a run is killed")
    parser.add_argument("--json", metavar="FILE", help="also write the raw samples here")
    parser.add_argument("--auto", action="store_true", help="scan with --timeout auto (default: the CLI default, 1 s)")
    args = parser.parse_args(argv)
    reason = netns.unavailable()
    if reason:
        print(f"cannot run: {reason}")
        return 2
    names = [name.strip() for name in args.variants.split(",") if name.strip()]
    skip_nmap = {name.strip() for name in args.no_nmap_for.split(",")}
    runs_for = {key: int(value) for key, value in (item.split("=") for item in args.runs_for.split(",") if item)}
    build_folder = tempfile.mkdtemp(prefix="pscan-nfqdelay-")
    tools = {"nfqdelay": netns.build_nfqdelay(build_folder) if {"rtt40", "rtt200", "rtt300j"} & set(names) else None}
    have_nmap = shutil.which("nmap") is not None
    our_timeout = "auto" if args.auto else "default (1 s)"
    print(f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, load {os.getloadavg()[0]:.2f}, "
          f"{os.cpu_count()} cores, {args.runs} run(s) per variant, our timeout {our_timeout}", flush=True)
    results = {}
    for name in names:
        variant = VARIANTS[name]
        print(f"{variant.title}:", flush=True)
        results[name] = run_variant(variant, runs_for.get(name, args.runs), have_nmap and name not in skip_nmap,
                                    tools, args.timeout, ["--timeout", "auto"] if args.auto else [])
    print()
    failed = print_table(results)
    shutil.rmtree(build_folder, ignore_errors=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as stream:
            json.dump(results, stream, indent=1, default=sorted)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
