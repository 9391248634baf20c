"""Turning what a learner types into values a scanner can use — or into a clear message.

Every piece of input is parsed here and nowhere else, so every mistake gets the same kind
of answer: an ``InputError`` (see ``scanner.errors``) whose message says what was wrong and
what would work.  The parsers accept what people really type:

* hosts: ``127.0.0.1``, ``::1``, ``[::1]``, ``localhost``, ``example.com``.  Names are
  resolved with ``socket.getaddrinfo`` — the modern call that knows IPv4 *and* IPv6 —
  rather than ``gethostbyname``, which only ever returns one IPv4 address.
* ports: ``22``, ``1-1024``, ``22,80,443``, ``1-100, 443``, ``-`` or ``all`` (1-65535) and
  ``common`` (a curated list); spaces are fine and duplicates are merged.
* networks: ``127.0.0.0/29`` (a CIDR block), ``127.0.0.1-7`` (a last-number range),
  ``127.0.0.2,127.0.0.5`` (a list) or any host above — see ``parse_targets``.
* timeouts: seconds such as ``0.5``, or ``auto`` (learn it from measured round trips).

The parsers live in three modules of this package, by what they read: ``hosts``,
``networks`` and ``values`` (ports, timeouts, retries, workers).  Import them from here.
"""

from scanner.inputs.hosts import HOSTNAME_MAX_LENGTH, Resolver, parse_target
from scanner.inputs.networks import (DEFAULT_MAX_HOSTS, MAX_HOSTS_LIMIT, TargetSet, parse_max_hosts,
                                     parse_targets)
from scanner.inputs.values import (ALL_PORTS_WORDS, AUTO, AUTO_WORDS, COMMON_PORTS_WORDS, DEFAULT_TIMEOUT,
                                   MAX_PORT, MAX_PORT_SPEC_LENGTH, RETRIES_MAXIMUM, RETRIES_MINIMUM,
                                   TIMEOUT_MAXIMUM, TIMEOUT_MINIMUM, WORKERS_MAXIMUM, WORKERS_MINIMUM,
                                   TimeoutSetting, describe_ports, parse_ports, parse_retries, parse_timeout,
                                   parse_workers, whole_number)
from scanner.results import Target, is_loopback_address

__all__ = ["HOSTNAME_MAX_LENGTH", "Resolver", "parse_target", "DEFAULT_MAX_HOSTS", "MAX_HOSTS_LIMIT", "TargetSet",
           "parse_max_hosts", "parse_targets", "ALL_PORTS_WORDS", "AUTO", "AUTO_WORDS", "COMMON_PORTS_WORDS",
           "DEFAULT_TIMEOUT", "MAX_PORT", "MAX_PORT_SPEC_LENGTH", "RETRIES_MAXIMUM", "RETRIES_MINIMUM",
           "TIMEOUT_MAXIMUM", "TIMEOUT_MINIMUM", "WORKERS_MAXIMUM", "WORKERS_MINIMUM", "TimeoutSetting",
           "describe_ports", "parse_ports", "parse_retries", "parse_timeout", "parse_workers", "whole_number",
           "Target", "is_loopback_address"]
