"""The practice network: loopback "machines" on 127.42.0.0/29, each graded against its known answer."""

from __future__ import annotations

import socket
import sys

import pytest

from lessons.lab import (DB_BANNER, NETWORK_BLOCK, NETWORK_LAYOUT, SSH_BANNER, PracticeLab, compare_network)
from lessons.lab.network import PracticeNetwork, address_problem, alias_command
from scanner import PortState, Reason, TimeoutSetting, parse_target, scan
from scanner.results import PortResult, ScanReport

pytestmark = pytest.mark.skipif(address_problem(NETWORK_LAYOUT[0].address) is not None,
                                reason=f"{NETWORK_LAYOUT[0].address} is not a local address here "
                                       f"(add it with: {alias_command(NETWORK_LAYOUT[0].address)})")


@pytest.fixture(scope="module")
def net_lab():
    with PracticeLab(base_port=0, also_ipv6=False, network=True) as lab:
        yield lab


def read_line(host: str, port: int) -> bytes:
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.settimeout(5)
        data = b""
        while not data.endswith(b"\n"):
            chunk = sock.recv(100)
            if not chunk:
                break
            data += chunk
        return data


def test_every_planned_host_runs_with_at_least_three_having_open_ports(net_lab):
    network = net_lab.network
    assert network.block == NETWORK_BLOCK
    assert network.addresses() == tuple(plan.address for plan in NETWORK_LAYOUT)
    with_open = [h for h in network.hosts if any(s.expected_state is PortState.OPEN for s in h.services)]
    assert len(with_open) >= 3
    assert not network.notes


def test_each_machine_answers_as_its_known_answer_says(net_lab):
    web, db, odd, quiet = (net_lab.network.host(plan.address) for plan in NETWORK_LAYOUT)
    assert read_line(web.address, web.service("ssh").port) == SSH_BANNER
    assert read_line(db.address, db.service("db").port) == DB_BANNER
    assert read_line(odd.address, odd.service("ssh").port) == SSH_BANNER
    filtered = [s for s in db.services if s.service == "filtered"]
    assert len(filtered) == 2 and all(s.expected_state is (PortState.FILTERED if net_lab.filtered_works
                                                            else s.expected_state) for s in filtered)
    assert quiet.known_answer() == {(quiet.service("closed").port, "tcp"): PortState.CLOSED}


def scan_network(lab) -> dict:
    reports = {}
    for host in lab.network.hosts:
        ports = sorted({s.port for s in host.services} | {lab.service("echo").port})
        reports[host.address] = scan(parse_target(host.address), ports, TimeoutSetting(0.5))
    return reports


@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_a_real_scan_of_the_network_matches_host_by_host(net_lab):
    if not net_lab.filtered_works:
        pytest.skip("the full-accept-queue trick does not filter on this system")
    result = compare_network(scan_network(net_lab), net_lab)
    assert [h.verdict for h in result.hosts] == ["match"] * len(NETWORK_LAYOUT), result.hosts
    assert all(h.observed_up and h.why == "answers" for h in result.hosts)
    assert result.all_match and result.outside_block == ()
    db = result.host(NETWORK_LAYOUT[1].address)
    reasons = {v.service.service: v.reason for v in db.ports.verdicts}
    assert reasons["filtered"] is Reason.NO_RESPONSE and reasons["db"] is Reason.SYN_ACK


def empty_report(address: str, results=()) -> ScanReport:
    return ScanReport(target=parse_target(address), ports_requested=tuple(r.port for r in results),
                      results=list(results), timeout="1", final_timeout=1.0, workers=1,
                      started="2024-01-01T00:00:00+00:00", elapsed_seconds=0.0, complete=True)


def test_down_missing_spare_and_outside_hosts_are_graded_with_a_reason(net_lab):
    web, db, odd, quiet = (h.address for h in net_lab.network.hosts)
    http = net_lab.network.host(web).service("http").port
    reports = {web: empty_report(web, [PortResult(http, PortState.CLOSED, Reason.CONN_REFUSED)]),
               db: None,                                  # the scan said: down
               quiet: empty_report(quiet),
               "127.42.0.6": empty_report("127.42.0.6"),  # another address of the block
               "127.0.0.1": empty_report("127.0.0.1")}    # not in the block at all
    result = compare_network(reports, net_lab)
    by_address = {h.address: h for h in result.hosts}
    assert by_address[web].verdict == "mismatch"
    assert next(v for v in by_address[web].ports.verdicts if v.service.port == http).observed is PortState.CLOSED
    down = by_address[db]
    assert (down.verdict, down.why, down.observed_up) == ("mismatch", "looked_down", False)
    assert (by_address[odd].verdict, by_address[odd].why) == ("not_scanned", "not_scanned")
    assert by_address["127.42.0.6"].name == "spare" and by_address["127.42.0.6"].verdict == "match"
    assert result.outside_block == ("127.0.0.1",)
    assert not result.all_match


def test_an_address_this_machine_lacks_gives_a_note_and_the_lab_runs_on_127_0_0_1_alone(monkeypatch):
    from lessons.lab import network as network_module

    monkeypatch.setattr(network_module, "address_problem", lambda address: "Cannot assign requested address")
    with PracticeLab(base_port=0, also_ipv6=False, network=True) as lab:
        assert lab.network.hosts == ()
        notes = [n for n in lab.notes if n.code == "network_unavailable"]
        assert len(notes) == len(NETWORK_LAYOUT)
        assert NETWORK_LAYOUT[0].address in notes[0].params["command"]
        assert lab.running and lab.service("ssh").port


def test_alias_command_names_the_platforms_tool(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    assert alias_command("127.42.0.1") == "sudo ifconfig lo0 alias 127.42.0.1 up"
    monkeypatch.setattr(sys, "platform", "linux")
    assert alias_command("127.42.0.1") == "sudo ip addr add 127.42.0.1/8 dev lo"


def test_the_network_needs_loopback_ipv4():
    network_lab = PracticeLab(host="::1", base_port=0, network=True).start()
    try:
        assert network_lab.network.hosts == ()
        assert any(n.code == "network_skipped" for n in network_lab.notes)
    finally:
        network_lab.stop()


def test_compare_network_accepts_a_bare_network():
    assert compare_network({}, PracticeNetwork()).hosts == ()


@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_the_network_grade_reads_host_by_host_with_reasons(net_lab):
    import io

    from lessons.ui.i18n import Translator
    from lessons.ui.lab_view import network_grade_blocks
    from lessons.ui.terminal import Environment

    web, db = net_lab.network.hosts[0].address, net_lab.network.hosts[1].address
    reports = scan_network(net_lab)
    reports[db] = None
    reports["127.42.0.6"] = empty_report("127.42.0.6")
    for language, up_words in (("en", "is up: right"), ("id", "aktif: benar")):
        stdout = io.StringIO()
        blocks = network_grade_blocks(compare_network(reports, net_lab), Environment(stdout=stdout, colour=False),
                                      Translator(language))
        stdout.write("\n".join(line for block in blocks for line in block.lines))
        screen = stdout.getvalue()
        assert f"{web} " in screen and up_words in screen
        assert "iptables" in screen and "127.42.0.6" in screen
