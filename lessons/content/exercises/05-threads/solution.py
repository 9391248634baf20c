import errno
import socket
from concurrent.futures import ThreadPoolExecutor


def scan_port(host, port, timeout):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        code = sock.connect_ex((host, port))
    if code == 0:
        return "open"
    return "closed" if code == errno.ECONNREFUSED else "filtered"   # only a RST means closed


def scan_many(host, ports, timeout, workers):
    """{port: state} for every port, with at most `workers` threads (and sockets) at a time."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        states = pool.map(lambda port: scan_port(host, port, timeout), ports)
        return dict(zip(ports, states))


if __name__ == "__main__":
    found = scan_many("127.0.0.1", range(1, 1025), 0.5, 100)
    print(sorted(port for port, state in found.items() if state == "open"))
