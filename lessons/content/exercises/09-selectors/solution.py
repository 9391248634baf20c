import errno
import selectors
import socket
import time


def state_of(code):
    """0: open; a RST (ECONNREFUSED): closed; anything else (unreachable...): filtered."""
    if code == 0:
        return "open"
    return "closed" if code == errno.ECONNREFUSED else "filtered"


def scan_selectors(host, ports, timeout, limit):
    """{port: state} with non-blocking sockets: at most `limit` open at once, one thread."""
    states, waiting, todo = {}, {}, list(ports)
    with selectors.DefaultSelector() as selector:
        while todo or waiting:
            while todo and len(waiting) < limit:          # start more, up to the limit
                port = todo.pop(0)
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setblocking(False)
                code = sock.connect_ex((host, port))
                if code not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK):
                    states[port] = state_of(code)         # failed at once, e.g. ENETUNREACH
                    sock.close()
                    continue
                selector.register(sock, selectors.EVENT_WRITE, port)
                waiting[sock] = time.monotonic() + timeout
            for key, _events in selector.select(0.05):    # connects that finished
                sock = key.fileobj
                code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                states[key.data] = state_of(code)
                selector.unregister(sock)
                del waiting[sock]
                sock.close()
            now = time.monotonic()
            for sock, deadline in list(waiting.items()):  # no answer in time: filtered
                if now >= deadline:
                    states[selector.get_key(sock).data] = "filtered"
                    selector.unregister(sock)
                    del waiting[sock]
                    sock.close()
    return states


if __name__ == "__main__":
    found = scan_selectors("127.0.0.1", range(1, 1025), 0.5, 100)
    print(sorted(port for port, state in found.items() if state == "open"))
