# Typical mistake: every non-zero code is "closed", so a timeout is reported as closed.
import socket


def scan_port(host, port, timeout):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        return "open" if sock.connect_ex((host, port)) == 0 else "closed"
