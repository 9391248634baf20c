"""Every colour and attribute the program can emit, measured against a light and a dark background.

The palette module (``lessons/ui/terminal.py``) is the one place an SGR code is written:
its ``ANSI`` table lists them all, and a scan of the source makes sure no other module
writes one of its own.  Each colour is then measured with the WCAG contrast ratio against
white and black, the light and dark backgrounds of xterm's default 16-colour palette
(``xterm -rv`` is the dark one), also as the *bright* colour a terminal may show for bold
text (xterm's ``boldColors``).  Structure (titles, headings, code, prompts, the consent
sentence) must use no colour at all; colour is left to roles whose word says it too.

The ``terminal`` tests run the real program in tmux at 80x24 under a light and a dark
palette (tmux's ``window-style``), read every SGR code on the visible screens with
``capture-pane -e`` and check each one against that palette.
"""

from __future__ import annotations

import os
import re

import pytest

from lessons.ui import terminal
from tests.conftest import ROOT
from tests.servers import FilteredPort, Listener, free_port
from tests.tmux_screen import TMUX, Screen

# xterm's default 16 colours (XTerm-col.ad / the xterm man page), as RGB.
XTERM_16 = {
    0: "000000", 1: "cd0000", 2: "00cd00", 3: "cdcd00", 4: "0000ee", 5: "cd00cd", 6: "00cdcd", 7: "e5e5e5",
    8: "7f7f7f", 9: "ff0000", 10: "00ff00", 11: "ffff00", 12: "5c5cff", 13: "ff00ff", 14: "00ffff", 15: "ffffff",
}
LIGHT = {"name": "light", "fg": "000000", "bg": "ffffff", "tmux": "fg=#000000,bg=#ffffff"}
DARK = {"name": "dark", "fg": "e5e5e5", "bg": "000000", "tmux": "fg=#e5e5e5,bg=#000000"}
MINIMUM = 3.0                       # WCAG's floor for bold and large text; every colour here is bold or a symbol
ATTRIBUTES = {"0": "reset", "1": "bold", "4": "underline", "7": "reverse"}
TMUX_DEFAULTS = {"39", "49"}        # tmux's capture writes "default foreground/background" around cells
STATE_ROLES = {"open", "closed", "filtered", "open|filtered", "error"}   # a word on screen says the same
SGR_PARAMETERS = re.compile(r"\x1b\[([0-9;]*)m")


def luminance(rgb: str) -> float:
    def channel(value: int) -> float:
        value /= 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(int(rgb[i:i + 2], 16)) for i in (0, 2, 4))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(first: str, second: str) -> float:
    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def sgr_parameters(sequence: str) -> list:
    return [part or "0" for match in SGR_PARAMETERS.finditer(sequence) for part in match.group(1).split(";")]


def palette_codes() -> dict:
    """Every SGR parameter the palette can emit: {parameter: name}."""
    return {code: name for name, sequence in terminal.ANSI.items() for code in sgr_parameters(sequence)}


def colour_of(code: str):
    """The xterm colour number of a foreground SGR parameter (30-37, 90-97), or None."""
    number = int(code)
    if 30 <= number <= 37:
        return number - 30
    if 90 <= number <= 97:
        return number - 90 + 8
    return None


def shown_colours(code: str, bold: bool) -> list:
    """The RGB values a foreground code may be drawn in: itself, and its bright twin when bold."""
    number = colour_of(code)
    colours = [XTERM_16[number]]
    if bold and number < 8:
        colours.append(XTERM_16[number + 8])
    return colours


def contrast_table() -> list:
    """(role, code, rgb, contrast on white, contrast on black) for every coloured role, normal and presenter."""
    rows = []
    for roles in (terminal.ROLES, terminal.PRESENTER_ROLES):
        for role, names in roles.items():
            codes = [code for name in names for code in sgr_parameters(terminal.ANSI[name])]
            for code in codes:
                if colour_of(code) is None:
                    continue
                for rgb in shown_colours(code, "1" in codes):
                    rows.append((role, code, rgb, contrast(rgb, LIGHT["bg"]), contrast(rgb, DARK["bg"])))
    return rows


def test_the_palette_emits_only_attributes_and_foreground_colours_it_declares():
    codes = palette_codes()
    for code, name in codes.items():
        assert code in ATTRIBUTES or colour_of(code) is not None, (name, code)   # no backgrounds, no 256-colour
    assert "2" not in codes and "5" not in codes          # never dim or blinking
    for roles in (terminal.ROLES, terminal.PRESENTER_ROLES):
        for role, names in roles.items():
            assert all(name in terminal.ANSI for name in names), role


def test_no_module_writes_an_sgr_code_of_its_own():
    """The palette is the only place a colour is spelt: grep every source file for a literal SGR code."""
    literal = re.compile(r"(\\x1b|\\033|\\u001b)\[[0-9;]*m")
    palette = os.path.join(ROOT, "lessons", "ui", "terminal.py")
    found = []
    for package in ("lessons", "scanner"):
        for folder, _dirs, files in os.walk(os.path.join(ROOT, package)):
            for name in files:
                path = os.path.join(folder, name)
                if name.endswith(".py") and path != palette:
                    with open(path, encoding="utf-8") as source:
                        found += [f"{path}: {line.strip()}" for line in source if literal.search(line)]
    with open(os.path.join(ROOT, "main.py"), encoding="utf-8") as source:
        found += [line for line in source if literal.search(line)]
    assert not found


