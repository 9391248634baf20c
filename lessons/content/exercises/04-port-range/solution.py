import errno
import socket


def scan_port(host, port, timeout):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        code = sock.connect_ex((host, port))
    if code == 0:
        return "open"
    return "closed" if code == errno.ECONNREFUSED else "filtered"   # only a RST means closed


def scan_range(host, first, last, timeout):
    """[(port, state), ...] for every port from first to last, in port order."""
    return [(port, scan_port(host, port, timeout)) for port in range(first, last + 1)]


def summary(results):
    """One line: how many ports were open, closed and filtered."""
    counts = {"open": 0, "closed": 0, "filtered": 0}
    for _port, state in results:
        counts[state] = counts.get(state, 0) + 1
    return f"{len(results)} ports: " + ", ".join(f"{n} {state}" for state, n in counts.items())


if __name__ == "__main__":
    found = scan_range("127.0.0.1", 20, 25, 0.5)
    for port, state in found:
        print(port, state)
    print(summary(found))
