"""Real servers from Debian's packages are named the way ``nmap -sV`` names them.

nginx, OpenSSH, exim, MariaDB and Redis run in a network namespace this module creates
(``bench/real_services.py``), each on its usual port and on an unusual one.  Each test
skips, saying why, where root, the namespace tools or a package is missing.
"""

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from bench import netns
from bench.real_services import SERVICES, RealServices
from tests.conftest import ROOT

pytestmark = [pytest.mark.netns, pytest.mark.slow]

NAMESPACE_PROBLEM = netns.unavailable()


@pytest.fixture(scope="module")
def servers():
    if NAMESPACE_PROBLEM:
        pytest.skip(NAMESPACE_PROBLEM)
    with RealServices() as running:
        yield running


@pytest.fixture(scope="module")
def our_scan(servers):
    """Every running server's ports, scanned once with --banners inside the namespace: {port: row}."""
    ports = sorted(servers.ports())
    if not ports:
        pytest.skip(f"no real server could run here: {servers.missing}")
    proc = subprocess.run(servers.namespace.command(sys.executable, os.path.join(ROOT, "main.py"), "scan", "127.0.0.1",
                                                    "-p", ",".join(map(str, ports)), "--banners", "--format", "json",
                                                    "--yes"),
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    return {row["port"]: row for row in json.loads(proc.stdout)["ports"]}


CASES = [(service, port) for service, (_program, _package, usual, unusual) in SERVICES.items()
         for port in (usual,) + unusual]


@pytest.mark.parametrize("service, port", CASES, ids=[f"{service}-{port}" for service, port in CASES])
def test_a_real_server_is_named_from_what_it_says(servers, our_scan, service, port):
    if service in servers.missing:
        pytest.skip(servers.missing[service])
    row = our_scan[port]
    assert row["state"] == "open"
    assert row["service"] == service, row
    assert row["service_source"] != "port-table", row
    expected_source = {"http": "HEAD", "redis": "PING" if port == 6379 else "HEAD"}.get(service, "greeting")
    assert row["service_source"] == expected_source, row


def test_redis_never_sees_http_when_the_port_table_says_redis(servers):
    """Redis logs 'Possible SECURITY ATTACK' for a Host: line; on 6379 it is only sent PING."""
    if "redis" in servers.missing:
        pytest.skip(servers.missing["redis"])
    script = ("import socket; from scanner.banners import identify_service; "
              "print(identify_service('127.0.0.1', socket.AF_INET, 6379, 3.0))")
    proc = subprocess.run(servers.namespace.command(sys.executable, "-c", script), cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert "service='redis', source='PING'" in proc.stdout, proc.stdout + proc.stderr
    with open(os.path.join(servers.folder, "redis-6379.log"), encoding="utf-8", errors="replace") as log:
        assert "SECURITY ATTACK" not in log.read()


def test_the_names_match_nmap_service_detection(servers, our_scan):
    if shutil.which("nmap") is None:
        pytest.skip("nmap is not installed")
    ports = sorted(servers.ports())
    proc = subprocess.run(servers.namespace.command("nmap", "-sV", "-sT", "-n", "-Pn", "-p", ",".join(map(str, ports)),
                                                    "127.0.0.1"), capture_output=True, text=True, timeout=300)
    theirs = {int(port): name for port, name in re.findall(r"^(\d+)/tcp\s+open\s+(\S+)", proc.stdout, re.MULTILINE)}
    assert theirs == {port: our_scan[port]["service"] for port in ports}
