"""Sending to a newcomer on Telegram: texts, engine replies with inline keyboards."""

from __future__ import annotations

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

from bot.conversation.engine import Reply
from bot.store import Conversation, Store

CHANNEL = "telegram"  # conversations' `channel`; their `user_ref` is the private chat id


def newcomer_chat(conversation: Conversation) -> int:
    return int(conversation.user_ref)


def keyboard(store: Store, reply: Reply) -> InlineKeyboardMarkup | None:
    """One button per row. Telegram allows 64 bytes of button data, so the data is a key of
    the payload in the store rather than the payload itself."""
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.title, callback_data=store.button_key(b.payload))] for b in reply.buttons])


async def send_reply(bot: Bot, store: Store, conversation: Conversation, reply: Reply) -> None:
    """A reply of an engine turn (the engine has recorded it)."""
    await bot.send_message(newcomer_chat(conversation), reply.text, reply_markup=keyboard(store, reply))


async def notify(bot: Bot, store: Store, conversation: Conversation, reply: Reply) -> None:
    """A notice of the channel itself (handover news, text only, slow down), recorded as sent."""
    store.add_outgoing(conversation.id, reply.text)
    await send_reply(bot, store, conversation, reply)
