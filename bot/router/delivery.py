"""Delivering the outbox: each lane in order, lanes side by side, with retries.

A channel adapter executes one operation and says, by raising, what went wrong: `Retry`
(rate limited, a server error, the network) or `Refused` (the platform will never accept
it: blocked by the user, a bad request). A row is marked sent only after the platform
accepted it; after a crash, the row that was in flight is sent again (at most one per lane).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from bot.queues import DESK_LANE, Outbox, Outgoing

log = logging.getLogger(__name__)
POLL_SECONDS = 0.01
DESK_CHANNEL = "telegram"  # the volunteers' desk is a Telegram group, whatever the newcomer uses
MAX_BACKOFF_SECONDS = 30.0
FINISH_SECONDS = 10.0  # on stop: how long the sends under way may take to finish


class Retry(Exception):
    def __init__(self, reason: str, after: float | None = None):
        super().__init__(reason)
        self.after = after  # seconds the platform asked us to wait, if it said


class Refused(Exception):
    pass


class Channel(Protocol):
    async def execute(self, operation: dict) -> None: ...

    async def refused(self, operation: dict, reason: str) -> None: ...  # tell whoever should know


def backoff(attempts: int) -> float:
    return min(0.5 * 2 ** attempts, MAX_BACKOFF_SECONDS)


class Delivery:
    def __init__(self, outbox: Outbox, channels: dict[str, Channel]):
        """`channels` by name; a lane `<channel>:<user>` goes to that channel, the desk lane to
        the desk's channel (Telegram)."""
        self.outbox = outbox
        self.channels = channels
        self._lanes: dict[str, asyncio.Task] = {}
        self._stop = asyncio.Event()

    def channel_of_lane(self, lane: str) -> Channel | None:
        return self.channels.get(DESK_CHANNEL if lane == DESK_LANE else lane.split(":", 1)[0])

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; then let the sends under way finish (a send cancelled
        half-way may have reached the platform and would be sent again on the next start)."""
        self._stop = stop
        while not stop.is_set():
            for lane in self.outbox.lanes_due():
                task = self._lanes.get(lane)
                if task is None or task.done():
                    self._lanes[lane] = asyncio.create_task(self._drain(lane))
            await asyncio.sleep(POLL_SECONDS)
        tasks = list(self._lanes.values())
        if tasks:
            _, unfinished = await asyncio.wait(tasks, timeout=FINISH_SECONDS)
            for task in unfinished:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _drain(self, lane: str) -> None:
        """Deliver the lane's rows in order, until it is empty, must wait, or delivery stops."""
        channel = self.channel_of_lane(lane)
        while not self._stop.is_set() and (outgoing := self.outbox.head(lane)) is not None:
            if channel is None:  # e.g. the desk lane of a WhatsApp-only set-up
                log.error("outbox row %s: no channel configured for lane %s", outgoing.id, lane.split(":")[0])
                self.outbox.give_up(outgoing, "no channel configured")
            elif not await self._deliver(channel, outgoing):
                return

    async def _deliver(self, channel: Channel, outgoing: Outgoing) -> bool:
        """True when the row is done with (sent or refused), False when it waits for a retry."""
        operation = outgoing.operation
        try:
            await channel.execute(operation)
        except Retry as error:
            delay = error.after if error.after is not None else backoff(outgoing.attempts)
            log.warning("outbox row %s (%s): %s; again in %.1f s", outgoing.id, operation["do"], error, delay)
            self.outbox.retry_later(outgoing, delay)
            return False
        except Refused as error:
            log.warning("outbox row %s (%s) refused: %s", outgoing.id, operation["do"], error)
            self.outbox.give_up(outgoing, str(error))
            await channel.refused(operation, str(error))
            return True
        self.outbox.sent(outgoing)
        return True
