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
import yaml

from bot.embedding import Embedder
from bot.settings import PROJECT_ROOT

NLU_FOLDER = PROJECT_ROOT / "nlu"


def example_texts(folder: Path = NLU_FOLDER) -> list[str]:
    """Every example of every intent in the Rasa NLU files of `folder`."""
    texts = []
    for path in sorted(folder.rglob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            texts += [line[2:].strip() for line in block["examples"].splitlines() if line.strip()]
    return texts


class DialogueExamples:
    def __init__(self, vectors: np.ndarray):
        self.vectors = vectors

    @classmethod
    @functools.cache
    def shared(cls, model: str, cache_dir: Path) -> "DialogueExamples":
        """The examples of nlu/ embedded with `model`, from the cache when it is current."""
        texts = example_texts()
        digest = hashlib.sha256(json.dumps([model, texts], ensure_ascii=False).encode()).hexdigest()
        path = cache_dir / f"dialogue-examples-{digest[:16]}.npy"
        if path.is_file():
            return cls(np.load(path))
        vectors = Embedder.shared(model).queries(texts)
        cache_dir.mkdir(parents=True, exist_ok=True)
        for outdated in cache_dir.glob("dialogue-examples-*.npy"):
            outdated.unlink()
        partial = path.with_suffix(".partial")  # another process may read the cache meanwhile
        with partial.open("wb") as file:
            np.save(file, vectors)
        partial.replace(path)
        return cls(vectors)

    def closest(self, vector: np.ndarray) -> float:
        """The similarity of the example closest to `vector` (a normalised e5 query vector)."""
        return float(np.max(self.vectors @ vector))
