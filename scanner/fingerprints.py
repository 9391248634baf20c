"""Fingerprints: naming a service from the first bytes it sends.

A port number says what *usually* runs there; the bytes a server sends say what *does*.
Most protocols open in a way nothing else does, and a handful of rules tell the common
ones apart, the same way ``nmap -sV`` matches its probe answers against patterns:

    SSH         ``SSH-2.0-OpenSSH_9.2p1``          the version exchange (RFC 4253)
    SMTP, FTP   ``220 mail.example ESMTP ...``     both greet with "220": the words tell
    POP3        ``+OK Dovecot ready.``             IMAP: ``* OK [CAPABILITY ...]``
    MySQL       a binary packet: 3-byte length, sequence 0, protocol 10, the version
    HTTP        ``HTTP/1.1 200 OK``                only after we ask (``HEAD /``)
    Redis       ``+PONG``, or ``-ERR unknown command 'HEAD'`` when asked in HTTP
    PostgreSQL  one byte, ``S`` or ``N``, after an ``SSLRequest``

Some servers speak first (a *greeting*); others wait for the client and are named by
their *answer* to a small request.  ``recognise(data, sent)`` is pure: bytes in, a
``Fingerprint`` (the name nmap uses, a short summary, and whether it was a greeting) or
None out.  It never trusts the bytes: lengths are checked before every slice, and the
summary is cleaned by the caller before it reaches a screen.
"""

from __future__ import annotations

import re
import struct
from typing import Callable, List, NamedTuple, Optional, Tuple


class Fingerprint(NamedTuple):
    name: str          # the service, as nmap -sV names it: "ssh", "http", "mysql"...
    summary: bytes     # the line worth showing (HTTP: status | Server; MySQL: its version)
    greeting: bool     # True: the server said it unasked; False: it answered our request


# What we may send, each the smallest harmless request of its protocol.
HTTP_HEAD = "HEAD"          # HEAD / HTTP/1.0: the headers of the front page, no body
REDIS_PING = "PING"         # *1 $4 PING: Redis answers +PONG, or says it wants a password
POSTGRES_SSL = "SSLRequest"  # 8 bytes: "may we speak TLS?"; PostgreSQL answers one byte
POSTGRES_SSL_REQUEST = struct.pack("!II", 8, 80877103)
REDIS_PING_REQUEST = b"*1\r\n$4\r\nPING\r\n"

SMTP_WORDS = re.compile(rb"\b(E?SMTP|Postfix|Exim|Sendmail|Mail ?Server|MTA)\b", re.IGNORECASE)
FTP_WORDS = re.compile(rb"\b(FTP|FTPd|FileZilla|vsFTPd|ProFTPD|Pure-FTPd)\b", re.IGNORECASE)
POP3_WORDS = re.compile(rb"\b(POP3?|Dovecot|Courier|Qpopper|Cyrus)\b", re.IGNORECASE)
REDIS_ERRORS = (b"-ERR unknown command", b"-ERR wrong number of arguments", b"-NOAUTH", b"-WRONGPASS",
                b"-DENIED Redis", b"-LOADING Redis", b"-MISCONF")
MYSQL_PROTOCOL_10 = 10
MYSQL_ERROR = 0xFF
TELNET_IAC, TELNET_WILL, TELNET_DONT = 0xFF, 0xFB, 0xFE


def first_line(data: bytes) -> bytes:
    return data.split(b"\n", 1)[0].rstrip(b"\r")


def http_summary(data: bytes) -> bytes:
    """The status line, and the Server header when there is one."""
    lines = data.split(b"\r\n") if b"\r\n" in data else data.split(b"\n")
    status = lines[0] if lines else b""
    server = next((line for line in lines[1:] if line.lower().startswith(b"server:")), b"")
    return status + (b" | " + server if server else b"")


