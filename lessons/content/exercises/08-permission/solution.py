import ipaddress


def may_scan(host, consent):
    """True for a loopback address (127.0.0.0/8, ::1); any other only with consent."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False                      # not an address at all: never scan it
    return address.is_loopback or bool(consent)


if __name__ == "__main__":
    for host, consent in (("127.0.0.1", False), ("192.0.2.10", False), ("192.0.2.10", True)):
        print(host, consent, may_scan(host, consent))
