# Latihan 8: izin sebelum paket pertama.
# Periksa hasil Anda:  python3 main.py exercise 8 --check
import ipaddress


def may_scan(host, consent):
    """True untuk alamat loopback; alamat lain hanya dengan izin; False bila bukan alamat."""
    # 1. address = ipaddress.ip_address(host)  -- ValueError bila host bukan alamat
    # 2. address.is_loopback bernilai True untuk seluruh 127.0.0.0/8 dan untuk ::1
    # 3. Jangan membandingkan string: "1270.0.0.1".startswith("127") bernilai True.
    raise NotImplementedError("write may_scan()")


if __name__ == "__main__":
    for host, consent in (("127.0.0.1", False), ("192.0.2.10", False), ("192.0.2.10", True)):
        print(host, consent, may_scan(host, consent))
