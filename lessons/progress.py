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


def layout_problem(data) -> str:
    """What is wrong with a loaded progress file ('' when nothing is).

    The file is ours, but people (and crashes of other programs) edit files: every field is
    checked before the program relies on it.
    """
    if not isinstance(data, dict):
        return "not a JSON object"
    lessons = data.get("lessons_read", [])
    if not isinstance(lessons, list) or not all(isinstance(item, str) for item in lessons):
        return "lessons_read is not a list of lesson names"
    quiz = data.get("quiz", {})
    if not isinstance(quiz, dict):
        return "quiz is not an object"
    for lesson, scores in quiz.items():
        if not isinstance(scores, dict) or not all(
                isinstance(scores.get(name), int) and not isinstance(scores.get(name), bool) for name in QUIZ_FIELDS):
            return f"the quiz score for {lesson!r} is damaged"
    settings = data.get("settings", {})
    if not isinstance(settings, dict):
        return "settings is not an object"
    for name, value in settings.items():
        check = SETTING_CHECKS.get(name)
        if check is None or not check(value):
            return f"the setting {name!r} is damaged"
    return ""


class ProgressStore:
    def __init__(self, path: Optional[str] = None) -> None:
        self.path = path or os.path.join(config_folder(), FILE_NAME)
        self.problem: Optional[dict] = None  # {"key": ui.json key, "values": {...}} for the screen
        self.data = self._load()

    def _load(self) -> dict:
        try:
            with open(self.path, encoding="utf-8") as stream:
                data = json.load(stream)
            problem = layout_problem(data)
            if problem:
                raise ValueError(problem)
        except FileNotFoundError:
            return copy.deepcopy(EMPTY)
        except (OSError, ValueError, UnicodeDecodeError) as error:
            self._set_aside(error)
            return copy.deepcopy(EMPTY)
        merged = copy.deepcopy(EMPTY)
        merged.update(data)
        return merged

    def _set_aside(self, error: Exception) -> None:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        aside = f"{self.path}.corrupt-{stamp}"
        try:
            os.replace(self.path, aside)
        except OSError:
            aside = ""
        self.problem = {"key": "progress.corrupt", "values": {"path": self.path, "aside": aside or "-",
                                                               "detail": str(error)[:80]}}

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
