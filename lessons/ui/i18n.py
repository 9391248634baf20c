"""Every sentence on screen, in the learner's language.

Strings live in ``lessons/content/<lang>/ui.json`` (and ``ui-<area>.json`` beside it) as ``key -> text`` with ``{name}``
placeholders, so a translator edits data, not code.  ``Translator.t(key, **values)``
finds the text in the chosen language; a missing key is a bug that a test catches, not
something to hide, but at run time we fall back to English rather than crash.

The language comes from ``--lang``, else from the ``LC_ALL``/``LC_MESSAGES``/``LANG``
environment variables (``id_ID.UTF-8`` means Bahasa Indonesia), else English.

Hints name the program the way it is run from a checkout, ``python3 main.py``; ``t()`` shows
that as the learner started it (``portscan-lab``, ``python3 portscan-lab.pyz``, ``py main.py``
on Windows), so every command a hint suggests can be typed as shown.
"""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from typing import Mapping, Optional

from lessons import catalog, resources
from lessons.catalog import CONTENT_DIR, DEFAULT_LANGUAGE, LANGUAGES  # noqa: F401  (CONTENT_DIR: for tests)
from lessons.ui.command_line import program_name
from scanner.errors import ENGLISH_MESSAGES, PortscanError

LANGUAGE_NAMES = {"en": "English", "id": "Bahasa Indonesia"}


def language_from_environment(environ: Mapping[str, str] = os.environ) -> str:
    return language_named_by(environ) or DEFAULT_LANGUAGE


def language_named_by(environ: Mapping[str, str] = os.environ) -> Optional[str]:
    """The language LC_ALL/LC_MESSAGES/LANG/LANGUAGE name, or None when they name none.

    ``C``, ``POSIX`` and ``C.UTF-8`` say how to encode text, not which language the
    person reads: with nothing else set, a first run asks (``Choose language / Pilih bahasa``)."""
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = environ.get(variable, "")
        if value:
            code = value.split(":")[0].split(".")[0].split("_")[0].lower()
            if code in ("c", "posix"):
                continue
            if code in ("id", "in"):  # "in" is the old ISO code for Indonesian
                return "id"
            return DEFAULT_LANGUAGE
    return None


def normalise_language(code: str) -> str:
    code = (code or "").strip().lower()
    aliases = {"english": "en", "indonesia": "id", "indonesian": "id", "bahasa": "id", "in": "id"}
    code = aliases.get(code, code)
    if code not in LANGUAGES:
        raise ValueError(code)
    return code


def ui_string_files(language: str) -> list:
    """``ui.json`` first, then every ``ui-<area>.json`` of ``language`` in name order."""
    extra = sorted(name for name in resources.names(language) if name.startswith("ui-") and name.endswith(".json"))
    return ["ui.json"] + extra


@lru_cache(maxsize=None)
def load_strings(language: str) -> dict:
    """Every string of ``language``.  English error messages live with the errors
    themselves (``scanner.errors``), so the scanner speaks without this package; they are
    merged in here as ``error.<code>``, and other languages translate those keys."""
    strings: dict = {}
    for name in ui_string_files(language):   # ui.json, then ui-<area>.json: one file per part of the program
        part = json.loads(resources.read_text(language, name))
        twice = sorted(set(part) & set(strings))
        if twice:
            raise ValueError(f"{language}/{name} repeats keys: {', '.join(twice[:5])}")
        strings.update(part)
    if language == DEFAULT_LANGUAGE:
        strings.update({"error." + code: text for code, text in ENGLISH_MESSAGES.items()})
    return strings


# Error parameters that hold a count the scanner grouped in English (scanner/ knows no language).
GROUPED_PARAMS = ("count", "maximum")
ENGLISH_GROUPING = re.compile(r"\d{1,3}(?:,\d{3})+\+?")


WRITTEN_PROGRAM = "python3 main.py"   # how the strings name the program


@lru_cache(maxsize=None)
def _started_as() -> str:
    return program_name()


class Translator:
    def __init__(self, language: str = DEFAULT_LANGUAGE) -> None:
        self.language = language

    def t(self, key: str, **values) -> str:
        text = load_strings(self.language).get(key)
        if text is None:
            text = load_strings(DEFAULT_LANGUAGE).get(key, key)
        try:
            text = text.format(**values)
        except (KeyError, IndexError, ValueError):
            pass
        return text.replace(WRITTEN_PROGRAM, _started_as()) if WRITTEN_PROGRAM in text else text

    def count(self, key: str, count: int, **values) -> str:
        """``key`` for a number: ``key.one`` when there is exactly one (English needs it)."""
        if count == 1 and key + ".one" in load_strings(self.language):
            key += ".one"
        return self.t(key, count=count, **values)

    def error(self, error: PortscanError) -> str:
        """The error's message in this language (the English one is the fallback)."""
        key = "error." + error.code
        if key in load_strings(self.language):
            params = {name: self.grouped(value) if name in GROUPED_PARAMS else value
                      for name, value in error.params.items()}
            return self.t(key, **params)
        return str(error)

    def grouped(self, value) -> str:
        """A count with its thousands marked as this language does: 131,072 in English, 131.072 in Indonesian.

        ``value`` is a number or the English grouping the scanner already wrote ("131,072", "4,097+")."""
        text = f"{value:,}" if isinstance(value, int) else str(value)
        if self.language == "id" and ENGLISH_GROUPING.fullmatch(text):
            return text.replace(",", ".")
        return text

    def state(self, state) -> str:
        return self.t("state." + str(state))

    def decimal(self, value, digits: Optional[int] = None) -> str:
        """A number as this language writes it: 0.5 in English, 0,5 in Indonesian.

        (Code on screen stays Python: ``s.settimeout(0.5)`` is never localised.)"""
        if isinstance(value, str):
            text = value
        else:
            text = f"{value:.{digits}f}" if digits is not None else f"{value:g}"
        return text.replace(".", ",") if self.language == "id" else text

    def reason(self, reason) -> str:
        """A reason code with a word or two of gloss where the language needs one."""
        code = str(reason)
        gloss = self.t("reason." + code)
        return code if gloss in (code, "reason." + code) else f"{code} ({gloss})"

    def lesson_title(self, lesson_id: str) -> str:
        """A lesson named the way the learner sees it in the library: by its title."""
        try:
            return catalog.load_lesson(lesson_id, self.language).title
        except catalog.LessonNotFound:
            return lesson_id
