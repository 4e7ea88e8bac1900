"""`wegwijs serve`: the configured channels in the foreground until SIGTERM or Ctrl-C."""

from __future__ import annotations

import asyncio
import signal

from bot.conversation.engine import Engine
from bot.settings import Settings


async def serve_channels(settings: Settings, engine: Engine) -> None:
    """Serve Telegram (the only chat channel so far) until the process is asked to stop."""
    from bot.channels.telegram.app import TelegramBot

    telegram = TelegramBot(settings.telegram, engine, settings.handover_patience)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await telegram.serve(stop)
