"""A tiny renderer for lesson files: a Markdown subset turned into terminal lines.

Supported, and nothing more: ``# title``, ``## heading``, paragraphs (re-wrapped to the
screen width), ``- bullets`` (hanging indent), fenced code blocks and fenced ``diagram``
blocks (kept exactly as written).  Small on purpose: lesson files stay readable as plain
text and the renderer stays testable.

The renderer hands out *blocks*: a paragraph, a bullet, a heading, a whole code block or
diagram, a blank line.  A pager may break a page between blocks but never inside a code
block or a diagram, and because the list of blocks depends only on the file, not on the
width, a pager can re-wrap after a window resize and stay on the same block.

A longer lesson is split by its author into pages with a line holding only ``---page---``
(``PAGE_BREAK``): each page fits one 80x24 screen, and a break never falls inside a code
block.  ``lesson_pages`` gives the pages; ``render_lesson`` joins them with a blank line.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from typing import List, Optional, Protocol


class Environment(Protocol):
    """What the renderer needs of a screen (``lessons.ui.terminal.Environment`` is one): its width,
    whether it shows colour, and how to paint a text in a role.  A content reader names no ui module."""

    width: int
    colour: bool

    def paint(self, text: str, role: Optional[str]) -> str: ...

INDENT = "  "
INLINE_CODE = re.compile(r"`([^`]+)`")
PAGE_BREAK = "---page---"
GLUE = "\x00"  # stands for a space inside inline code while a paragraph is folded


@dataclass
class Block:
    lines: List[str]
    kind: str  # "title", "heading", "text", "code" (code and diagrams: never split), "blank",
    #            "page" (the author's ---page---: a pager always starts a new page there)


def render_blocks(text: str, env: Environment, title: str = "") -> List[Block]:
    width = max(30, env.width - 2)
    blocks: List[Block] = []
    if title:
        blocks.append(Block([env.paint(title, "title"), env.paint("=" * min(len(title), width), "title")], "title"))
    paragraph: List[str] = []
    bullet: List[str] = []
    fence: List[str] = []
    fence_role = None

    def inline(wrapped: List[str]) -> List[str]:
        # Backticks mark code in the file; on screen the code is coloured instead (or left plain).
        return [INLINE_CODE.sub(lambda m: env.paint(m.group(1), "code"), line).replace(GLUE, " ")
                for line in wrapped]

    def plain(text: str) -> str:
        # A short piece of code is never folded in the middle (its backticks would be cut apart).
        text = INLINE_CODE.sub(lambda m: "`" + m.group(1).replace(" ", GLUE) + "`", text)
        return INLINE_CODE.sub(lambda m: m.group(1), text) if not env.colour else text

    def flush() -> None:
        # Wrap first (on text without backticks when they will vanish), colour after.
        if paragraph:
            blocks.append(Block(inline(textwrap.wrap(plain(" ".join(paragraph)), width,
                                                     break_on_hyphens=False)) or [""], "text"))
            paragraph.clear()
        if bullet:
            blocks.append(Block(inline(textwrap.wrap(plain(" ".join(bullet)), width, initial_indent="- ",
                                                     subsequent_indent=INDENT, break_on_hyphens=False)), "text"))
            bullet.clear()

    def blank() -> None:
        if blocks and blocks[-1].kind != "blank":
            blocks.append(Block([""], "blank"))

    for raw in text.splitlines():
        line = raw.rstrip()
        if fence_role:
            if line.startswith("```"):
                blocks.append(Block(fence[:], "code"))
                fence.clear()
                fence_role = None
            else:
                fence.append(env.paint(INDENT + line, fence_role) if line else "")
            continue
        if line.startswith("```"):
            flush()
            fence_role = "diagram" if line[3:].strip() == "diagram" else "code"
        elif not line.strip():
            flush()
            blank()
        elif line.startswith("## ") or line.startswith("# "):
            flush()
            blocks.append(Block([env.paint(line.lstrip("#").strip(), "heading")], "heading"))
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
    if fence:  # an unclosed fence still shows what it holds
        blocks.append(Block(fence[:], "code"))
    while blocks and blocks[-1].kind == "blank":
        blocks.pop()
    return blocks


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
    """One list of screen lines per author's page; each page of a longer lesson repeats the title with "(n/N)"."""
    pages: List[List[str]] = [[]]
    for block in lesson_blocks(lesson, env):
        if block.kind == "page":
            pages.append([])
        else:
            pages[-1].extend(block.lines)
    return pages


def render_lesson(lesson, env: Environment) -> List[str]:
    """The whole lesson as lines, its pages one blank line apart (for output that is not a terminal)."""
    return [line for block in lesson_blocks(lesson, env) for line in block.lines]


def lesson_blocks(lesson, env: Environment) -> List[Block]:
    """The lesson as blocks for the pager; an author's ``---page---`` becomes a forced page break."""
    pages = split_pages(lesson.body)
    blocks: List[Block] = []
    for number, page in enumerate(pages, 1):
        title = lesson.title if len(pages) == 1 else f"{lesson.title} ({number}/{len(pages)})"
        if blocks:
            blocks.append(Block([""], "page"))
        blocks.extend(render_blocks(page, env, title=title))
    return blocks
