"""A pager: anything taller than the window is shown one screenful at a time.

On a real terminal (standard input *and* output both a terminal) a person reads while the
program prints, so a long lesson or a long results table stops at the bottom of the
window: Enter shows the next page, ``b`` the previous one, ``q`` skips the rest.  Pages
break between blocks (paragraphs, bullets, headings), never inside a code block or a
diagram, and a heading is never left alone at the bottom of a page.  The window size is
read again before every page, so zooming the font mid-lesson re-wraps the text.

Anywhere else (a pipe, a file, a test's ``StringIO``) everything is printed at once, as
``less`` does when its output is not a terminal: scripts never wait.  Presenter mode
without a terminal keeps its short pages with a pause between them.
"""

from __future__ import annotations

import re
from typing import Callable, List, Sequence, Union

from lessons.render import Block
from lessons.ui.terminal import Environment

PRESENTER_PAGE_LINES = 14   # a projector screen without a terminal to measure
MIN_PAGE_LINES = 4
ANSI_CODES = re.compile(r"\x1b\[[0-9;]*m")


def line_blocks(lines: Sequence[str], keep_together: bool = False) -> List[Block]:
    """Plain lines as blocks: one block per line, or one unbreakable block (a table, a map)."""
    if keep_together:
        return [Block(list(lines), "code")] if lines else []
    return [Block([line], "blank" if line == "" else "text") for line in lines]