def test_structure_uses_no_colour_only_bold_underline_and_reverse():
    for roles in (terminal.ROLES, terminal.PRESENTER_ROLES):
        for role, names in roles.items():
            codes = [code for name in names for code in sgr_parameters(terminal.ANSI[name])]
            if role not in STATE_ROLES:
                assert all(code in ATTRIBUTES for code in codes), (role, names)


def test_presenter_mode_uses_no_colour_at_all():
    for role, names in terminal.PRESENTER_ROLES.items():
        assert all(colour_of(code) is None for name in names for code in sgr_parameters(terminal.ANSI[name])), role


@pytest.mark.parametrize("background", [LIGHT, DARK], ids=["light", "dark"])
def test_every_colour_is_readable_on_a_light_and_a_dark_background(background):
    rows = contrast_table()
    assert rows, "the palette has no colour left to measure"
    for role, code, rgb, on_white, on_black in rows:
        measured = on_white if background is LIGHT else on_black
        assert measured >= MINIMUM, f"{role}: SGR {code} (#{rgb}) is {measured:.2f}:1 on {background['name']}"


def test_the_colours_that_were_dropped_really_fail():
    """The measurement behind the palette: the old cyan, yellow, blue and green fail on one background."""
    assert contrast(XTERM_16[6], "ffffff") < MINIMUM      # cyan headings and code on white
    assert contrast(XTERM_16[3], "ffffff") < MINIMUM      # the yellow consent sentence on white
    assert contrast(XTERM_16[4], "000000") < MINIMUM      # blue diagrams on black
    assert contrast(XTERM_16[2], "ffffff") < MINIMUM      # green "open" on white


def test_paint_writes_nothing_for_structure_when_colour_is_off():
    env = terminal.Environment(colour=False)
    assert env.paint("open", "open") == "open" and env.paint("Title", "title") == "Title"
    env = terminal.Environment(colour=True)
    assert env.paint("x", "code") == "x" and env.paint("x", "diagram") == "x"   # the terminal's own foreground
    assert sgr_parameters(env.paint("open", "open")) == ["1", "7", "0"]


def palette_of(screen: Screen) -> dict:
    """The foreground and background tmux draws the pane's default cells in (its window-style)."""
    style = screen._tmux("show-options", "-w", "-v", "-t", screen.name, "window-style").strip()
    colours = dict(part.split("=", 1) for part in style.split(","))
    return {"fg": colours["fg"].lstrip("#"), "bg": colours["bg"].lstrip("#")}


def guided_walk_screens(screen: Screen, language: str, ports: str) -> list:
    """Every screen of a guided scan, captured with its attributes (capture-pane -e)."""
    choice = {"en": "Your choice:", "id": "Pilihan Anda:"}[language]
    seen = [screen.wait_for(choice) and screen.coloured()]
    screen.type("1")
    for step, answer in (("[1/4]", "127.0.0.1"), ("[2/4]", ports), ("[3/4]", "0.5"), ("[4/4]", "y")):
        screen.wait_for(step)
        seen.append(screen.coloured())
        screen.type(answer)
    prompts = {"en": ("(Enter: watch", "(Enter: the results)", "(Enter: the port map"),
               "id": ("(Enter: lihat", "(Enter: hasilnya)", "(Enter: peta port")}[language]
    for prompt in prompts:      # slow motion, the results, then the map and what this means
        screen.wait_for(prompt, timeout=30)
        seen.append(screen.coloured())
        screen.type("")
    for _ in range(3):          # what this means may take a second page before saving is offered
        shown = screen.wait_for_any("t = ", "-- ", timeout=30)
        seen.append(screen.coloured())
        if "t = " in shown:
            break
        screen.type("")
        screen.wait_gone(shown, timeout=10)
    screen.type("")
    screen.wait_for(choice)
    screen.type("3")
    screen.wait_for({"en": "Lesson number", "id": "Nomor atau nama"}[language])
    screen.type("handshake")
    screen.wait_for("SYN")
    seen.append(screen.coloured())
    return seen


@pytest.mark.terminal
@pytest.mark.skipif(TMUX is None, reason="tmux is not installed")
@pytest.mark.parametrize("palette, language", [(LIGHT, "en"), (DARK, "id"), (LIGHT, "id"), (DARK, "en")],
                         ids=["light-en", "dark-id", "light-id", "dark-en"])
def test_in_tmux_every_code_on_screen_is_the_palette_s_and_readable(isolated_home, palette, language):
    with Listener() as listener, FilteredPort() as filtered, Screen(isolated_home, LANGUAGE=language) as screen:
        screen._tmux("set-option", "-w", "-t", screen.name, "window-style", palette["tmux"])
        drawn = palette_of(screen)
        assert drawn == {"fg": palette["fg"], "bg": palette["bg"]}
        closed = free_port()
        ports = f"{closed}-{closed + 16},{listener.port},{filtered.port}"   # 16+ ports: the map is drawn too
        seen = guided_walk_screens(screen, language, ports)
    used = {code for text in seen for code in sgr_parameters(text)}
    assert "7" in used and "35" in used            # colour was on: open in reverse, filtered in magenta
    allowed = set(palette_codes()) | TMUX_DEFAULTS | {"0"}
    assert used <= allowed, sorted(used - allowed)
    assert contrast(drawn["fg"], drawn["bg"]) >= 4.5   # the room's own text, which structure relies on
    for code in used:
        if colour_of(code) is not None:
            for rgb in shown_colours(code, bold=True):
                assert contrast(rgb, drawn["bg"]) >= MINIMUM, (code, rgb, palette["name"])
