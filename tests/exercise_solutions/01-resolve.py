import socket


def resolve(host):
    """(address, None) for a name that resolves; (None, message) when it does not."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        return None, f"cannot resolve {host!r}: {error.strerror}"
    family, _type, _proto, _name, address = infos[0]
    return address[0], None


if __name__ == "__main__":
    for name in ("localhost", "127.0.0.1", "no such host!"):
        print(name, "->", resolve(name))
