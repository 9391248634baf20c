"""The lab's one asyncio event loop, in its own thread, serving every socket of a lab.

A class scanning at once opens thousands of connections in bursts; the loop waits on all of
them together (the same non-blocking idea the scanner engine uses on the client side), a
silent client costs a few bytes, and stopping is simple: ask the loop to close everything,
then join its thread.  A sweep every ``SWEEP_SECONDS`` closes connections whose idle time or
lifetime ran out.  ``on_connection`` is the lab's connection log (the classroom board reads it).
"""

from __future__ import annotations

import asyncio
import asyncio.selector_events
import os
import threading
import time
from typing import List, Optional

from lessons.lab.services import TCP_SERVICES, Fairness, UdpEchoService, UdpGuard

LISTEN_BACKLOG = 1024           # a class scanning at once: let handshakes queue, not drop
SWEEP_SECONDS = 0.25            # how often the clocks of every connection are checked
START_WAIT_SECONDS = 10.0       # the loop thread must be serving by then


class _LabEventLoop(asyncio.selector_events.BaseSelectorEventLoop):
    """A plain selector event loop that survives being half-built.

    Out of file descriptors (``ulimit -n 32``), the loop's constructor fails while making its
    self-pipe; Python later finalises the half-made object, whose ``close()`` trips over the
    missing pipe and prints an "Exception ignored ... '_ssock'" traceback after our one-line
    message.  A loop whose construction failed is marked closed, so nothing runs at its end."""

    def __init__(self) -> None:
        try:
            super().__init__()
        except BaseException:
            selector = getattr(self, "_selector", None)
            if selector is not None:
                selector.close()
            self._closed = True
            raise


def new_event_loop() -> asyncio.AbstractEventLoop:
    # Windows keeps asyncio's default (proactor) loop; everywhere else the selector loop above.
    return _LabEventLoop() if os.name == "posix" else asyncio.new_event_loop()


class ServiceLoop:
    """One asyncio event loop, in its own thread, serving every socket of a lab."""

    def __init__(self, echo_ports) -> None:
        self.loop = new_event_loop()
        self.fairness = Fairness()
        self.udp_guard = UdpGuard(set(echo_ports))
        self.connections: set = set()
        self.on_connection = None     # the connection log: called with (service key, client address)
        self.udp_received = 0
        self.udp_replies = 0
        self.failure: Optional[BaseException] = None   # what ended the loop, if not stop()
        self.handler_errors: List[BaseException] = []  # bugs in one connection's handling (first few)
        self.system_errors = 0                         # e.g. accept() out of file descriptors
        self._servers: list = []
        self._datagrams: list = []
        self._ready = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self.loop.set_exception_handler(self._on_error)

    def _on_error(self, loop, context: dict) -> None:
        error = context.get("exception")
        if isinstance(error, OSError) or error is None:   # the system said no (EMFILE ...): asyncio retries
            self.system_errors += 1
        elif len(self.handler_errors) < 10:
            self.handler_errors.append(error)

    def start(self, listeners: list, datagrams: list) -> None:
        """Serve ``listeners`` [(socket, factory)] and UDP echo ``datagrams``; raises if that fails."""
        self._thread = threading.Thread(target=self._run, args=(listeners, datagrams), name="practice-lab",
                                        daemon=True)
        self._thread.start()   # RuntimeError "can't start new thread" goes to the caller
        self._ready.wait(START_WAIT_SECONDS)
        if self.failure is not None:
            raise self.failure

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self.failure is None

    def _run(self, listeners: list, datagrams: list) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            try:
                self.loop.run_until_complete(self._open(listeners, datagrams))
            finally:
                self._ready.set()
            self.loop.call_later(SWEEP_SECONDS, self._sweep)
            self.loop.run_forever()
        except BaseException as error:   # kept for PracticeLab.failure: the lab must not die silently
            self.failure = error
            self._ready.set()
        finally:
            try:
                self.loop.run_until_complete(self._close_all())
            except BaseException:
                pass
            self.loop.close()

    async def _open(self, listeners: list, datagrams: list) -> None:
        for sock, factory in listeners:
            sock.setblocking(False)
            self._servers.append(await self.loop.create_server(factory, sock=sock, backlog=LISTEN_BACKLOG))
        for sock in datagrams:
            sock.setblocking(False)
            transport, _protocol = await self.loop.create_datagram_endpoint(lambda: UdpEchoService(self, sock),
                                                                            sock=sock)
            self._datagrams.append(transport)

    def _sweep(self) -> None:
        now = time.monotonic()
        for conn in [c for c in self.connections if c.deadline <= now]:
            conn.expire()
        self.loop.call_later(SWEEP_SECONDS, self._sweep)

    async def _close_all(self) -> None:
        for server in self._servers:
            server.close()
        for transport in self._datagrams:
            transport.close()
        for conn in list(self.connections):
            conn.drop()
        for _ in range(3):   # let the transports finish closing their sockets (a few loop turns)
            await asyncio.sleep(0)

    def stop(self, wait: float = 5.0) -> None:
        if self._thread is None:
            return
        if self._thread.is_alive():
            try:
                self.loop.call_soon_threadsafe(self.loop.stop)
            except RuntimeError:   # the loop is already closed
                pass
            self._thread.join(wait)


def service_factory(loop: ServiceLoop, service: str, port: int):
    cls, key = TCP_SERVICES[service], f"{service}/{port}"
    return lambda: cls(loop, key, port)
