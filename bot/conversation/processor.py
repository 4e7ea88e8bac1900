"""Rasa's message processor, with our custom actions run in the same process.

Why in-process and not a rasa_sdk action server: the actions need the live knowledge base,
the embedding model (1 GB) and the conversation store that the bot process already holds.
An action server would load all of them a second time, add an HTTP hop (~100 ms measured)
to every answer and a second process to start, watch and stop. Rasa still decides the
dialogue: its policies pick every action from the rules and stories; only the execution of
our `action_*` names happens here instead of at an endpoint.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
from pathlib import Path
from typing import Any

import sqlalchemy
from rasa.core.actions.action import Action
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.core.processor import MessageProcessor
from rasa.core.tracker_store import InMemoryTrackerStore, SQLTrackerStore, TrackerStore
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from bot.privacy import erase_dialogue


def sqlite_tracker_store(path: Path) -> SQLTrackerStore:
    """Rasa's SQL tracker store on a SQLite file, in WAL mode without an fsync per commit, over
    one kept connection (SQLAlchemy otherwise opens one per session). Profiled: synced commits
    were a fifth of the time per message. A commit still survives the process being killed; a
    power cut may lose the last turns' dialogue state (not messages: those are in the inbox)."""
    with _held(path.with_name(f"{path.name}.lock")):
        store = SQLTrackerStore(domain=None, dialect="sqlite", db=str(path))
    path.chmod(0o600)
    store.engine.dispose()
    store.engine = sqlalchemy.create_engine(store.engine.url, poolclass=sqlalchemy.pool.QueuePool,
                                            pool_size=1)
    store.sessionmaker = sqlalchemy.orm.sessionmaker(bind=store.engine)

    @sqlalchemy.event.listens_for(store.engine, "connect")
    def _pragmas(connection, _record) -> None:
        connection.execute("pragma journal_mode = wal")
        connection.execute("pragma synchronous = normal")
        connection.execute("pragma secure_delete = on")

    return store


@contextlib.contextmanager
def _held(lock_file: Path):
    """An exclusive lock on `lock_file`: workers starting together would otherwise both create
    the tracker store's tables, and Rasa logs the loser's attempt as an error."""
    descriptor = os.open(lock_file, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


class InProcessActionsProcessor(MessageProcessor):
    def __init__(self, model_path: Path, actions: dict[str, Action], dialogue_db: Path | None = None):
        tracker_store: TrackerStore = (sqlite_tracker_store(dialogue_db) if dialogue_db
                                       else InMemoryTrackerStore(domain=None))
        generator = TemplatedNaturalLanguageGenerator({})
        super().__init__(model_path, tracker_store, InMemoryLockStore(), generator)
        tracker_store.domain = self.domain
        generator.responses = self.domain.responses
        missing = {name for name in self.domain.user_actions if not name.startswith("utter_")} - set(actions)
        if missing:
            raise ValueError(f"domain.yml names actions with no implementation: {sorted(missing)}")
        self.actions = actions
        self.dialogue_db = dialogue_db
        self._slots_to_set: dict[str, dict[str, Any]] = {}
        self._saved: dict[str, DialogueStateTracker] = {}

    @staticmethod
    @functools.lru_cache(maxsize=2)
    def _load_model(model_path: Path):
        """Rasa's loaded model, once per process and model file (a file's name carries the hash
        of what it was trained on): loading builds DIET's TensorFlow graph, about 15 seconds,
        and the loaded graph holds no conversation's state, so engines share it."""
        return MessageProcessor._load_model(model_path)

    async def _run_action(self, action: Action, *args: Any, **kwargs: Any) -> bool:
        """Run our implementation of a custom action where Rasa would call the endpoint."""
        return await super()._run_action(self.actions.get(action.name(), action), *args, **kwargs)

    async def handle(self, sender_id: str, text: str, slots: dict[str, Any]) -> DialogueStateTracker:
        """Handle one message after setting `slots` the engine decided (reply language).

        Returns the tracker, whose events since the last user message tell what happened.
        The slots are set on the tracker Rasa fetches for the message, and the tracker is
        taken from the save at its end: one read and one write of the tracker store per message.
        """
        self._slots_to_set[sender_id] = slots
        await self.handle_message(UserMessage(text, CollectingOutputChannel(), sender_id))
        return self._saved.pop(sender_id)

    async def fetch_tracker_and_update_session(self, sender_id: str, *args: Any, **kwargs: Any
                                               ) -> DialogueStateTracker:
        tracker = await super().fetch_tracker_and_update_session(sender_id, *args, **kwargs)
        for name, value in self._slots_to_set.pop(sender_id, {}).items():
            if tracker.get_slot(name) != value:
                tracker.update(SlotSet(name, value))
        return tracker

    async def save_tracker(self, tracker: DialogueStateTracker) -> None:
        await super().save_tracker(tracker)
        self._saved[tracker.sender_id] = tracker

    def forget(self, sender_id: str) -> None:
        """Erase the dialogue history of this conversation (as `wegwijs forget` does)."""
        if self.dialogue_db:
            erase_dialogue(self.dialogue_db, [int(sender_id)])
        else:
            self.tracker_store.store.pop(sender_id, None)
