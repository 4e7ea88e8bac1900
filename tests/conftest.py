import shutil

import pytest

from bot.conversation import training
from bot.conversation.decision_training import decision_path, train_decision
from bot.conversation.dialogue_examples import DialogueExamples
from bot.embedding import Embedder
from bot.knowledge.base import load_knowledge
from bot.knowledge.index import EmbeddingStore
from bot.knowledge.live import INDEX_FILE, LiveKnowledge
from bot.settings import Settings
from tests.knowledge_fixtures import SHIPPED


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real multilingual model, loaded once for the whole test session."""
    return Embedder.shared(Settings.from_env().model)


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    folder = tmp_path / "data"
    monkeypatch.setenv("WEGWIJS_DATA_DIR", str(folder))
    return folder


@pytest.fixture(scope="session")
def shared_data_dir(tmp_path_factory):
    """A data folder for the session: the knowledge index is embedded once, not per test, and
    starts from a copy of the one `make setup` built (only entries edited since are embedded)."""
    folder = tmp_path_factory.mktemp("shared-data")
    built = Settings.from_env().data_dir / INDEX_FILE
    if built.is_file():
        shutil.copy(built, folder / INDEX_FILE)
    return folder


@pytest.fixture(scope="session")
def trained_model(embedder, shared_data_dir):
    """The model `make setup` trained, with its decision layer (both trained here if missing)."""
    settings = Settings.from_env()
    model, _ = training.train(settings, load_knowledge(SHIPPED).knowledge)
    if not decision_path(model).is_file():
        index = EmbeddingStore(shared_data_dir / INDEX_FILE, embedder, settings.model)
        knowledge = LiveKnowledge(SHIPPED, index, embedder)
        train_decision(model, knowledge, DialogueExamples.shared(settings.model, settings.cache_dir))
    return model


def pytest_collection_modifyitems(items):
    """Tests that start the assistant as a process of its own go first: with `-n 2` (make test)
    the other worker runs the rest beside them instead of one of them running alone at the end."""
    items.sort(key=lambda item: item.get_closest_marker("starts_a_process") is None)
