"""Configuration from environment variables, with defaults that run locally with no set-up."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
HUB_MODEL = "intfloat/multilingual-e5-small"


def default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "wegwijs"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    knowledge_dir: Path
    cache_dir: Path
    model: str  # a folder, or a hub model name such as intfloat/multilingual-e5-small
    rasa_model_dir: Path  # trained Rasa models (wegwijs train)

    @classmethod
    def from_env(cls) -> "Settings":
        cache_dir = Path(os.environ.get("WEGWIJS_CACHE_DIR", default_cache_dir()))
        return cls(
            data_dir=Path(os.environ.get("WEGWIJS_DATA_DIR", PROJECT_ROOT / "data")),
            knowledge_dir=Path(os.environ.get("WEGWIJS_KNOWLEDGE_DIR", PROJECT_ROOT / "knowledge")),
            cache_dir=cache_dir,
            model=os.environ.get("WEGWIJS_MODEL", str(cache_dir / "multilingual-e5-small")),
            rasa_model_dir=Path(os.environ.get("WEGWIJS_RASA_MODEL_DIR", PROJECT_ROOT / "models")),
        )

    @property
    def built_model_dir(self) -> Path:
        """Where `wegwijs model build` writes the model converted from PyPI packages."""
        return self.cache_dir / "multilingual-e5-small"
