import socket


def udp_probe(host, port, timeout):
    """"open" (an answer came), "closed" (ICMP port unreachable) or "open|filtered" (silence)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.connect((host, port))        # connected: the kernel tells us about "port unreachable"
        sock.send(b"hello?\n")
        try:
            sock.recv(1024)
            return "open"
        except (ConnectionRefusedError, ConnectionResetError):  # the ICMP answer (Windows: reset)
            return "closed"
        except socket.timeout:
            return "open|filtered"


if __name__ == "__main__":
    print(udp_probe("127.0.0.1", 53, 1.0))
