"""The practice network in a network namespace: the same machines, and a firewall that is real.

On loopback (``lessons.lab.network``) every address answers, so no host can look down, and a
"firewall" is a trick with full accept queues.  As root on Linux the lab can do better: it
makes a namespace of its own, joins it to this machine with a veth cable in a private /24,
and puts the machines there (base 8000 shown)::

    block 10.213.N.8/29
    10.213.N.9   web    8022/tcp open (SSH banner), 8080/tcp open (web), 8023/tcp closed
    10.213.N.10  db     8054/tcp open (database); 8022 and 8080/tcp filtered by an iptables DROP
    10.213.N.11  odd    8066/tcp open: SSH on an unusual port
    10.213.N.12  quiet  nothing open: every port answers RST
    10.213.N.13  gone   no machine holds this address: ARP gets no answer, the host is down

The other addresses of the block (.8, .14, .15) have no machine either: down, as on a real
network.  The services are the lab's own, their sockets opened inside the namespace; the
namespace is removed when the lab stops (and on exit, Ctrl+C or SIGTERM: see ``netns``).
"""

from __future__ import annotations

import ipaddress

from lessons.lab import netns
from lessons.lab.layout import DEFAULT_BASE_PORT, LabNote, LabService
from lessons.lab.network import NETWORK_LAYOUT, NetworkHost, PracticeNetwork

FIRST_HOST = 9            # the machines take .9, .10, ... of the block's .8/29
DOWN_HOST = FIRST_HOST + len(NETWORK_LAYOUT)
PREFERRED_OCTET = 142


def open_network_in_namespace(lab) -> PracticeNetwork:
    """Build the practice network in a new namespace, served by ``lab``'s event loop."""
    netns.clean_stale()   # a namespace left by a killed run of this program
    namespace = netns.Namespace("network", kind="lab")
    namespace.__enter__()
    try:
        block = netns.free_block(PREFERRED_OCTET)
        base = ipaddress.ip_network(block).network_address
        addresses = [str(base + FIRST_HOST + index) for index in range(len(NETWORK_LAYOUT))]
        namespace.link_to_host(block, addresses)
        namespace.answer_every_probe()
        hosts = []
        for plan, address in zip(NETWORK_LAYOUT, addresses):
            hosts.append(NetworkHost(address, plan.name, plan.description, tuple(_open_host(lab, namespace, plan,
                                                                                         address))))
        hosts.append(NetworkHost(str(base + DOWN_HOST), "gone", "No machine holds this address: it is down.", (),
                                 expected_up=False))
        network = PracticeNetwork(block=str(ipaddress.ip_network(f"{base + 8}/29")), hosts=tuple(hosts),
                                  spare_up=False, namespace=namespace)
    except BaseException:
        namespace.close()
        raise
    lab.notes.append(LabNote("network_namespace", {"block": network.block}))
    return network


def _open_host(lab, namespace, plan, address) -> list:
    """Sockets for the services (inside the namespace), DROP rules for the filtered ports."""
    listening = tuple(p for p in plan.layout if p.service not in ("filtered", "closed"))
    services = list(namespace.inside(lambda: lab._open_layout(listening, address))) if listening else []
    for planned in plan.layout:
        port = (lab.base_port or DEFAULT_BASE_PORT) + planned.offset   # nothing else uses the namespace's ports
        if planned.service == "filtered":
            namespace.drop_port(address, "tcp", port)
        if planned.service in ("filtered", "closed"):
            services.append(LabService(port, planned.protocol, planned.expected_state, planned.service,
                                       planned.description, port, (address,)))
    return sorted(services, key=lambda s: (s.port, s.protocol))
