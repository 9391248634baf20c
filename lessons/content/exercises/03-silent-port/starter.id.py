# Latihan 3: port yang diam (batas waktu dan "filtered").
# Periksa hasil Anda:  python3 main.py exercise 3 --check
import errno
import socket


def scan_port(host, port, timeout):
    """Kembalikan "open", "closed" atau "filtered" (tanpa jawaban dalam timeout detik)."""
    # 1. Buat soket TCP dan panggil sock.settimeout(timeout) SEBELUM connect.
    # 2. code = sock.connect_ex((host, port))
    # 3. 0 -> "open".  RST (errno.ECONNREFUSED) -> "closed".
    #    Tanpa jawaban tepat waktu -> connect_ex mengembalikan kode seperti
    #    errno.EAGAIN (11 di Linux) atau errno.ETIMEDOUT: itu "filtered".
    raise NotImplementedError("write scan_port()")


if __name__ == "__main__":
    print(scan_port("127.0.0.1", 22, 0.5))
