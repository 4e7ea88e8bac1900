"""Rasa's message processor, with our custom actions run in the same process.

Why in-process and not a rasa_sdk action server: the actions need the live knowledge base,
the embedding model (1 GB) and the conversation store that the bot process already holds.
An action server would load all of them a second time, add an HTTP hop (~100 ms measured)
to every answer and a second process to start, watch and stop. Rasa still decides the
dialogue: its policies pick every action from the rules and stories; only the execution of
our `action_*` names happens here instead of at an endpoint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rasa.core.actions.action import Action
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.core.processor import MessageProcessor
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker


class InProcessActionsProcessor(MessageProcessor):
    def __init__(self, model_path: Path, actions: dict[str, Action]):
        tracker_store = InMemoryTrackerStore(domain=None)
        generator = TemplatedNaturalLanguageGenerator({})
        super().__init__(model_path, tracker_store, InMemoryLockStore(), generator)
        tracker_store.domain = self.domain
        generator.responses = self.domain.responses
        missing = {name for name in self.domain.user_actions if not name.startswith("utter_")} - set(actions)
        if missing:
            raise ValueError(f"domain.yml names actions with no implementation: {sorted(missing)}")
        self.actions = actions

    async def _run_action(self, action: Action, *args: Any, **kwargs: Any) -> bool:
        """Run our implementation of a custom action where Rasa would call the endpoint."""
        return await super()._run_action(self.actions.get(action.name(), action), *args, **kwargs)

    async def handle(self, sender_id: str, text: str, slots: dict[str, Any]) -> DialogueStateTracker:
        """Handle one message after setting `slots` the engine decided (reply language).

        Returns the tracker, whose events since the last user message tell what happened.
        """
        tracker = await self.fetch_tracker_and_update_session(sender_id)
        for name, value in slots.items():
            if tracker.get_slot(name) != value:
                tracker.update(SlotSet(name, value))
        await self.save_tracker(tracker)
        await self.handle_message(UserMessage(text, CollectingOutputChannel(), sender_id))
        return await self.get_tracker(sender_id)

    def forget(self, sender_id: str) -> None:
        """Drop the dialogue history held in memory for this conversation."""
        self.tracker_store.store.pop(sender_id, None)
