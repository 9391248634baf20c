# Typical mistake: the results come back newest first, not in port order.
import errno
import socket


def scan_port(host, port, timeout):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        code = sock.connect_ex((host, port))
    if code == 0:
        return "open"
    return "filtered" if code in (errno.EAGAIN, errno.ETIMEDOUT) else "closed"


def scan_range(host, first, last, timeout):
    results = []
    for port in range(first, last + 1):
        results.insert(0, (port, scan_port(host, port, timeout)))
    return results


def summary(results):
    return "\n".join(f"{port} {state}" for port, state in results)
