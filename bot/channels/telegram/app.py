"""The Telegram channel: updates into the inbox (`receive`), outbox operations out to
Telegram (`sender`, for the newcomers on Telegram and for the desk group).

Nothing here decides anything: the router (bot.router) works on the inbox rows, in worker
processes or, in tests, beside this in the same event loop.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlparse

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.request import HTTPXRequest

from bot.channels.telegram.intake import POLL_TIMEOUT_SECONDS, TelegramIntake
from bot.channels.telegram.sending import TelegramSender
from bot.queues import Inbox, Outbox
from bot.settings import TelegramSettings
from bot.store import Store

log = logging.getLogger(__name__)
CONNECTIONS = 32  # sends in flight at once (one per lane at most)
NEWCOMER_COMMANDS = {
    "en": [("start", "Welcome and topics"), ("help", "What I can help with"),
           ("human", "Talk to a volunteer"), ("language", "Answer in English or Dutch"),
           ("forget", "Delete my data")],
    "nl": [("start", "Welkom en onderwerpen"), ("help", "Waarmee ik kan helpen"),
           ("human", "Praat met een vrijwilliger"), ("language", "Antwoord in het Engels of Nederlands"),
           ("forget", "Verwijder mijn gegevens")],
}
DESK_COMMANDS = [
    ("claim", "Take this newcomer's conversation"), ("note", "Internal note (not sent)"),
    ("close", "Hand back to the assistant"), ("transcript", "The whole conversation"),
    ("queue", "Open handovers"), ("stats", "Today's figures"),
]


def make_bot(settings: TelegramSettings) -> Bot:
    base = {}
    if settings.api_base_url:
        url = settings.api_base_url.rstrip("/")
        base = {"base_url": url, "base_file_url": url.replace("/bot", "/file/bot", 1)}
    return Bot(settings.token, **base,
               request=HTTPXRequest(connection_pool_size=CONNECTIONS),
               get_updates_request=HTTPXRequest(read_timeout=POLL_TIMEOUT_SECONDS + 10))


class TelegramChannel:
    name = "telegram"

    def __init__(self, settings: TelegramSettings, store: Store):
        self.settings = settings
        self.bot = make_bot(settings)
        self.intake = TelegramIntake(Inbox(store.db), store, settings.desk_chat_id)
        self.sender = TelegramSender(self.bot, store, Outbox(store.db), settings.desk_chat_id)

    async def _announce_commands(self) -> None:
        """The command menus newcomers and volunteers see in their Telegram apps."""
        for language, commands in NEWCOMER_COMMANDS.items():
            await self.bot.set_my_commands([BotCommand(*c) for c in commands],
                                           language_code=None if language == "en" else language)
        await self.bot.set_my_commands([BotCommand(*c) for c in DESK_COMMANDS],
                                       scope=BotCommandScopeChat(self.settings.desk_chat_id))

    async def __aenter__(self) -> "TelegramChannel":
        """The Bot API connection, open for both receiving and sending (close it after both)."""
        await self.bot.initialize()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.bot.shutdown()

    async def receive(self, stop: asyncio.Event) -> None:
        """Receive into the inbox until `stop` is set (the outbox is delivered by bot.router.delivery)."""
        settings = self.settings
        if settings.uses_webhook:
            receiving = self.intake.serve_webhook(
                self.bot, settings.webhook_listen, settings.webhook_port,
                urlparse(settings.webhook_url).path.lstrip("/"), settings.webhook_secret,
                settings.webhook_url, stop)
        else:
            receiving = self.intake.poll(self.bot, stop)
        task = asyncio.create_task(receiving)
        await self._announce_commands()
        log.info("Telegram bot @%s receiving (%s)", self.bot.username,
                 "webhook" if settings.uses_webhook else "polling")
        done, _ = await asyncio.wait([task, asyncio.create_task(stop.wait())],
                                     return_when=asyncio.FIRST_COMPLETED)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        if task in done and task.exception():
            raise task.exception()
