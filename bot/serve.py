"""`wegwijs serve`: the channels and the worker processes, until SIGTERM or Ctrl-C.

This process receives into the inbox and delivers the outbox; the workers (each with its
own engine) answer. It starts receiving at once, so updates that arrive while the workers
load are kept, and answered as soon as they are ready.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from bot.channels.telegram.app import TelegramChannel
from bot.channels.whatsapp.app import WhatsAppChannel
from bot.privacy import purge
from bot.queues import Inbox, Outbox
from bot.router.delivery import Delivery
from bot.router.router import stopped_within
from bot.router.workers import Workers
from bot.settings import Settings
from bot.store import Store

log = logging.getLogger(__name__)
PURGE_SECONDS = 3600.0


def open_channels(settings: Settings, store: Store) -> list:
    """The configured channels: each receives into the inbox and has a `sender` for the outbox."""
    channels = []
    if settings.telegram:
        channels.append(TelegramChannel(settings.telegram, store))
    if settings.whatsapp:
        channels.append(WhatsAppChannel(settings.whatsapp, store))
    if settings.telegram and settings.whatsapp:
        connect_files(*channels)
    return channels


def connect_files(telegram: TelegramChannel, whatsapp: WhatsAppChannel) -> None:
    """Photos, voice notes and files between WhatsApp newcomers and the Telegram desk."""
    telegram.sender.media_sources["whatsapp"] = whatsapp.sender.fetch_media
    whatsapp.sender.media_sources["telegram"] = telegram.sender.fetch_file


async def purge_now_and_then(settings: Settings, store: Store, stop: asyncio.Event) -> None:
    """Erase what is past the retention period at start and every hour (bot/privacy.py)."""
    while True:
        try:
            counts = purge(store, settings.dialogue_file, settings.retention)
            log.info("retention: erased %s", ", ".join(f"{n} {table}" for table, n in counts.items() if n) or "nothing")
        except Exception:  # the next round tries again
            log.exception("erasing old conversation data failed")
        if await stopped_within(stop, PURGE_SECONDS):
            return


async def serve_channels(settings: Settings) -> None:
    """Serve the configured channels until the process is asked to stop."""
    store = Store(settings.store_file)
    inbox = Inbox(store.db)
    if released := inbox.release():
        log.info("%s message(s) the previous run had not finished are handled again", released)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    channels = open_channels(settings, store)
    async with contextlib.AsyncExitStack() as open_connections:  # closed after the last send
        for channel in channels:
            await open_connections.enter_async_context(channel)
        delivery = Delivery(Outbox(store.db), {channel.name: channel.sender for channel in channels})
        serving = [asyncio.create_task(job) for job in
                   [delivery.run(stop), purge_now_and_then(settings, store, stop),
                    *(channel.receive(stop) for channel in channels)]]
        workers = Workers(settings, settings.workers)
        try:
            await workers.start()
            log.info("%s workers ready; %s message(s) waiting", settings.workers, inbox.waiting())
            await asyncio.gather(*serving, workers.supervise(inbox, stop))
        finally:
            stop.set()
            workers.stop()
            await asyncio.gather(*serving, return_exceptions=True)
