"""What the router asks the channels to do: outbox operations and the lanes they go in.

An operation is a JSON-able dict with `do` and a destination `to`:
  {"newcomer": {"channel": ..., "user": ...}}   the newcomer, on their own channel
  {"topic": conversation_id, "thread": ...}     the conversation's topic in the desk group
                                                (`thread` as known when queued, else None)
  {"desk": thread_id or None}                   the desk group, in that topic (None: general)
Operations of one lane are delivered in order: each newcomer has a lane, the desk group one.
A newcomer is addressed by channel and user, not conversation id: replies to an erase
request are still delivered after the conversation is gone.
"""

from __future__ import annotations

from bot.conversation.replies import Reply
from bot.queues import DESK_LANE, lane
from bot.store import Conversation

Operation = tuple[str, dict]  # (lane, operation)


def _newcomer(conversation: Conversation) -> tuple[str, dict]:
    return (lane(conversation.channel, conversation.user_ref),
            {"newcomer": {"channel": conversation.channel, "user": conversation.user_ref}})


def send_to_newcomer(conversation: Conversation, reply: Reply) -> Operation:
    newcomer_lane, to = _newcomer(conversation)
    return newcomer_lane, {"do": "send", "to": to, "text": reply.text,
                           "buttons": [[button.title, button.payload] for button in reply.buttons]}


def copy_to_newcomer(conversation: Conversation, message: dict, caption: str | None, text: str) -> Operation:
    """A volunteer's photo, sticker, ...: copied from the desk group (`message` is its reference;
    `text` its stand-in where it cannot be copied: on another platform)."""
    newcomer_lane, to = _newcomer(conversation)
    return newcomer_lane, {"do": "copy", "to": to, "message": message, "caption": caption, "text": text}


def answer_button(conversation: Conversation, button_id: str, alert: str | None = None) -> Operation:
    """Acknowledge a button press (Telegram shows a spinner until then), with an alert if any."""
    newcomer_lane, to = _newcomer(conversation)
    return newcomer_lane, {"do": "answer_button", "to": to, "button": button_id, "alert": alert}


def open_topic(conversation_id: int, title: str) -> Operation:
    """The conversation's topic: reopened and renamed, or created when there is none (any more)."""
    return DESK_LANE, {"do": "open_topic", "conversation": conversation_id, "title": title}


def post_in_topic(conversation_id: int, thread: int | None, text: str) -> Operation:
    return DESK_LANE, {"do": "send", "to": {"topic": conversation_id, "thread": thread},
                       "text": text, "buttons": []}


def copy_to_topic(conversation_id: int, thread: int | None, message: dict, text: str) -> Operation:
    """What a newcomer sent during a handover, copied into their topic as it is (`text` where
    it cannot be copied: from another platform)."""
    return DESK_LANE, {"do": "copy", "to": {"topic": conversation_id, "thread": thread},
                       "message": message, "caption": None, "text": text}


def post_in_desk(thread: int | None, text: str) -> Operation:
    """An answer to a volunteer, in the topic (or general chat) they wrote in."""
    return DESK_LANE, {"do": "send", "to": {"desk": thread}, "text": text, "buttons": []}


def close_topic(thread: int) -> Operation:
    return DESK_LANE, {"do": "close_topic", "thread": thread}


def delete_topic(thread: int) -> Operation:
    return DESK_LANE, {"do": "delete_topic", "thread": thread}
