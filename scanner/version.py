"""The program's version, defined once.

``--version`` prints it, every JSON report carries it, and ``pyproject.toml`` reads it from
here (``[tool.setuptools.dynamic]``), so a release changes one line.  It lives in
``scanner/`` because the scanner writes the reports and must not import the teaching side.
"""

__version__ = "1.0.0"
