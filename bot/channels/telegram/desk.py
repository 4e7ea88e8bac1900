"""The volunteers' side: one forum topic per newcomer in the desk group.

A handover opens (or reopens) the newcomer's topic and posts the card. What a volunteer
writes in the topic goes to the newcomer, signed with their first name; `/claim`, `/note`,
`/close` and `/transcript` act on the topic's handover; `/queue` and `/stats` work anywhere in
the desk group. Only the configured desk chat reaches these handlers (see app.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from telegram import Bot, Message, Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import ContextTypes

from bot.channels.telegram.attachments import describe_message, takes_caption
from bot.channels.telegram.sending import CHANNEL, newcomer_chat, notify
from bot.conversation.engine import Engine, Reply
from bot.desk import cards
from bot.desk.patience import notices_due
from bot.store import Conversation, Handover

log = logging.getLogger(__name__)
CARD_MESSAGES = 6  # recent messages quoted on a handover card


class Desk:
    def __init__(self, engine: Engine, chat_id: int, patience: dt.timedelta):
        self.engine = engine
        self.store = engine.store
        self.chat_id = chat_id
        self.patience = patience

    # from the newcomer's side

    async def open_handover(self, bot: Bot, handover_id: int) -> None:
        """Show a new handover to the volunteers: the newcomer's topic, titled and with the card."""
        handover = self.store.handover(handover_id)
        conversation = self.store.conversation_with_id(handover.conversation_id)
        title = cards.thread_title(handover, conversation)
        thread = await self._reopen(bot, self.store.desk_thread(conversation.id), title)
        if thread is None:
            thread = (await bot.create_forum_topic(self.chat_id, title)).message_thread_id
            self.store.set_desk_thread(conversation.id, thread)
        now = self.store.clock()
        card = cards.handover_card(
            handover, conversation, self.store.last_messages(conversation.id, CARD_MESSAGES),
            self.engine.knowledge.retriever.knowledge.desk_hours.status(now))
        await bot.send_message(self.chat_id, card, message_thread_id=thread)
        log.info("handover #%s shown in desk topic %s", handover.id, thread)

    async def _reopen(self, bot: Bot, thread: int | None, title: str) -> int | None:
        """The newcomer's earlier topic, reopened under the new title; None if there is none."""
        if thread is None:
            return None
        try:
            await _unless_unchanged(bot.reopen_forum_topic(self.chat_id, thread))
            await _unless_unchanged(bot.edit_forum_topic(self.chat_id, thread, name=title))
        except BadRequest as error:  # deleted by a volunteer, say
            log.info("desk topic %s cannot be reused (%s): opening a new one", thread, error)
            return None
        return thread

    async def relay_from_newcomer(self, bot: Bot, conversation: Conversation, message: Message) -> None:
        thread = self.store.desk_thread(conversation.id)
        if thread is None:  # the handover's topic could not be created: try again now
            await self.open_handover(bot, self.store.active_handover(conversation.id).id)
            thread = self.store.desk_thread(conversation.id)
        await message.copy(self.chat_id, message_thread_id=thread)

    async def end_for_erasure(self, bot: Bot, handover: Handover) -> None:
        """The newcomer asked to erase their data: the handover ends before the question is put."""
        self.store.close_handover(handover.id)
        await self._post(bot, handover.conversation_id,
                         "The newcomer asked to erase their data, so this handover is closed.")

    async def erase_thread(self, bot: Bot, thread: int) -> None:
        """The newcomer's data is erased: their topic (and its messages) go too."""
        await bot.delete_forum_topic(self.chat_id, thread)

    async def _post(self, bot: Bot, conversation_id: int, text: str) -> None:
        thread = self.store.desk_thread(conversation_id)
        if thread is not None:
            await bot.send_message(self.chat_id, text, message_thread_id=thread)

    # notices to newcomers who wait

    async def send_notices(self, bot: Bot) -> None:
        desk_hours = self.engine.knowledge.retriever.knowledge.desk_hours
        for notice in notices_due(self.store, desk_hours, self.patience):
            conversation = self.store.conversation_with_id(notice.handover.conversation_id)
            if conversation.channel != CHANNEL:  # another channel's newcomer: not ours to tell
                continue
            reply = await self.engine.render(conversation, notice.response)
            if notice.desk:
                reply = Reply(f"{reply.text} {notice.desk.describe(self.engine.answer_language(conversation))}")
            self.store.record_notice(notice.handover.id)
            await notify(bot, self.store, conversation, reply)
            await self._post(bot, conversation.id, f"No volunteer has replied for "
                             f"{int(self.patience.total_seconds() // 60)} min; the newcomer was told.")

    async def keep_sending_notices(self, bot: Bot, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await self.send_notices(bot)
            except Exception:  # a failed round is logged; the next one tries again
                log.exception("sending waiting notices failed")

    # handlers for the desk group

    async def volunteer_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A volunteer wrote in a newcomer's topic: it goes to the newcomer, signed."""
        message = update.effective_message
        found = await self._topic_handover(update)
        if found is None:
            return
        conversation, handover = found
        volunteer = message.from_user.first_name
        signature = (await self.engine.render(conversation, "utter_volunteer_signature",
                                              volunteer=volunteer)).text
        self.store.add_from_desk(conversation.id, volunteer, message.text or describe_message(message))
        self.store.record_desk_reply(handover.id, volunteer)
        try:
            await self._deliver(context.bot, message, newcomer_chat(conversation), signature)
        except Forbidden:
            await message.reply_text("The newcomer has blocked the bot, so this did not reach them.")

    async def _deliver(self, bot: Bot, message: Message, chat: int, signature: str) -> None:
        if message.text and len(message.text) + len(signature) + 2 <= cards.MESSAGE_LIMIT:
            await bot.send_message(chat, f"{message.text}\n\n{signature}")
        elif message.text:  # a long message: the signature follows it
            await bot.send_message(chat, message.text)
            await bot.send_message(chat, signature)
        elif takes_caption(message):
            caption = f"{message.caption}\n\n{signature}" if message.caption else signature
            await message.copy(chat, caption=caption)
        else:  # stickers, locations, ...: no caption possible
            await message.copy(chat)
            await bot.send_message(chat, signature)

    async def claim(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        found = await self._topic_handover(update)
        if found is None:
            return
        _, handover = found
        volunteer = update.effective_user.first_name
        earlier = handover.claimed_by
        self.store.claim(handover.id, volunteer)
        text = (f"{volunteer} has this conversation." if not earlier or earlier == volunteer
                else f"{volunteer} takes this conversation over from {earlier}.")
        await update.effective_message.reply_text(text)

    async def note(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        found = await self._topic_handover(update, closed_too=True)
        if found is None:
            return
        conversation, _ = found
        text = "".join(update.effective_message.text.split(maxsplit=1)[1:])  # keeps its lines
        if not text:
            await update.effective_message.reply_text("Write the note after the command, e.g. "
                                                      "/note called the practice, they call back Monday")
            return
        self.store.add_from_desk(conversation.id, update.effective_user.first_name, text, internal=True)
        await update.effective_message.reply_text("Note saved. The newcomer does not see it.")

    async def close(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        found = await self._topic_handover(update)
        if found is None:
            return
        conversation, handover = found
        self.store.close_handover(handover.id)
        await notify(context.bot, self.store, conversation,
                     await self.engine.render(conversation, "utter_handover_closed"))
        await update.effective_message.reply_text(
            f"Closed by {update.effective_user.first_name}. The assistant answers the newcomer again.")
        await context.bot.close_forum_topic(self.chat_id, update.effective_message.message_thread_id)
        log.info("handover #%s closed", handover.id)

    async def transcript(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        found = await self._topic_handover(update, closed_too=True)
        if found is None:
            return
        conversation, _ = found
        for chunk in cards.transcript(self.store.last_messages(conversation.id, limit=None)):
            await update.effective_message.reply_text(chunk)

    async def queue(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        handovers = [(h, self.store.conversation_with_id(h.conversation_id))
                     for h in self.store.active_handovers()]
        await update.effective_message.reply_text(cards.queue(handovers, self.store.clock()))

    async def stats(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        day = cards.start_of_day(self.store.clock())
        await update.effective_message.reply_text(cards.stats(self.store.counts_since(day), day.date()))

    async def _topic_handover(self, update: Update, closed_too: bool = False
                              ) -> tuple[Conversation, Handover] | None:
        """The conversation and handover of the topic the message is in; otherwise the
        volunteer is told why nothing happened and None is returned."""
        message = update.effective_message
        conversation = (self.store.conversation_of_thread(message.message_thread_id)
                        if message.is_topic_message else None)
        if conversation is None:
            await message.reply_text("This works inside a newcomer's topic.")
            return None
        handover = self.store.active_handover(conversation.id) or (
            self.store.last_handover(conversation.id) if closed_too else None)
        if handover is None:
            await message.reply_text("This conversation is closed: the newcomer does not see "
                                     "messages here. They can ask for a volunteer again.")
            return None
        if conversation.channel != CHANNEL:
            await message.reply_text(f"This newcomer writes on {conversation.channel}, which this "
                                     "desk cannot reach yet.")
            return None
        return conversation, handover


async def _unless_unchanged(change) -> None:
    """Await a topic change; Telegram refuses one that changes nothing (already open)."""
    try:
        await change
    except BadRequest as error:
        if "not_modified" not in str(error).lower():
            raise
