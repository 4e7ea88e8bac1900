"""The embedding index re-embeds only what changed; retrieval ranks the right entry first."""

from pathlib import Path

import pytest

from bot.knowledge.base import load_knowledge
from bot.knowledge.index import EmbeddingStore
from bot.knowledge.retrieval import LEXICAL_WEIGHT, Retriever
from tests.knowledge_fixtures import copy_shipped

ENTRIES = ["gp-register", "school-cil", "dutch-taalhuis"]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.fixture
def folder(tmp_path):
    return copy_shipped(tmp_path / "kb", ENTRIES, other_languages=False)


@pytest.fixture(scope="module")
def retriever(tmp_path_factory, embedder):
    """One index of the three entries for the search tests, English and Dutch only (the Hindi
    question finds its entry across languages)."""
    folder = copy_shipped(tmp_path_factory.mktemp("kb"), ENTRIES, other_languages=False)
    knowledge = load_knowledge(folder).knowledge
    store = EmbeddingStore(folder / "index.db", embedder, "e5")
    store.sync(knowledge)
    return Retriever(knowledge, store.load(), embedder)


def test_only_the_changed_entry_is_re_embedded(folder, tmp_path, embedder):
    store = EmbeddingStore(tmp_path / "index.db", embedder, "e5")
    first = store.sync(load_knowledge(folder).knowledge)
    assert {entry_id for entry_id, _ in first} == set(ENTRIES)
    assert store.sync(load_knowledge(folder).knowledge) == []  # nothing changed

    edit(folder / "entries" / "school-cil.yaml", "  answer: >-\n", "  answer: >-\n    Updated.\n")
    assert store.sync(load_knowledge(folder).knowledge) == [("school-cil", "en")]

    (folder / "entries" / "dutch-taalhuis.yaml").unlink()
    assert store.sync(load_knowledge(folder).knowledge) == []
    assert set(store.load().entry_ids) == {"gp-register", "school-cil"}


def test_a_new_model_name_re_embeds_everything(tmp_path, embedder):
    folder = copy_shipped(tmp_path / "kb", ["school-cil"], other_languages=False)
    knowledge = load_knowledge(folder).knowledge
    EmbeddingStore(tmp_path / "index.db", embedder, "model-a").sync(knowledge)
    redone = EmbeddingStore(tmp_path / "index.db", embedder, "model-b").sync(knowledge)
    assert {entry_id for entry_id, _ in redone} == {"school-cil"}


@pytest.mark.parametrize("question, expected", [
    ("how do I register with a family doctor", "gp-register"),
    ("waar kan ik Nederlands leren", "dutch-taalhuis"),
    ("who helps me choose a school for my kids", "school-cil"),
    ("huisats inschrijven", "gp-register"),          # typo
    ("taalhuis", "dutch-taalhuis"),                   # one word
    ("मुझे डच भाषा सीखनी है", "dutch-taalhuis"),         # Hindi
])
def test_retrieval_ranks_the_right_entry_first(retriever, question, expected):
    hits = retriever.search(question, limit=3)
    assert hits[0].entry.id == expected
    assert hits[0].score > hits[1].score
    assert hits[0].score == pytest.approx(hits[0].dense + LEXICAL_WEIGHT * hits[0].lexical)


def test_a_very_long_question_is_searched_without_error(retriever):
    hits = retriever.search("huisarts " * 2000)
    assert hits[0].entry.id == "gp-register"
