"""The newcomers' side: private chats with the bot.

Text and button presses go to the conversation engine, except while a handover is waiting
or open: then everything the newcomer sends goes to their desk topic and the bot stays
quiet (only `/forget` still reaches the engine, after ending the handover). Photos, voice
notes and other non-text messages get a short "text only" reply outside a handover.
Every message is stored, including those the flood guard holds back.
"""

from __future__ import annotations

import logging
import re

from telegram import Bot, Update
from telegram.ext import ContextTypes

from bot.channels.flood import FloodGuard, Verdict
from bot.channels.telegram.attachments import describe_message
from bot.channels.telegram.desk import Desk
from bot.channels.telegram.sending import CHANNEL, notify, send_reply
from bot.conversation.engine import Engine
from bot.store import Conversation

log = logging.getLogger(__name__)
BOT_MENTION = re.compile(r"^(/\w+)@\w+")  # "/start@wegwijs_bot" -> "/start"
ERASE_COMMAND = "/forget"


class Newcomers:
    def __init__(self, engine: Engine, desk: Desk, flood_guard: FloodGuard):
        self.engine = engine
        self.store = engine.store
        self.desk = desk
        self.flood_guard = flood_guard

    async def text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        text = BOT_MENTION.sub(r"\1", message.text)
        conversation = self._conversation(update)
        if not await self._within_limits(context.bot, conversation, text):
            return
        handover = self.store.active_handover(conversation.id)
        if handover and text.split()[:1] == [ERASE_COMMAND]:
            await self.desk.end_for_erasure(context.bot, handover)
        elif handover:
            self.store.add_incoming(conversation.id, text)
            await self.desk.relay_from_newcomer(context.bot, conversation, message)
            return
        await self._converse(context.bot, conversation, text)

    async def attachment(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A photo, voice note, sticker, document, location...: relayed in a handover."""
        message = update.message
        conversation = self._conversation(update)
        stored_as = describe_message(message)
        if not await self._within_limits(context.bot, conversation, stored_as):
            return
        self.store.add_incoming(conversation.id, stored_as)
        if self.store.active_handover(conversation.id):
            await self.desk.relay_from_newcomer(context.bot, conversation, message)
        else:
            await notify(context.bot, self.store, conversation,
                         await self.engine.render(conversation, "utter_text_only"))

    async def button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        conversation = self._conversation(update)
        if self.store.active_handover(conversation.id):
            reply = await self.engine.render(conversation, "utter_with_volunteer")
            await query.answer(reply.text, show_alert=True)
            return
        await query.answer()
        # An unknown key (from before the store was reset, say) shows the menu again.
        payload = self.store.button_payload(query.data or "") or "/start"
        if await self._within_limits(context.bot, conversation, payload):
            await self._converse(context.bot, conversation, payload)

    def _conversation(self, update: Update) -> Conversation:
        """The newcomer's conversation. A new one starts in the language of their Telegram
        app, so that `/start` (which has no words to detect) greets a Dutch phone in Dutch."""
        conversation = self.store.conversation(CHANNEL, str(update.effective_chat.id))
        app_language = (update.effective_user.language_code or "")[:2]
        if conversation.language is None and app_language:
            self.store.set_language(conversation.id, detected=app_language)
            conversation = self.store.conversation(CHANNEL, conversation.user_ref)
        return conversation

    async def _within_limits(self, bot: Bot, conversation: Conversation, text: str) -> bool:
        """Whether to process the message; if not, it is stored and the sender told once."""
        verdict = self.flood_guard.check(conversation.user_ref)
        if verdict is Verdict.PROCESS:
            return True
        message_id = self.store.add_incoming(conversation.id, text)
        self.store.record_outcome(message_id, "held", None, None)
        if verdict is Verdict.WARN:
            log.info("flood guard: holding messages of conversation %s", conversation.id)
            await notify(bot, self.store, conversation, await self.engine.render(conversation, "utter_slow_down"))
        return False

    async def _converse(self, bot: Bot, conversation: Conversation, text: str) -> None:
        """The engine's turn: its replies, then the desk when it asked for a volunteer."""
        thread = self.store.desk_thread(conversation.id)
        turn = await self.engine.handle(CHANNEL, conversation.user_ref, text)
        for reply in turn.replies:
            await send_reply(bot, self.store, conversation, reply)
        if turn.handover_id:
            await self.desk.open_handover(bot, turn.handover_id)
        if thread is not None and self.store.conversation_with_id(conversation.id) is None:
            await self.desk.erase_thread(bot, thread)
