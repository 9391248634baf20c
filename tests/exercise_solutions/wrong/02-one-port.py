# Typical mistake: connect() instead of connect_ex(): a closed port raises.
import socket


def check_port(host, port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.connect((host, port))
    return "open", 0
