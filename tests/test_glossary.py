"""Indonesian content speaks with one voice: the glossary's words, never its rejected spellings.

``lessons/content/GLOSSARY-id.md`` holds a table: English term | chosen Indonesian word(s) |
rejected spellings | note.  Code (fenced blocks and `inline code`) is never checked: Python
spells ``socket.socket()`` however the lessons translate "socket".
"""

import json
import os
import re

from lessons import catalog
from lessons.ui.i18n import CONTENT_DIR, load_strings

GLOSSARY = os.path.join(CONTENT_DIR, "GLOSSARY-id.md")
# Broken phrases the audit quoted; each was mended and must not come back.
MENDED_PHRASES = ["Python diinterpretasi", "kernel kirim RST", "Alat ini lebih jauh lagi", "RTT terhaluskan",
                  "resep pewaktu", "galat unreachable", "Caranya: soket", "server web mungil"]


def glossary_rows():
    rows = []
    for line in open(GLOSSARY, encoding="utf-8"):
        if not line.startswith("| ") or line.startswith("| ---") or line.startswith("| English"):
            continue
        cells = [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        english, chosen, rejected = cells[0], cells[1], cells[2]
        rows.append((english, [c.strip() for c in re.split(r" / |, ", chosen) if c.strip()],
                     [r.strip() for r in rejected.split(",") if r.strip()]))
    return rows


def without_code(text):
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return re.sub(r"`[^`]*`", "", text)


def indonesian_texts():
    """(name, prose) for every Indonesian lesson, quiz and screen string."""
    texts = []
    for lesson_id in catalog.lesson_ids("id"):
        for suffix in (".md", ".quiz"):
            path = catalog.lesson_path(lesson_id, "id", suffix)
            texts.append((f"id/{lesson_id}{suffix}", without_code(open(path, encoding="utf-8").read())))
    texts.extend((f"ui.json {key}", value) for key, value in load_strings("id").items())
    return texts


def rejected_pattern(spelling):
    # A whole word, not part of a dotted or called name such as socket.error or socket().
    return re.compile(r"(?<![\w.|/-])" + re.escape(spelling) + r"(?![\w.(|/-])", re.I)


def test_the_glossary_has_the_terms_the_audit_named():
    english = {row[0].split(" (")[0] for row in glossary_rows()}
    for term in ["socket", "physical port, connector", "probe", "thread", "silent port", "mini web server",
                 "timeout", "retransmission", "error", "exception"]:
        assert term in english, term


def test_no_rejected_spelling_in_indonesian_prose():
    texts = indonesian_texts()
    for english, _chosen, rejected in glossary_rows():
        for spelling in rejected:
            pattern = rejected_pattern(spelling)
            found = [name for name, text in texts if pattern.search(text)]
            assert not found, f"'{spelling}' (glossary: {english}) in {found}"


def test_every_chosen_word_is_used():
    everything = " ".join(text for _name, text in indonesian_texts()).lower()
    for english, chosen, _rejected in glossary_rows():
        assert any(word.lower() in everything for word in chosen), (english, chosen)


def test_the_mended_phrases_stay_mended():
    for name, text in indonesian_texts():
        for phrase in MENDED_PHRASES:
            assert phrase.lower() not in text.lower(), (name, phrase)


def test_indonesian_lessons_show_what_the_indonesian_screens_print():
    strings = load_strings("id")
    results = open(catalog.lesson_path("reading-results", "id"), encoding="utf-8").read()
    assert strings["table.not_shown"].format(count=997) in results
    for key in ("table.port", "table.state", "table.service", "table.reason"):
        assert strings[key] in results, key
    udp = open(catalog.lesson_path("udp-scanning", "id"), encoding="utf-8").read()
    assert strings["state.open|filtered"] in udp
    english = load_strings("en")
    for lesson_id in catalog.lesson_ids("id"):
        prose = without_code(open(catalog.lesson_path(lesson_id, "id"), encoding="utf-8").read())
        assert english["table.not_shown"].split(":")[0] not in prose, lesson_id
        assert "open|filtered" not in prose, lesson_id


def test_the_glossary_file_is_not_a_lesson():
    assert "GLOSSARY-id" not in catalog.lesson_ids("id")
    assert json.dumps(glossary_rows())  # parses into plain rows
