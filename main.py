"""portscan-lab: an educational TCP port scanner.  Run ``python main.py`` for the menu.

This file stays thin on purpose: the scanner lives in ``scanner/``, everything the
learner sees in ``lessons/``.  It only checks the Python version, before any of our code
is imported, and hands over to ``lessons.launch.run`` -- the same start the installed
``portscan-lab`` command and ``portscan-lab.pyz`` (where this file is ``__main__.py``) use.
"""

import sys

if sys.version_info < (3, 9):
    sys.exit("portscan-lab needs Python 3.9 or newer.")


if __name__ == "__main__":
    try:
        from lessons.launch import run  # noqa: E402  (after the version check)

        run()   # exits with the program's code
    except KeyboardInterrupt:   # Ctrl+C before run() could set up its own guards
        sys.exit(130)
    except (MemoryError, ImportError) as error:   # too little memory even for the start-up module
        sys.exit(f"portscan-lab could not start ({type(error).__name__}); with low memory limits, raise them "
                 "(ulimit -v).")
