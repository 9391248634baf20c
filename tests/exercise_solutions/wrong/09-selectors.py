# Typical mistake: every socket opened at once, whatever ulimit -n allows.
import selectors
import socket
import time


def scan_selectors(host, ports, timeout, limit):
    states = {}
    selector = selectors.DefaultSelector()
    for port in ports:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.connect_ex((host, port))
        selector.register(sock, selectors.EVENT_WRITE, port)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(states) < len(ports):
        for key, _ in selector.select(0.05):
            code = key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            states[key.data] = "open" if code == 0 else "closed"
            selector.unregister(key.fileobj)
            key.fileobj.close()
    for port in ports:
        states.setdefault(port, "filtered")
    return states
