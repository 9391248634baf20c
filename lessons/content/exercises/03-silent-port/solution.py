import errno
import socket


def scan_port(host, port, timeout):
    """"open", "closed" or "filtered" (no answer within timeout seconds)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        code = sock.connect_ex((host, port))
    if code == 0:
        return "open"
    if code == errno.ECONNREFUSED:    # a RST: the host answered, nothing listens
        return "closed"
    return "filtered"                 # silence (EAGAIN, ETIMEDOUT) or "unreachable": no RST


if __name__ == "__main__":
    print(scan_port("127.0.0.1", 22, 0.5))
