# Exercise 2: one port, open or closed.
# Check your work:  python3 main.py exercise 2 --check
import errno
import socket


def check_port(host, port):
    """Return ("open", 0) or ("closed", the errno number connect_ex returned)."""
    # 1. Make a TCP socket: socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # 2. code = sock.connect_ex((host, port))   -> 0 means the handshake finished
    # 3. Close the socket (a "with" block does it), then return the answer.
    #    errno.ECONNREFUSED is the code of a closed port (a RST came back).
    raise NotImplementedError("write check_port()")


if __name__ == "__main__":
    # Try it yourself on your own computer only (127.0.0.1).
    print(check_port("127.0.0.1", 22))
