"""WhatsApp's 24-hour customer service window.

Free-form messages reach a newcomer only within 24 hours of their last message. Outside it,
the one thing that may be sent is an approved template; what we meant to send waits in the
outbox (in order) until the newcomer writes again, and the volunteers are told in the topic.
"""

from __future__ import annotations

import datetime as dt

from bot.store import Conversation, Store

WINDOW = dt.timedelta(hours=24)


def window_closes(store: Store, conversation: Conversation) -> dt.datetime | None:
    """When the conversation's window closes (closed already when in the past); None when the
    newcomer has never written."""
    last = store.last_incoming_at(conversation.id)
    return last + WINDOW if last else None


def window_open(store: Store, conversation: Conversation) -> bool:
    closes = window_closes(store, conversation)
    return closes is not None and store.clock() < closes


def notice_due(store: Store, conversation: Conversation) -> bool:
    """The template goes once per closed window: not again until the newcomer has written."""
    sent = store.window_notice_at(conversation.id)
    last = store.last_incoming_at(conversation.id)
    return sent is None or (last is not None and dt.datetime.fromisoformat(sent) < last)
