"""A per-sender flood guard for the chat channels.

Telegram's own limits are on what the bot sends (AIORateLimiter handles those); this guard
is about what one person sends: beyond `limit` messages in `window` seconds the channel
keeps the message without processing it, and tells the sender once per flood.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable
from enum import Enum

LIMIT = 8
WINDOW_SECONDS = 10.0


class Verdict(Enum):
    PROCESS = "process"
    WARN = "warn"  # the first message over the limit: keep it and tell the sender to slow down
    HOLD = "hold"  # further messages over the limit: keep them, say nothing more


class FloodGuard:
    def __init__(self, limit: int = LIMIT, window: float = WINDOW_SECONDS,
                 clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window = window
        self.clock = clock
        self._recent: defaultdict[str, deque[float]] = defaultdict(deque)
        self._warned: set[str] = set()

    def check(self, sender: str) -> Verdict:
        now = self.clock()
        recent = self._recent[sender]
        while recent and now - recent[0] > self.window:
            recent.popleft()
        if len(recent) < self.limit:
            recent.append(now)
            self._warned.discard(sender)
            return Verdict.PROCESS
        if sender in self._warned:
            return Verdict.HOLD
        self._warned.add(sender)
        return Verdict.WARN
