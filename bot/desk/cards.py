"""What the volunteers read in the desk group: thread titles, the handover card, the
transcript, the queue and the day's figures. Volunteers work in English, so these are too.
"""

from __future__ import annotations

import datetime as dt

from bot.conversation.language import language_name
from bot.knowledge.desk_hours import AMSTERDAM, DeskStatus
from bot.store import Conversation, Handover

MESSAGE_LIMIT = 4096  # characters in one message (Telegram's limit; WhatsApp's too)
TITLE_LIMIT = 128  # characters in a forum topic name
QUOTE_LIMIT = 300  # characters of one message quoted on the card
TOPIC_LABELS = {
    "international_desk": "Desk", "gp": "GP", "urgent_medical": "Urgent medical",
    "emergency": "Emergency", "crisis_support": "Crisis", "school": "School",
    "dutch_lessons": "Dutch lessons", "volunteering": "Volunteering", "registration": "Registration",
    "health_insurance": "Insurance", "housing": "Housing", "work": "Work",
    "inburgering": "Inburgering", "discrimination": "Discrimination", "meeting_people": "Meeting people",
    "referral": "Referral",
}
SPEAKERS = {"in": "Newcomer", "out": "Wegwijs"}
CHANNEL_LABELS = {"telegram": "Telegram", "whatsapp": "WhatsApp"}
DESK_HELP = ("Write in this topic to answer the newcomer (they see your first name only). "
             "/claim takes it, /note <text> adds an internal note, /close hands back to the "
             "assistant, /transcript shows the whole conversation.")


def thread_title(handover: Handover, conversation: Conversation) -> str:
    """`#12 · GP · EN · Telegram`"""
    topic = TOPIC_LABELS.get(handover.topic or "", "General")
    title = f"#{handover.id} · {topic} · {handover.language.upper()} · {channel_label(conversation)}"
    return title[:TITLE_LIMIT]


def channel_label(conversation: Conversation) -> str:
    return CHANNEL_LABELS.get(conversation.channel, conversation.channel.title())


def handover_card(handover: Handover, conversation: Conversation, messages: list[dict],
                  desk: DeskStatus, window_closes: dt.datetime | None = None, name: str | None = None) -> str:
    """The first post of a handover: everything a volunteer needs before answering."""
    lines = [
        f"Handover #{handover.id}",
        *([f"Name: {name} (as {channel_label(conversation)} gives it; not stored)"] if name else []),
        f"Language: {language_name(handover.language)} ({handover.language})",
        f"Topic: {TOPIC_LABELS.get(handover.topic or '', 'not clear')}",
        f"Channel: {channel_label(conversation)}" + (
            f" (phone ending {conversation.user_ref[-3:]})" if conversation.channel == "whatsapp" else ""),
        f"Desk: {desk.describe('en')}",
        *([f"WhatsApp window: {_window(window_closes)}"] if conversation.channel == "whatsapp" else []),
        "",
        f"Question: {_quote(handover.question)}",
        f"Wegwijs answered: {_quote(handover.bot_answer)}",
    ]
    if messages:
        lines += ["", "Last messages:"] + [_transcript_line(m) for m in messages]
    lines += ["", DESK_HELP]
    return _fit("\n".join(lines))


def transcript(messages: list[dict]) -> list[str]:
    """The whole conversation, in as many messages as it takes."""
    if not messages:
        return ["No messages are stored for this conversation."]
    chunks, current = [], "Transcript"
    for line in (_transcript_line(m, limit=MESSAGE_LIMIT // 2) for m in messages):
        if len(current) + 1 + len(line) > MESSAGE_LIMIT:
            chunks.append(current)
            current = line
        else:
            current = f"{current}\n{line}"
    return chunks + [current]


def queue(handovers: list[tuple[Handover, Conversation, dt.datetime | None]], now: dt.datetime) -> str:
    """Waiting and open handovers, oldest first, with waiting time, who has them and, for
    WhatsApp, until when messages reach the newcomer."""
    if not handovers:
        return "No open handovers."
    lines = [f"Open handovers ({len(handovers)}):"]
    for handover, conversation, window_closes in handovers:
        waited = _minutes(now - dt.datetime.fromisoformat(handover.opened_at))
        who = f"claimed by {handover.claimed_by}" if handover.claimed_by else "not claimed"
        answered = "answered" if handover.first_reply_at else "no reply yet"
        window = f", WhatsApp window {_window(window_closes)}" if conversation.channel == "whatsapp" else ""
        lines.append(f"{thread_title(handover, conversation)}: {waited}, {who}, {answered}{window}")
    return _fit("\n".join(lines))


def stats(counts: dict[str, int], day: dt.date) -> str:
    lines = [f"Today ({day:%d %B %Y}):"] + [f"{name}: {count}" for name, count in counts.items()]
    return "\n".join(lines)


def start_of_day(now: dt.datetime) -> dt.datetime:
    """Midnight in Amstelveen of the day `now` falls on."""
    local = now.astimezone(AMSTERDAM)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _transcript_line(message: dict, limit: int = QUOTE_LIMIT) -> str:
    speaker = SPEAKERS.get(message["direction"])
    if message["direction"] == "volunteer":
        speaker = f"{message['author']} (volunteer)"
    elif message["direction"] == "note":
        speaker = f"Note by {message['author']}"
    clock = dt.datetime.fromisoformat(message["at"]).astimezone(AMSTERDAM).strftime("%H:%M")
    return f"[{clock}] {speaker}: {_quote(message['text'], limit)}"


def _quote(text: str | None, limit: int = QUOTE_LIMIT) -> str:
    if not text:
        return "—"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def local_time(moment: dt.datetime) -> str:
    """`Tue 10:32`, in Amstelveen."""
    return moment.astimezone(AMSTERDAM).strftime("%a %H:%M")


def _window(closes: dt.datetime | None) -> str:
    return f"open until {local_time(closes)}" if closes else "closed (no message from them yet)"


def _minutes(elapsed: dt.timedelta) -> str:
    minutes = max(0, int(elapsed.total_seconds() // 60))
    return f"waiting {minutes} min" if minutes < 120 else f"waiting {minutes // 60} h {minutes % 60} min"


def _fit(text: str) -> str:
    return text if len(text) <= MESSAGE_LIMIT else text[:MESSAGE_LIMIT - 1] + "…"
