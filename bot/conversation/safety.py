"""The safety gate: emergencies, urgent medical need and crisis, recognised before any classifier.

Two independent signals, either one is enough: a trigger phrase from a safety entry (any
language, so a message in one language and a trigger in another still match), or the
embedding match, when the best knowledge entry for the message is a safety entry with a
similarity no ordinary question reaches. No intent confidence threshold is involved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.knowledge.entries import Entry, normalise
from bot.knowledge.retrieval import Hit

# Dense e5 similarity. Requests for a person reach crisis-113 ("talk to someone") at up to
# 0.913 ("chcę rozmawiać z człowiekiem"); true safety messages below this still reach their
# entry through the classifier and retrieval (actions.decide never asks to clarify those).
SAFETY_SIMILARITY = 0.92


def _has_word_boundaries(phrase: str) -> bool:
    """Chinese and Japanese are written without spaces: match their triggers anywhere."""
    return not any("\u3040" <= ch <= "\u30ff" or "\u3400" <= ch <= "\u9fff" for ch in phrase)


def _trigger_pattern(trigger: str) -> re.Pattern:
    if _has_word_boundaries(trigger):
        return re.compile(rf"(?<!\w){re.escape(trigger)}(?!\w)")
    return re.compile(re.escape(trigger))


@dataclass(frozen=True)
class SafetyMatch:
    entry: Entry
    reason: str  # "trigger" or "similarity"


class SafetyGate:
    def __init__(self, entries: list[Entry]):
        self._triggers = [(_trigger_pattern(phrase), entry) for entry in entries if entry.is_safety
                          for phrases in entry.triggers.values() for phrase in phrases]

    def check(self, text: str, ranked: list[Hit]) -> SafetyMatch | None:
        """The safety entry this message needs, if any; `ranked` is retrieval's ranking."""
        normalised = normalise(text)
        for pattern, entry in self._triggers:
            if pattern.search(normalised):
                return SafetyMatch(entry, "trigger")
        if ranked and ranked[0].entry.is_safety and ranked[0].dense >= SAFETY_SIMILARITY:
            return SafetyMatch(ranked[0].entry, "similarity")
        return None
