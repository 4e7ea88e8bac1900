"""The router and the worker loop that feeds it from the inbox.

Events (JSON dicts written by the channel adapters into the inbox):
  newcomers:  {"kind": "text" | "button" | "attachment", "channel", "user", "app_language",
               "text" (text), "button" + "payload" (button), "description" (attachment),
               "message" (the platform's reference to the message, for relaying it)}
  the desk:   {"kind": "desk_command", "command", "text", "thread", "volunteer"}
              {"kind": "desk_message", "thread", "volunteer", "text" or "description",
               "message", "takes_caption", "caption"}
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import TYPE_CHECKING

from bot.queues import Inbox, Outbox, Received
from bot.router.desk import Desk
from bot.router.newcomers import Newcomers
from bot.router.operations import Operation

if TYPE_CHECKING:  # the engine (Rasa, TensorFlow) is loaded in the worker processes only
    from bot.conversation.engine import Engine

log = logging.getLogger(__name__)
IDLE_SECONDS = 0.01  # how long a worker waits before looking at an empty inbox again
NOTICE_CHECK_SECONDS = 30.0


class Router:
    def __init__(self, engine: Engine, patience: dt.timedelta):
        self.desk = Desk(engine, patience)
        self.newcomers = Newcomers(engine, self.desk)

    async def handle(self, received: Received) -> list[Operation]:
        if received.event["kind"].startswith("desk_"):
            return await self.desk.handle(received.event)
        return await self.newcomers.handle(received.event, received.recent)


async def work(inbox: Inbox, router: Router, stop: asyncio.Event, name: str) -> None:
    """Take inbox rows one at a time until `stop` is set. A row whose handling fails is logged
    and finished without replies, so that it cannot block its lane for ever."""
    while not stop.is_set():
        received = inbox.take(name)
        if received is None:
            await asyncio.sleep(IDLE_SECONDS)
            continue
        try:
            operations = await router.handle(received)
        except Exception:
            log.exception("handling inbox row %s (%s) failed", received.id, received.event.get("kind"))
            operations = []
        inbox.finish(received, operations)


async def stopped_within(stop: asyncio.Event, seconds: float) -> bool:
    """Wait `seconds`, or less when `stop` is set meanwhile; whether it was."""
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except asyncio.TimeoutError:
        pass
    return stop.is_set()


async def send_notices(router: Router, outbox: Outbox, stop: asyncio.Event,
                       every: float = NOTICE_CHECK_SECONDS) -> None:
    """Now and then, tell newcomers who wait for a volunteer (one worker does this)."""
    while not await stopped_within(stop, every):
        try:
            outbox.add(await router.desk.notices())
        except Exception:  # a failed round is logged; the next one tries again
            log.exception("sending waiting notices failed")
