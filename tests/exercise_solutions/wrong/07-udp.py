# Typical mistake: an unconnected UDP socket never hears "port unreachable".
import socket


def udp_probe(host, port, timeout):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(b"hello?\n", (host, port))
        try:
            sock.recvfrom(1024)
            return "open"
        except socket.timeout:
            return "open|filtered"
