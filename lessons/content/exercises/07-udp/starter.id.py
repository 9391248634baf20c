# Latihan 7: UDP, dan mengapa soketnya harus terhubung.
# Periksa hasil Anda:  python3 main.py exercise 7 --check
import socket


def udp_probe(host, port, timeout):
    """Kembalikan "open" (ada jawaban), "closed" (port unreachable) atau "open|filtered" (diam)."""
    # 1. sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); sock.settimeout(timeout)
    # 2. sock.connect((host, port)) -- tidak mengirim apa-apa, tetapi kini kernel memberi
    #    tahu soket INI tentang ICMP "port unreachable".
    # 3. sock.send(...), lalu sock.recv(1024):
    #    data -> "open", ConnectionRefusedError -> "closed" (Windows: ConnectionResetError),
    #    socket.timeout -> "open|filtered"
    raise NotImplementedError("write udp_probe()")


if __name__ == "__main__":
    print(udp_probe("127.0.0.1", 53, 1.0))
