# Typical mistake: a string comparison instead of parsing the address.
def may_scan(host, consent):
    return host.startswith("127") or bool(consent)
