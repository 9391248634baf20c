# Exercise 1: resolve a host name.
# Check your work:  python3 main.py exercise 1 --check
# A hint:           python3 main.py exercise 1 --hint
import socket


def resolve(host):
    """Return (address, None) when host resolves, (None, message) when it does not."""
    # 1. Ask the resolver: socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    # 2. Each answer is (family, type, proto, canonname, sockaddr);
    #    sockaddr[0] of the first answer is the address.
    # 3. A name that does not resolve raises socket.gaierror: catch it and
    #    return (None, a message that names the host).
    raise NotImplementedError("write resolve()")


if __name__ == "__main__":
    # Try it yourself: python3 01-resolve.py  (loopback and a bad name only)
    for name in ("localhost", "127.0.0.1", "no such host!"):
        print(name, "->", resolve(name))
