"""A running process picks up a saved edit within seconds; a broken edit keeps the last good one."""

import logging
import time

import pytest

from bot.knowledge.base import KnowledgeError
from bot.knowledge.index import EmbeddingStore
from bot.knowledge.live import LiveKnowledge
from tests.knowledge_fixtures import copy_shipped

RELOAD_WITHIN_SECONDS = 5


def wait_for(condition) -> bool:
    deadline = time.monotonic() + RELOAD_WITHIN_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def live(tmp_path, embedder):
    folder = copy_shipped(tmp_path / "kb", ["gp-register", "school-cil"], other_languages=False)
    store = EmbeddingStore(tmp_path / "index.db", embedder, "e5")
    knowledge = LiveKnowledge(folder, store, embedder, interval=0.2).start()
    yield folder, knowledge
    knowledge.stop()


def answer(knowledge, entry_id="school-cil"):
    return knowledge.retriever.knowledge.by_id[entry_id].texts["en"].answer


def test_a_saved_edit_is_live_within_seconds(live):
    folder, knowledge = live
    path = folder / "entries" / "school-cil.yaml"
    path.write_text(path.read_text().replace("  answer: >-\n", "  answer: >-\n    Updated today.\n", 1))
    assert wait_for(lambda: answer(knowledge).startswith("Updated today."))


def test_a_broken_edit_keeps_the_last_good_version_and_logs_file_and_line(live, caplog):
    folder, knowledge = live
    good_answer = answer(knowledge)
    path = folder / "entries" / "school-cil.yaml"
    path.write_text(path.read_text().replace("topic: school", "topic: schools"))
    with caplog.at_level(logging.ERROR, logger="bot.knowledge.live"):
        assert wait_for(lambda: any("school-cil.yaml:2: error: topic 'schools'" in r.getMessage()
                                    for r in caplog.records))
    assert answer(knowledge) == good_answer
    assert knowledge.retriever.search("CIL school advice")[0].entry.id == "school-cil"

    path.write_text(path.read_text().replace("topic: schools", "topic: school"))
    new_file = folder / "entries" / "extra.yaml"
    new_file.write_text((folder / "entries" / "gp-register.yaml").read_text().replace(
        "id: gp-register", "id: gp-extra"))
    assert wait_for(lambda: "gp-extra" in knowledge.retriever.knowledge.by_id)


def test_a_broken_knowledge_base_at_start_is_an_error(tmp_path, embedder):
    folder = copy_shipped(tmp_path / "kb", ["gp-register"])
    (folder / "entries" / "gp-register.yaml").write_text("id: [unclosed\n")
    with pytest.raises(KnowledgeError, match="gp-register.yaml:"):
        LiveKnowledge(folder, EmbeddingStore(tmp_path / "i.db", embedder, "e5"), embedder)
