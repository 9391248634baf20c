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
"""

from __future__ import annotations

import copy
import datetime
import json
import os
import shutil
import sys
from typing import Optional

from lessons.i18n import LANGUAGES
from scanner.report import write_atomically

APP_FOLDER = "portscan-lab"
FILE_NAME = "progress.json"
EMPTY = {"version": 1, "lessons_read": [], "quiz": {}, "settings": {}}


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
    settings = data.get("settings", {})
    if isinstance(settings, dict):
        clean["settings"] = {name: value for name, value in settings.items()
                             if name not in SETTING_CHECKS or SETTING_CHECKS[name](value)}
    damaged |= clean["settings"] != settings
    return clean, damaged


class ProgressStore:
    def __init__(self, path: Optional[str] = None) -> None:
        self.path = path or os.path.join(config_folder(), FILE_NAME)
        self.problem: Optional[dict] = None  # {"key": ui.json key, "values": {...}} for the screen
        self.data = self._load()

    def _load(self) -> dict:
        try:
            with open(self.path, encoding="utf-8") as stream:
                data = json.load(stream)
        except FileNotFoundError:
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
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            write_atomically(self.path, json.dumps(self.data, indent=2, ensure_ascii=False) + "\n")
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

    def quiz_scores(self) -> dict:
        return dict(self.data["quiz"])

    def setting(self, name: str, default=None):
        return self.data["settings"].get(name, default)

    def set_setting(self, name: str, value) -> None:
        self.data["settings"][name] = value
        self.save()

    def reset(self) -> None:
        """Forget lessons read and quiz scores (settings stay)."""
        self.data["lessons_read"], self.data["quiz"] = [], {}
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
