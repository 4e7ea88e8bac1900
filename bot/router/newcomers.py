"""The newcomers' side of the router, whatever their channel.

Text and button presses go to the conversation engine, except while a handover is waiting
or open: then everything the newcomer sends goes to their desk topic and the bot stays
quiet. Only `/forget` and the answer to its question still reach the engine; the handover
goes on unless they confirm (then it is erased with everything else, topic included). Photos, voice
notes and other non-text messages get a short "text only" reply outside a handover.
Every message is stored, including those the flood guard holds back.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from bot.queues import LAST_FOR_LANE, NAME
from bot.router import flood
from bot.router.desk import Desk
from bot.router.operations import Operation, answer_button, delete_topic, send_to_newcomer
from bot.store import Conversation, Handover

if TYPE_CHECKING:  # the engine (Rasa, TensorFlow) is loaded in the worker processes only
    from bot.conversation.engine import Engine

log = logging.getLogger(__name__)
BOT_MENTION = re.compile(r"^(/\w+)@\w+")  # "/start@wegwijs_bot" -> "/start"
ERASE_COMMAND = "/forget"


class Newcomers:
    def __init__(self, engine: Engine, desk: Desk):
        self.engine = engine
        self.store = engine.store
        self.desk = desk

    async def handle(self, event: dict, recent: int) -> list[Operation]:
        """One event of a newcomer: `text`, `button` or `attachment` (see bot.router.router)."""
        conversation = self._conversation(event)
        handler = {"text": self._text, "button": self._button, "attachment": self._attachment}[event["kind"]]
        return await handler(conversation, event, flood.verdict(recent))

    async def _text(self, conversation: Conversation, event: dict, verdict: flood.Verdict) -> list[Operation]:
        text = BOT_MENTION.sub(r"\1", event["text"])
        if verdict is not flood.Verdict.PROCESS:
            return await self._hold(conversation, text, verdict)
        handover = self.store.active_handover(conversation.id)
        if handover and not self._about_erasing(handover, text):
            self.store.add_incoming(conversation.id, text)
            return self.desk.relay_from_newcomer(conversation, event["message"], text)
        return await self._converse(conversation, text, event.get(NAME))

    async def _attachment(self, conversation: Conversation, event: dict,
                          verdict: flood.Verdict) -> list[Operation]:
        """A photo, voice note, sticker, document, location...: relayed in a handover."""
        stored_as = event["description"]
        if verdict is not flood.Verdict.PROCESS:
            return await self._hold(conversation, stored_as, verdict)
        self.store.add_incoming(conversation.id, stored_as)
        if self.store.active_handover(conversation.id):
            return self.desk.relay_from_newcomer(conversation, event["message"], stored_as)
        return [await self._notify(conversation, "utter_text_only")]

    async def _button(self, conversation: Conversation, event: dict, verdict: flood.Verdict) -> list[Operation]:
        handover = self.store.active_handover(conversation.id)
        if handover and not self._about_erasing(handover, event["payload"]):
            reply = await self.engine.render(conversation, "utter_with_volunteer")
            return [answer_button(conversation, event["button"], alert=reply.text)]
        acknowledged = answer_button(conversation, event["button"])
        if verdict is not flood.Verdict.PROCESS:
            return [acknowledged, *await self._hold(conversation, event["payload"], verdict)]
        return [acknowledged, *await self._converse(conversation, event["payload"], event.get(NAME))]

    def _about_erasing(self, handover: Handover, text: str) -> bool:
        """During a handover: `/forget`, or the answer to the erase question it put."""
        if text.split()[:1] == [ERASE_COMMAND]:
            self.store.ask_erase(handover.id)
            return True
        if handover.erase_asked_at:
            self.store.ask_erase(handover.id, asked=False)
            return True
        return False

    def _conversation(self, event: dict) -> Conversation:
        """The newcomer's conversation. A new one starts in the language of their app, so
        that `/start` (which has no words to detect) greets a Dutch phone in Dutch."""
        conversation = self.store.conversation(event["channel"], event["user"])
        app_language = (event.get("app_language") or "")[:2]
        if conversation.language is None and app_language:
            self.store.set_language(conversation.id, detected=app_language)
            conversation = self.store.conversation(event["channel"], event["user"])
        return conversation

    async def _hold(self, conversation: Conversation, text: str, verdict: flood.Verdict) -> list[Operation]:
        """A message over the flood limit: stored, not processed; the sender is told once."""
        message_id = self.store.add_incoming(conversation.id, text)
        self.store.record_outcome(message_id, "held", None, None)
        if verdict is flood.Verdict.WARN:
            log.info("flood guard: holding messages of conversation %s", conversation.id)
            return [await self._notify(conversation, "utter_slow_down")]
        return []

    async def _notify(self, conversation: Conversation, response: str) -> Operation:
        """A notice of the router itself (text only, slow down), recorded as sent."""
        reply = await self.engine.render(conversation, response)
        self.store.add_outgoing(conversation.id, reply.text)
        return send_to_newcomer(conversation, reply)

    async def _converse(self, conversation: Conversation, text: str, name: str | None) -> list[Operation]:
        """The engine's turn: its replies, then the desk when it asked for a volunteer (the card
        shows the first name the platform gave with this message; it is not stored)."""
        thread = self.store.desk_thread(conversation.id)
        turn = await self.engine.handle(conversation.channel, conversation.user_ref, text)
        operations = [send_to_newcomer(conversation, reply) for reply in turn.replies]
        if turn.handover_id:
            operations += self.desk.open_handover(turn.handover_id, name)
        if self.store.conversation_with_id(conversation.id) is None:  # erased: the replies are the last
            operations = [(lane, operation | {LAST_FOR_LANE: True}) for lane, operation in operations]
            if thread is not None:
                operations.append(delete_topic(thread))
        return operations
