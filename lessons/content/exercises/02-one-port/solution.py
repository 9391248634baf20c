import socket


def check_port(host, port):
    """("open", 0) when the port accepts a connection, else ("closed", the errno connect_ex gave)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(2.0)
        code = sock.connect_ex((host, port))
    return ("open", 0) if code == 0 else ("closed", code)


if __name__ == "__main__":
    print(check_port("127.0.0.1", 22))
