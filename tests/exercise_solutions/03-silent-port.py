import errno
import socket

# connect_ex returns these when nothing answered before the timeout (Linux, macOS, Windows).
NO_ANSWER = {errno.EAGAIN, errno.EWOULDBLOCK, errno.ETIMEDOUT, getattr(errno, "WSAETIMEDOUT", -1)}


def scan_port(host, port, timeout):
    """"open", "closed" or "filtered" (no answer within timeout seconds)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        code = sock.connect_ex((host, port))
    if code == 0:
        return "open"
    if code in NO_ANSWER:
        return "filtered"
    return "closed"


if __name__ == "__main__":
    print(scan_port("127.0.0.1", 22, 0.5))
