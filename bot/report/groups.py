"""Group the messages the assistant could not answer by meaning, and say for each group
whether an existing entry is close (add the questions to it) or a new entry is needed."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from sklearn.cluster import AgglomerativeClustering

from bot.embedding import Embedder
from bot.knowledge.retrieval import Retriever
from bot.report.data import Unanswered

DISTANCE_THRESHOLD = 0.14  # cosine distance between group members (e5 vectors sit close together)
NEW_ENTRY_BELOW = 0.95  # nearest entry's retrieval score below this: suggest a new entry
MAX_EXAMPLES = 3
MAX_SEARCHED = 10  # messages of a group searched for the nearest entry


@dataclass
class Group:
    number: int  # 1..N, largest group first; `wegwijs kb new --from-group N`
    size: int
    languages: dict[str, int]
    examples: list[str]  # up to 3 distinct masked messages
    questions: list[tuple[str, str]] = field(default_factory=list)  # (language, masked text), all distinct
    reasons: dict[str, int] = field(default_factory=dict)
    nearest_entry: str | None = None
    nearest_title: str | None = None
    nearest_topic: str | None = None
    nearest_score: float | None = None
    suggestion: str = ""

    @property
    def new_entry(self) -> bool:
        return self.nearest_score is None or self.nearest_score < NEW_ENTRY_BELOW


def _labels(vectors: np.ndarray, threshold: float) -> np.ndarray:
    if len(vectors) < 2:
        return np.zeros(len(vectors), dtype=int)
    # Vectors are normalised: euclidean distance d relates to cosine distance c as d^2 = 2c,
    # which works with every scikit-learn version (`metric`/`affinity` was renamed).
    return AgglomerativeClustering(n_clusters=None, distance_threshold=float(np.sqrt(2 * threshold)),
                                   linkage="average").fit_predict(vectors)


def _nearest(retriever: Retriever, texts: list[str]):
    """The entry with the best mean retrieval score over the group's messages, and that score."""
    scores: dict[str, list[float]] = {}
    entries = {}
    for text in texts:
        for hit in retriever.search(text, limit=len(retriever.entries)):
            scores.setdefault(hit.entry.id, []).append(hit.score)
            entries[hit.entry.id] = hit.entry
    if not scores:
        return None
    entry_id = max(scores, key=lambda e: sum(scores[e]) / len(texts))
    return entries[entry_id], sum(scores[entry_id]) / len(texts)


def group_unanswered(unanswered: list[Unanswered], embedder: Embedder, retriever: Retriever) -> list[Group]:
    """The unanswered messages in groups of similar meaning, largest first, numbered from 1."""
    if not unanswered:
        return []
    vectors = embedder.queries([item.text for item in unanswered])
    labels = _labels(vectors, DISTANCE_THRESHOLD)
    groups = []
    for label in sorted(set(labels.tolist())):
        members = [i for i in np.flatnonzero(labels == label)]
        items = [unanswered[i] for i in members]
        questions = list(dict.fromkeys((item.language, item.text) for item in items))
        group = Group(
            number=0, size=len(items),
            languages=dict(Counter(item.language for item in items).most_common()),
            examples=list(dict.fromkeys(item.text for item in items))[:MAX_EXAMPLES],
            questions=questions,
            reasons=dict(Counter(item.reason for item in items).most_common()))
        best = _nearest(retriever, [text for _, text in questions[:MAX_SEARCHED]])
        if best:
            entry, score = best
            group.nearest_entry, group.nearest_topic = entry.id, entry.topic
            group.nearest_title = entry.texts["en"].title
            group.nearest_score = round(score, 3)
        group.suggestion = "new entry" if group.new_entry else f"add these questions to entry {group.nearest_entry}"
        groups.append(group)
    groups.sort(key=lambda g: (-g.size, g.examples[0]))
    for number, group in enumerate(groups, 1):
        group.number = number
    return groups
