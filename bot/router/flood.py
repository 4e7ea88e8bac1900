"""The per-sender flood guard: what one person sends, not what the bot sends.

Beyond LIMIT messages within the inbox's flood window (10 s, counted from arrival times in
the durable inbox, so every worker sees the same count), a message is kept without being
processed, and the sender is told once per flood.
"""

from __future__ import annotations

from enum import Enum

LIMIT = 8


class Verdict(Enum):
    PROCESS = "process"
    WARN = "warn"  # the first message over the limit: keep it and tell the sender to slow down
    HOLD = "hold"  # further messages over the limit: keep them, say nothing more


def verdict(recent: int, limit: int = LIMIT) -> Verdict:
    """`recent`: the sender's messages that arrived within the window before this one."""
    if recent < limit:
        return Verdict.PROCESS
    return Verdict.WARN if recent == limit else Verdict.HOLD
