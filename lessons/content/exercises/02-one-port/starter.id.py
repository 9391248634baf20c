# Latihan 2: satu port, terbuka atau tertutup.
# Periksa hasil Anda:  python3 main.py exercise 2 --check
import errno
import socket


def check_port(host, port):
    """Kembalikan ("open", 0) atau ("closed", nomor errno dari connect_ex)."""
    # 1. Buat soket TCP: socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # 2. code = sock.connect_ex((host, port))   -> 0 berarti jabat tangan selesai
    # 3. Tutup soketnya (blok "with" melakukannya), lalu kembalikan jawabannya.
    #    errno.ECONNREFUSED adalah kode port tertutup (RST yang kembali).
    raise NotImplementedError("write check_port()")


if __name__ == "__main__":
    # Coba sendiri, hanya di komputer Anda sendiri (127.0.0.1).
    print(check_port("127.0.0.1", 22))
