import pytest

from bot.conversation import training
from bot.embedding import Embedder
from bot.knowledge.base import load_knowledge
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
    """A data folder for the session: the knowledge index is embedded once, not per test."""
    return tmp_path_factory.mktemp("shared-data")


@pytest.fixture(scope="session")
def trained_model():
    """The model `make setup` trained (trained here if it is missing)."""
    model, _ = training.train(Settings.from_env(), load_knowledge(SHIPPED).knowledge)
    return model
