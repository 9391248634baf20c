"""Command-line conventions a newcomer expects, kept apart from the commands themselves.

* ``--version`` on every command, from the one version in ``scanner/version.py``.
* A mistyped option gets one line naming the closest real one ("did you mean
  --timeout?"), as git and cargo do, instead of argparse's "unrecognized arguments".
  ``difflib.get_close_matches`` ranks the options by how many characters they share.
* The program's name as the learner started it: ``python3 main.py``, ``portscan-lab``
  (the installed command) or ``python3 portscan-lab.pyz``, so every hint can be typed
  as shown.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import zipfile
from typing import Dict, List, Optional, Tuple

from scanner.version import __version__

NEGATIVE_NUMBER = re.compile(r"^-\d+$|^-\d*\.\d+$")   # "-100" is a value (-p -100), as argparse sees it


def program_name(argv0: Optional[str] = None) -> str:
    """How to type this program again: ``python3 main.py``, ``portscan-lab`` or ``python3 NAME.pyz``."""
    argv0 = sys.argv[0] if argv0 is None else argv0
    name = os.path.basename(argv0 or "")
    python = "py" if sys.platform == "win32" else "python3"
    if name.endswith(".pyz") or (name and not name.endswith(".py") and zipfile.is_zipfile(argv0)):
        return f"{python} {name}"   # a zipapp, even one renamed
    if name.startswith("portscan-lab"):
        return "portscan-lab"       # the installed command (portscan-lab.exe on Windows)
    return f"{python} main.py"


# (command after the program's name, ui key of what it does or None): shown under --help.
TOP_EXAMPLES = (("", "help.example_menu"), ("scan 127.0.0.1 -p 1-1024", None),
                ("scan 127.42.0.0/29 -p ssh,http", "help.example_network"), ("lesson handshake", None), ("lab", None))
SCAN_EXAMPLES = (("scan 127.0.0.1", "help.example_common"), ("scan localhost -p 22-", "help.example_from"),
                 ("scan localhost -p -100", "help.example_to"), ("scan 127.0.0.1 -p ssh,http", None),
                 ("scan 127.42.0.0/29 -p 8000-8100", "help.example_network"),
                 ("scan 127.0.0.1 --timeout auto -o scan.json", None))


def examples(tr, prog: str, rows) -> str:
    """The examples block of ``--help``: commands in one column, what they do beside them."""
    commands = [f"{prog} {command}".rstrip() for command, _key in rows]
    width = max(len(command) for command, (_text, key) in zip(commands, rows) if key) + 2
    lines = [tr.t("help.examples")]
    for command, (_text, key) in zip(commands, rows):
        lines.append(f"  {command:<{width}}{tr.t(key) if key else ''}".rstrip())
    return "\n".join(lines)


def version_text() -> str:
    return f"portscan-lab {__version__}"


def add_version(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument("--version", action="version", version=version_text(), help=help_text)


def _options(parser: argparse.ArgumentParser) -> Dict[str, bool]:
    """Every option string of ``parser`` -> whether it takes a value."""
    known = {}
    for action in parser._actions:   # argparse keeps no public list of its options
        for option in action.option_strings:
            known[option] = action.nargs != 0
    return known


def unknown_option(parser: argparse.ArgumentParser, commands: Dict[str, argparse.ArgumentParser],
                   argv: List[str]) -> Optional[Tuple[str, Optional[str]]]:
    """The first option in ``argv`` no parser knows, with the closest known one (or None).

    Options of the top level and of the command named in ``argv`` count.  What argparse itself
    accepts is never reported: an unambiguous prefix (``--time``), a short option with its value
    attached (``-p22``), ``--name=value``, and a value that starts with a dash (``-p -100``)."""
    known = _options(parser)
    command, expects_value = None, False
    for word in argv:
        if expects_value:
            expects_value = False
            continue
        if word == "--":
            break
        if command is None and word in commands:
            command = word
            known.update(_options(commands[word]))
            continue
        if not word.startswith("-") or word == "-" or NEGATIVE_NUMBER.match(word):
            continue
        typed, attached = word.split("=", 1)[0], "=" in word
        if not typed.startswith("--") and typed[:2] in known and len(typed) > 2 and known[typed[:2]]:
            continue   # -p22: a short option and its value in one word
        prefixed = [option for option in known if option.startswith(typed) and option.startswith("--")]
        if typed in known or (len(typed) > 3 and len(prefixed) == 1):   # argparse's abbreviation rule
            expects_value = known[typed if typed in known else prefixed[0]] and not attached
            continue
        return typed, _closest(typed, known)
    return None


def unknown_command(parser: argparse.ArgumentParser, commands: Dict[str, argparse.ArgumentParser],
                    argv: List[str]) -> Optional[Tuple[str, Optional[str]]]:
    """A first word that should name a command and does not (``lesons``), with the closest command."""
    known, expects_value = _options(parser), False
    for word in argv:
        if expects_value:
            expects_value = False
        elif word.startswith("-") and word != "-":
            expects_value = known.get(word.split("=", 1)[0], False) and "=" not in word
        elif word in commands:
            return None
        else:
            import difflib   # lazy, as in _closest

            close = difflib.get_close_matches(word.lower(), list(commands), n=1, cutoff=0.6)
            return word, (close[0] if close else None)
    return None


def _closest(typed: str, known: Dict[str, bool]) -> Optional[str]:
    if not typed.startswith("--") and "-" + typed in known:
        return "-" + typed                          # -timeout: one dash short
    if len(typed) == 2:                             # -P for -p
        return next((option for option in known if option.lower() == typed.lower()), None)
    import difflib   # lazy: only a mistyped option needs it, and every start-up byte counts under ulimit -v

    close = difflib.get_close_matches(typed, [option for option in known if option.startswith("--")], n=1,
                                      cutoff=0.6)
    return close[0] if close else None
