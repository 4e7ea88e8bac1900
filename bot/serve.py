"""`wegwijs serve`: the channels and the worker processes, until SIGTERM or Ctrl-C.

This process receives into the inbox and delivers the outbox; the workers (each with its
own engine) answer. It starts receiving at once, so updates that arrive while the workers
load are kept, and answered as soon as they are ready.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from bot.channels.telegram.app import TelegramChannel
from bot.queues import Inbox
from bot.router.workers import Workers
from bot.settings import Settings
from bot.store import Store

log = logging.getLogger(__name__)


async def serve_channels(settings: Settings) -> None:
    """Serve Telegram (the only chat channel so far) until the process is asked to stop."""
    store = Store(settings.data_dir / "wegwijs.db")
    inbox = Inbox(store.db)
    if released := inbox.release():
        log.info("%s message(s) the previous run had not finished are handled again", released)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    telegram = asyncio.create_task(TelegramChannel(settings.telegram, store).serve(stop))
    workers = Workers(settings, settings.workers)
    try:
        await workers.start()
        log.info("%s workers ready; %s message(s) waiting", settings.workers, inbox.waiting())
        await asyncio.gather(telegram, workers.supervise(inbox, stop))
    finally:
        stop.set()
        workers.stop()
        await asyncio.gather(telegram, return_exceptions=True)
