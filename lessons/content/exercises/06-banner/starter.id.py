# Latihan 6: membaca banner, mendekodenya dengan aman, tidak pernah macet.
# Periksa hasil Anda:  python3 main.py exercise 6 --check
import socket


def grab_banner(host, port, timeout):
    """Kembalikan baris pertama yang dikirim layanan sebagai teks, atau None bila diam."""
    # 1. Hubungkan dengan batas waktu: socket.create_connection((host, port), timeout=timeout)
    # 2. data = sock.recv(1024) menunggu paling lama `timeout` detik; layanan yang
    #    diam memunculkan socket.timeout di sana: artinya "tidak ada banner" (None).
    # 3. Dekode dengan errors="replace": byte-nya belum tentu UTF-8 yang sah.
    raise NotImplementedError("write grab_banner()")


if __name__ == "__main__":
    print(grab_banner("127.0.0.1", 22, 1.0))
