"""Port numbers and the services that usually live on them.

A port number is only a convention: nothing stops a web server from listening on 22.
Still, the Internet Assigned Numbers Authority (IANA) keeps a register of which service
*usually* uses which port, and every operating system ships a copy of part of it — on
Unix the file ``/etc/services``, read by ``socket.getservbyport``.  Windows ships very
little of it, so this module carries a fallback table for the ports a class is likely
to meet.  A service name is a guess from the number, never proof: a banner is a better
hint of what really runs there.

``COMMON_PORTS`` is the curated list behind the ``common`` port spec: about a hundred
ports where a student's scan is most likely to find something.
"""

from __future__ import annotations

import re
import socket
import threading
from functools import lru_cache
from typing import Tuple

from scanner.fingerprints import HTTP_HEAD, POSTGRES_SSL, REDIS_PING

FALLBACK_SERVICES = {
    7: "echo", 9: "discard", 13: "daytime", 19: "chargen", 20: "ftp-data", 21: "ftp",
    22: "ssh", 23: "telnet", 25: "smtp", 37: "time", 43: "whois", 53: "domain",
    67: "bootps", 68: "bootpc", 69: "tftp", 79: "finger", 80: "http", 88: "kerberos",
    110: "pop3", 111: "rpcbind", 113: "ident", 119: "nntp", 123: "ntp", 135: "msrpc",
    137: "netbios-ns", 138: "netbios-dgm", 139: "netbios-ssn", 143: "imap", 161: "snmp",
    162: "snmptrap", 179: "bgp", 389: "ldap", 427: "svrloc", 443: "https", 445: "microsoft-ds",
    465: "smtps", 500: "isakmp", 514: "syslog", 515: "printer", 520: "rip", 548: "afp",
    554: "rtsp", 587: "submission", 631: "ipp", 636: "ldaps", 873: "rsync", 902: "vmware-auth",
    989: "ftps-data", 990: "ftps", 993: "imaps", 995: "pop3s", 1080: "socks", 1194: "openvpn",
    1433: "ms-sql-s", 1434: "ms-sql-m", 1521: "oracle", 1723: "pptp", 1883: "mqtt",
    1900: "ssdp", 2049: "nfs", 2181: "zookeeper", 2375: "docker", 2376: "docker-s",
    3000: "ppp", 3128: "squid-http", 3268: "globalcatLDAP", 3306: "mysql", 3389: "ms-wbt-server",
    3690: "svn", 4369: "epmd", 5000: "upnp", 5060: "sip", 5222: "xmpp-client",
    5353: "mdns", 5432: "postgresql", 5672: "amqp", 5900: "vnc", 5984: "couchdb",
    6379: "redis", 6443: "kubernetes-api", 6667: "irc", 8000: "http-alt", 8008: "http",
    8080: "http-proxy", 8081: "blackice-icecap", 8443: "https-alt", 8888: "sun-answerbook",
    9000: "cslistener", 9042: "cassandra", 9090: "zeus-admin", 9092: "kafka", 9100: "jetdirect",
    9200: "elasticsearch", 9418: "git", 11211: "memcache", 27017: "mongod", 50000: "ibm-db2",
}

# Curated: the classic services, the databases and admin panels students' own machines run,
# and the development servers (3000, 5000, 8000, 8080...) that are so often left open.
COMMON_PORTS = tuple(sorted({
    7, 9, 13, 21, 22, 23, 25, 37, 53, 79, 80, 81, 88, 106, 110, 111, 113, 119, 135, 139,
    143, 144, 179, 199, 389, 427, 443, 444, 445, 465, 513, 514, 515, 543, 544, 548, 554,
    587, 631, 636, 646, 873, 990, 993, 995, 1025, 1026, 1027, 1080, 1110, 1194, 1433,
    1521, 1723, 1755, 1883, 1900, 2000, 2001, 2049, 2121, 2375, 2717, 3000, 3128, 3306,
    3389, 3986, 4369, 4899, 5000, 5009, 5051, 5060, 5101, 5190, 5357, 5432, 5631, 5666,
    5672, 5800, 5900, 5984, 6000, 6001, 6379, 6443, 6646, 7070, 8000, 8008, 8009, 8080,
    8081, 8443, 8888, 9000, 9090, 9100, 9200, 9999, 10000, 11211, 27017, 32768, 49152,
    49153, 49154, 49155, 49156, 49157,
}))

# Ports where a server waits for the client to speak first, in HTTP.
HTTP_LIKE_PORTS = frozenset({80, 81, 591, 3000, 5000, 8000, 8008, 8080, 8081, 8088, 8888, 9000, 9090})
REDIS_PORTS = frozenset({6379, 6380})
POSTGRES_PORTS = frozenset({5432, 5433})


# glibc's getservbyport() reads /etc/services into one shared buffer: two threads calling it
# at once can get each other's answer, or a comment line.  One at a time, then.
_SERVICES_LOCK = threading.Lock()
SERVICE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,31}$")


@lru_cache(maxsize=None)
def service_name(port: int, protocol: str = "tcp") -> str:
    """The usual service for ``port``: the OS database first, then our fallback table."""
    try:
        with _SERVICES_LOCK:
            name = socket.getservbyport(port, protocol)
    except (OSError, OverflowError):
        name = ""
    return name if SERVICE_NAME.match(name) else FALLBACK_SERVICES.get(port, "")


def probe_plan(port: int) -> Tuple[bool, Tuple[str, ...]]:
    """(wait for a greeting first?, the requests to try in order) for a port.

    Where the port table says the client speaks first, we ask at once, and in that
    service's own language first: Redis gets ``PING`` before anything in HTTP, PostgreSQL
    its ``SSLRequest``.  A server that greets anyway still greets before it reads, so
    nothing is lost.  Anywhere else we listen first, and ask in HTTP only after silence.
    """
    name = service_name(port)
    if port in REDIS_PORTS or name == "redis":
        return False, (REDIS_PING, HTTP_HEAD)
    if port in POSTGRES_PORTS or name == "postgresql":
        return False, (POSTGRES_SSL, HTTP_HEAD)
    if port in HTTP_LIKE_PORTS or name.startswith("http"):
        return False, (HTTP_HEAD,)
    return True, (HTTP_HEAD, POSTGRES_SSL)
