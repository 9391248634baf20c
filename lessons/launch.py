"""Starting the program safely, however it was started.

``python3 main.py``, the installed ``portscan-lab`` command (pyproject's console script)
and ``python3 portscan-lab.pyz`` all come through ``run()``, so they behave the same:
Ctrl+C while Python is still importing ends quietly (exit 130), a closed stdout or stderr
(``>&-``) becomes the null device instead of a crash, and an import that fails for lack of
memory says so in one line.  This module imports nothing of ours at the top, so those
guards are in place before the rest of the program loads.
"""

import os
import sys


def _reopen_closed_streams() -> None:
    for name, fd, mode in (("stdin", 0, "r"), ("stdout", 1, "w"), ("stderr", 2, "w")):
        if getattr(sys, name) is None:   # started with that descriptor closed
            null = os.open(os.devnull, os.O_RDONLY if mode == "r" else os.O_WRONLY)
            if null != fd:   # normally the lowest free number is the closed one itself
                os.dup2(null, fd)
                os.close(null)
            setattr(sys, name, open(fd, mode, encoding="utf-8", errors="replace", closefd=False))


def run() -> None:
    """Run the program with the command line in ``sys.argv`` and exit with its code."""
    try:
        _reopen_closed_streams()
        from lessons.ui.cli import main   # lazy on purpose: the guards above and below cover this import

        code = main()
    except KeyboardInterrupt:   # Ctrl+C during start-up, before the program could say anything useful
        code = 130
    except (MemoryError, ImportError, SyntaxError) as error:
        # So little memory that the imports failed; Python's parser reports running out of memory
        # while compiling a module as a SyntaxError (its text names the file), so that one is one line too.
        detail = " ".join(str(error).split())[-120:] or type(error).__name__
        sys.stderr.write(f"portscan-lab could not start ({type(error).__name__}: {detail}); "
                         "with low memory limits, raise them (ulimit -v).\n")
        code = 1
    sys.exit(code)
