"""Build ``portscan-lab.pyz``: the whole program in one file that any Python 3.9+ runs.

    python3 tools/build_pyz.py portscan-lab.pyz [--without-colorama]

A zipapp (PEP 441) is a zip archive with a ``__main__.py`` at its top: ``python3 file.pyz``
puts the archive itself on ``sys.path`` and runs that file, so ``import scanner`` and
``import lessons`` are served by ``zipimport`` straight from the archive.  Nothing is
extracted and nothing is written beside it; lessons, quizzes and ui strings are read as
package data (``lessons/resources.py``), which works inside a zip as well as on disk.

What goes in: ``scanner/``, ``lessons/`` (code and ``content/``; no ``__pycache__``, no
tests), ``main.py`` as ``__main__.py`` (the same start-up guards as ``python3 main.py``),
and colorama copied from the Python running this script (with its licence), so colours
work on Windows without ``pip install``.  ``--bytecode`` adds compiled modules for the Python
version that builds it (see ``compile_beside``): worth it when every lab computer runs that
same version; any other version ignores them.  Without colorama installed the archive is built
without it, and says so: the program then runs in plain text there.

The build needs only the standard library (``zipapp``, ``shutil``).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import py_compile
import shutil
import sys
import tempfile
import zipapp

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = ("scanner", "lessons")
SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", "tests", "test_*.py", ".*")
INTERPRETER = "/usr/bin/env python3"   # ./portscan-lab.pyz on macOS and Linux; Windows: py portscan-lab.pyz


def copy_program(staging: str) -> None:
    for package in PACKAGES:
        shutil.copytree(os.path.join(ROOT, package), os.path.join(staging, package), ignore=SKIPPED)
    shutil.copyfile(os.path.join(ROOT, "main.py"), os.path.join(staging, "__main__.py"))


def copy_colorama(staging: str) -> str:
    """Copy the installed colorama package (and its licence); its version, or "" when it is not installed."""
    spec = importlib.util.find_spec("colorama")
    if spec is None or not spec.submodule_search_locations:
        return ""
    source = list(spec.submodule_search_locations)[0]
    target = os.path.join(staging, "colorama")
    shutil.copytree(source, target, ignore=SKIPPED)
    try:
        from importlib import metadata

        distribution = metadata.distribution("colorama")
        version = distribution.version
        for name in distribution.files or ():
            if "LICENSE" in os.path.basename(str(name)).upper():   # BSD licence: it travels with the code
                shutil.copyfile(distribution.locate_file(name), os.path.join(target, "LICENSE.txt"))
                break
    except Exception:   # metadata missing (colorama copied by hand): the code still works
        version = "unknown version"
    return version


def compile_beside(staging: str, archive_name: str) -> int:
    """Byte-compile every module for the Python running this build, as ``module.pyc`` beside
    ``module.py`` (the only place zipimport looks), so that Python starts without compiling.

    The files are "unchecked hash" .pyc files (PEP 552): zipimport uses them without comparing
    timestamps.  They are compiled as ``python -OO`` would (``optimize=2``: docstrings left out,
    which halves them; the program reads no docstring and has no ``assert`` to lose), and a
    traceback still shows the source lines, which stay in the archive.  Another Python version sees a different magic number, ignores them and compiles
    the source as usual, so the archive still runs everywhere."""
    count = 0
    for folder, dirs, names in os.walk(staging):
        # lessons/content holds data, .py files too (exercise starters, written out for the learner): not modules
        dirs[:] = [d for d in dirs if os.path.join(folder, d) != os.path.join(staging, "lessons", "content")]
        for name in names:
            if name.endswith(".py"):
                source = os.path.join(folder, name)
                shown = os.path.join(archive_name, os.path.relpath(source, staging))   # in tracebacks
                py_compile.compile(source, cfile=source + "c", dfile=shown, doraise=True, optimize=2,
                                   invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
                count += 1
    return count


def build(output: str, with_colorama: bool = True, compressed: bool = True, bytecode: bool = False) -> dict:
    """Build the archive at ``output``; returns what went in (for the message and for tests)."""
    with tempfile.TemporaryDirectory(prefix="portscan-lab-pyz-") as staging:
        copy_program(staging)
        colorama = copy_colorama(staging) if with_colorama else ""
        if bytecode:
            compile_beside(staging, os.path.basename(output))
        files = sum(len(names) for _folder, _dirs, names in os.walk(staging))
        folder = os.path.dirname(os.path.abspath(output))
        os.makedirs(folder, exist_ok=True)
        partial = output + ".part"   # renamed into place: never half an archive under the real name
        zipapp.create_archive(staging, partial, interpreter=INTERPRETER, compressed=compressed)
        os.replace(partial, output)
    return {"path": output, "bytes": os.path.getsize(output), "files": files, "colorama": colorama}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python3 tools/build_pyz.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("output", metavar="OUT.pyz", help="the archive to write, e.g. portscan-lab.pyz")
    parser.add_argument("--without-colorama", action="store_true", help="leave colorama out (plain text only)")
    parser.add_argument("--stored", action="store_true", help="do not compress (larger, marginally faster start)")
    parser.add_argument("--bytecode", action="store_true",
                        help="add .pyc files for this Python version: faster start where the computers run the "
                             "same Python version as this one, about twice the size")
    args = parser.parse_args(argv)
    if not args.output.endswith(".pyz"):
        parser.error("the output's name should end in .pyz (Windows runs .pyz files with Python)")
    built = build(args.output, with_colorama=not args.without_colorama, compressed=not args.stored,
                  bytecode=args.bytecode)
    print(f"Built {built['path']}: {built['bytes'] / 1024:.0f} KiB, {built['files']} files.")
    if built["colorama"]:
        print(f"colorama {built['colorama']} is inside: colours work without installing anything.")
    elif args.without_colorama:
        print("Built without colorama (--without-colorama): plain text where colorama is not installed.")
    else:
        print("colorama is not installed here, so the archive is built without it: the program runs in "
              "plain text unless colorama is installed where it runs (pip install colorama, then build again).")
    python = "py" if sys.platform == "win32" else "python3"
    print(f"Run it with: {python} {os.path.basename(built['path'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
