"""Which of our sockets has news?  ``select``, ``epoll`` and a thin wrapper around them.

A worker thread holds hundreds of connects in flight and must sleep until one of them
finishes.  The operating system offers several ways to ask:

* ``select`` (everywhere) takes the whole list of sockets on every call: the cost grows
  with the sockets watched, and Windows accepts at most 512 of them;
* ``epoll`` (Linux) and ``kqueue`` (the BSDs, macOS) keep the list inside the kernel: a
  socket is added once, and each call returns only the sockets that are ready.

Python's ``selectors`` module hides the difference behind one interface.  It costs
something per socket, though: a key object, two dictionary entries, and on removal one
more system call.  A scan adds and removes a socket for every probe (tens of thousands a
second), so on Linux this module talks to ``epoll`` directly and leaves out the removal
call: closing a socket removes it from ``epoll`` by itself (the engine closes every socket
it stops watching).  Elsewhere ``selectors.DefaultSelector`` does the work.

Both return ``(key, events)`` pairs whose ``key.fileobj`` is the socket, like ``selectors``.
"""

from __future__ import annotations

import select
import selectors
import socket
from typing import List, Optional, Tuple


class _Key:
    __slots__ = ("fileobj",)

    def __init__(self, fileobj: socket.socket) -> None:
        self.fileobj = fileobj


class EpollPoller:
    """``selectors``-like, for sockets waiting to become writable (a connect that finished); Linux only.

    ``unregister`` only forgets the socket: the caller must close it next, which takes it
    out of ``epoll`` without another system call.
    """

    def __init__(self) -> None:
        self._epoll = select.epoll()
        self._sockets: dict = {}

    def register(self, sock: socket.socket, _events: int = selectors.EVENT_WRITE) -> None:
        fd = sock.fileno()
        self._epoll.register(fd, select.EPOLLOUT)
        self._sockets[fd] = sock

    def unregister(self, sock: socket.socket) -> None:
        fd = sock.fileno()
        if self._sockets.get(fd) is not sock:
            raise KeyError(sock)
        del self._sockets[fd]

    def select(self, timeout: Optional[float] = None) -> List[Tuple[_Key, int]]:
        ready = self._epoll.poll(-1 if timeout is None else max(0.0, timeout))
        sockets = self._sockets
        return [(_Key(sockets[fd]), selectors.EVENT_WRITE) for fd, _mask in ready if fd in sockets]

    def close(self) -> None:
        self._epoll.close()
        self._sockets.clear()


def new_poller():
    """An ``EpollPoller`` on Linux, else the platform's best ``selectors`` selector."""
    if hasattr(select, "epoll"):
        return EpollPoller()
    return selectors.DefaultSelector()