def _mysql(data: bytes) -> Optional[bytes]:
    """The server version of a MySQL/MariaDB handshake (or its error text), else None.

    A MySQL packet starts with a 3-byte little-endian length and a sequence number (0 for
    the server's first packet); the handshake's first byte is the protocol version, 10,
    followed by the version string and a zero byte.  A server that will not talk to us
    sends an error packet instead: 0xFF, a 2-byte code, then the message.
    """
    if len(data) < 7 or data[3] != 0:
        return None
    length = data[0] | data[1] << 8 | data[2] << 16
    if not 3 < length < 2048:
        return None
    if data[4] == MYSQL_PROTOCOL_10:
        version, zero, _rest = data[5:5 + 64].partition(b"\0")
        if zero and re.fullmatch(rb"[0-9][0-9A-Za-z.+~_-]{0,62}", version):
            return b"MySQL protocol 10, server " + version
    elif data[4] == MYSQL_ERROR:
        message = data[7:4 + length].lstrip(b"#")
        message = message[5:] if re.match(rb"[0-9A-Z]{5}", message) else message   # the SQL state
        if re.search(rb"MySQL|MariaDB|Host .* is not allowed|Too many connections", message):
            return b"MySQL error " + str(struct.unpack_from("<H", data, 5)[0]).encode() + b": " + message
    return None


def _postgres(data: bytes, sent: str) -> Optional[bytes]:
    if sent == POSTGRES_SSL and data in (b"S", b"N"):
        return b"PostgreSQL (TLS " + (b"offered)" if data == b"S" else b"not offered)")
    # An ErrorResponse: 'E', a length, then fields such as SFATAL, C28000, M<message>.
    if len(data) > 9 and data[:1] == b"E" and data[5:6] == b"S" and b"FATAL" in data[:40]:
        message = next((field[1:] for field in data[5:].split(b"\0") if field[:1] == b"M"), b"")
        return b"PostgreSQL error: " + message
    return None


def _mail_or_files(line: bytes) -> Optional[str]:
    """SMTP and FTP both greet with 220: the words after it tell which."""
    if FTP_WORDS.search(line) and not SMTP_WORDS.search(line):
        return "ftp"
    if SMTP_WORDS.search(line):
        return "smtp"
    return None


GREETINGS: List[Tuple[str, Callable[[bytes], bool]]] = [
    ("ssh", lambda data: data.startswith(b"SSH-")),
    ("vnc", lambda data: re.match(rb"RFB \d{3}\.\d{3}\n", data) is not None),
    ("rsync", lambda data: data.startswith(b"@RSYNCD:")),
    ("imap", lambda data: re.match(rb"\* (OK|PREAUTH)\b", data) is not None),
    ("pop3", lambda data: data.startswith(b"+OK") and POP3_WORDS.search(first_line(data)) is not None),
    ("irc", lambda data: re.match(rb":\S+ NOTICE \S+ :", data) is not None),
    ("telnet", lambda data: len(data) >= 2 and data[0] == TELNET_IAC and TELNET_WILL <= data[1] <= TELNET_DONT),
]


def recognise(data: bytes, sent: Optional[str] = None, payload: bytes = b"") -> Optional[Fingerprint]:
    """The service ``data`` comes from, or None.

    ``sent`` names the request we sent before ``data`` came (None: we sent nothing yet),
    ``payload`` its bytes (an echo service sends them straight back).
    """
    if not data:
        return None
    line = first_line(data)
    mysql = _mysql(data)
    if mysql is not None:
        return Fingerprint("mysql", mysql, True)
    for name, matches in GREETINGS:
        if matches(data):
            return Fingerprint(name, line, True)
    if re.match(rb"220[ -]", data):
        mail_or_files = _mail_or_files(line)
        return Fingerprint(mail_or_files, line, True) if mail_or_files else None
    if data.startswith(b"HTTP/"):
        return Fingerprint("http", http_summary(data), False)
    if data.startswith(b"+PONG") or data.startswith(REDIS_ERRORS):
        return Fingerprint("redis", line, False)
    postgres = _postgres(data, sent or "")
    if postgres is not None:
        return Fingerprint("postgresql", postgres, False)
    if sent and payload and payload.startswith(data[: len(payload)]) and len(data) >= min(len(payload), 4):
        return Fingerprint("echo", b"", False)
    if sent == HTTP_HEAD and data.startswith(b"ERROR\r\n"):
        return Fingerprint("memcached", line, False)
    return None


def complete(data: bytes, sent: Optional[str], closed: bool = False) -> bool:
    """True when reading more would not change the name or the summary.

    HTTP needs its whole head (the Server header); a binary handshake is complete when its
    packet is; anything else when its first line has ended.
    """
    if closed:
        return True
    if data.startswith(b"HTTP/"):
        return b"\r\n\r\n" in data or b"\n\n" in data
    if _mysql(data) is not None or _postgres(data, sent or "") is not None:
        return True
    if len(data) >= 3 and data[0] == TELNET_IAC:
        return True    # telnet options come in 3-byte groups: the first group names it
    return b"\n" in data
