"""Rank knowledge entries for a question: dense e5 similarity plus a small char n-gram score.

The n-gram part rescues typos, one-word questions and proper nouns (BSN, DigiD, Taalhuis)
that the dense model alone ranks poorly (platform-notes: EN+NL top-1 93% -> 97%).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.embedding import Embedder, GroupedVectors
from bot.knowledge.base import KnowledgeBase
from bot.knowledge.city_name import without_city_name
from bot.knowledge.entries import Entry, normalise
from bot.knowledge.index import VectorIndex

# Chosen on the development sets' knowledge questions (top-1 right topic, EN / NL / others):
# 0.2: 97.3 / 97.2 / 95.5, 0.3: 97.9 / 97.5 / 95.8, 0.4: 98.9 / 97.7 / 96.5.
LEXICAL_WEIGHT = 0.4
MAX_QUERY_CHARS = 1000  # the model reads at most 512 tokens; longer text only costs time


@dataclass(frozen=True)
class Hit:
    entry: Entry
    score: float
    dense: float
    lexical: float


def _lexical_document(entry: Entry) -> str:
    parts = [entry.id.replace("-", " ")]
    for lang, questions in entry.questions_by_language().items():
        local = entry.texts.get(lang)
        if local:
            parts += [local.title, local.title, local.answer]
        parts += questions
    return normalise(" ".join(parts))


@functools.lru_cache(maxsize=1)
def _ngram_index(documents: tuple[str, ...]):
    """The char n-gram vectorizer and the entries' vectors. Fitting takes seconds and every
    retriever over the same files (one per engine: the tests make many) would fit the same."""
    ngrams = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
    return ngrams, ngrams.fit_transform(documents)


class Retriever:
    def __init__(self, knowledge: KnowledgeBase, index: VectorIndex, embedder: Embedder):
        self.knowledge = knowledge
        self.embedder = embedder
        self.entries = list(knowledge.entries)
        position = {entry.id: i for i, entry in enumerate(self.entries)}
        # Each row of the index belongs to an entry: grouped by the entry's position.
        self._rows = GroupedVectors(index.vectors,
                                    np.array([position[entry_id] for entry_id in index.entry_ids]))
        self._ngrams, self._documents = _ngram_index(tuple(_lexical_document(e) for e in self.entries))
        # The safety gate and the knowledge search rank the same message in one turn.
        self._ranked = functools.lru_cache(maxsize=64)(self._rank_text)

    def search(self, question: str, limit: int = 3) -> list[Hit]:
        """The best `limit` entries for `question`, highest score first."""
        return list(self._ranked(question[:MAX_QUERY_CHARS])[:limit])

    @staticmethod
    def embedded_text(question: str) -> str:
        """What of a question is embedded: all but the city's name (see city_name.py)."""
        return without_city_name(question[:MAX_QUERY_CHARS])

    def _rank_text(self, text: str) -> tuple[Hit, ...]:
        return tuple(self.rank(self.embedder.query(self.embedded_text(text)), text))

    def rank(self, query_vector: np.ndarray, text: str) -> list[Hit]:
        """Score every entry, for a question already embedded (`query_vector`, without the
        city's name: see city_name.py)."""
        dense = np.full(len(self.entries), -1.0, dtype=np.float32)
        dense[self._rows.labels] = self._rows.closest(query_vector)
        lexical = (self._documents @ self._ngrams.transform([normalise(text)]).T).toarray().ravel()
        total = dense + LEXICAL_WEIGHT * lexical
        order = np.argsort(-total)
        return [Hit(self.entries[i], float(total[i]), float(dense[i]), float(lexical[i])) for i in order]
