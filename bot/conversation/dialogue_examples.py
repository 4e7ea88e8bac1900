"""The e5 vectors of the dialogue examples in nlu/: what newcomers say that is not a question
for the knowledge base (greetings, requests for a person, out of scope, ...).

The safety gate weighs a message's match on a safety entry against its closest dialogue
example: "I want to talk to a real person" comes close to the crisis line ("I need to talk
to someone"), but closer still to the requests for a volunteer. The vectors are cached in the
cache folder under a hash of the model and the examples, so they are embedded again (about
15 s) only when nlu/ changes.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

import numpy as np

from bot.conversation.training import dialogue_examples
from bot.embedding import Embedder, GroupedVectors


class DialogueExamples:
    def __init__(self, embedder: Embedder, vectors: np.ndarray, intents: list[str]):
        self.embedder = embedder
        self.examples = GroupedVectors(vectors, np.array(intents))

    @classmethod
    @functools.cache
    def shared(cls, model: str, cache_dir: Path) -> "DialogueExamples":
        """The examples of nlu/ embedded with `model`, from the cache when it is current."""
        embedder = Embedder.shared(model)
        intents, texts = zip(*dialogue_examples())
        digest = hashlib.sha256(json.dumps([model, texts], ensure_ascii=False).encode()).hexdigest()
        path = cache_dir / f"dialogue-examples-{digest[:16]}.npy"
        if path.is_file():
            return cls(embedder, np.load(path), list(intents))
        vectors = embedder.queries(list(texts))
        cache_dir.mkdir(parents=True, exist_ok=True)
        for outdated in cache_dir.glob("dialogue-examples-*.npy"):
            outdated.unlink()
        partial = path.with_suffix(".partial")  # another process may read the cache meanwhile
        with partial.open("wb") as file:
            np.save(file, vectors)
        partial.replace(path)
        return cls(embedder, vectors, list(intents))

    def closest(self, text: str) -> float:
        """The similarity of the example closest to `text`."""
        return max(self.closest_by_intent(text).values())

    def closest_by_intent(self, text: str) -> dict[str, float]:
        """The similarity of each intent's closest example to `text`."""
        return self.examples.closest_by_label(self.embedder.query(text))
