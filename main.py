"""portscan-lab: an educational TCP port scanner.  Run ``python main.py`` for the menu.

This file stays thin on purpose: the scanner lives in ``scanner/``, everything the
learner sees in ``lessons/``.  The guards below only make start-up safe: Ctrl+C while
Python is still importing ends quietly (exit 130), and a closed stdout or stderr
(``>&-``) becomes the null device instead of a crash.
"""

import os
import sys

if sys.version_info < (3, 9):
    sys.exit("portscan-lab needs Python 3.9 or newer.")


def _reopen_closed_streams() -> None:
    for name, fd, mode in (("stdin", 0, "r"), ("stdout", 1, "w"), ("stderr", 2, "w")):
        if getattr(sys, name) is None:   # started with that descriptor closed
            null = os.open(os.devnull, os.O_RDONLY if mode == "r" else os.O_WRONLY)
            if null != fd:   # normally the lowest free number is the closed one itself
                os.dup2(null, fd)
                os.close(null)
            setattr(sys, name, open(fd, mode, encoding="utf-8", errors="replace", closefd=False))


if __name__ == "__main__":
    try:
        _reopen_closed_streams()
        from lessons.ui.cli import main  # noqa: E402  (after the version check)

        code = main()
    except KeyboardInterrupt:   # Ctrl+C during start-up, before the program could say anything useful
        code = 130
    except (MemoryError, ImportError) as error:   # e.g. so little memory that the imports failed
        detail = " ".join(str(error).split())[-120:] or type(error).__name__
        sys.stderr.write(f"portscan-lab could not start ({type(error).__name__}: {detail}); "
                         "with low memory limits, raise them (ulimit -v).\n")
        code = 1
    sys.exit(code)
