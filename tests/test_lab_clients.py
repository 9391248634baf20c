"""The practice lab tells its clients apart fairly, however many addresses one machine uses."""



# --- the lab: one IPv6 machine with many source addresses is one client ---------------------------

class _Transport:
    def __init__(self, peer):
        self.peer, self.aborted = peer, False

    def get_extra_info(self, name):
        return self.peer if name == "peername" else None

    def set_write_buffer_limits(self, high):
        pass

    def abort(self):
        self.aborted = True

    def is_closing(self):
        return self.aborted


class _Hub:
    def __init__(self):
        from lessons.lab.services import Fairness

        self.fairness, self.connections = Fairness(), set()


def _connect(hub, address):
    from lessons.lab.services import LabStream

    conn = LabStream(hub, "echo")
    conn.connection_made(_Transport((address, 40000, 0, 0) if ":" in address else (address, 40000)))
    return conn


def test_one_ipv6_64_with_a_new_source_address_per_connection_cannot_lock_the_lab_out():
    """Before, the per-client cap counted IPv6 addresses one by one: 400 addresses of one
    /64 with one connection each filled the lab, nobody was 'greediest', and every other
    student was refused."""
    from lessons.lab.services import MAX_CONNECTIONS, PER_CLIENT

    hub = _Hub()
    admitted = sum(_connect(hub, f"fd00:42::{index:x}").admitted for index in range(1, MAX_CONNECTIONS + 1))
    assert admitted == PER_CLIENT
    assert _connect(hub, "fd00:99::1").admitted       # another machine
    assert _connect(hub, "192.0.2.7").admitted


def test_ipv4_mapped_addresses_count_as_their_ipv4_client():
    from lessons.lab.services import PER_CLIENT, client_key

    assert client_key("::ffff:192.0.2.7") == "192.0.2.7" and client_key("fe80::1%eth0") == "fe80::/64"
    hub = _Hub()
    for index in range(PER_CLIENT):
        assert _connect(hub, "192.0.2.7" if index % 2 else "::ffff:192.0.2.7").admitted
    assert not _connect(hub, "::ffff:192.0.2.7").admitted


def test_udp_rate_limit_counts_an_ipv6_64_as_one_source():
    from lessons.lab.services import UDP_BURST_PER_SOURCE, UdpGuard

    guard = UdpGuard({7})
    answered = sum(guard.allow(b"x", (f"fd00:42::{index:x}", 40000, 0, 0)) for index in range(1, 500))
    assert answered <= UDP_BURST_PER_SOURCE + 5   # before: 499, one burst per address
