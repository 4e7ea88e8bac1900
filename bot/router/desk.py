"""The volunteers' side of the router: one topic per newcomer in the desk group.

A handover opens (or reopens) the newcomer's topic and posts the card. What a volunteer
writes in the topic goes to the newcomer, signed with their first name; `/claim`, `/note`,
`/close` and `/transcript` act on the topic's handover; `/queue` and `/stats` work anywhere in
the desk group. The channel adapter passes only the configured desk group's messages here.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from bot.channels.whatsapp.window import window_closes
from bot.conversation.replies import Reply
from bot.desk import cards
from bot.desk.patience import notices_due
from bot.router.operations import (
    Operation, close_topic, copy_to_newcomer, copy_to_topic, open_topic, post_in_desk, post_in_topic,
    send_to_newcomer,
)
from bot.store import Conversation, Handover

if TYPE_CHECKING:  # the engine (Rasa, TensorFlow) is loaded in the worker processes only
    from bot.conversation.engine import Engine

log = logging.getLogger(__name__)
CARD_MESSAGES = 6  # recent messages quoted on a handover card
COMMANDS = ("claim", "note", "close", "transcript", "queue", "stats")


class Desk:
    def __init__(self, engine: Engine, patience: dt.timedelta):
        self.engine = engine
        self.store = engine.store
        self.patience = patience

    # from the newcomer's side

    def open_handover(self, handover_id: int, name: str | None = None) -> list[Operation]:
        """Show a new handover to the volunteers: the newcomer's topic, titled, with the card."""
        handover = self.store.handover(handover_id)
        conversation = self.store.conversation_with_id(handover.conversation_id)
        desk_hours = self.engine.knowledge.retriever.knowledge.desk_hours
        card = cards.handover_card(
            handover, conversation, self.store.last_messages(conversation.id, CARD_MESSAGES),
            desk_hours.status(self.store.clock()), window_closes(self.store, conversation), name)
        log.info("handover #%s: to the desk", handover.id)
        return [open_topic(conversation.id, cards.thread_title(handover, conversation)),
                post_in_topic(conversation.id, None, card)]

    def relay_from_newcomer(self, conversation: Conversation, message: dict, text: str) -> list[Operation]:
        """What the newcomer sent, into their topic: copied as it is where the desk's platform
        can (Telegram to Telegram), else as `text` (what is stored for it)."""
        return [copy_to_topic(conversation.id, self.store.desk_thread(conversation.id), message, text)]

    def _post(self, conversation_id: int, text: str) -> list[Operation]:
        thread = self.store.desk_thread(conversation_id)
        return [post_in_topic(conversation_id, thread, text)] if thread is not None else []

    # notices to newcomers who wait

    async def notices(self) -> list[Operation]:
        """Newcomers waiting longer than the patience time are told, once; so is the topic."""
        desk_hours = self.engine.knowledge.retriever.knowledge.desk_hours
        operations = []
        for notice in notices_due(self.store, desk_hours, self.patience):
            conversation = self.store.conversation_with_id(notice.handover.conversation_id)
            reply = await self.engine.render(conversation, notice.response)
            if notice.desk:
                reply = Reply(f"{reply.text} {notice.desk.describe(self.engine.answer_language(conversation))}")
            self.store.record_notice(notice.handover.id)
            self.store.add_outgoing(conversation.id, reply.text)
            operations.append(send_to_newcomer(conversation, reply))
            operations += self._post(conversation.id, f"No volunteer has replied for "
                                     f"{int(self.patience.total_seconds() // 60)} min; the newcomer was told.")
        return operations

    # the desk group's messages

    async def handle(self, event: dict) -> list[Operation]:
        """`desk_message` (a volunteer wrote in a topic) or `desk_command`."""
        if event["kind"] == "desk_message":
            return await self._volunteer_message(event)
        return await getattr(self, f"_{event['command']}")(event)

    async def _volunteer_message(self, event: dict) -> list[Operation]:
        """A volunteer wrote in a newcomer's topic: it goes to the newcomer, signed."""
        found = self._topic_handover(event)
        if isinstance(found, list):
            return found
        conversation, handover = found
        volunteer = event["volunteer"]
        signature = (await self.engine.render(conversation, "utter_volunteer_signature",
                                              volunteer=volunteer)).text
        text = event.get("text")
        self.store.add_from_desk(conversation.id, volunteer, text or event["description"])
        self.store.record_desk_reply(handover.id, volunteer)
        if text and len(text) + len(signature) + 2 <= cards.MESSAGE_LIMIT:
            return [send_to_newcomer(conversation, Reply(f"{text}\n\n{signature}"))]
        if text:  # a long message: the signature follows it
            return [send_to_newcomer(conversation, Reply(text)), send_to_newcomer(conversation, Reply(signature))]
        if event["takes_caption"]:
            caption = event.get("caption")
            return [copy_to_newcomer(conversation, event["message"],
                                     f"{caption}\n\n{signature}" if caption else signature, event["description"])]
        # stickers, locations, ...: no caption possible
        return [copy_to_newcomer(conversation, event["message"], None, event["description"]),
                send_to_newcomer(conversation, Reply(signature))]

    async def _claim(self, event: dict) -> list[Operation]:
        found = self._topic_handover(event)
        if isinstance(found, list):
            return found
        _, handover = found
        volunteer, earlier = event["volunteer"], handover.claimed_by
        self.store.claim(handover.id, volunteer)
        text = (f"{volunteer} has this conversation." if not earlier or earlier == volunteer
                else f"{volunteer} takes this conversation over from {earlier}.")
        return [post_in_desk(event["thread"], text)]

    async def _note(self, event: dict) -> list[Operation]:
        found = self._topic_handover(event, closed_too=True)
        if isinstance(found, list):
            return found
        conversation, _ = found
        text = "".join(event["text"].split(maxsplit=1)[1:])  # keeps its lines
        if not text:
            return [post_in_desk(event["thread"], "Write the note after the command, e.g. "
                                 "/note called the practice, they call back Monday")]
        self.store.add_from_desk(conversation.id, event["volunteer"], text, internal=True)
        return [post_in_desk(event["thread"], "Note saved. The newcomer does not see it.")]

    async def _close(self, event: dict) -> list[Operation]:
        found = self._topic_handover(event)
        if isinstance(found, list):
            return found
        conversation, handover = found
        self.store.close_handover(handover.id)
        reply = await self.engine.render(conversation, "utter_handover_closed")
        self.store.add_outgoing(conversation.id, reply.text)
        log.info("handover #%s closed", handover.id)
        return [send_to_newcomer(conversation, reply),
                post_in_desk(event["thread"], f"Closed by {event['volunteer']}. "
                             "The assistant answers the newcomer again."),
                close_topic(event["thread"])]

    async def _transcript(self, event: dict) -> list[Operation]:
        found = self._topic_handover(event, closed_too=True)
        if isinstance(found, list):
            return found
        conversation, _ = found
        return [post_in_desk(event["thread"], chunk)
                for chunk in cards.transcript(self.store.last_messages(conversation.id, limit=None))]

    async def _queue(self, event: dict) -> list[Operation]:
        handovers = []
        for handover in self.store.active_handovers():
            conversation = self.store.conversation_with_id(handover.conversation_id)
            handovers.append((handover, conversation, window_closes(self.store, conversation)))
        return [post_in_desk(event["thread"], cards.queue(handovers, self.store.clock()))]

    async def _stats(self, event: dict) -> list[Operation]:
        day = cards.start_of_day(self.store.clock())
        return [post_in_desk(event["thread"], cards.stats(self.store.counts_since(day), day.date()))]

    def _topic_handover(self, event: dict, closed_too: bool = False
                        ) -> tuple[Conversation, Handover] | list[Operation]:
        """The conversation and handover of the topic the message is in; otherwise the
        answer that tells the volunteer why nothing happened."""
        thread = event["thread"]
        conversation = self.store.conversation_of_thread(thread) if thread is not None else None
        if conversation is None:
            return [post_in_desk(thread, "This works inside a newcomer's topic.")]
        handover = self.store.active_handover(conversation.id) or (
            self.store.last_handover(conversation.id) if closed_too else None)
        if handover is None:
            return [post_in_desk(thread, "This conversation is closed: the newcomer does not see "
                                 "messages here. They can ask for a volunteer again.")]
        return conversation, handover
