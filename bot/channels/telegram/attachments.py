"""Telegram messages that are not text: what to store for them and how they can be copied."""

from __future__ import annotations

from telegram import Message

KINDS = ("photo", "voice", "video", "video_note", "audio", "document", "sticker", "animation",
         "location", "venue", "contact", "poll")
CAPTIONED = ("photo", "video", "document", "audio", "voice", "animation")


def describe_message(message: Message) -> str:
    """The stored stand-in for a message that is not text: `[photo] its caption`."""
    kind = next((name for name in KINDS if getattr(message, name, None)), "attachment")
    return f"[{kind}] {message.caption}" if message.caption else f"[{kind}]"


def takes_caption(message: Message) -> bool:
    """Whether a copy of the message can carry a caption (a sticker or location cannot)."""
    return any(getattr(message, name, None) for name in CAPTIONED)


def file_of(message: Message) -> dict | None:
    """The file of a photo, voice note, video or document ({"id", "kind"}), for copying it to
    another platform; None for what has no file (a location, a poll)."""
    for kind in ("photo", "voice", "video", "document", "audio"):
        found = getattr(message, kind, None)
        if found:
            return {"id": (found[-1] if kind == "photo" else found).file_id, "kind": kind}
    return None
