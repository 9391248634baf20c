"""Banner grabbing: asking an open port what it is.

A service name from the port number is only a guess.  Many servers introduce themselves
as soon as you connect — an SSH server sends ``SSH-2.0-OpenSSH_9.2``, an FTP server
``220 ...``, a mail server ``220 ... ESMTP``.  Others, such as web servers, wait for the
client to speak first, so for HTTP-like ports we send the smallest polite request,
``HEAD / HTTP/1.0``, and read the status line and the ``Server`` header.

A banner is text chosen by whoever runs the server, so it is *untrusted input*.  A
hostile server could send terminal escape sequences (``ESC [ 2 J`` clears the screen,
others retitle windows or worse).  ``clean_banner`` keeps printable characters only and
caps the length before anything reaches the screen or a report.

Banners are an opt-in second pass over the open ports, done by a small thread pool.
"""

from __future__ import annotations

import re
import socket
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, Iterable

from scanner.probe import sockaddr_for
from scanner.services import HTTP_LIKE_PORTS

MAX_BANNER_LENGTH = 72
BANNER_DEADLINE_FACTOR = 2       # a whole banner conversation takes at most 2 x the timeout
SILENT_PORT_PROBE = b"HEAD / HTTP/1.0\r\n\r\n"
# Whole terminal control sequences (CSI "ESC [ ... letter", OSC "ESC ] ... BEL") go first,
# so none of their text is left behind; then every other control character.
ESCAPE_SEQUENCE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]|\x9b[0-?]*[ -/]*[@-~]")
READ_LIMIT = 1024


def clean_banner(raw: bytes, limit: int = MAX_BANNER_LENGTH) -> str:
    """Printable, single-line, length-capped text from untrusted bytes."""
    text = ESCAPE_SEQUENCE.sub("", raw.decode("utf-8", errors="replace"))
    kept = []
    for char in text:
        if char in "\r\n\t":
            kept.append(" ")
        elif unicodedata.category(char)[0] != "C":  # drop control, format and private-use characters
            kept.append(char)
    cleaned = " ".join("".join(kept).split())
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 3] + "..."
    return cleaned


def _summarise_http(raw: bytes) -> bytes:
    lines = raw.split(b"\r\n") if b"\r\n" in raw else raw.split(b"\n")
    status = lines[0] if lines else b""
    server = next((line for line in lines[1:] if line.lower().startswith(b"server:")), b"")
    return status + (b" | " + server if server else b"")


def grab_banner(address: str, family: int, port: int, timeout: float = 1.0, host_header: str = "") -> str:
    """Connect once and return what the service says ('' when it says nothing)."""
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            if sock.connect_ex(sockaddr_for(address, family, port)) != 0:
                return ""
            # A server that drips one byte at a time must not hold the scan: one deadline
            # covers the whole conversation, whatever the per-read timeout.
            deadline = time.monotonic() + BANNER_DEADLINE_FACTOR * timeout
            if port in HTTP_LIKE_PORTS:
                sock.sendall(b"HEAD / HTTP/1.0\r\nHost: " + _host_bytes(host_header or address)
                             + b"\r\nUser-Agent: portscan-lab\r\n\r\n")
                return clean_banner(_summarise_http(_read(sock, deadline)))
            data = _read(sock, deadline)
            if data:
                return clean_banner(data.split(b"\n")[0])
            # Silent so far: maybe a web server on an unusual port.
            sock.sendall(SILENT_PORT_PROBE)
            data = _read(sock, deadline)
            if data.startswith(SILENT_PORT_PROBE.strip()):
                return ""  # an echo service repeats our own request: that is not a banner
            return clean_banner(_summarise_http(data) if data.startswith(b"HTTP/") else data.split(b"\n")[0])
    except OSError:
        return ""


def _host_bytes(host: str) -> bytes:
    """The Host header value (the idna codec only allows errors="strict")."""
    try:
        return host.encode("idna")
    except UnicodeError:
        return host.encode("ascii", "replace")


def _read(sock: socket.socket, deadline: float) -> bytes:
    chunks, size = [], 0
    while size < READ_LIMIT:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        sock.settimeout(min(sock.gettimeout() or remaining, remaining))
        try:
            chunk = sock.recv(READ_LIMIT - size)
        except (socket.timeout, OSError):
            break
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if b"\n" in chunk and not chunks[0].startswith(b"HTTP/"):
            break  # a banner line is enough
        if b"\r\n\r\n" in b"".join(chunks):
            break  # the end of the HTTP headers
    return b"".join(chunks)


def grab_banners(address: str, family: int, ports: Iterable[int], timeout: float = 1.0,
                 host_header: str = "", max_threads: int = 16) -> Dict[int, str]:
    """Banners for many open ports at once: {port: banner} (ports that said nothing are left out)."""
    ports = list(ports)
    if not ports:
        return {}
    pool = ThreadPoolExecutor(max_workers=min(max_threads, len(ports)))
    try:
        banners = pool.map(lambda port: grab_banner(address, family, port, timeout, host_header), ports)
        return {port: banner for port, banner in zip(ports, banners) if banner}
    finally:
        # On Ctrl+C, drop the queued ports at once; running reads end by their deadline.
        pool.shutdown(wait=False, cancel_futures=True)
