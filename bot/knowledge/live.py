"""The knowledge base in service: reloaded within seconds of a saved edit, never broken.

A background thread looks at the files every `interval` seconds. A good edit is re-indexed
(only changed entries are re-embedded) and swapped in; a broken edit is logged with
`path:line` and the last good knowledge base stays in service.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from pathlib import Path

from bot.embedding import Embedder
from bot.settings import Settings
from bot.knowledge.base import KnowledgeError, knowledge_files, load_knowledge
from bot.knowledge.index import EmbeddingStore
from bot.knowledge.retrieval import Retriever

log = logging.getLogger(__name__)
INDEX_FILE = "knowledge-index.db"  # in the data folder


def folder_fingerprint(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in knowledge_files(folder):
        digest.update(str(path).encode())
        digest.update(path.read_bytes() if path.is_file() else b"<missing>")
    return digest.hexdigest()


class LiveKnowledge:
    def __init__(self, folder: Path, store: EmbeddingStore, embedder: Embedder,
                 interval: float = 1.0):
        self.folder = folder
        self.store = store
        self.embedder = embedder
        self.interval = interval
        self._fingerprint: str | None = None
        self.last_errors: list = []
        self._retriever: Retriever | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.refresh()
        if self._retriever is None:
            raise KnowledgeError(self.last_errors)

    @property
    def retriever(self) -> Retriever:
        """The retriever over the last good knowledge base."""
        return self._retriever

    def refresh(self) -> bool:
        """Reload if the files changed; True when a new knowledge base went into service."""
        fingerprint = folder_fingerprint(self.folder)
        if fingerprint == self._fingerprint:
            return False
        self._fingerprint = fingerprint
        result = load_knowledge(self.folder)
        self.last_errors = result.of("error")
        if result.knowledge is None:
            for problem in self.last_errors:
                log.error("knowledge not reloaded, last good version stays in service: %s", problem.format())
            return False
        changed = self.store.sync(result.knowledge)
        self._retriever = Retriever(result.knowledge, self.store.load(), self.embedder)
        log.info("knowledge loaded: %d entries, %d re-embedded", len(result.knowledge.entries), len(changed))
        return True

    def start(self) -> "LiveKnowledge":
        self._thread = threading.Thread(target=self._watch, name="knowledge-reload", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()

    def _watch(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.refresh()
            except Exception:  # a reload must never take the bot down
                log.exception("knowledge reload failed; last good version stays in service")


def open_knowledge(settings: Settings, embedder: Embedder, interval: float = 1.0) -> LiveKnowledge:
    """The live knowledge base of `settings`, its index cached in the data folder."""
    store = EmbeddingStore(settings.data_dir / INDEX_FILE, embedder, settings.model)
    return LiveKnowledge(settings.knowledge_dir, store, embedder, interval)
