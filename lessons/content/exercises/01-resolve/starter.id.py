# Latihan 1: mengubah nama host menjadi alamat.
# Periksa hasil Anda:  python3 main.py exercise 1 --check
# Sebuah petunjuk:     python3 main.py exercise 1 --hint
import socket


def resolve(host):
    """Kembalikan (alamat, None) bila host dikenal, (None, pesan) bila tidak."""
    # 1. Tanya resolver: socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    # 2. Setiap jawaban berbentuk (family, type, proto, canonname, sockaddr);
    #    sockaddr[0] dari jawaban pertama adalah alamatnya.
    # 3. Nama yang tidak dikenal memunculkan socket.gaierror: tangkap lalu
    #    kembalikan (None, pesan yang menyebut nama host).
    raise NotImplementedError("write resolve()")


if __name__ == "__main__":
    # Coba sendiri: python3 01-resolve.py  (hanya loopback dan nama yang salah)
    for name in ("localhost", "127.0.0.1", "no such host!"):
        print(name, "->", resolve(name))
