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
        pieces = textwrap.wrap(title, max(30, env.width - 1), break_on_hyphens=False) or [title]   # narrow: folded
        blocks.append(Block([env.paint(piece, "title") for piece in pieces]
                            + [env.paint("=" * min(max(map(len, pieces)), width), "title")], "title"))
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
        styled = env.colour and env.paint("`", "code") != "`"   # a palette may leave code unmarked
        return INLINE_CODE.sub(lambda m: m.group(1), text) if not styled else text

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
                # folded at a word boundary, never cut by the terminal in a narrow window
                fence.extend(env.paint(piece, fence_role) if piece.strip() else ""
                             for piece in fold_preformatted(INDENT + line, max(30, env.width - 1)))
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


CELL_GAP = re.compile(r" {2,}")
FOLD_USE = 0.6     # a break between columns is taken when the line it leaves fills this much of the width
CODE_HANG = 4      # a folded line of code goes on this much further in


def fold_preformatted(line: str, width: int) -> List[str]:
    """A code line, table row or diagram line folded to ``width`` columns at a word boundary.

    A terminal cuts a line that is too wide anywhere, even inside a word (``(last number`` /
    ``)  7``).  Here a line breaks between two table columns (a run of two or more spaces) when
    that keeps most of the line, else at the last single space that fits.  The rest goes on
    under the column it came from (or as far right as it fits), a comment goes on as a comment,
    and code goes on a little further in.  A word is never cut: one wider than the window stays whole.
    """
    lines = []
    for _ in range(len(line)):          # every round moves at least one character to a finished line
        if len(line) <= width:
            break
        indent = len(line) - len(line.lstrip(" "))
        first_word = len(line.split()[0])
        if indent + max(12, first_word) > width and first_word < width:   # indented past the window:
            # as far right as it fits
            line = " " * max(0, width - len(line.strip())) + line.strip()
            if len(line) <= width:
                break
            indent = len(line) - len(line.lstrip(" "))
        head, rest, hang = _split(line, width, indent)
        if not head.strip() or not rest or hang + len(rest) >= len(line):
            break   # one word wider than the window: kept whole (a copied line of code still works)
        lines.append(head.rstrip())
        line = " " * hang + rest
    lines.append(line)
    return lines


def _split(line: str, width: int, indent: int) -> tuple:
    """(the part that fits, the rest, the column the rest starts at)."""
    comment = _comment_column(line)
    gaps = [m for m in CELL_GAP.finditer(line, indent) if m.end() < len(line)]
    fitting = [m for m in gaps if m.start() <= width]
    spaces = [i for i in range(indent + 1, min(width, len(line) - 2) + 1)
              if line[i] == " " and line[i - 1] != " " and line[i + 1] != " "   # one space: inside a cell
              and not (comment is not None and comment <= i <= comment + 1)]   # never a lone "#"
    gap = fitting[-1] if fitting else None
    between_cells = True
    if gap and (not spaces or gap.start() >= width * FOLD_USE or gap.start() > spaces[-1]):
        start, end = gap.start(), gap.end()
    elif spaces:
        start, end, between_cells = spaces[-1], spaces[-1] + 1, False
    else:   # one word wider than the window: nothing to fold at
        return line, "", indent
    rest = line[end:].lstrip(" ")
    cells = [indent] + [m.end() for m in gaps if m.end() <= start]
    if comment is not None and start > comment:        # inside a comment: the rest is a comment too
        hang, rest = comment, "# " + rest
    elif rest.startswith("#"):                        # a trailing comment: where it was, or on its own
        hang = end if end + len(rest) <= width else indent
    elif between_cells:   # a new column: where it was, else as far right as it fits, else under column 2
        hang = next((col for col in (end, width - len(rest)) if col >= cells[min(1, len(cells) - 1)]
                     and col + len(rest) <= width), None)
        if hang is None:
            hang = cells[1] if len(cells) > 1 else indent + CODE_HANG
    elif len(cells) > 1:                              # inside a cell: under the cell's own start
        hang = cells[-1]
    else:
        hang = indent + CODE_HANG
    first_word = re.match(r"#? *\S*", rest).group(0)   # what must fit on the next line: "# ENETUNREACH"
    if hang + max(min(len(rest), 12), len(first_word)) > width:
        hang = min(indent + 2, max(0, width - len(rest)))
    return line[:start], rest, hang


def _comment_column(line: str):
    """Where a ``#`` comment starts (outside quotes), or None."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] == " "):
            return i
    return None


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
