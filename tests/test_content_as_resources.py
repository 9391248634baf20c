"""Content is read as package data, never by a filesystem path.

Inside ``portscan-lab.pyz`` (a zip archive) or an installed wheel there may be no
``lessons/content`` folder on disk: a module that builds a path from ``__file__`` or opens
``.../content/...`` with ``open()`` works in a checkout and breaks there.  This test reads the
source of every module under ``lessons/`` and ``scanner/`` (AST, not regular expressions) and
fails on such code; ``lessons/resources.py`` is the one way in.
"""

import ast
import os

import pytest

from lessons import catalog, resources
from lessons.ui.i18n import LANGUAGES, load_strings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Calls that take a filesystem path: handing them anything about "content" is reading content by path.
PATH_CALLS = {
    "open", "io.open", "os.open", "codecs.open", "os.path.join", "os.listdir", "os.scandir", "os.walk",
    "os.path.exists", "os.path.isfile", "os.path.isdir", "os.stat", "glob.glob", "glob.iglob",
    "Path", "pathlib.Path", "PurePath", "pathlib.PurePath", "os.path.dirname", "os.path.abspath",
    "os.path.realpath",
}


def _modules():
    for package in ("lessons", "scanner"):
        for folder, dirs, names in os.walk(os.path.join(ROOT, package)):
            dirs[:] = [d for d in dirs if d not in ("__pycache__", "content")]
            for name in names:
                if name.endswith(".py"):
                    yield os.path.relpath(os.path.join(folder, name), ROOT)


def _dotted(node) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else ""
    return ""


def _mentions_content(node) -> bool:
    """A string constant naming the content folder, or the name of a content-folder variable."""
    for part in ast.walk(node):
        if isinstance(part, ast.Constant) and isinstance(part.value, str):
            if "content" in part.value.replace("\\", "/").split("/"):
                return True
        if isinstance(part, (ast.Name, ast.Attribute)):
            name = (part.id if isinstance(part, ast.Name) else part.attr).upper()
            if "CONTENT" in name or name in ("HERE", "PACKAGE_DIR", "BASE_DIR"):
                return True
            if "content_root" in _dotted(part) or _dotted(part).endswith("lesson_path"):
                return True
    return False


def problems_in(source: str, path: str = "<source>"):
    """Every place in ``source`` that reaches content (or anything) through the file system by path."""
    found = []
    tree = ast.parse(source, path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in ("__file__", "__path__"):
            found.append(f"{path}:{node.lineno} uses {node.id} (read files with lessons.resources)")
        elif isinstance(node, ast.Attribute) and node.attr in ("__file__", "__path__"):
            found.append(f"{path}:{node.lineno} uses .{node.attr} (read files with lessons.resources)")
        elif isinstance(node, ast.Call) and _dotted(node.func) in PATH_CALLS:
            if any(_mentions_content(argument) for argument in node.args):
                found.append(f"{path}:{node.lineno} {_dotted(node.func)}() on a content path")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):   # Path(...) / "content"
            if _mentions_content(node.right) and not _dotted(node.left).startswith("resources"):
                if isinstance(node.left, ast.Call) and _dotted(node.left.func) in PATH_CALLS:
                    found.append(f"{path}:{node.lineno} builds a content path with /")
    return found


@pytest.mark.slow   # over a third of a second: kept out of the quick loop
def test_no_module_opens_content_by_a_filesystem_path():
    found = []
    for path in _modules():
        with open(os.path.join(ROOT, path), encoding="utf-8") as stream:
            found.extend(problems_in(stream.read(), path))
    assert not found, "\n".join(found)


@pytest.mark.parametrize("source", [
    "CONTENT_DIR = os.path.join(os.path.dirname(__file__), 'content')",
    "open(os.path.join(CONTENT_DIR, 'en', 'ui.json'))",
    "names = os.listdir(os.path.join(HERE, 'content', 'exercises'))",
    "text = open('lessons/content/en/intro.md').read()",
    "starter = pathlib.Path(base) / 'content'",
    "folder = os.path.dirname(os.path.abspath(sys.modules[__name__].__file__))",
    "for name in os.listdir(EXERCISE_CONTENT): pass",
])
def test_the_check_catches_path_based_reading(source):
    assert problems_in(source)


@pytest.mark.parametrize("source", [
    "text = resources.read_text('en', 'intro.md')",
    "names = resources.names('exercises', 'en')",
    "handle = open(path, 'rb')",                                  # a user's file: not content
    "os.path.join(folder, 'progress.json')",
])
def test_the_check_leaves_other_files_alone(source):
    assert not problems_in(source)


def test_every_content_folder_is_reachable_as_package_data():
    """Any folder under lessons/content (lessons, exercises, challenges...) is listed and read the same way."""
    on_disk = os.path.join(ROOT, "lessons", "content")
    for folder, _dirs, names in os.walk(on_disk):
        parts = os.path.relpath(folder, on_disk).replace(os.sep, "/")
        parts = () if parts == "." else tuple(parts.split("/"))
        assert set(resources.names(*parts)) >= set(names), parts
        for name in names:
            with open(os.path.join(folder, name), "rb") as stream:
                assert resources.read_bytes(*parts, name) == stream.read()


def test_missing_content_is_a_lookup_error_not_a_crash():
    assert resources.names("no-such-folder") == []
    assert not resources.exists("en", "no-such-lesson.md")
    with pytest.raises(FileNotFoundError):
        resources.read_text("en", "no-such-lesson.md")
    with pytest.raises(catalog.LessonNotFound):
        catalog.load_lesson("no-such-lesson", "en")


def test_lessons_and_strings_load_through_resources():
    for language in LANGUAGES:
        assert "intro" in catalog.lesson_ids(language)
        assert catalog.load_lesson("intro", language).title
        assert catalog.load_quiz("intro", language)
        assert load_strings(language)
