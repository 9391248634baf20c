# Latihan 9 (untuk yang penasaran): satu thread, banyak soket non-blocking.
# Periksa hasil Anda:  python3 main.py exercise 9 --check   (berjalan dengan ulimit -n 64)
import errno
import selectors
import socket
import time


def scan_selectors(host, ports, timeout, limit):
    """Kembalikan {port: state}; paling banyak `limit` soket terbuka sekaligus, tanpa thread tambahan."""
    # todo = list(ports); waiting = {}  (soket -> tenggat); states = {}
    # Ulangi selama todo atau waiting:
    #   - mulai soket selama len(waiting) < limit: setblocking(False), connect_ex,
    #     selector.register(sock, selectors.EVENT_WRITE, port)
    #   - untuk setiap key dari selector.select(0.05): SO_ERROR 0 -> open, selain itu closed
    #   - soket yang melewati tenggatnya -> filtered
    #   - unregister dan tutup setiap soket begitu jawabannya datang
    raise NotImplementedError("write scan_selectors()")


if __name__ == "__main__":
    found = scan_selectors("127.0.0.1", range(1, 1025), 0.5, 100)
    print(sorted(port for port, state in found.items() if state == "open"))
