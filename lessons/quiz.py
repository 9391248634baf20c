"""Quizzes: a few questions per lesson, an explanation after every answer.

Retrieval practice — answering a question instead of re-reading — is one of the best
ways to make something stick, and the explanation right after the answer is where the
learning happens, so a wrong answer is never just "wrong": it says why.  Questions live
beside the lessons in ``lessons/content/<lang>/<lesson>.quiz``; scores are saved with
the learner's progress.

This module is the quiz *model*: how an answer is compared and how choices are shuffled.
Reading the ``.quiz`` files is ``lessons.catalog``'s job; asking the questions on screen is
``lessons.ui.screens.quiz``'s.
"""

from __future__ import annotations

import os
import random
import unicodedata

SEED_VARIABLE = "PORTSCAN_LAB_SEED"  # a fixed shuffle for tests and for a class that answers together
SCREEN_INDENT = "    "    # a quoted screen ("| " lines of a question): shown as is, never folded


MEANINGFUL_SYMBOLS = "^+*/=<>%"   # arithmetic: "2^16-1" must not become "2161"


def normalise_answer(text: str) -> str:
    """What the learner typed, for comparing: lower case, spaces and punctuation ignored.

    "SYN-ACK", "syn ack" and "synack." all become "synack"; letters of every script are kept,
    and so are the symbols of arithmetic, which change what a number means."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).casefold()
                   if ch.isalnum() or ch in MEANINGFUL_SYMBOLS)


def shuffler(environ=os.environ) -> random.Random:
    """A fresh order per attempt, so the position of the right answer teaches nothing."""
    seed = environ.get(SEED_VARIABLE)
    return random.Random(seed) if seed else random.Random()
