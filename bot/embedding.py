"""Multilingual sentence embeddings (multilingual-e5-small) for queries and passages."""

from __future__ import annotations

import functools
import os
from collections import OrderedDict
from pathlib import Path

import numpy as np


RECENT_QUERIES = 64  # remembered question embeddings: a few turns' worth


class ModelUnavailable(Exception):
    """The configured embedding model cannot be loaded."""


def is_model_path(model: str) -> bool:
    """A setting is a folder if it looks like one; anything else is a hub model name."""
    return model.startswith(("/", "./", "../", "~")) or Path(model).exists()


class Embedder:
    """Loads the model once (one torch thread) and embeds text with the e5 prompts."""

    @classmethod
    @functools.cache
    def shared(cls, model: str) -> "Embedder":
        """One instance per model and process: the Rasa featurizer and retrieval share it."""
        return cls(model)

    def __init__(self, model: str):
        if is_model_path(model):
            folder = Path(model).expanduser()
            if not (folder / "modules.json").is_file():
                raise ModelUnavailable(
                    f"embedding model folder {folder} does not exist or is incomplete"
                )
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            model = str(folder)
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(1)
        try:
            self._model = SentenceTransformer(model, device="cpu")
        except (OSError, ValueError) as error:
            raise ModelUnavailable(f"cannot load embedding model {model}: {error}") from error
        self._model.eval()
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()

    @property
    def dimensions(self) -> int:
        return self._model.get_embedding_dimension()

    def queries(self, texts: list[str]) -> np.ndarray:
        """Normalised embeddings of questions (e5 prompt `query: `)."""
        return self._encode(texts, "query")

    def query(self, text: str) -> np.ndarray:
        """One question's embedding, remembered: a message is embedded once per turn
        although the NLU featurizer, the safety gate and retrieval all need it."""
        return self.remember([text])[0]

    def remember(self, texts: list[str]) -> list[np.ndarray]:
        """Embeddings of questions, the ones not remembered computed in one batch: a turn that
        needs two (retrieval reads a message without the city's name, the NLU as written)
        costs about 70% of two calls."""
        missing = [text for text in dict.fromkeys(texts) if text not in self._recent]
        if missing:
            self._recent.update(zip(missing, self.queries(missing)))
        for text in texts:
            self._recent.move_to_end(text)
        while len(self._recent) > RECENT_QUERIES:
            self._recent.popitem(last=False)
        return [self._recent[text].copy() for text in texts]

    def passages(self, texts: list[str]) -> np.ndarray:
        """Normalised embeddings of documents (e5 prompt `passage: `)."""
        return self._encode(texts, "passage")

    def _encode(self, texts: list[str], prompt_name: str) -> np.ndarray:
        return self._model.encode(
            list(texts), prompt_name=prompt_name, normalize_embeddings=True,
            convert_to_numpy=True, batch_size=32, show_progress_bar=False,
        ).astype(np.float32)


class GroupedVectors:
    """Vectors kept grouped by a label, so that the closest vector of every label to a query
    is one matrix product and one `reduceat` (a mask or `np.maximum.at` per query cost about
    a millisecond over the 10,000-odd example questions)."""

    def __init__(self, vectors: np.ndarray, labels: np.ndarray):
        order = np.argsort(labels, kind="stable")
        self.vectors, self.row_labels = vectors[order], labels[order]
        self.labels, self._starts = np.unique(self.row_labels, return_index=True)

    def closest(self, query: np.ndarray) -> np.ndarray:
        """The similarity of each label's closest vector to `query`, in the order of `labels`."""
        return np.maximum.reduceat(self.vectors @ query, self._starts)

    def closest_by_label(self, query: np.ndarray) -> dict:
        """The same, as label -> similarity."""
        return dict(zip(self.labels.tolist(), self.closest(query).tolist()))
