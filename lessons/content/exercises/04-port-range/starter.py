# Exercise 4: a range of ports, in port order, with a one-line summary.
# Check your work:  python3 main.py exercise 4 --check
import errno
import socket


def scan_port(host, port, timeout):
    """Copy your scan_port from exercise 3 here."""
    raise NotImplementedError("copy scan_port() from exercise 3")


def scan_range(host, first, last, timeout):
    """Return [(port, state), ...] for every port from first to last, in port order."""
    # range(first, last + 1) includes the last port.
    raise NotImplementedError("write scan_range()")


def summary(results):
    """Return one line such as "9 ports: 3 open, 4 closed, 2 filtered"."""
    # Count each state, then join the counts into one line (no "\n").
    raise NotImplementedError("write summary()")


if __name__ == "__main__":
    found = scan_range("127.0.0.1", 20, 25, 0.5)
    for port, state in found:
        print(port, state)
    print(summary(found))
