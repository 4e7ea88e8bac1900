"""The conversation store (SQLite via sqlite-utils): conversations, messages, handovers,
the desk thread of each conversation, and the bookkeeping of the channels.

A conversation is one newcomer on one channel (`channel`, `user_ref`). Every incoming
message is written before it is processed. What a message said is kept only as long as the
conversation exists (bot/privacy.py erases it on request and after the retention period).
Times are ISO strings in UTC from the store's clock, which tests replace.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

HANDOVER_OPEN_STATES = ("waiting", "open")

Clock = Callable[[], dt.datetime]

# Table -> (columns, options). Columns the code gains later are added to existing files.
SCHEMA = {
    "conversations": (
        {"id": int, "channel": str, "user_ref": str, "language": str, "chosen_language": str,
         "created_at": str, "window_notice_at": str},
        {"pk": "id", "not_null": {"channel", "user_ref"}}),
    "messages": (
        {"id": int, "conversation_id": int, "direction": str, "text": str, "action": str,
         "entry": str, "confidence": float, "author": str, "at": str},
        {"pk": "id", "foreign_keys": [("conversation_id", "conversations", "id")]}),
    "handovers": (
        {"id": int, "conversation_id": int, "status": str, "language": str, "topic": str,
         "question": str, "bot_answer": str, "opened_at": str, "claimed_by": str,
         "first_reply_at": str, "notified_at": str, "closed_at": str, "erase_asked_at": str},
        {"pk": "id", "foreign_keys": [("conversation_id", "conversations", "id")]}),
    "desk_threads": (
        {"conversation_id": int, "thread_id": int},
        {"pk": "conversation_id", "foreign_keys": [("conversation_id", "conversations", "id")]}),
    "daily_counts": (  # what the staff report keeps beyond retention: no text, no ids
        {"day": str, "channel": str, "language": str, "action": str, "entry": str, "messages": int},
        {"pk": ("day", "channel", "language", "action", "entry")}),
    "button_payloads": ({"key": str, "payload": str, "at": str}, {"pk": "key"}),  # `at`: last sent
}


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def iso(moment: dt.datetime) -> str:
    """How times are stored: comparable as text."""
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Conversation:
    id: int
    channel: str
    user_ref: str
    language: str | None  # the language last detected with confidence
    chosen_language: str | None  # "en" or "nl" when the newcomer picked one


@dataclass(frozen=True)
class Handover:
    id: int
    conversation_id: int
    status: str  # waiting (no volunteer yet), open (a volunteer is on it), closed
    language: str
    topic: str | None
    question: str | None
    bot_answer: str | None
    opened_at: str
    claimed_by: str | None = None
    first_reply_at: str | None = None  # a volunteer's first message to the newcomer
    notified_at: str | None = None  # when the newcomer was told it takes longer
    closed_at: str | None = None
    erase_asked_at: str | None = None  # the newcomer asked to erase their data; not answered yet


class Store:
    def __init__(self, path: Path | None, clock: Clock = utc_now):
        """`path` None keeps everything in memory (one-off runs such as `wegwijs ask`)."""
        self.path = path
        if path is None:
            self.db = sqlite_utils.Database(memory=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.parent.chmod(0o700)  # only the service's user reads what newcomers wrote
            self.db = sqlite_utils.Database(path)
            path.chmod(0o600)  # SQLite gives its -wal and -shm files the same
            self.db.enable_wal()
        self.db.execute("pragma secure_delete = on")  # erased rows are overwritten, not just unlinked
        self.clock = clock
        self._create_tables()

    def now(self) -> str:
        return iso(self.clock())

    def _create_tables(self) -> None:
        for name, (columns, options) in SCHEMA.items():
            table = self.db[name]
            table.create(columns, **options, if_not_exists=True)
            for column, kind in columns.items():
                if column not in table.columns_dict:
                    table.add_column(column, kind)
        self.db["conversations"].create_index(["channel", "user_ref"], unique=True, if_not_exists=True)
        self.db["messages"].create_index(["conversation_id"], if_not_exists=True)
        self.db["handovers"].create_index(["conversation_id"], if_not_exists=True)
        self.db["desk_threads"].create_index(["thread_id"], unique=True, if_not_exists=True)

    # conversations

    def conversation(self, channel: str, user_ref: str) -> Conversation:
        """The newcomer's conversation on this channel, created on first contact."""
        found = self.conversation_if_any(channel, user_ref)
        if found is None:
            with self.db.conn:  # `or ignore`: another worker may create it at the same moment
                self.db.execute("insert or ignore into conversations (channel, user_ref, created_at) "
                                "values (?, ?, ?)", [channel, user_ref, self.now()])
            return self.conversation(channel, user_ref)
        return found

    def conversation_if_any(self, channel: str, user_ref: str) -> Conversation | None:
        rows = list(self.db["conversations"].rows_where(
            "channel = ? and user_ref = ?", [channel, user_ref], limit=1))
        return _conversation(rows[0]) if rows else None

    def conversation_with_id(self, conversation_id: int) -> Conversation | None:
        rows = list(self.db["conversations"].rows_where("id = ?", [conversation_id]))
        return _conversation(rows[0]) if rows else None

    def set_language(self, conversation_id: int, *, detected: str | None = None,
                     chosen: str | None = None) -> None:
        changes = {k: v for k, v in (("language", detected), ("chosen_language", chosen)) if v}
        if changes:
            self.db["conversations"].update(conversation_id, changes)

    # messages

    def add_incoming(self, conversation_id: int, text: str) -> int:
        return self._add_message(conversation_id, "in", text)

    def last_incoming_at(self, conversation_id: int) -> dt.datetime | None:
        """When the newcomer last wrote (WhatsApp's 24-hour window starts then)."""
        row = self.db.execute("select max(at) from messages where conversation_id = ? and direction = 'in'",
                              [conversation_id]).fetchone()
        return dt.datetime.fromisoformat(row[0]) if row and row[0] else None

    def window_notice_at(self, conversation_id: int) -> str | None:
        """When the newcomer was last sent the "a volunteer answered, write back" template."""
        return self.db["conversations"].get(conversation_id)["window_notice_at"]

    def record_window_notice(self, conversation_id: int) -> None:
        self.db["conversations"].update(conversation_id, {"window_notice_at": self.now()})

    def add_outgoing(self, conversation_id: int, text: str) -> None:
        self._add_message(conversation_id, "out", text)

    def add_from_desk(self, conversation_id: int, author: str, text: str, *, internal: bool = False) -> None:
        """A volunteer's message to the newcomer, or an internal note (`internal`)."""
        self._add_message(conversation_id, "note" if internal else "volunteer", text, author=author)

    def _add_message(self, conversation_id: int, direction: str, text: str, **extra) -> int:
        return self.db["messages"].insert({
            "conversation_id": conversation_id, "direction": direction, "text": text,
            "at": self.now(), **extra}).last_pk

    def record_outcome(self, message_id: int, action: str, entry: str | None,
                       confidence: float | None) -> None:
        """What the assistant did with an incoming message (for the staff report)."""
        self.db["messages"].update(message_id, {"action": action, "entry": entry, "confidence": confidence})

    def last_question(self, conversation_id: int) -> str | None:
        """The newcomer's last question the assistant tried to answer, else their last words."""
        for where in ("action in ('answer', 'clarify', 'safety', 'fallback')", "text not like '/%'"):
            rows = list(self.db["messages"].rows_where(
                f"conversation_id = ? and direction = 'in' and {where}", [conversation_id],
                order_by="id desc", limit=1))
            if rows:
                return rows[0]["text"]
        return None

    def last_answer(self, conversation_id: int) -> str | None:
        rows = list(self.db["messages"].rows_where(
            "conversation_id = ? and direction = 'out'", [conversation_id], order_by="id desc", limit=1))
        return rows[0]["text"] if rows else None

    def last_messages(self, conversation_id: int, limit: int | None = 10) -> list[dict]:
        """The conversation's latest messages, oldest first (all of them when `limit` is None)."""
        rows = self.db["messages"].rows_where(
            "conversation_id = ?", [conversation_id], order_by="id desc", limit=limit)
        return list(reversed(list(rows)))

    # handovers

    def open_handover(self, conversation_id: int, language: str, topic: str | None,
                      question: str | None, bot_answer: str | None) -> Handover:
        """The conversation's waiting or open handover, or a new one."""
        current = self.active_handover(conversation_id)
        if current:
            return current
        pk = self.db["handovers"].insert({
            "conversation_id": conversation_id, "status": "waiting", "language": language,
            "topic": topic, "question": question, "bot_answer": bot_answer, "opened_at": self.now(),
        }).last_pk
        return self.handover(pk)

    def handover(self, handover_id: int) -> Handover:
        return _handover(self.db["handovers"].get(handover_id))

    def active_handover(self, conversation_id: int) -> Handover | None:
        rows = self._active_handovers("conversation_id = ?", [conversation_id])
        return rows[0] if rows else None

    def last_handover(self, conversation_id: int) -> Handover | None:
        rows = list(self.db["handovers"].rows_where(
            "conversation_id = ?", [conversation_id], order_by="id desc", limit=1))
        return _handover(rows[0]) if rows else None

    def active_handovers(self) -> list[Handover]:
        """Every waiting or open handover, oldest first."""
        return self._active_handovers("1 = 1", [])

    def _active_handovers(self, where: str, params: list) -> list[Handover]:
        placeholders = ", ".join("?" for _ in HANDOVER_OPEN_STATES)
        rows = self.db["handovers"].rows_where(
            f"{where} and status in ({placeholders})", [*params, *HANDOVER_OPEN_STATES], order_by="id")
        return [_handover(row) for row in rows]

    def claim(self, handover_id: int, volunteer: str) -> None:
        self.db["handovers"].update(handover_id, {"claimed_by": volunteer, "status": "open"})

    def record_desk_reply(self, handover_id: int, volunteer: str) -> None:
        """A volunteer wrote to the newcomer: the handover is open (and theirs, if unclaimed)."""
        current = self.handover(handover_id)
        self.db["handovers"].update(handover_id, {
            "status": "open", "claimed_by": current.claimed_by or volunteer,
            "first_reply_at": current.first_reply_at or self.now()})

    def record_notice(self, handover_id: int) -> None:
        self.db["handovers"].update(handover_id, {"notified_at": self.now()})

    def ask_erase(self, handover_id: int, asked: bool = True) -> None:
        """The erase question is put to the newcomer during their handover (or answered: False)."""
        self.db["handovers"].update(handover_id, {"erase_asked_at": self.now() if asked else None})

    def close_handover(self, handover_id: int) -> None:
        self.db["handovers"].update(handover_id, {"status": "closed", "closed_at": self.now()})

    def unanswered_handovers(self, opened_before: dt.datetime) -> list[Handover]:
        """Active handovers no volunteer has written in, opened before the moment, not yet
        followed by a notice to the newcomer."""
        return self._active_handovers(
            "first_reply_at is null and notified_at is null and opened_at <= ?", [iso(opened_before)])

    def counts_since(self, moment: dt.datetime) -> dict[str, int]:
        """What happened since the moment: new conversations, messages by outcome, handovers."""
        since = iso(moment)
        one = lambda sql: self.db.execute(sql, [since]).fetchone()[0]  # noqa: E731
        counts = {
            "conversations": one("select count(*) from conversations where created_at >= ?"),
            "messages": one("select count(*) from messages where direction = 'in' and at >= ?"),
            "handovers opened": one("select count(*) from handovers where opened_at >= ?"),
            "handovers closed": one("select count(*) from handovers where closed_at >= ?"),
        }
        for action, count in self.db.execute(
                "select action, count(*) from messages where direction = 'in' and at >= ? "
                "and action is not null group by action order by action", [since]):
            counts[action] = count
        return counts

    # the desk thread of each conversation

    def desk_thread(self, conversation_id: int) -> int | None:
        rows = list(self.db["desk_threads"].rows_where("conversation_id = ?", [conversation_id]))
        return rows[0]["thread_id"] if rows else None

    def conversation_of_thread(self, thread_id: int) -> Conversation | None:
        rows = list(self.db["desk_threads"].rows_where("thread_id = ?", [thread_id]))
        return self.conversation_with_id(rows[0]["conversation_id"]) if rows else None

    def set_desk_thread(self, conversation_id: int, thread_id: int) -> None:
        self.db["desk_threads"].upsert({"conversation_id": conversation_id, "thread_id": thread_id},
                                       pk="conversation_id")

    # buttons

    def button_key(self, payload: str) -> str:
        """A short key for a button payload, for channels that limit button data (Telegram: 64 bytes)."""
        key = hashlib.sha256(payload.encode()).hexdigest()[:20]
        self.db["button_payloads"].upsert({"key": key, "payload": payload, "at": self.now()}, pk="key")
        return key

    def button_payload(self, key: str) -> str | None:
        rows = list(self.db["button_payloads"].rows_where("key = ?", [key]))
        return rows[0]["payload"] if rows else None


def _conversation(row: dict) -> Conversation:
    return Conversation(row["id"], row["channel"], row["user_ref"], row["language"],
                        row["chosen_language"])


def _handover(row: dict) -> Handover:
    return Handover(**{name: row[name] for name in Handover.__dataclass_fields__})
