"""Outbox operations as Telegram calls, and Telegram's errors as retry or refusal."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.queues import Outbox
from bot.router.delivery import Refused, Retry
from bot.router.operations import post_in_topic
from bot.store import Store

log = logging.getLogger(__name__)
UPLOADS = {"image": ("send_photo", "photo"), "voice": ("send_voice", "voice"),
           "video": ("send_video", "video")}  # other kinds go as documents
BLOCKED_NOTICE = "The newcomer has blocked the bot, so this did not reach them."


def seconds(retry_after: int | float | dt.timedelta) -> float:
    return retry_after.total_seconds() if isinstance(retry_after, dt.timedelta) else float(retry_after)


class TelegramSender:
    def __init__(self, bot: Bot, store: Store, outbox: Outbox, desk_chat_id: int):
        self.bot = bot
        self.store = store
        self.outbox = outbox
        self.desk_chat_id = desk_chat_id
        # platform -> async (media id) -> bytes | None, for files newcomers send on other platforms
        self.media_sources: dict[str, Callable[[str], Awaitable[bytes | None]]] = {}

    async def execute(self, operation: dict) -> None:
        try:
            await getattr(self, f"_{operation['do']}")(operation)
        except RetryAfter as error:
            raise Retry("rate limited", seconds(error.retry_after)) from error
        except (Forbidden, BadRequest) as error:
            raise Refused(str(error)) from error
        except (NetworkError, TelegramError) as error:  # 5xx, time-outs, the network
            raise Retry(str(error)) from error

    async def fetch_file(self, file_id: str) -> bytes | None:
        """A volunteer's photo, voice note, ... (None when that fails)."""
        try:
            return bytes(await (await self.bot.get_file(file_id)).download_as_bytearray())
        except TelegramError as error:
            log.warning("Telegram file could not be fetched: %s", error)
            return None

    async def refused(self, operation: dict, reason: str) -> None:
        """A newcomer who blocked the bot: their topic (if any) is told."""
        newcomer = operation.get("to", {}).get("newcomer")
        if not newcomer or "blocked" not in reason.lower():
            return
        conversation = self.store.conversation_if_any(newcomer["channel"], newcomer["user"])
        thread = self.store.desk_thread(conversation.id) if conversation else None
        if thread is not None:
            self.outbox.add([post_in_topic(conversation.id, thread, BLOCKED_NOTICE)])

    def _where(self, to: dict) -> tuple[int, int | None]:
        """(chat id, topic) of a destination (see bot.router.operations)."""
        if "newcomer" in to:
            return int(to["newcomer"]["user"]), None
        if "topic" in to:
            thread = self.store.desk_thread(to["topic"]) or to.get("thread")
            if thread is None:
                raise Refused(f"conversation {to['topic']} has no desk topic")
            return self.desk_chat_id, thread
        return self.desk_chat_id, to["desk"]

    def _keyboard(self, buttons: list[list[str]]) -> InlineKeyboardMarkup | None:
        """One button per row. Telegram allows 64 bytes of button data, so the data is a key of
        the payload in the store rather than the payload itself."""
        if not buttons:
            return None
        return InlineKeyboardMarkup([[InlineKeyboardButton(title, callback_data=self.store.button_key(payload))]
                                     for title, payload in buttons])

    async def _send(self, operation: dict) -> None:
        chat, thread = self._where(operation["to"])
        await self.bot.send_message(chat, operation["text"], message_thread_id=thread,
                                    reply_markup=self._keyboard(operation["buttons"]))

    async def _copy(self, operation: dict) -> None:
        """A Telegram message copied as it is; another platform's file uploaded (fetched with the
        `media_sources` of that platform), else its text or stand-in."""
        chat, thread = self._where(operation["to"])
        message = operation["message"]
        if "chat" not in message:
            media = message.get("media")
            source = self.media_sources.get(next(iter(message))) if media else None
            data = await source(media["id"]) if source else None
            if data is None:
                await self.bot.send_message(chat, operation["text"], message_thread_id=thread)
                return
            method, field = UPLOADS.get(media["kind"], ("send_document", "document"))
            await getattr(self.bot, method)(chat, **{field: InputFile(data, filename=media["kind"])},
                                            caption=media.get("caption"), message_thread_id=thread)
            return
        await self.bot.copy_message(chat, message["chat"], message["id"], message_thread_id=thread,
                                    caption=operation["caption"])

    async def _answer_button(self, operation: dict) -> None:
        try:
            await self.bot.answer_callback_query(operation["button"], text=operation["alert"],
                                                 show_alert=bool(operation["alert"]))
        except BadRequest as error:  # "query is too old": the newcomer has long stopped waiting
            log.info("button press not acknowledged: %s", error)

    async def _open_topic(self, operation: dict) -> None:
        """Reopen and rename the conversation's topic, or create one when there is none (any more)."""
        conversation, title = operation["conversation"], operation["title"]
        thread = self.store.desk_thread(conversation)
        if thread is not None:
            try:
                await _unless_unchanged(self.bot.reopen_forum_topic(self.desk_chat_id, thread))
                await _unless_unchanged(self.bot.edit_forum_topic(self.desk_chat_id, thread, name=title))
                return
            except BadRequest as error:  # deleted by a volunteer, say
                log.info("desk topic %s cannot be reused (%s): opening a new one", thread, error)
        topic = await self.bot.create_forum_topic(self.desk_chat_id, title)
        self.store.set_desk_thread(conversation, topic.message_thread_id)

    async def _close_topic(self, operation: dict) -> None:
        await _unless_unchanged(self.bot.close_forum_topic(self.desk_chat_id, operation["thread"]))

    async def _delete_topic(self, operation: dict) -> None:
        await self.bot.delete_forum_topic(self.desk_chat_id, operation["thread"])


async def _unless_unchanged(change) -> None:
    """Await a topic change; Telegram refuses one that changes nothing (already open)."""
    try:
        await change
    except BadRequest as error:
        if "not_modified" not in str(error).lower():
            raise
