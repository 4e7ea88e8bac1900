"""The Telegram channel under test: real python-telegram-bot against bot/bench/fake_telegram.py,
the router working on its inbox in the same event loop (`wegwijs serve` runs it in worker
processes instead)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import socket
from contextlib import asynccontextmanager

from bot.channels.telegram.app import TelegramChannel
from bot.conversation.engine import Engine
from bot.queues import Inbox, Outbox
from bot.router.delivery import Delivery
from bot.router.router import Router, send_notices, work
from bot.settings import TelegramSettings
from bot.bench.fake_telegram import FakeBotApi, callback, private_text

DESK = -1001234567890


class MovableClock:
    """A clock the test moves forward (the store, the engine and the desk all read it)."""

    def __init__(self, start: dt.datetime):
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


def telegram_settings(api: FakeBotApi, **overrides) -> TelegramSettings:
    values = dict(token=api.token, desk_chat_id=DESK, api_base_url=api.base_url, webhook_url=None,
                  webhook_secret=None, webhook_listen="127.0.0.1", webhook_port=0)
    return TelegramSettings(**(values | overrides))


@asynccontextmanager
async def serving(engine: Engine, channels: list, patience=dt.timedelta(minutes=10),
                  notice_every: float | None = None):
    """The channels receiving and delivering, and a worker, for the duration of the block (and
    the waiting notices every `notice_every` seconds)."""
    stop = asyncio.Event()
    router = Router(engine, patience)
    outbox = Outbox(engine.store.db)
    jobs = [*(channel.receive(stop) for channel in channels),
            Delivery(outbox, {channel.name: channel.sender for channel in channels}).run(stop),
            work(Inbox(engine.store.db), router, stop, "test-worker")]
    if notice_every:
        jobs.append(send_notices(router, outbox, stop, every=notice_every))
    async with contextlib.AsyncExitStack() as open_connections:
        for channel in channels:
            await open_connections.enter_async_context(channel)
        tasks = [asyncio.create_task(job) for job in jobs]
        try:
            yield
        finally:
            stop.set()
            await asyncio.gather(*tasks)


@asynccontextmanager
async def start_bot(api: FakeBotApi, engine: Engine, patience=dt.timedelta(minutes=10), **settings):
    """The Telegram channel and a worker serving for the duration of the block (waiting notices
    are checked every 0.2 s); the API's call log starts empty."""
    api.clear_calls()
    channel = TelegramChannel(telegram_settings(api, **settings), engine.store)
    async with serving(engine, [channel], patience, notice_every=0.2):
        await api.until("setMyCommands", lambda call: "scope" in call.params)
        yield channel


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TelegramUser:
    """A newcomer in a private chat with the bot."""

    def __init__(self, api: FakeBotApi, user_id: int):
        self.api = api
        self.id = user_id

    def say(self, text: str) -> int:
        return self.api.push(private_text(self.id, text))

    def received(self, method: str = "sendMessage") -> list:
        return [c for c in self.api.calls_to(method) if c.params.get("chat_id") == self.id]

    async def reply(self, predicate=lambda call: True, timeout: float = 20.0):
        """The first message sent to this newcomer that matches (already sent, or to come)."""
        return await self.api.until(
            "sendMessage", lambda c: c.params.get("chat_id") == self.id and predicate(c), timeout)

    async def reply_containing(self, fragment: str):
        return await self.reply(lambda c: fragment in c.params["text"])

    def press(self, message, title: str) -> int:
        """Press the inline button `title` of a sent message."""
        rows = message.params["reply_markup"]["inline_keyboard"]
        data = {b["text"]: b["callback_data"] for row in rows for b in row}
        assert title in data, f"no button {title!r} in {list(data)}"
        return self.api.push(callback(self.id, data[title]))


def button_titles(message) -> list[str]:
    return [b["text"] for row in message.params["reply_markup"]["inline_keyboard"] for b in row]
