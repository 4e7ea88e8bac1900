"""Telegram updates into inbox rows: polling of our own, or the webhook.

Polling: each batch from `getUpdates` is stored (one transaction) before the next call's
offset confirms it to Telegram, so an update is either stored or handed out again. Webhook:
an update is stored before the 200. Telegram-specific things are settled here: a button's
short key becomes the payload it stands for, a message becomes the reference the desk needs
to copy it, and the desk group's messages become desk events.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging

from aiohttp import web
from telegram import Bot, Message, Update
from telegram.error import NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import filters

from bot.channels.telegram.attachments import describe_message, file_of, takes_caption
from bot.channels.telegram.sending import seconds
from bot.queues import DESK_LANE, NAME, Inbox, lane
from bot.router.desk import COMMANDS as DESK_COMMANDS
from bot.store import Store

log = logging.getLogger(__name__)
CHANNEL = "telegram"  # conversations' `channel`; their `user_ref` is the private chat id
POLL_TIMEOUT_SECONDS = 10
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
IGNORED = filters.StatusUpdate.ALL  # topic created, member joined, ...


def message_reference(message: Message) -> dict:
    """Where the message is (to copy it on Telegram) and its file (to upload it elsewhere)."""
    reference = {"chat": message.chat_id, "id": message.message_id}
    if file := file_of(message):
        reference["file"] = file
    return reference


class TelegramIntake:
    def __init__(self, inbox: Inbox, store: Store, desk_chat_id: int):
        self.inbox = inbox
        self.store = store
        self.desk_chat_id = desk_chat_id
        self.strangers: set[int] = set()  # groups someone added the bot to: left at the next poll

    def row(self, update: Update) -> tuple[str, str, dict] | None:
        """The inbox row (key, lane, event) of an update, or None for what is not ours to handle."""
        event = self._event(update)
        if event is None:
            return None
        key = f"{CHANNEL}:{update.update_id}"
        return key, (DESK_LANE if event["kind"].startswith("desk_") else lane(CHANNEL, event["user"])), event

    def store_updates(self, updates: list[Update]) -> int:
        """Store a batch in one transaction (repeats are dropped); returns how many were new."""
        return self.inbox.receive([row for row in map(self.row, updates) if row is not None])

    def _event(self, update: Update) -> dict | None:
        if update.callback_query:
            query = update.callback_query
            return {"kind": "button", **self._newcomer(update), "button": query.id,
                    # an unknown key (from before the store was reset, say) shows the menu again
                    "payload": self.store.button_payload(query.data or "") or "/start"}
        message = update.message
        if update.edited_message:
            log.info("ignored an edited message (the first version was answered)")
            return None
        if message is None or IGNORED.check_update(update):
            return None
        if message.chat.type == "private":
            if message.text:
                return {"kind": "text", **self._newcomer(update), "text": message.text,
                        "message": message_reference(message)}
            return {"kind": "attachment", **self._newcomer(update), "description": describe_message(message),
                    "message": message_reference(message)}
        if message.chat_id != self.desk_chat_id:
            log.warning("ignored a message from chat %s: only the desk group (TELEGRAM_DESK_CHAT_ID) "
                        "and private chats are served; leaving it", message.chat_id)
            self.strangers.add(message.chat_id)
            return None
        return self._desk_event(message)

    @staticmethod
    def _newcomer(update: Update) -> dict:
        return {"channel": CHANNEL, "user": str(update.effective_chat.id),
                "app_language": update.effective_user.language_code, NAME: update.effective_user.first_name}

    @staticmethod
    def _desk_event(message: Message) -> dict | None:
        thread = message.message_thread_id if message.is_topic_message else None
        volunteer = message.from_user.first_name if message.from_user else "A volunteer"
        text = message.text or ""
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0][1:].split("@")[0].lower()
            if command not in DESK_COMMANDS:
                return None
            return {"kind": "desk_command", "command": command, "text": text, "thread": thread,
                    "volunteer": volunteer}
        if thread is None:
            return None  # the general chat of the desk group: volunteers talking among themselves
        return {"kind": "desk_message", "thread": thread, "volunteer": volunteer, "text": message.text,
                "description": describe_message(message), "message": message_reference(message),
                "takes_caption": takes_caption(message), "caption": message.caption}

    # receiving

    async def poll(self, bot: Bot, stop: asyncio.Event) -> None:
        """Long-poll getUpdates until `stop`; a batch is stored before its offset is confirmed."""
        await bot.delete_webhook()
        offset = None
        while not stop.is_set():
            try:
                updates = await bot.get_updates(offset=offset, timeout=POLL_TIMEOUT_SECONDS,
                                                allowed_updates=Update.ALL_TYPES)
            except RetryAfter as error:
                await asyncio.sleep(seconds(error.retry_after))
                continue
            except (TimedOut, NetworkError) as error:
                log.warning("getUpdates failed (%s); trying again", error)
                await asyncio.sleep(1)
                continue
            if updates:
                self.store_updates(updates)
                offset = updates[-1].update_id + 1
            await self.leave_strangers(bot)

    async def leave_strangers(self, bot: Bot) -> None:
        while self.strangers:
            chat = self.strangers.pop()
            try:
                await bot.leave_chat(chat)
            except TelegramError as error:
                log.warning("could not leave chat %s: %s", chat, error)

    async def serve_webhook(self, bot: Bot, listen: str, port: int, path: str, secret: str,
                            url: str, stop: asyncio.Event) -> None:
        """Receive updates on `path` until `stop`: a request without the secret token gets 403."""
        async def receive(request: web.Request) -> web.Response:
            if not hmac.compare_digest(request.headers.get(SECRET_HEADER, ""), secret):
                return web.Response(status=403)
            try:
                update = Update.de_json(json.loads(await request.read()), bot)
            except (ValueError, TypeError, KeyError):
                log.warning("webhook: a request with a body that is not an update")
                return web.Response(status=400)
            self.store_updates([update])
            await self.leave_strangers(bot)
            return web.Response()

        app = web.Application()
        app.router.add_post(f"/{path}", receive)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, listen, port).start()
        await bot.set_webhook(url, secret_token=secret, allowed_updates=Update.ALL_TYPES)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()
