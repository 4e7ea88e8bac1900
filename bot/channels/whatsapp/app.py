"""The WhatsApp channel: the webhook at /whatsapp into the inbox (`receive`), outbox
operations out through the Graph API (`sender`). Handovers go to the Telegram desk group."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from bot.channels.whatsapp.intake import WhatsAppIntake
from bot.channels.whatsapp.sending import WhatsAppSender
from bot.queues import Inbox, Outbox
from bot.settings import WhatsAppSettings
from bot.store import Store

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/whatsapp"


class WhatsAppChannel:
    name = "whatsapp"

    def __init__(self, settings: WhatsAppSettings, store: Store):
        self.settings = settings
        self.intake = WhatsAppIntake(Inbox(store.db), Outbox(store.db), store, settings.app_secret,
                                     settings.verify_token)
        self.sender = WhatsAppSender(settings, store, Outbox(store.db))

    async def __aenter__(self) -> "WhatsAppChannel":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.sender.client.aclose()

    async def receive(self, stop: asyncio.Event) -> None:
        """Serve the webhook until `stop` is set."""
        app = web.Application(client_max_size=1024 ** 2)
        app.router.add_get(WEBHOOK_PATH, self.intake.handshake)
        app.router.add_post(WEBHOOK_PATH, self.intake.notification)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, self.settings.webhook_listen, self.settings.webhook_port).start()
        log.info("WhatsApp webhook listening on %s:%s%s", self.settings.webhook_listen,
                 self.settings.webhook_port, WEBHOOK_PATH)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()
