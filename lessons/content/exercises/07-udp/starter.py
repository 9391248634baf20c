# Exercise 7: UDP, and why the socket must be connected.
# Check your work:  python3 main.py exercise 7 --check
import socket


def udp_probe(host, port, timeout):
    """Return "open" (an answer), "closed" (port unreachable) or "open|filtered" (silence)."""
    # 1. sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); sock.settimeout(timeout)
    # 2. sock.connect((host, port)) -- sends nothing, but now the kernel tells THIS
    #    socket about an ICMP "port unreachable".
    # 3. sock.send(...), then sock.recv(1024):
    #    data -> "open", ConnectionRefusedError -> "closed" (Windows: ConnectionResetError),
    #    socket.timeout -> "open|filtered"
    raise NotImplementedError("write udp_probe()")


if __name__ == "__main__":
    print(udp_probe("127.0.0.1", 53, 1.0))
