"""The part of a message that asks: in "I was a nurse in Lagos for eight years. Can I find
work here?" it is "Can I find work here?".

Newcomers often tell their story before their question. Whether a question is about a place
abroad is read from the asking part only: the nurse from Lagos asks about work here. (The
search itself reads the whole message: on the 151 messages of several sentences the
development sets had when it was measured, the best entry had the right topic for 144
searched whole, 129 searched by the asking part alone.) The asking sentence is the last one
ending in a question mark, else the last one; when it is short ("what should we do?") the
sentence before it gives it its subject.
"""

from __future__ import annotations

import re

# A sentence ends at . ! ? (and their CJK and Arabic forms) followed by a space or the end, or
# at a CJK full stop, or at a line break.
SENTENCE_END = re.compile(r"(?<=[.!?؟])\s+|(?<=[。！？])|\n+")
QUESTION_MARKS = ("?", "？", "؟")
SHORT = 5  # words: an asking sentence this short borrows the sentence before it


def sentences(text: str) -> list[str]:
    return [part.strip() for part in SENTENCE_END.split(text) if part and part.strip()]


def asking_part(text: str) -> str:
    """The sentence (or two) of `text` that asks; the whole text when it is one sentence."""
    parts = sentences(text)
    if len(parts) < 2:
        return text.strip()
    asking = max((i for i, part in enumerate(parts) if part.endswith(QUESTION_MARKS)),
                 default=len(parts) - 1)
    start = asking - 1 if asking and len(parts[asking].split()) < SHORT else asking
    return " ".join(parts[start:asking + 1])
