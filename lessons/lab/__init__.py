"""The practice lab: a small, known target on loopback to check a scan against.

A teaching aid, so it lives on the teaching side.  Its parts:

``layout``    what the lab holds: ports, known answer, notes (data only)
``services``  one small asyncio Protocol per service; fair sharing (``clients``: who is who)
``udp_echo``  the UDP echo and its loop and amplification guards
``server``    the sockets and the one event loop: ``PracticeLab``
``network``   the practice network of loopback "machines" on 127.42.0.0/29
``options``   ``--bind`` and ``--base-port``: ``parse_bind_address``, ``parse_base_port``
``grading``   ``compare`` (one host) and ``compare_network`` (the practice network)
``netns``     a network namespace of our own: veth, iptables DROP/REJECT, clean-up (root, Linux)
``challenges`` seeded targets with hidden answers, graded from the learner's own scans
"""

from lessons.lab.grading import (HostVerdict, LabComparison, NetworkComparison, ServiceVerdict, compare,
                                 compare_network)
from lessons.lab.layout import DEFAULT_BASE_PORT, LAB_LAYOUT, LabNote, LabService, LabStartError, PlannedService
from lessons.lab.options import LAB_BLOCK_SIZE, parse_base_port, parse_bind_address
from lessons.lab.network import NETWORK_BLOCK, NETWORK_LAYOUT, NetworkHost, PracticeNetwork
from lessons.lab.server import PracticeLab
from lessons.lab.services import DB_BANNER, FTP_BANNER, FTP_GOODBYE, SSH_BANNER
from scanner.errors import LabSetupError

__all__ = [
    "PracticeLab", "LabService", "LabNote", "LabStartError", "LabSetupError", "PlannedService", "LAB_LAYOUT",
    "LAB_BLOCK_SIZE", "parse_bind_address", "parse_base_port", "DEFAULT_BASE_PORT", "compare", "LabComparison", "ServiceVerdict",
    "compare_network", "NetworkComparison", "HostVerdict", "PracticeNetwork", "NetworkHost", "NETWORK_BLOCK",
    "NETWORK_LAYOUT", "FTP_BANNER", "FTP_GOODBYE", "SSH_BANNER", "DB_BANNER",
]
