"""The exercises as data: one folder per exercise under ``lessons/content/exercises/``.

Like rustlings keeps its exercises in files beside a small ``info.toml``, every exercise
here is a folder named ``<NN>-<id>`` (``03-silent-port``) holding:

``task.en.md`` / ``task.id.md``    the task page, in the lesson Markdown subset (FORMAT.md)
``starter.py`` / ``starter.id.py`` the file the learner starts from (English comments /
                                   the same code with Indonesian comments)
``hints.en.txt`` / ``hints.id.txt`` hints, one after another, separated by a blank line
``solution.py``                    a worked solution, offered after a pass or three failed checks
``check.json``                     what the check asks: the practice targets, the calls, the
                                   expected answers and which mistake means which hint

The numbers and ids are fixed: lessons, other screens and tests refer to them.  Files
are read only through ``importlib.resources`` (never a path made from ``__file__``), so
the exercises work from a zipapp too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import List, Optional

LANGUAGES = ("en", "id")
EXERCISE_IDS = ("resolve", "one-port", "silent-port", "port-range", "threads", "banner", "udp", "permission",
                "selectors")
# Each core lesson ends with "Try it: exercise N": the exercise that practises it.
PRACTICE_AFTER = {"dns": 1, "errors": 1, "sockets": 2, "handshake": 2, "timeouts": 3, "port-states": 3,
                  "firewalls": 3, "reading-results": 4, "threading": 5, "banners": 6, "udp-scanning": 7,
                  "ethics": 8, "scanner-internals": 9, "platforms": 9}


def _folder():
    return resources.files("lessons") / "content" / "exercises"


@dataclass(frozen=True)
class Exercise:
    number: int
    id: str

    @property
    def folder_name(self) -> str:
        return f"{self.number:02d}-{self.id}"

    def read(self, name: str) -> str:
        return (_folder() / self.folder_name / name).read_text(encoding="utf-8")

    def task(self, language: str) -> tuple:
        """(title, body) of the task page in ``language`` (English when that file is missing)."""
        try:
            text = self.read(f"task.{language}.md")
        except OSError:
            text = self.read("task.en.md")
        first, _, body = text.partition("\n")
        return first.lstrip("#").strip(), body.strip("\n")

    def title(self, language: str) -> str:
        return self.task(language)[0]

    def hints(self, language: str) -> List[str]:
        text = self.read(f"hints.{language}.txt")
        return [part.strip() for part in text.strip().split("\n\n") if part.strip()]

    def starter(self, language: str) -> str:
        return self.read("starter.id.py" if language == "id" else "starter.py")

    def solution(self) -> str:
        return self.read("solution.py")

    def check_spec(self) -> dict:
        return json.loads(self.read("check.json"))

    @property
    def file_name(self) -> str:
        """The learner's file in the workspace: ``03-silent-port.py``."""
        return self.folder_name + ".py"


def all_exercises() -> List[Exercise]:
    return [Exercise(number, exercise_id) for number, exercise_id in enumerate(EXERCISE_IDS, 1)]


def find_exercise(name: str) -> Optional[Exercise]:
    """An exercise from what the learner typed: its number (``3``, ``03``), its id, or ``03-silent-port``."""
    name = (name or "").strip().lower()
    for exercise in all_exercises():
        if name in (exercise.id, exercise.folder_name) or (name.isascii() and name.isdigit() and len(name) <= 3
                                                           and int(name) == exercise.number):
            return exercise
    return None


def exercise_for_lesson(lesson_id: str) -> Optional[Exercise]:
    """The exercise that practises ``lesson_id``, or None."""
    number = PRACTICE_AFTER.get(lesson_id)
    return all_exercises()[number - 1] if number else None


def folder_files(exercise: Exercise) -> List[str]:
    """The names of the files in an exercise's folder (for the language-parity test)."""
    return sorted(entry.name for entry in (_folder() / exercise.folder_name).iterdir())
