"""portscan-lab's scanner: a pure, importable TCP connect scanner.

Nothing in this package prints, colours or asks for input; it turns typed text into
checked values (``inputs``), probes ports (``probe``, ``engine``, ``udp``), names services
(``services``), reads banners (``banners``) and describes results (``results``,
``report``).  The ``lessons`` package is what talks to the learner.
"""

from scanner.version import __version__
from scanner.errors import InputError, NetworkError, PortscanError, PortSpecError, TargetError, TimeoutSpecError
from scanner.inputs import TimeoutSetting, parse_ports, parse_target, parse_timeout, parse_workers
from scanner.results import PortResult, PortState, Reason, ScanReport, Target
from scanner.engine import scan

# The UDP probe loads on first use: a plain TCP scan starts faster.  (The practice lab is a
# teaching aid and lives in ``lessons.lab``.)
_LAZY = {"scan_udp": "scanner.udp"}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'scanner' has no attribute {name!r}")


__all__ = [
    "__version__",
    "InputError", "NetworkError", "PortscanError", "PortSpecError", "TargetError", "TimeoutSpecError",
    "TimeoutSetting", "parse_ports", "parse_target", "parse_timeout", "parse_workers",
    "PortResult", "PortState", "Reason", "ScanReport", "Target", "scan",
    "scan_udp",
]
