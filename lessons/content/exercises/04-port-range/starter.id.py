# Latihan 4: rentang port, urut nomor port, dengan ringkasan satu baris.
# Periksa hasil Anda:  python3 main.py exercise 4 --check
import errno
import socket


def scan_port(host, port, timeout):
    """Salin scan_port Anda dari latihan 3 ke sini."""
    raise NotImplementedError("copy scan_port() from exercise 3")


def scan_range(host, first, last, timeout):
    """Kembalikan [(port, state), ...] untuk setiap port dari first sampai last, urut."""
    # range(first, last + 1) menyertakan port terakhir.
    raise NotImplementedError("write scan_range()")


def summary(results):
    """Kembalikan satu baris seperti "9 ports: 3 open, 4 closed, 2 filtered"."""
    # Hitung setiap status, lalu gabungkan menjadi satu baris (tanpa "\n").
    raise NotImplementedError("write summary()")


if __name__ == "__main__":
    found = scan_range("127.0.0.1", 20, 25, 0.5)
    for port, state in found:
        print(port, state)
    print(summary(found))
