"""Lesson content read as package data, wherever the package lives.

The program's texts (lessons, quizzes, ui strings, exercise starters...) sit in
``lessons/content/**``.  A path built from ``__file__`` finds them only when the package
is a folder on disk; inside a zipapp (``portscan-lab.pyz``) or an installed wheel
that may not hold.  ``importlib.resources.files("lessons")`` asks the package's own
loader instead: it answers with a ``pathlib.Path`` for a folder and a ``zipfile.Path``
inside a zip archive, both "Traversables" with the same small interface (``/``,
``iterdir()``, ``is_file()``, ``is_dir()``, ``read_text()``, ``read_bytes()``, ``name``).

Every reader of content goes through this module, one name per folder level::

    read_text("en", "intro.md")            # the text of lessons/content/en/intro.md
    names("en")                            # the file names in lessons/content/en
    names("exercises", "en")               # any sub-folder works the same way

Python 3.9's ``zipfile.Path.joinpath`` takes one name at a time, hence the loop in
``content()``.  The root is looked up once: inside a zip that keeps one archive open for
the whole run instead of reading its directory again for every lesson.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files
from typing import List

PACKAGE = "lessons"
FOLDER = "content"


@lru_cache(maxsize=None)
def content_root():
    """``lessons/content`` as a Traversable (a plain path in a source checkout)."""
    return files(PACKAGE).joinpath(FOLDER)


def content(*parts: str):
    """The Traversable for ``lessons/content/<parts...>`` (it may not exist)."""
    place = content_root()
    for part in parts:
        for name in str(part).split("/"):   # "en/ui.json" is two levels
            if name:
                place = place.joinpath(name)
    return place


def exists(*parts: str) -> bool:
    """True when ``lessons/content/<parts...>`` is a file."""
    try:
        return content(*parts).is_file()
    except (OSError, KeyError, ValueError):
        return False


def is_folder(*parts: str) -> bool:
    try:
        return content(*parts).is_dir()
    except (OSError, KeyError, ValueError):
        return False


def read_text(*parts: str) -> str:
    """The UTF-8 text of a content file; FileNotFoundError when there is none."""
    place = content(*parts)
    if not exists(*parts):
        raise FileNotFoundError("lessons/content/" + "/".join(parts))
    return place.read_text(encoding="utf-8")


def read_bytes(*parts: str) -> bytes:
    place = content(*parts)
    if not exists(*parts):
        raise FileNotFoundError("lessons/content/" + "/".join(parts))
    return place.read_bytes()


def names(*parts: str) -> List[str]:
    """The sorted names (files and folders) in a content folder; [] when it does not exist."""
    if not is_folder(*parts):
        return []
    return sorted(entry.name for entry in content(*parts).iterdir())
