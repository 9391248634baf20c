"""Services are named by what they say: a greeting, or the answer to one small request.

Each protocol is played by a purpose-built look-alike on a port-0 loopback port
(tests/servers.py ``ProtocolServer``); the real packages are in test_service_names_real.py.
"""

import csv
import io
import json
import socket
import struct
import subprocess
import sys
import threading
import time

import pytest

from scanner import services
from scanner.banners import ServiceAnswer, identify_service, identify_services
from scanner.fingerprints import recognise
from scanner.report import to_csv, to_dict, with_banners
from scanner.results import PortResult, PortState, Reason
from tests.conftest import ROOT, program_env
from tests.servers import ProtocolServer, SilentHTTPServer

MAIN = f"{ROOT}/main.py"


def mysql_packet(payload: bytes, sequence: int = 0) -> bytes:
    return struct.pack("<I", len(payload))[:3] + bytes([sequence]) + payload


MARIADB_HANDSHAKE = mysql_packet(b"\x0a5.5.5-10.11.19-MariaDB-0+deb12u1\x00" + struct.pack("<I", 42) + b"abcdefgh\x00"
                                 + b"\xfe\xf7\x08\x02\x00\xff\x81\x15" + b"\x00" * 10 + b"ijklmnopqrst\x00"
                                 + b"mysql_native_password\x00")
MYSQL_REFUSED = mysql_packet(b"\xff\x6a\x04Host '127.0.0.1' is not allowed to connect to this MariaDB server")
REDIS_UNKNOWN = b"-ERR unknown command 'HEAD', with args beginning with: '/' 'HTTP/1.0' \r\n"

