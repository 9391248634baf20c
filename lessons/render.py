"""A tiny renderer for lesson files: a Markdown subset turned into terminal lines.

Supported, and nothing more: ``# title``, ``## heading``, paragraphs (re-wrapped to the
screen width), ``- bullets`` (hanging indent), fenced code blocks and fenced ``diagram``
blocks (kept exactly as written).  Small on purpose: lesson files stay readable as plain
text and the renderer stays testable.

A longer lesson is split by its author into pages with a line holding only ``---page---``
(``PAGE_BREAK``): each page fits one 80x24 screen, and a break never falls inside a code
block.  ``lesson_pages`` gives the pages; ``render_lesson`` joins them with a blank line.
"""

from __future__ import annotations

import re
import textwrap
from typing import List

from lessons.terminal import Environment

INDENT = "  "
INLINE_CODE = re.compile(r"`([^`]+)`")
PAGE_BREAK = "---page---"


def render_markdown(text: str, env: Environment, title: str = "") -> List[str]:
    width = max(30, env.width - 2)
    lines: List[str] = []
    if title:
        lines.append(env.paint(title, "title"))
        lines.append(env.paint("=" * min(len(title), width), "title"))
    paragraph: List[str] = []
    bullet: List[str] = []
    fence_role = None

    def inline(wrapped: List[str]) -> List[str]:
        # Backticks mark code in the file; on screen the code is coloured instead (or left plain).
        return [INLINE_CODE.sub(lambda m: env.paint(m.group(1), "code"), line) for line in wrapped]

    def plain(text: str) -> str:
        return INLINE_CODE.sub(lambda m: m.group(1), text) if not env.colour else text

    def flush() -> None:
        # Wrap first (on text without backticks when they will vanish), colour after.
        if paragraph:
            lines.extend(inline(textwrap.wrap(plain(" ".join(paragraph)), width, break_on_hyphens=False)) or [""])
            paragraph.clear()
        if bullet:
            lines.extend(inline(textwrap.wrap(plain(" ".join(bullet)), width, initial_indent="- ",
                                              subsequent_indent=INDENT, break_on_hyphens=False)))
            bullet.clear()

    for raw in text.splitlines():
        line = raw.rstrip()
        if fence_role:
            if line.startswith("```"):
                fence_role = None
            else:
                lines.append(env.paint(INDENT + line, fence_role) if line else "")
            continue
        if line.startswith("```"):
            flush()
            fence_role = "diagram" if line[3:].strip() == "diagram" else "code"
        elif not line.strip():
            flush()
            if lines and lines[-1] != "":
                lines.append("")
        elif line.startswith("## ") or line.startswith("# "):
            flush()
            lines.append(env.paint(line.lstrip("#").strip(), "heading"))
        elif line.startswith("- ") or line.startswith("* "):
            flush()
            bullet.append(line[2:].strip())
        elif bullet and raw.startswith(" "):
            bullet.append(line.strip())
        else:
            if bullet:
                flush()
            paragraph.append(line.strip())
    flush()
    while lines and lines[-1] == "":
        lines.pop()
    return lines


def split_pages(body: str) -> List[str]:
    """The lesson body cut at its ``---page---`` lines (one page when it has none)."""
    pages, current = [], []
    for line in body.splitlines():
        if line.strip() == PAGE_BREAK:
            pages.append("\n".join(current).strip("\n"))
            current = []
        else:
            current.append(line)
    pages.append("\n".join(current).strip("\n"))
    return [page for page in pages if page.strip()] or [""]


def lesson_pages(lesson, env: Environment) -> List[List[str]]:
    """One list of screen lines per page; each page of a longer lesson repeats the title with "(n/N)"."""
    pages = split_pages(lesson.body)
    rendered = []
    for number, page in enumerate(pages, 1):
        title = lesson.title if len(pages) == 1 else f"{lesson.title} ({number}/{len(pages)})"
        rendered.append(render_markdown(page, env, title=title))
    return rendered


def render_lesson(lesson, env: Environment) -> List[str]:
    lines: List[str] = []
    for page in lesson_pages(lesson, env):
        if lines:
            lines.append("")
        lines.extend(page)
    return lines
