"""Saved progress: which lessons were read, quiz scores, and the learner's settings.

Progress lives in one small JSON file in the user's configuration folder, where each
platform expects it:

    Linux and others  $XDG_CONFIG_HOME/portscan-lab/progress.json (~/.config/...)
    macOS             ~/Library/Application Support/portscan-lab/progress.json
    Windows           %APPDATA%\\portscan-lab\\progress.json

``PORTSCAN_LAB_HOME`` overrides the folder (tests use it).  The file is written
atomically (temporary file + rename), so a crash never leaves half a file.  A file that
cannot be read or parsed is never a crash either: it is renamed aside
(``progress.json.corrupt-<time>``), the learner is told, and a fresh one is started.
The same happens to anything that is not a regular file (a FIFO would make every start
wait forever) and to a file over ``MAX_FILE_BYTES`` (it would cost its size in memory).

Two copies of the program may run at once (two terminals, two quizzes).  Saving takes a
lock (``progress.json.lock``), re-reads the file, merges this run's changes into what
the other run saved (a three-way merge against what this run loaded), and writes the
result atomically, so no score is lost.  The lock is only waited for briefly: a lock
that is never released costs the merge's protection, never a hang.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import json
import os
import shutil
import stat
import sys
import time
from typing import Optional

from lessons.ui.i18n import LANGUAGES
from lessons.ui.safe_files import FileTooLarge, NotRegularFile, read_regular_file, write_atomically

APP_FOLDER = "portscan-lab"
FILE_NAME = "progress.json"
EMPTY = {"version": 1, "lessons_read": [], "quiz": {}, "settings": {}, "exercises": {}, "challenges": {}}
MAX_FILE_BYTES = 1_000_000      # a real progress file is a few kilobytes
LOCK_WAIT_SECONDS = 2.0         # then save without the lock rather than hang
_MISSING = object()


def config_folder(environ=os.environ) -> str:
    override = environ.get("PORTSCAN_LAB_HOME")
    if override:
        return override
    home = os.path.expanduser("~")
    if sys.platform == "win32":
        return os.path.join(environ.get("APPDATA") or os.path.join(home, "AppData", "Roaming"), APP_FOLDER)
    if sys.platform == "darwin":
        return os.path.join(home, "Library", "Application Support", APP_FOLDER)
    return os.path.join(environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config"), APP_FOLDER)


QUIZ_FIELDS = ("last", "best", "total", "attempts")
EXERCISE_COUNTS = ("checks", "failed", "hints")   # an exercise record: these counts and "passed"
SETTING_CHECKS = {
    "language": lambda value: value in LANGUAGES,
    "colour": lambda value: isinstance(value, bool),
    "presenter": lambda value: isinstance(value, bool),
    "banners": lambda value: isinstance(value, bool),
}


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def salvage(data) -> tuple:
    """(what can be used of a loaded progress file, whether anything had to be dropped).

    The file is ours, but people edit files and other programs crash while writing them:
    every field is checked before the program relies on it, and a damaged part costs only
    itself, never the rest.  Settings this version does not know are kept as they are: a
    newer version may have written them.
    """
    if not isinstance(data, dict):
        return copy.deepcopy(EMPTY), True
    clean, damaged = copy.deepcopy(EMPTY), False
    lessons = data.get("lessons_read", [])
    if isinstance(lessons, list):
        clean["lessons_read"] = [item for item in lessons if isinstance(item, str)]
    damaged |= clean["lessons_read"] != lessons
    quiz = data.get("quiz", {})
    if isinstance(quiz, dict):
        clean["quiz"] = {lesson: scores for lesson, scores in quiz.items()
                         if isinstance(scores, dict) and all(_is_count(scores.get(name)) for name in QUIZ_FIELDS)}
    damaged |= clean["quiz"] != quiz
    challenges = data.get("challenges", {})   # the same record as a quiz's, by challenge number
    if isinstance(challenges, dict):
        clean["challenges"] = {number: scores for number, scores in challenges.items()
                               if isinstance(scores, dict) and all(_is_count(scores.get(name)) for name in QUIZ_FIELDS)}
    damaged |= clean["challenges"] != challenges
    settings = data.get("settings", {})
    if isinstance(settings, dict):
        clean["settings"] = {name: value for name, value in settings.items()
                             if name not in SETTING_CHECKS or SETTING_CHECKS[name](value)}
    damaged |= clean["settings"] != settings
    exercises = data.get("exercises", {})
    if isinstance(exercises, dict):
        clean["exercises"] = {name: record for name, record in exercises.items()
                              if isinstance(record, dict) and isinstance(record.get("passed", False), bool)
                              and all(_is_count(record.get(count, 0)) for count in EXERCISE_COUNTS)}
    damaged |= clean["exercises"] != exercises
    return clean, damaged


class _NotUsable(Exception):
    """The progress path holds something we must not read: (ui.json key)."""


def _read_file(path: str):
    """The parsed JSON at ``path``; FileNotFoundError, _NotUsable or ValueError/OSError otherwise.

    Read with ``read_regular_file``, so a FIFO cannot stall start-up and a huge file is
    refused before a byte of it is read.
    """
    try:
        raw = read_regular_file(path, MAX_FILE_BYTES)
    except NotRegularFile:
        raise _NotUsable("progress.not_regular") from None
    except FileTooLarge:
        raise _NotUsable("progress.too_big") from None
    return json.loads(raw.decode("utf-8"))


def merge(base, mine, theirs):
    """Three-way merge: this run's changes (``base`` -> ``mine``) applied on top of ``theirs``.

    Lists are sets in order (lessons read); dictionaries merge key by key; in a quiz record
    both runs' ``attempts`` add up and ``best`` is the larger.  ``_MISSING`` marks an absent key.
    """
    if mine == base:
        return theirs
    if theirs == base or theirs is _MISSING:
        return mine
    if isinstance(mine, dict) and isinstance(theirs, dict):
        base = base if isinstance(base, dict) else {}
        merged = dict(theirs)
        for key in set(base) | set(mine):
            value = merge(base.get(key, _MISSING), mine.get(key, _MISSING), theirs.get(key, _MISSING))
            counts = (base.get(key, 0), mine.get(key), theirs.get(key))
            if key == "attempts" and all(isinstance(count, int) for count in counts):
                value = theirs[key] + mine[key] - base.get(key, 0)
            elif key == "best" and isinstance(mine.get(key), int) and isinstance(theirs.get(key), int):
                value = max(mine[key], theirs[key])
            if value is _MISSING:
                merged.pop(key, None)
            else:
                merged[key] = value
        return merged
    if isinstance(mine, list) and isinstance(theirs, list):
        base = base if isinstance(base, list) else []
        dropped = [item for item in base if item not in mine]
        added = [item for item in mine if item not in base and item not in theirs]
        return [item for item in theirs if item not in dropped] + added
    return mine   # both changed one plain value: this run's is the newer


@contextlib.contextmanager
def _locked(path: str):
    """Hold ``path``.lock while saving (POSIX flock; elsewhere, or when it cannot be had: no lock)."""
    handle = None
    try:
        import fcntl

        # O_NOFOLLOW: a link planted at the lock's name must not make us create (as root,
        # perhaps) whatever file it points to.
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
        handle = os.open(path + ".lock", flags, 0o600)
        if not stat.S_ISREG(os.fstat(handle).st_mode):
            os.close(handle)
            handle = None
        else:
            give_up = time.monotonic() + LOCK_WAIT_SECONDS
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError:
                    if time.monotonic() >= give_up:
                        break   # someone holds it far too long: save anyway rather than hang
                    time.sleep(0.01)
    except (ImportError, OSError):
        handle = None
    try:
        yield
    finally:
        if handle is not None:
            os.close(handle)   # closing releases the lock


class ProgressStore:
    def __init__(self, path: Optional[str] = None) -> None:
        self.path = path or os.path.join(config_folder(), FILE_NAME)
        self.problem: Optional[dict] = None  # {"key": ui.json key, "values": {...}} for the screen
        self.data = self._load()
        self._base = copy.deepcopy(self.data)   # what was on disk: save() merges our changes since

    def _load(self) -> dict:
        try:
            data = _read_file(self.path)
        except FileNotFoundError:
            return copy.deepcopy(EMPTY)
        except _NotUsable as problem:   # a FIFO, a device, a folder, or far too big: never read it
            self._set_aside(str(problem), keep_original=False)
            return copy.deepcopy(EMPTY)
        except (OSError, ValueError, RecursionError):  # unreadable, not JSON, or absurdly nested
            data = None
        if not isinstance(data, dict):
            self._set_aside("progress.corrupt", keep_original=False)
            return copy.deepcopy(EMPTY)
        clean, damaged = salvage(data)
        if damaged:
            self._set_aside("progress.repaired", keep_original=True)
            self.data = clean
            self._base = copy.deepcopy(EMPTY)
            self.save()
        return clean

    def _set_aside(self, message_key: str, keep_original: bool) -> None:
        """Keep the damaged file next to the real one, so nothing the learner had is lost."""
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        aside = f"{self.path}.corrupt-{stamp}"
        try:
            if keep_original:
                shutil.copyfile(self.path, aside)
            else:
                os.replace(self.path, aside)
        except OSError:
            aside = "-"
        self.problem = {"key": message_key, "values": {"path": self.path, "aside": aside}}

    def save(self) -> bool:
        """Lock, re-read, merge this run's changes into what is on disk, write atomically."""
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with _locked(self.path):
                try:
                    theirs, _damaged = salvage(_read_file(self.path))
                except (OSError, ValueError, RecursionError, _NotUsable):
                    theirs = copy.deepcopy(self._base)   # gone or unusable now: our view stands
                merged = merge(self._base, self.data, theirs)
                write_atomically(self.path, json.dumps(merged, indent=2, ensure_ascii=False) + "\n")
            self.data, self._base = merged, copy.deepcopy(merged)
            return True
        except OSError as error:
            self.problem = {"key": "progress.unwritable", "values": {"path": self.path,
                                                                     "detail": error.strerror or str(error)}}
            return False

    # -- what the screens use ------------------------------------------------------
    def take_problem(self, tr) -> Optional[str]:
        """The pending problem as a sentence in ``tr``'s language (once), or None."""
        problem, self.problem = self.problem, None
        return tr.t(problem["key"], **problem["values"]) if problem else None

    def lessons_read(self) -> set:
        return set(self.data["lessons_read"])

    def mark_lesson_read(self, lesson_id: str) -> None:
        if lesson_id not in self.data["lessons_read"]:
            self.data["lessons_read"].append(lesson_id)
            self.save()

    def record_quiz(self, lesson_id: str, score: int, total: int) -> None:
        previous = self.data["quiz"].get(lesson_id, {})
        self.data["quiz"][lesson_id] = {
            "last": score, "best": max(score, previous.get("best", 0)), "total": total,
            "attempts": previous.get("attempts", 0) + 1,
            "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        }
        self.save()

    def record_challenge(self, number: int, score: int, total: int) -> None:
        """A challenge's result, kept like a quiz's (last, best, total, attempts)."""
        table = self.data.setdefault("challenges", {})
        previous = table.get(str(number), {})
        table[str(number)] = {
            "last": score, "best": max(score, previous.get("best", 0)), "total": total,
            "attempts": previous.get("attempts", 0) + 1,
            "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        }
        self.save()

    def challenge_scores(self) -> dict:
        return dict(self.data.get("challenges", {}))

    def quiz_scores(self) -> dict:
        return dict(self.data["quiz"])

    def exercise_record(self, exercise_id: str) -> dict:
        """{"passed", "checks", "failed", "hints"} of one exercise (zeros when never tried)."""
        record = {"passed": False, "checks": 0, "failed": 0, "hints": 0}
        record.update(self.data["exercises"].get(exercise_id, {}))
        return record

    def record_exercise(self, exercise_id: str, passed: Optional[bool] = None, hint_shown: bool = False) -> None:
        """Count a check (``passed`` True/False) or a hint shown; a pass is never taken back."""
        record = self.exercise_record(exercise_id)
        if passed is not None:
            record["checks"] += 1
            record["failed"] += 0 if passed else 1
            record["passed"] = record["passed"] or passed
        if hint_shown:
            record["hints"] += 1
        record["time"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        self.data["exercises"][exercise_id] = record
        self.save()

    def setting(self, name: str, default=None):
        return self.data["settings"].get(name, default)

    def set_setting(self, name: str, value) -> None:
        self.data["settings"][name] = value
        self.save()

    def reset(self) -> None:
        """Forget lessons read, quiz and challenge scores (settings stay)."""
        self.data["lessons_read"], self.data["quiz"], self.data["challenges"] = [], {}, {}
        self.save()


_store: Optional[ProgressStore] = None


def store() -> ProgressStore:
    """The store for this run (re-created if PORTSCAN_LAB_HOME changed, which tests do)."""
    global _store
    wanted = os.path.join(config_folder(), FILE_NAME)
    if _store is None or _store.path != wanted:
        _store = ProgressStore(wanted)
    return _store


def mark_lesson_read(lesson_id: str) -> None:
    store().mark_lesson_read(lesson_id)


def lessons_read() -> set:
    return store().lessons_read()


def show_problem(env, tr) -> None:
    """A problem with the progress file (unreadable, could not be saved), said once, as a warning."""
    message = store().take_problem(tr)
    if message:
        env.write_wrapped(message, "warning")