GREETINGS = [
    ("ssh", b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n", "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"),
    ("smtp", b"220 mail.lab.test ESMTP Postfix (Debian/GNU)\r\n", "220 mail.lab.test ESMTP Postfix (Debian/GNU)"),
    ("smtp", b"220 mx.lab.test ESMTP Exim 4.96 Fri, 04 Dec 2026 16:00:00 +0000\r\n", "220 mx.lab.test ESMTP Exim 4.96"),
    ("ftp", b"220 (vsFTPd 3.0.3)\r\n", "220 (vsFTPd 3.0.3)"),
    ("ftp", b"220 ProFTPD Server (Debian) [::ffff:127.0.0.1]\r\n", "220 ProFTPD Server"),
    ("pop3", b"+OK Dovecot (Debian) ready.\r\n", "+OK Dovecot (Debian) ready."),
    ("imap", b"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS] Dovecot (Debian) ready.\r\n", "* OK [CAPABILITY"),
    ("mysql", MARIADB_HANDSHAKE, "MySQL protocol 10, server 5.5.5-10.11.19-MariaDB-0+deb12u1"),
    ("mysql", MYSQL_REFUSED, "MySQL error 1130: Host '127.0.0.1' is not allowed"),
    ("vnc", b"RFB 003.008\n", "RFB 003.008"),
    ("telnet", b"\xff\xfd\x18\xff\xfd\x20\xff\xfd\x23", ""),
]


def identify(port, timeout=1.0):
    return identify_service("127.0.0.1", socket.AF_INET, port, timeout=timeout)


@pytest.mark.parametrize("name, greeting, shown", GREETINGS, ids=[f"{g[0]}-{i}" for i, g in enumerate(GREETINGS)])
def test_a_service_that_greets_is_named_from_its_greeting_without_being_asked(name, greeting, shown):
    with ProtocolServer(greeting=greeting, silent=True) as server:
        started = time.monotonic()
        answer = identify(server.port, timeout=5.0)
        took = time.monotonic() - started
    assert answer.service == name and answer.source == "greeting", answer
    assert shown in answer.banner
    assert server.requests == []          # nothing was sent to a server that spoke first
    assert took < 2.5, took               # complete at once: the 5 s patience was not waited out


def test_a_silent_web_server_on_an_unusual_port_is_named_from_its_answer_to_head():
    with SilentHTTPServer(server="nginx/1.22.1") as server:
        answer = identify(server.port, timeout=0.3)
    assert answer == ServiceAnswer("HTTP/1.0 200 OK | Server: nginx/1.22.1", "http", "HEAD")


def test_redis_where_the_port_table_says_redis_is_sent_ping_not_http(monkeypatch):
    with ProtocolServer(answers={b"*1\r\n$4\r\nPING\r\n": b"+PONG\r\n"}) as server:
        monkeypatch.setattr(services, "REDIS_PORTS", frozenset({server.port}))
        started = time.monotonic()
        answer = identify(server.port, timeout=5.0)
        took = time.monotonic() - started
    assert answer == ServiceAnswer("+PONG", "redis", "PING")
    assert server.requests == [b"*1\r\n$4\r\nPING\r\n"]   # no HEAD came first
    assert took < 2.5, took               # asked at once: no 5 s wait for a greeting


def test_redis_on_an_unusual_port_is_recognised_from_its_error_for_head():
    with ProtocolServer(answers={b"HEAD ": REDIS_UNKNOWN}) as server:
        answer = identify(server.port, timeout=0.3)
    assert answer.service == "redis" and answer.source == "HEAD"
    assert answer.banner.startswith("-ERR unknown command 'HEAD'")


def test_redis_that_wants_a_password_is_still_redis(monkeypatch):
    with ProtocolServer(answers={b"*1": b"-NOAUTH Authentication required.\r\n"}) as server:
        monkeypatch.setattr(services, "REDIS_PORTS", frozenset({server.port}))
        assert identify(server.port).service == "redis"


def test_postgresql_on_its_port_is_asked_for_tls_first(monkeypatch):
    with ProtocolServer(answers={struct.pack("!II", 8, 80877103): b"N"}) as server:
        monkeypatch.setattr(services, "POSTGRES_PORTS", frozenset({server.port}))
        answer = identify(server.port)
    assert answer == ServiceAnswer("PostgreSQL (TLS not offered)", "postgresql", "SSLRequest")
    assert server.requests == [struct.pack("!II", 8, 80877103)]


@pytest.mark.slow   # over a third of a second: kept out of the quick loop
def test_postgresql_elsewhere_hangs_up_on_head_and_then_answers_the_tls_question():
    with ProtocolServer(answers={struct.pack("!II", 8, 80877103): b"S"}) as server:
        answer = identify(server.port, timeout=0.3)
    assert answer.service == "postgresql" and answer.source == "SSLRequest"
    assert server.connections == 2 and server.requests[0].startswith(b"HEAD / HTTP/1.0")


def test_an_unknown_greeting_is_kept_as_the_banner_and_the_port_table_name_stays():
    with ProtocolServer(greeting=b"hello from a home-made service\r\n", silent=True) as server:
        answer = identify(server.port)
    assert answer == ServiceAnswer("hello from a home-made service", "", "")
    assert server.requests == []


@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_a_port_that_never_speaks_costs_at_most_twice_the_timeout_and_one_connection():
    with ProtocolServer(silent=True) as server:
        started = time.monotonic()
        answer = identify(server.port, timeout=0.3)
        took = time.monotonic() - started
    assert answer == ServiceAnswer()
    assert took < 2.0 and server.connections == 1, (took, server.connections)   # 2 x 0.3 s, with room for load


def test_a_flood_is_read_only_up_to_the_limit():
    flood = b"SSH-2.0-" + b"A" * 200_000 + b"\r\n"
    with ProtocolServer(greeting=flood, silent=True) as server:
        answer = identify(server.port)
    assert answer.service == "ssh" and len(answer.banner) <= 72


def test_an_echo_service_is_named_echo_and_its_copy_of_our_request_is_not_a_banner():
    with ProtocolServer(answers={b"HEAD ": b"HEAD / HTTP/1.0\r\n"}) as server:
        answer = identify(server.port, timeout=0.3)
    assert answer == ServiceAnswer("", "echo", "HEAD")


def test_redis_greeting_lookalike_is_not_pop3():
    assert recognise(b"+OK portscan-lab practice database ready\r\n") is None
    assert recognise(b"+PONG\r\n", "PING").name == "redis"


@pytest.mark.parametrize("garbage", [b"\x00", b"\xff", b"\x05\x00\x00\x00\x0a", b"\x40\x00\x00\x00\x0a" + b"1" * 70,
                                     b"E\x00\x00", b"220", b"HTTP/"])
def test_short_or_broken_answers_never_raise(garbage):
    recognise(garbage, "HEAD", b"HEAD / HTTP/1.0\r\n")


@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_many_ports_at_once_each_get_their_own_name():
    with ProtocolServer(greeting=b"SSH-2.0-x\r\n", silent=True) as ssh, SilentHTTPServer() as web, \
            ProtocolServer(silent=True) as quiet:
        found = identify_services("127.0.0.1", socket.AF_INET, [ssh.port, web.port, quiet.port], timeout=0.3)
    assert {port: answer.service for port, answer in found.items()} == {ssh.port: "ssh", web.port: "http"}


def _report_with(result):
    from scanner.inputs import parse_target
    from scanner.results import ScanReport

    return ScanReport(parse_target("127.0.0.1"), (result.port,), [result], "1", 1.0, 1, "2026-01-01T00:00:00Z", 0.1,
                      True)


def test_reports_say_how_each_service_was_named():
    report = _report_with(PortResult(8080, PortState.OPEN, Reason.SYN_ACK, service="http-alt"))
    assert to_dict(report)["ports"][0]["service_source"] == "port-table"
    named = with_banners(report, {8080: ServiceAnswer("HTTP/1.1 200 OK | Server: nginx", "http", "HEAD")})
    row = to_dict(named)["ports"][0]
    assert (row["service"], row["service_source"], row["banner"]) == ("http", "HEAD", "HTTP/1.1 200 OK | Server: nginx")
    rows = list(csv.DictReader(io.StringIO(to_csv(named))))
    assert rows[0]["service_source"] == "HEAD" and rows[0]["service"] == "http"


@pytest.mark.parametrize("language, words", [("en", "named from its greeting"), ("id", "dinamai dari sapaannya")])
@pytest.mark.slow   # over half a second: kept out of the quick loop
def test_the_scan_command_names_a_service_from_its_greeting_in_text_and_json(isolated_home, language, words):
    with ProtocolServer(greeting=b"SSH-2.0-OpenSSH_9.2p1\r\n", silent=True) as server:
        text = subprocess.run([sys.executable, MAIN, "scan", "127.0.0.1", "-p", str(server.port), "--banners"],
                              cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
                              env=program_env(isolated_home, LANGUAGE=language))
        as_json = subprocess.run([sys.executable, MAIN, "scan", "127.0.0.1", "-p", str(server.port), "--banners",
                                  "--format", "json"], cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True,
                                 text=True, timeout=60, env=program_env(isolated_home))
    assert text.returncode == 0, text.stderr
    assert words in text.stdout and "SSH-2.0-OpenSSH_9.2p1" in text.stdout
    port = json.loads(as_json.stdout)["ports"][0]
    assert (port["service"], port["service_source"]) == ("ssh", "greeting")


def test_service_names_stay_right_when_threads_ask_at_once():
    from scanner import services
    services.service_name.cache_clear()
    ports = list(range(1, 3000))
    found = {}

    def look_up():
        for port in ports:
            found.setdefault(port, set()).add(services.service_name(port))

    workers = [threading.Thread(target=look_up) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    for port, names in found.items():
        assert len(names) == 1, (port, names)
        assert all(name == "" or services.SERVICE_NAME.match(name) for name in names)
