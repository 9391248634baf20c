"""The learner's workspace: their own copy of each exercise, never overwritten.

Each exercise is worked in one file, ``exercises/<NN>-<id>.py`` under the program's home
folder (the folder that holds progress.json; ``PORTSCAN_LAB_HOME`` moves both).  The
starter is written there the first time the exercise is opened and never again: from
then on the file is the learner's, edits and all.  ``reset`` is the only way back to
the starter, and it keeps the old file as ``<NN>-<id>.py.bak-<time>`` first.  The
folder's location is handed in by the caller, so this module needs nothing of the UI.
"""

from __future__ import annotations

import datetime
import os
import shutil
import stat
from typing import Optional

from lessons.exercises.catalog import Exercise

FOLDER = "exercises"
MAX_SOURCE_BYTES = 1024 * 1024     # an answer is a few KB; a bigger file is not worth a check's time


def workspace_folder(home: str) -> str:
    return os.path.join(home, FOLDER)


def learner_file(home: str, exercise: Exercise) -> str:
    return os.path.join(workspace_folder(home), exercise.file_name)


def ensure_starter(home: str, exercise: Exercise, language: str) -> tuple:
    """(path, whether it was written now): the starter appears once, an existing file is left alone."""
    path = learner_file(home, exercise)
    if os.path.lexists(path):
        return path, False
    os.makedirs(workspace_folder(home), exist_ok=True)
    try:   # O_EXCL: if another run wrote it a moment ago, theirs stands
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        return path, False
    with open(handle, "w", encoding="utf-8") as stream:
        stream.write(exercise.starter(language))
    return path, True


def reset(home: str, exercise: Exercise, language: str) -> tuple:
    """Put the starter back; (path, where the old file was kept or None)."""
    path = learner_file(home, exercise)
    backup = None
    if os.path.lexists(path):
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        backup = f"{path}.bak-{stamp}"
        if os.path.isfile(path):   # a file, or a link to one: its contents are kept
            shutil.copy2(path, backup)
        else:   # a folder, a pipe, a broken link: moved aside whole (copying a pipe would block)
            os.rename(path, backup)
    os.makedirs(workspace_folder(home), exist_ok=True)
    _replace(path, exercise.starter(language))
    return path, backup


def _replace(path: str, text: str) -> None:
    """Write a new file beside ``path`` and rename it over: the old one or the new one, never half.

    A link at ``path`` is replaced by a plain file, never followed (the backup has its contents)."""
    temporary = f"{path}.new-{os.getpid()}"
    try:
        with open(temporary, "x", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    finally:
        if os.path.lexists(temporary):
            os.unlink(temporary)


def modified_time(path: str) -> float:
    """The file's modification time, or 0.0 while it does not exist (``--watch`` polls this)."""
    try:
        return os.stat(path).st_mtime_ns / 1e9
    except OSError:
        return 0.0


def file_problem(path: str) -> Optional[str]:
    """Why ``path`` cannot be checked (ui key exercise.problem.<this>), or None.

    Looked at with ``stat``, which never opens it: a pipe put in place of the file would
    block whoever opens it, a folder or device cannot be run, a huge file only wastes time."""
    try:
        info = os.stat(path)
    except OSError:
        return "missing"
    if not stat.S_ISREG(info.st_mode):
        return "not_a_file"
    return "too_big" if info.st_size > MAX_SOURCE_BYTES else None


def size_kb(path: str) -> int:
    try:
        return os.stat(path).st_size // 1024
    except OSError:
        return 0