def rows(block: Block, width: int = 0) -> int:
    """Screen rows a block takes: a line wider than the window (a wide table in a narrow
    window) is wrapped by the terminal onto more than one row."""
    if not width:
        return len(block.lines)
    return sum(max(1, -(-len(ANSI_CODES.sub("", line)) // width)) for line in block.lines)


def paginate(blocks: List[Block], height: int, width: int = 0) -> List[tuple]:
    """Pages as (first block, block after the last) for a page of ``height`` rows of ``width`` columns."""
    height = max(MIN_PAGE_LINES, height)
    pages, start = [], 0
    while start < len(blocks):
        while start < len(blocks) - 1 and blocks[start].kind in ("blank", "page"):
            start += 1  # a page never starts with an empty line
        used, end = 0, start
        while end < len(blocks) and used + rows(blocks[end], width) <= height:
            if blocks[end].kind == "page" and end > start:
                break  # the author's page break

            used += rows(blocks[end], width)
            end += 1
        if end == start:
            end = start + 1  # one block taller than the window: it gets a page of its own
        elif end < len(blocks):
            # keep a heading (and the blank lines before it) with what it introduces
            last = end - 1
            while last > start and blocks[last].kind == "blank":
                last -= 1
            if blocks[last].kind in ("heading", "title") and last > start:
                end = last
        pages.append((start, end))
        start = end
    return pages or [(0, 0)]


def split_tall(blocks: List[Block], height: int) -> List[Block]:
    """A block taller than a whole page is cut into page-sized pieces (nothing else fits)."""
    height = max(MIN_PAGE_LINES, height)
    out: List[Block] = []
    for block in blocks:
        if len(block.lines) <= height:
            out.append(block)
        else:
            out.extend(Block(block.lines[i:i + height], block.kind) for i in range(0, len(block.lines), height))
    return out


Content = Union[List[Block], Callable[[], List[Block]]]


def show(env: Environment, content: Content, ask: Callable[[str], str], tr, *, finish: bool = True,
         reserve: int = 0, like_cat: bool = False) -> bool:
    """Show ``content`` page by page; True when its last page was shown.

    ``content`` may be a function that renders the blocks for the current width: it is
    called again before each page, so a resized window re-wraps.  ``finish`` asks for
    Enter after the last page too (a lesson); without it the last page is left on
    screen with ``reserve`` lines free for what the caller prints next (a prompt).
    ``like_cat``: what fits one screen is just printed, without clearing (``less -FX``).
    """
    render = content if callable(content) else (lambda: content)
    if not env.on_screen:
        blocks = render()
        pages = paginate(blocks, PRESENTER_PAGE_LINES) if env.presenter else [(0, len(blocks))]
        for number, (start, end) in enumerate(pages):
            if number:
                ask(tr.t("menu.press_enter"))
            for block in blocks[start:end]:
                for line in block.lines:
                    env.write(line)
        return True
    position = 0       # the first block on screen: a resize re-wraps from here, skipping nothing
    history: List[int] = []   # where the earlier pages started, for b
    while True:
        env.refresh()
        number = len(history) + 1

        def asked(key: str) -> int:   # a page's question may fold onto two rows in a narrow window
            return len(env.fold_prompt(tr.t(key, page=number, pages=number + 1))[0]) + 1

        body = env.height - asked("pager.more" if number == 1 else "pager.more_back")
        blocks = split_tall(render(), env.height - 1 - reserve)
        position = min(position, max(0, len(blocks) - 1))
        columns = env.columns() if env.follow_terminal else 0   # what the terminal wraps takes more rows
        ahead = paginate(blocks[position:], body, columns)
        if len(ahead) == 1 and not finish:  # the caller's prompt goes below: keep its room free
            ahead = paginate(blocks[position:], env.height - 1 - reserve, columns)
        elif len(ahead) == 1:   # the last page: its own question
            ahead = paginate(blocks[position:], env.height - asked("pager.end" if history else "menu.press_enter"),
                             columns)
        start, end = position + ahead[0][0], position + ahead[0][1]
        last = len(ahead) == 1
        number, pages = len(history) + 1, len(history) + len(ahead)
        if pages > 1 or not like_cat:
            env.clear()
        for block in blocks[start:end]:
            for line in block.lines:
                env.write(line)
        if last and not finish:
            return True
        if last:
            key = "pager.end" if pages > 1 else "menu.press_enter"
        else:
            key = "pager.more" if number == 1 else "pager.more_back"
        answer = ask(tr.t(key, page=number, pages=pages)).strip().lower()
        if answer == "q":
            return last
        if answer == "b":
            if history:
                position = history.pop()
            continue
        if last:
            return True
        history.append(position)
        position = end


def _cut_line(line: str, paragraph: List[str]) -> str:
    """``line`` ending in " ...", whole words dropped so it is no wider than its paragraph
    (a full line plus " ..." would fold, leaving ".." alone on the next line)."""
    width = max(len(text) for text in paragraph)
    line = line.rstrip()
    while len(line) + 4 > width and " " in line.strip():
        line = line.rstrip().rsplit(" ", 1)[0]
    return line.rstrip() + " ..."


def short_form(blocks: List[Block], budget: int) -> tuple:
    """The start of a lesson that fits ``budget`` lines: (lines, whether it is the whole lesson).

    The title, then whole blocks in order until the first subheading or the budget;
    a code block or diagram is taken whole or not at all.  Derived from any lesson file,
    so it needs no second copy of the text.
    """
    lines: List[str] = []
    taken = 0
    for index, block in enumerate(blocks):
        if (block.kind == "heading" and index > 1) or block.kind == "page":
            break
        if len(lines) + len(block.lines) > budget:
            if block.kind == "text" and taken <= 1 and budget - len(lines) >= 2:
                room = budget - len(lines)  # the first paragraph alone is too long: cut it
                lines.extend(block.lines[:room - 1] + [_cut_line(block.lines[room - 1], block.lines)])
            break
        lines.extend(block.lines)
        taken += 1
    else:
        return _trim(lines), True
    lines = _trim(lines)
    if lines and lines[-1].endswith(":") and "" in lines[2:]:  # "The classic version:" without its code
        while lines[-1] != "":
            lines.pop()
    return _trim(lines), False


def _trim(lines: List[str]) -> List[str]:
    while lines and lines[-1] == "":
        lines.pop()
    return lines


def columns(env: Environment, rows: List[tuple]) -> List[str]:
    """A list of (prefix, title) rows; two columns on a terminal when one would not fit the window,
    so a list of every lesson never pushes its own title off the top (titles too long are cut with ...)."""
    plain = [prefix + title for prefix, title in rows]
    if not env.on_screen or len(rows) <= env.height - 2:
        return plain
    half = (len(rows) + 1) // 2
    column = (env.width - 1) // 2
    lines = []
    for left, right in zip(rows[:half], rows[half:] + [("", "")]):
        room = column - len(ANSI_CODES.sub("", left[0])) - 1
        text = left[1] if len(left[1]) <= room else left[1][: room - 3] + "..."
        pad = column - len(ANSI_CODES.sub("", left[0])) - len(text)
        right_room = column - len(ANSI_CODES.sub("", right[0])) - 1
        right_text = right[1] if len(right[1]) <= right_room else right[1][: right_room - 3] + "..."
        lines.append(left[0] + text + " " * pad + right[0] + right_text)
    return lines


class Lines:
    """Collects what would be written, folded and painted as ``env`` would, so a terminal can page it."""

    def __init__(self, env: Environment) -> None:
        self.env = env
        self.lines: list = []
        self.groups: list = []   # one per write: a page break never splits a sentence

    def write(self, text: str = "", role=None, end: str = "\n") -> None:
        self.lines.append(self.env.paint(text, role) if role else text)
        self.groups.append(self.lines[-1:])

    def blocks(self) -> list:
        return [Block(group, "blank" if group == [""] else "text") for group in self.groups]

    def paint(self, text: str, role) -> str:
        return self.env.paint(text, role)

    def write_wrapped(self, text: str, role=None, first: str = "", rest: str = "") -> None:
        wrapped = self.env.wrap(text, role, first, rest)
        self.lines += wrapped
        self.groups.append(wrapped)
