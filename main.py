"""portscan-lab: an educational TCP port scanner.  Run ``python main.py`` for the menu.

This file stays thin on purpose: the scanner lives in ``scanner/``, everything the
learner sees in ``lessons/``.
"""

import sys

if sys.version_info < (3, 9):
    sys.exit("portscan-lab needs Python 3.9 or newer.")

from lessons.cli import main  # noqa: E402  (after the version check)

if __name__ == "__main__":
    sys.exit(main())
