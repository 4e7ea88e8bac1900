"""The conversation store (SQLite via sqlite-utils): conversations, messages, handovers.

A conversation is one newcomer on one channel (`channel`, `user_ref`). Every incoming
message is written before it is processed. What a message said is kept only as long as the
conversation exists: `forget` erases the conversation with everything that hangs off it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

HANDOVER_OPEN_STATES = ("waiting", "open")


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


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
    status: str
    language: str
    topic: str | None
    question: str | None
    bot_answer: str | None
    opened_at: str


class Store:
    def __init__(self, path: Path | None):
        """`path` None keeps everything in memory (one-off runs such as `wegwijs ask`)."""
        if path is None:
            self.db = sqlite_utils.Database(memory=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite_utils.Database(path)
            self.db.enable_wal()
        self._create_tables()

    def _create_tables(self) -> None:
        self.db["conversations"].create(
            {"id": int, "channel": str, "user_ref": str, "language": str,
             "chosen_language": str, "created_at": str},
            pk="id", not_null={"channel", "user_ref"}, if_not_exists=True)
        self.db["conversations"].create_index(["channel", "user_ref"], unique=True, if_not_exists=True)
        self.db["messages"].create(
            {"id": int, "conversation_id": int, "direction": str, "text": str, "action": str,
             "entry": str, "confidence": float, "at": str},
            pk="id", foreign_keys=[("conversation_id", "conversations", "id")], if_not_exists=True)
        self.db["messages"].create_index(["conversation_id"], if_not_exists=True)
        self.db["handovers"].create(
            {"id": int, "conversation_id": int, "status": str, "language": str, "topic": str,
             "question": str, "bot_answer": str, "opened_at": str, "closed_at": str},
            pk="id", foreign_keys=[("conversation_id", "conversations", "id")], if_not_exists=True)

    # conversations

    def conversation(self, channel: str, user_ref: str) -> Conversation:
        """The newcomer's conversation on this channel, created on first contact."""
        rows = list(self.db["conversations"].rows_where(
            "channel = ? and user_ref = ?", [channel, user_ref], limit=1))
        if not rows:
            self.db["conversations"].insert(
                {"channel": channel, "user_ref": user_ref, "created_at": utc_now()})
            return self.conversation(channel, user_ref)
        return _conversation(rows[0])

    def set_language(self, conversation_id: int, *, detected: str | None = None,
                     chosen: str | None = None) -> None:
        changes = {k: v for k, v in (("language", detected), ("chosen_language", chosen)) if v}
        if changes:
            self.db["conversations"].update(conversation_id, changes)

    def forget(self, conversation_id: int) -> None:
        """Erase the conversation and everything stored about it."""
        with self.db.conn:
            for table in ("messages", "handovers"):
                self.db[table].delete_where("conversation_id = ?", [conversation_id])
            self.db["conversations"].delete_where("id = ?", [conversation_id])

    # messages

    def add_incoming(self, conversation_id: int, text: str) -> int:
        return self.db["messages"].insert(
            {"conversation_id": conversation_id, "direction": "in", "text": text, "at": utc_now()}
        ).last_pk

    def add_outgoing(self, conversation_id: int, text: str) -> None:
        self.db["messages"].insert(
            {"conversation_id": conversation_id, "direction": "out", "text": text, "at": utc_now()})

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

    def last_messages(self, conversation_id: int, limit: int = 10) -> list[dict]:
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
            "topic": topic, "question": question, "bot_answer": bot_answer, "opened_at": utc_now(),
        }).last_pk
        return _handover(self.db["handovers"].get(pk))

    def active_handover(self, conversation_id: int) -> Handover | None:
        placeholders = ", ".join("?" for _ in HANDOVER_OPEN_STATES)
        rows = list(self.db["handovers"].rows_where(
            f"conversation_id = ? and status in ({placeholders})",
            [conversation_id, *HANDOVER_OPEN_STATES], limit=1))
        return _handover(rows[0]) if rows else None


def _conversation(row: dict) -> Conversation:
    return Conversation(row["id"], row["channel"], row["user_ref"], row["language"],
                        row["chosen_language"])


def _handover(row: dict) -> Handover:
    return Handover(row["id"], row["conversation_id"], row["status"], row["language"],
                    row["topic"], row["question"], row["bot_answer"], row["opened_at"])
