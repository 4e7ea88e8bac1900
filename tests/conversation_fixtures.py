"""An engine over the real trained Rasa model, the real model and a real SQLite store."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.conversation.decision import load_decision
from bot.conversation.dialogue_examples import DialogueExamples
from bot.conversation.engine import Engine, Turn
from bot.embedding import Embedder
from bot.knowledge.index import EmbeddingStore
from bot.knowledge.live import INDEX_FILE, LiveKnowledge
from bot.settings import Settings
from bot.store import Store

# A Tuesday in term time, 10:30 in Amsterdam.
TUESDAY_MORNING = dt.datetime(2026, 11, 24, 9, 30, tzinfo=dt.timezone.utc)
TUESDAY_NIGHT = dt.datetime(2026, 11, 24, 22, 0, tzinfo=dt.timezone.utc)


def make_engine(model: Path, knowledge_dir: Path, data_dir: Path, embedder: Embedder,
                clock=lambda: TUESDAY_MORNING, store_dir: Path | None = None) -> Engine:
    """`store_dir` holds the conversation store when it should not sit beside the index."""
    settings = Settings.from_env()
    index = EmbeddingStore(data_dir / INDEX_FILE, embedder, settings.model)
    knowledge = LiveKnowledge(knowledge_dir, index, embedder)
    dialogue = DialogueExamples.shared(settings.model, settings.cache_dir)
    store = Store((store_dir or data_dir) / "wegwijs.db", clock=clock)
    return Engine(model, knowledge, store, dialogue, load_decision(model))


class Newcomer:
    """One person writing to the engine; `say` returns the turn, `press` a button of the last one."""

    def __init__(self, engine: Engine, user_ref: str, channel: str = "test"):
        self.engine = engine
        self.user_ref = user_ref
        self.channel = channel
        self.last: Turn | None = None

    async def say(self, text: str) -> Turn:
        self.last = await self.engine.handle(self.channel, self.user_ref, text)
        return self.last

    async def press(self, title: str) -> Turn:
        buttons = {b.title: b.payload for reply in self.last.replies for b in reply.buttons}
        assert title in buttons, f"no button {title!r} in {list(buttons)}"
        return await self.say(buttons[title])

    @property
    def conversation_id(self) -> int:
        return self.engine.store.conversation(self.channel, self.user_ref).id


def reply_text(turn: Turn) -> str:
    return "\n".join(reply.text for reply in turn.replies)


def button_titles(turn: Turn) -> list[str]:
    return [button.title for reply in turn.replies for button in reply.buttons]
