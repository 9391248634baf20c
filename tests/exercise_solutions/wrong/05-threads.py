# Typical mistake: one new thread per port, however many ports there are.
import errno
import socket
import threading


def scan_port(host, port, timeout):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        code = sock.connect_ex((host, port))
    if code == 0:
        return "open"
    return "filtered" if code in (errno.EAGAIN, errno.ETIMEDOUT) else "closed"


def scan_many(host, ports, timeout, workers):
    states = {}

    def one(port):
        states[port] = scan_port(host, port, timeout)

    threads = [threading.Thread(target=one, args=(port,)) for port in ports]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return states
