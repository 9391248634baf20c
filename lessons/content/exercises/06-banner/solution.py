import socket


def grab_banner(host, port, timeout):
    """The first line the service sends, as text; None when it says nothing within timeout."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.settimeout(timeout)          # recv waits at most this long, too
        try:
            data = sock.recv(1024)
        except socket.timeout:            # a silent service: no banner
            return None
    if not data:
        return None
    return data.decode("utf-8", errors="replace").strip()


if __name__ == "__main__":
    print(grab_banner("127.0.0.1", 22, 1.0))
