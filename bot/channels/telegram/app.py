"""The Telegram application: handlers wired to the newcomer and desk sides, and `serve`,
which runs it (polling, or a webhook with a secret token) until asked to stop.

Every update passes a delivery check first: Telegram may deliver an update again (a
webhook retry, a restart before polling confirmed it), and a repeat is dropped.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from urllib.parse import urlparse

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.ext import (
    AIORateLimiter, Application, ApplicationHandlerStop, CallbackQueryHandler, CommandHandler,
    ContextTypes, MessageHandler, TypeHandler, filters,
)

from bot.channels.flood import FloodGuard
from bot.channels.telegram.desk import Desk
from bot.channels.telegram.newcomers import Newcomers
from bot.conversation.engine import Engine
from bot.settings import TelegramSettings

log = logging.getLogger(__name__)
NOTICE_CHECK_SECONDS = 30.0
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


class TelegramBot:
    """The application and the two sides it serves."""

    def __init__(self, settings: TelegramSettings, engine: Engine, patience: dt.timedelta):
        self.settings = settings
        self.store = engine.store
        self.desk = Desk(engine, settings.desk_chat_id, patience)
        self.newcomers = Newcomers(engine, self.desk, FloodGuard())
        builder = Application.builder().token(settings.token).rate_limiter(AIORateLimiter())
        if settings.api_base_url:
            base = settings.api_base_url.rstrip("/")
            builder = builder.base_url(base).base_file_url(base.replace("/bot", "/file/bot", 1))
        self.application = builder.concurrent_updates(True).build()
        self._add_handlers()

    def _add_handlers(self) -> None:
        app, desk, newcomers = self.application, self.desk, self.newcomers
        app.add_handler(TypeHandler(Update, self._drop_repeats), group=-1)
        in_desk = filters.Chat(self.settings.desk_chat_id) & filters.UpdateType.MESSAGE
        for name in ("claim", "note", "close", "transcript", "queue", "stats"):
            app.add_handler(CommandHandler(name, getattr(desk, name), filters=in_desk))
        app.add_handler(MessageHandler(
            in_desk & filters.IS_TOPIC_MESSAGE & ~filters.COMMAND & ~filters.StatusUpdate.ALL,
            desk.volunteer_message))
        private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
        app.add_handler(MessageHandler(private & filters.TEXT, newcomers.text))
        app.add_handler(MessageHandler(private & ~filters.TEXT & ~filters.StatusUpdate.ALL,
                                       newcomers.attachment))
        app.add_handler(CallbackQueryHandler(newcomers.button))
        app.add_handler(MessageHandler(~filters.Chat(self.settings.desk_chat_id) & ~filters.ChatType.PRIVATE,
                                       self._ignore))
        app.add_error_handler(self._log_error)

    async def _drop_repeats(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not self.store.first_delivery(f"telegram:{update.update_id}"):
            log.info("update %s delivered again: ignored", update.update_id)
            raise ApplicationHandlerStop

    async def _ignore(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.warning("ignored a message from chat %s: only the desk group (TELEGRAM_DESK_CHAT_ID) "
                    "and private chats are served", update.effective_chat.id)

    async def _log_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        update_id = update.update_id if isinstance(update, Update) else None
        log.error("handling update %s failed", update_id, exc_info=context.error)

    async def _announce_commands(self) -> None:
        """The command menus newcomers and volunteers see in their Telegram apps."""
        bot = self.application.bot
        for language, commands in NEWCOMER_COMMANDS.items():
            await bot.set_my_commands([BotCommand(*c) for c in commands],
                                      language_code=None if language == "en" else language)
        await bot.set_my_commands([BotCommand(*c) for c in DESK_COMMANDS],
                                  scope=BotCommandScopeChat(self.settings.desk_chat_id))

    async def serve(self, stop: asyncio.Event, notice_every: float = NOTICE_CHECK_SECONDS) -> None:
        """Run until `stop` is set: receive updates, and send waiting notices now and then."""
        app, settings = self.application, self.settings
        async with app:
            await app.start()
            if settings.uses_webhook:
                await app.updater.start_webhook(
                    listen=settings.webhook_listen, port=settings.webhook_port,
                    url_path=urlparse(settings.webhook_url).path.lstrip("/"),
                    webhook_url=settings.webhook_url, secret_token=settings.webhook_secret,
                    allowed_updates=Update.ALL_TYPES)
            else:
                await app.updater.start_polling(allowed_updates=Update.ALL_TYPES)
            await self._announce_commands()
            log.info("Telegram bot @%s serving (%s)", app.bot.username,
                     "webhook" if settings.uses_webhook else "polling")
            notices = asyncio.create_task(self.desk.keep_sending_notices(app.bot, notice_every))
            try:
                await stop.wait()
            finally:
                notices.cancel()
                await app.updater.stop()
                await app.stop()
