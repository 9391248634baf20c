# Exercise 3: a silent port (timeouts and "filtered").
# Check your work:  python3 main.py exercise 3 --check
import errno
import socket


def scan_port(host, port, timeout):
    """Return "open", "closed" or "filtered" (no answer within timeout seconds)."""
    # 1. Make a TCP socket and call sock.settimeout(timeout) BEFORE connecting.
    # 2. code = sock.connect_ex((host, port))
    # 3. 0 -> "open".  A RST (errno.ECONNREFUSED) -> "closed".
    #    No answer in time -> connect_ex returns a code such as errno.EAGAIN
    #    (11 on Linux) or errno.ETIMEDOUT: that is "filtered", not closed.
    raise NotImplementedError("write scan_port()")


if __name__ == "__main__":
    print(scan_port("127.0.0.1", 22, 0.5))
