# Exercise 8: permission before the first packet.
# Check your work:  python3 main.py exercise 8 --check
import ipaddress


def may_scan(host, consent):
    """True for a loopback address; any other address only with consent; False if not an address."""
    # 1. address = ipaddress.ip_address(host)  -- ValueError when host is not an address
    # 2. address.is_loopback is True for all of 127.0.0.0/8 and for ::1
    # 3. Never compare strings: "1270.0.0.1".startswith("127") is True.
    raise NotImplementedError("write may_scan()")


if __name__ == "__main__":
    for host, consent in (("127.0.0.1", False), ("192.0.2.10", False), ("192.0.2.10", True)):
        print(host, consent, may_scan(host, consent))
