"""Erasing newcomers' data, through the real engine and SQLite files: `wegwijs forget` for one
newcomer (nothing of them left in any cell of any table, or in the files' bytes; everything of
the other newcomer kept) and the retention purge (old conversations gone, counts kept)."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.privacy import purge
from tests.conversation_fixtures import TUESDAY_MORNING, Newcomer, make_engine
from tests.knowledge_fixtures import SHIPPED
from tests.store_fixtures import every_cell
from tests.telegram_fixtures import MovableClock

SECRET = "my address is Keizer Karelweg 999 and my passport number is XK1234567"


@pytest.fixture
def clock():
    return MovableClock(TUESDAY_MORNING)


@pytest.fixture
def engine(trained_model, embedder, shared_data_dir, tmp_path, clock):
    return make_engine(trained_model, SHIPPED, shared_data_dir, embedder, clock=clock, store_dir=tmp_path)


async def test_forget_erases_one_newcomer_everywhere_and_keeps_the_other(engine, tmp_path, monkeypatch):
    erased, kept = Newcomer(engine, "111222333", "telegram"), Newcomer(engine, "444555666", "telegram")
    for person in (erased, kept):
        await person.say("how do I register with a huisarts?")
        await person.say(SECRET.replace("999", person.user_ref[-3:]))
        await person.say("/human")
    engine.store.set_desk_thread(erased.conversation_id, 4711)
    monkeypatch.setenv("WEGWIJS_DATA_DIR", str(tmp_path))

    result = CliRunner().invoke(cli, ["forget", "--channel", "telegram", "--user", "111222333"])
    assert result.exit_code == 0, result.output
    assert "  messages: " in result.output and "  conversations: 1" in result.output
    assert "dialogue events: 0" not in result.output
    assert "desk topic (4711)" in result.output

    cells = every_cell(tmp_path)
    assert "111222333" not in cells and "Karelweg 333" not in cells
    assert "444555666" in cells and "Karelweg 666" in cells
    for path in tmp_path.glob("*.db*"):
        assert b"Karelweg 333" not in path.read_bytes(), f"{path.name} still holds the erased text"
    outbox = [row[0] for row in sqlite3.connect(tmp_path / "wegwijs.db").execute("select operation from outbox")]
    assert any('"delete_topic"' in operation and "4711" in operation for operation in outbox)

    again = CliRunner().invoke(cli, ["forget", "--channel", "telegram", "--user", "111222333"])
    assert "Nothing is stored" in again.output


async def test_the_retention_purge_erases_old_conversations_and_buttons_keeps_counts_and_open_handovers(engine, clock, tmp_path):
    old, waiting = Newcomer(engine, "old-1"), Newcomer(engine, "waiting-1")
    await old.say("where can I learn Dutch?")
    await waiting.say("/human")
    old_button = engine.store.button_key("/ask_question{\"entry_id\": \"dutch-taalhuis\"}")
    clock.advance(days=40)
    recent = Newcomer(engine, "recent-1")
    await recent.say("what is a BSN?")
    recent_button = engine.store.button_key("/affirm")

    counts = purge(engine.store, tmp_path / "dialogue.db", dt.timedelta(days=30))
    assert counts["conversations"] == 1 and counts["messages"] >= 2 and counts["dialogue events"] > 0
    assert engine.store.button_payload(old_button) is None and engine.store.button_payload(recent_button)

    remaining = {row["user_ref"] for row in engine.store.db["conversations"].rows}
    assert remaining == {"waiting-1", "recent-1"}  # an open handover keeps its conversation
    kept = list(engine.store.db["daily_counts"].rows)
    assert {"day": "2026-11-24", "channel": "test", "action": "answer", "entry": "dutch-taalhuis"} \
        .items() <= next(row for row in kept if row["action"] == "answer").items()
    assert "where can I learn Dutch?" not in every_cell(tmp_path)
