"""Writing a file safely: all or nothing, and never over a device or through a planted link.

A file is written *atomically*: first to a temporary file in the same folder, then
renamed over the real name.  A crash or Ctrl+C in the middle can never leave half a
file behind, because a rename within one file system is all-or-nothing.

A rename replaces *whatever* has that name, so a file only ever goes to a regular file
or a new name: renamed over ``/dev/null``, a report would turn the device into a file
(``not_regular_file`` tells which paths to refuse, before scanning).  A symbolic link
is followed and its target replaced, so the link stays a link; but never a link another
user left in a shared folder such as /tmp (the kernel's ``protected_symlinks`` rule).
While the temporary file exists, Ctrl+C, SIGTERM and SIGHUP are held back (blocked, then
delivered the moment the rename is done), so no signal can leave a ``.portscan-*.tmp``
file behind.  Reports (``-o``, the save dialog) and the progress file are written here.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import stat
import tempfile
import threading


def _mode_for(path: str) -> int:
    """The replaced file's permissions, or what the umask gives a new file."""
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


class NotRegularFile(OSError):
    """The path names a device, FIFO, socket or folder: a report never replaces one."""

    def __init__(self, path: str) -> None:
        super().__init__(errno.EINVAL, "not a regular file (a device, pipe, socket or folder)", path)


def not_regular_file(path: str) -> bool:
    """True when ``path`` (a link followed) exists and is not a regular file."""
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return False   # a new name (or a link to one): fine
    except (OSError, ValueError):
        return False   # other trouble shows up, with its own words, when writing
    return not stat.S_ISREG(mode)


class OwnOutput(OSError):
    """The path is the file this program's own stdout or stderr already writes to.

    Renamed over it, the report would take the shell's file away from under the printed
    results (``scan -o /dev/stdout > out.txt``): they would go to a file with no name.
    """

    def __init__(self, path: str) -> None:
        super().__init__(errno.EINVAL, "the program's own output already goes there", path)


def is_own_output(path: str) -> bool:
    """True when ``path`` (links followed) is the very file open as stdout or stderr."""
    try:
        target = os.stat(path)
    except (OSError, ValueError):
        return False
    for descriptor in (1, 2):
        try:
            if os.path.samestat(target, os.fstat(descriptor)):
                return True
        except OSError:   # that stream is closed
            continue
    return False


class UnsafeLink(OSError):
    """The path is a symbolic link someone else planted in a shared folder such as /tmp."""

    def __init__(self, path: str) -> None:
        super().__init__(errno.EPERM, "a link another user planted in a shared folder", path)


MAX_LINK_HOPS = 40   # as the kernel: more hops than this is a loop


def is_planted_link(path: str) -> bool:
    """True when following ``path`` passes a link the kernel's ``protected_symlinks`` would refuse.

    In a sticky, world-writable folder (/tmp), a student can leave ``/tmp/report.txt ->
    /etc/shadow`` for root to write through.  The kernel refuses to *open* through such a
    link (unless its owner is the follower or the folder's owner); a rename onto the
    resolved target would bypass that, so the same rule is applied here, hop by hop.
    """
    euid = os.geteuid() if hasattr(os, "geteuid") else None
    if euid is None:
        return False
    # Resolved like realpath(), one name at a time, so that a planted link to a folder
    # (/tmp/scans -> /etc/cron.d) is caught as well as one to a file.
    pending = os.path.abspath(path).split(os.sep)
    resolved, hops = os.sep, 0
    while pending:
        name = pending.pop(0)
        if name in ("", "."):
            continue
        if name == "..":
            resolved = os.path.dirname(resolved)
            continue
        candidate = os.path.join(resolved, name)
        try:
            info = os.lstat(candidate)
            if not stat.S_ISLNK(info.st_mode):
                resolved = candidate
                continue
            folder = os.stat(resolved)
            target = os.readlink(candidate)
        except (OSError, ValueError):
            return False   # a new name from here on: nothing left to follow
        shared = folder.st_mode & stat.S_ISVTX and folder.st_mode & stat.S_IWOTH
        if shared and info.st_uid not in (euid, folder.st_uid):
            return True
        hops += 1
        if hops > MAX_LINK_HOPS:
            return False   # a loop: is_link_loop() says so
        pending = target.split(os.sep) + pending
        if os.path.isabs(target):
            resolved = os.sep
    return False


def is_link_loop(path: str) -> bool:
    """True for a symbolic link that never arrives anywhere (a -> b -> a): renaming onto it would destroy it."""
    try:
        os.stat(path)
    except OSError as error:
        return error.errno == errno.ELOOP
    except ValueError:
        return False
    return False


HELD_SIGNALS = {getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)}


@contextlib.contextmanager
def signals_held():
    """Block Ctrl+C, SIGTERM and SIGHUP for a moment; they arrive when the block ends."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield   # other threads never receive these signals in Python; Windows has no mask
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def write_atomically(path: str, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never half.

    Raises ``NotRegularFile`` for a device, FIFO, socket or folder, ``OwnOutput`` for the
    file stdout or stderr writes to, ``UnsafeLink`` for a link another user planted in a
    shared folder, OSError otherwise (ELOOP for a link loop).
    """
    if is_link_loop(path):   # realpath() gives up on a loop and would name the link itself
        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), path)
    if is_planted_link(path):
        raise UnsafeLink(path)
    destination = os.path.realpath(path)   # through symbolic links: the link stays a link
    if not_regular_file(destination):
        raise NotRegularFile(path)
    if is_own_output(destination):
        raise OwnOutput(path)
    folder = os.path.dirname(destination)
    with signals_held():
        handle, temporary = tempfile.mkstemp(prefix=".portscan-", suffix=".tmp", dir=folder)
        try:
            os.chmod(temporary, _mode_for(destination))  # mkstemp makes 0600; a report is an ordinary file
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
                stream.write(text)
                stream.flush()
                os.fsync(stream.fileno())
            if not_regular_file(destination):   # swapped for a device while we wrote: still refuse
                raise NotRegularFile(path)
            os.replace(temporary, destination)
        except BaseException:
            try:
                os.unlink(temporary)
            except OSError:
                pass
            raise


class FileTooLarge(ValueError):
    """A file over the reader's limit."""


def read_regular_file(path: str, limit: int) -> bytes:
    """At most ``limit`` bytes of the regular file at ``path``.

    Opened without blocking and checked with ``fstat`` on the open handle, so a FIFO, a
    device such as /dev/zero or a folder is refused (``NotRegularFile``, an OSError) instead
    of stalling or filling memory; a file larger than ``limit`` raises ``FileTooLarge`` (a
    ValueError) before it is read."""
    handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with open(handle, "rb") as stream:
        info = os.fstat(stream.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile(path)
        if info.st_size > limit:
            raise FileTooLarge("too large")
        raw = stream.read(limit + 1)
    if len(raw) > limit:
        raise FileTooLarge("too large")
    return raw
