"""The safety gate: emergencies, urgent medical need and crisis, recognised before any classifier.

Two independent signals, either one is enough: a trigger phrase from a safety entry (any
language, so a message in one language and a trigger in another still match), or the
embedding match, when the best knowledge entry for the message is a safety entry, close, and
closer than anything newcomers say in conversation (nlu/: a request for a person is close
to the crisis line's "talk to someone", but closer to the requests for a volunteer). No
intent confidence threshold is involved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.conversation.dialogue_examples import DialogueExamples
from bot.knowledge.entries import Entry, normalise
from bot.knowledge.retrieval import Hit

# Dense e5 similarity a safety match needs at least. Calibrated on
# tests/data/eval_questions.yaml: below 0.89, safety entries are also the best match of
# unrelated messages; requests for a person reach crisis-113 at up to 0.913, but their
# closest dialogue example at 0.925 or more. Safety messages below this still reach their entry
# through the classifier and retrieval (actions.decide never asks to clarify those).
SAFETY_SIMILARITY = 0.89


# Scripts written without spaces between words (Thai, Lao, Myanmar, Khmer, Japanese kana,
# Chinese): their triggers match anywhere, a word boundary would rarely be there.
UNSPACED_SCRIPTS = (("\u0e00", "\u0eff"), ("\u1000", "\u109f"), ("\u1780", "\u17ff"),
                    ("\u3040", "\u30ff"), ("\u3400", "\u9fff"))


def _has_word_boundaries(phrase: str) -> bool:
    return not any(low <= ch <= high for ch in phrase for low, high in UNSPACED_SCRIPTS)


def _triggers_pattern(entry: Entry) -> re.Pattern:
    """Any of the entry's trigger phrases, in any language, as one pattern (one search per
    entry instead of one per phrase: 0.7 ms -> 0.04 ms a message, the same matches)."""
    phrases = sorted({phrase for phrases in entry.triggers.values() for phrase in phrases},
                     key=len, reverse=True)
    words = [re.escape(phrase) for phrase in phrases if _has_word_boundaries(phrase)]
    anywhere = [re.escape(phrase) for phrase in phrases if not _has_word_boundaries(phrase)]
    alternatives = [rf"(?<!\w)(?:{'|'.join(words)})(?!\w)"] if words else []
    return re.compile("|".join(alternatives + anywhere))


@dataclass(frozen=True)
class SafetyMatch:
    entry: Entry
    reason: str  # "trigger" or "similarity"


class SafetyGate:
    def __init__(self, entries: list[Entry], dialogue: DialogueExamples):
        self._triggers = [(_triggers_pattern(entry), entry) for entry in entries
                          if entry.is_safety and entry.triggers]
        self._dialogue = dialogue

    def check(self, text: str, ranked: list[Hit]) -> SafetyMatch | None:
        """The safety entry this message needs, if any; `ranked` is retrieval's ranking.

        When triggers of several entries match, the first entry in file-name order wins
        (knowledge/base.py loads them sorted): crisis-113 before emergency-112, and 112 before
        the hospital and the huisartsenpost, so "high fever and a seizure" gets 112."""
        normalised = normalise(text)
        for pattern, entry in self._triggers:
            if pattern.search(normalised):
                return SafetyMatch(entry, "trigger")
        best = ranked[0] if ranked else None
        if (best and best.entry.is_safety and best.dense >= SAFETY_SIMILARITY
                and best.dense > self._dialogue.closest(text)):
            return SafetyMatch(best.entry, "similarity")
        return None
