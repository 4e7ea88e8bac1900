"""Embeddings of every entry, per language, cached in SQLite by content hash.

Each (entry, language) row holds the vectors of its texts. The row is re-embedded only when
the hash of its texts (and of the model name) changes, so an edit to one entry costs one
entry's embeddings, not the whole knowledge base's.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sqlite_utils

from bot.embedding import Embedder
from bot.knowledge.base import KnowledgeBase
from bot.knowledge.city_name import without_city_name
from bot.knowledge.entries import Entry

TABLE = "entry_vectors"


@dataclass(frozen=True)
class EntryTexts:
    """What gets embedded for one entry in one language."""

    entry_id: str
    lang: str
    passages: tuple[str, ...]  # title + answer, embedded as e5 passages
    questions: tuple[str, ...]  # example questions less the city's name, embedded as e5 queries

    def content_hash(self, model: str) -> str:
        payload = json.dumps([model, self.passages, self.questions], ensure_ascii=False)
        return hashlib.sha256(payload.encode()).hexdigest()


def entry_texts(entry: Entry) -> list[EntryTexts]:
    texts = []
    for lang, questions in entry.questions_by_language().items():
        local = entry.texts.get(lang)
        passages = (f"{local.title}. {local.answer}",) if local else ()
        questions = tuple(without_city_name(question) for question in questions)
        texts.append(EntryTexts(entry.id, lang, passages, questions))
    return texts


@dataclass(frozen=True)
class VectorIndex:
    """All vectors in one matrix; row i belongs to entry `entry_ids[i]`."""

    vectors: np.ndarray
    entry_ids: tuple[str, ...]
    langs: tuple[str, ...]


class EmbeddingStore:
    """The SQLite cache of entry embeddings (one file in the data folder)."""

    def __init__(self, path: Path, embedder: Embedder, model_name: str):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.embedder = embedder
        self.model_name = model_name
        self._db()[TABLE].create(
            {"entry_id": str, "lang": str, "hash": str, "rows": int, "vectors": bytes},
            pk=("entry_id", "lang"), if_not_exists=True,
        )

    def _db(self) -> sqlite_utils.Database:
        # A connection per operation: reloads run in a background thread, and sqlite3
        # connections may only be used by the thread that opened them.
        return sqlite_utils.Database(self.path)

    def sync(self, knowledge: KnowledgeBase) -> list[tuple[str, str]]:
        """Embed what changed, drop what was removed; returns the (entry, lang) re-embedded."""
        db = self._db()
        wanted = {(t.entry_id, t.lang): t for entry in knowledge.entries for t in entry_texts(entry)}
        stored = {(row["entry_id"], row["lang"]): row["hash"]
                  for row in db[TABLE].rows_where(select="entry_id, lang, hash")}
        hashes = {key: texts.content_hash(self.model_name) for key, texts in wanted.items()}
        changed = [key for key in wanted if stored.get(key) != hashes[key]]
        with db.conn:
            for key in set(stored) - set(wanted):
                db[TABLE].delete(key)
            for key in changed:
                texts = wanted[key]
                vectors = np.vstack([
                    self.embedder.passages(list(texts.passages)) if texts.passages else
                    np.empty((0, self.embedder.dimensions), np.float32),
                    self.embedder.queries(list(texts.questions)),
                ]).astype(np.float32)
                db[TABLE].upsert({
                    "entry_id": texts.entry_id, "lang": texts.lang,
                    "hash": hashes[key], "rows": len(vectors),
                    "vectors": vectors.tobytes(),
                }, pk=("entry_id", "lang"))
        return sorted(changed)

    def load(self) -> VectorIndex:
        blocks, ids, langs = [], [], []
        for row in self._db()[TABLE].rows_where(order_by="entry_id, lang"):
            block = np.frombuffer(row["vectors"], dtype=np.float32).reshape(row["rows"], -1)
            blocks.append(block)
            ids += [row["entry_id"]] * row["rows"]
            langs += [row["lang"]] * row["rows"]
        return VectorIndex(np.vstack(blocks), tuple(ids), tuple(langs))
