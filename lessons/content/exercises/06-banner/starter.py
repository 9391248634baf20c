# Exercise 6: read a banner, decode it safely, never hang.
# Check your work:  python3 main.py exercise 6 --check
import socket


def grab_banner(host, port, timeout):
    """Return the first line the service sends, as text, or None if it stays silent."""
    # 1. Connect with a timeout: socket.create_connection((host, port), timeout=timeout)
    # 2. data = sock.recv(1024) waits at most `timeout` seconds; a silent service
    #    raises socket.timeout there: that means "no banner" (None).
    # 3. Decode with errors="replace": the bytes may not be valid UTF-8.
    raise NotImplementedError("write grab_banner()")


if __name__ == "__main__":
    print(grab_banner("127.0.0.1", 22, 1.0))
