# Typical mistake: the timeout covers connect only; recv on a silent service waits forever.
import socket


def grab_banner(host, port, timeout):
    sock = socket.create_connection((host, port), timeout=timeout)
    sock.settimeout(None)
    data = sock.recv(1024)
    sock.close()
    return data.decode("utf-8", errors="replace").strip() or None
