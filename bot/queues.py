"""The durable inbox and outbox, in the conversation store's SQLite file.

Inbox: what the channels received, written (one transaction per batch) before the channel is
told it arrived, so a crash after that loses nothing; a repeat of a stored key is dropped.
Rows of one lane (one newcomer, or the desk group) are taken one at a time and in order, so
one conversation is never in two workers at once; rows taken by a worker that died are
taken again after a restart.

Outbox: what to send, written in the same transaction that marks the incoming row done. The
sender delivers a lane's rows in order and marks each one sent; unsent rows survive a restart.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import sqlite_utils

DESK_LANE = "desk"  # the volunteers' group; every newcomer has a lane of their own (`lane`)
FLOOD_WINDOW_SECONDS = 10.0
LAST_FOR_LANE = "last_for_lane"  # an operation flag: once sent, nothing of the lane is kept
NAME = "name"  # the first name a platform gives with an event: shown on a desk card, erased once handled  # the window `Received.recent` counts over

SCHEMA = {
    "inbox": ({"id": int, "key": str, "lane": str, "event": str, "received_at": float,
               "taken_by": str, "done_at": float},
              {"pk": "id", "not_null": {"key", "lane", "event", "received_at"}}),
    "outbox": ({"id": int, "lane": str, "operation": str, "created_at": float, "attempts": int,
                "next_try_at": float, "sent_at": float, "failed": str},
               {"pk": "id", "not_null": {"lane", "operation", "created_at"}}),
}


def lane(channel: str, user: str) -> str:
    """The lane of one newcomer, in the inbox and in the outbox."""
    return f"{channel}:{user}"


@dataclass(frozen=True)
class Received:
    id: int
    lane: str
    event: dict
    recent: int  # rows of the lane received within FLOOD_WINDOW_SECONDS before this one


@dataclass(frozen=True)
class Outgoing:
    id: int
    lane: str
    operation: dict
    attempts: int


def _create(db: sqlite_utils.Database) -> None:
    for name, (columns, options) in SCHEMA.items():
        db[name].create(columns, **options, if_not_exists=True)
    db["inbox"].create_index(["key"], unique=True, if_not_exists=True)
    db["inbox"].create_index(["done_at", "lane", "id"], if_not_exists=True)
    db["outbox"].create_index(["sent_at", "lane", "id"], if_not_exists=True)


def _enqueue(db: sqlite_utils.Database, operations: list[tuple[str, dict]], now: float) -> None:
    """Outbox rows, due now (inside the caller's transaction)."""
    db.conn.executemany(
        "insert into outbox (lane, operation, created_at, attempts, next_try_at) values (?, ?, ?, 0, ?)",
        [(lane, json.dumps(operation, ensure_ascii=False), now, now) for lane, operation in operations])


class Inbox:
    def __init__(self, db: sqlite_utils.Database, clock=time.time):
        self.db = db
        self.clock = clock
        _create(db)

    def receive(self, items: list[tuple[str, str, dict]]) -> int:
        """Store (key, lane, event) items in one transaction; returns how many were new."""
        now = self.clock()
        with self.db.conn:
            added = sum(self.db.execute(
                "insert or ignore into inbox (key, lane, event, received_at) values (?, ?, ?, ?)",
                [key, lane, json.dumps(event, ensure_ascii=False), now]).rowcount
                for key, lane, event in items)
        return added

    def release(self, worker: str | None = None) -> int:
        """Rows a worker took and never finished (it died) are free again; with no worker
        named, those of every worker (at start, for the workers of an earlier run)."""
        with self.db.conn:
            return self.db.execute(
                "update inbox set taken_by = null where done_at is null and taken_by is not null "
                "and (? is null or taken_by = ?)", [worker, worker]).rowcount

    def take(self, worker: str) -> Received | None:
        """The oldest waiting row whose lane has nothing older still waiting or in work. Looked
        for without a lock first, so that idle workers do not hold up the channels' writes."""
        if self._next_free() is None:
            return None
        with self.db.conn:
            self.db.execute("begin immediate")
            row = self._next_free()
            if row is None:
                return None
            self.db.execute("update inbox set taken_by = ? where id = ?", [worker, row[0]])
            recent = self.db.execute(
                "select count(*) from inbox where lane = ? and id < ? and received_at > ?",
                [row[1], row[0], row[3] - FLOOD_WINDOW_SECONDS]).fetchone()[0]
        return Received(row[0], row[1], json.loads(row[2]), recent)

    def _next_free(self) -> tuple | None:
        return self.db.execute(
            "select id, lane, event, received_at from inbox i where done_at is null "
            "and taken_by is null and not exists (select 1 from inbox j where j.lane = i.lane "
            "and j.done_at is null and j.id < i.id) order by id limit 1").fetchone()

    def finish(self, received: Received, operations: list[tuple[str, dict]]) -> None:
        """Mark the row done and queue its (lane, operation) replies, in one transaction. What
        waits to be sent to the same newcomer is tried again now: they just wrote (WhatsApp
        holds messages outside its 24-hour window until then)."""
        now = self.clock()
        with self.db.conn:
            self.db.execute("update outbox set next_try_at = ? where lane = ? and sent_at is null "
                            "and failed is null", [now, received.lane])
            _enqueue(self.db, operations, now)
            self.db.execute("update inbox set done_at = ?, event = json_remove(event, '$.' || ?) where id = ?",
                            [now, NAME, received.id])

    def waiting(self) -> int:
        return self.db.execute("select count(*) from inbox where done_at is null").fetchone()[0]


class Outbox:
    def __init__(self, db: sqlite_utils.Database, clock=time.time):
        self.db = db
        self.clock = clock
        _create(db)

    def add(self, operations: list[tuple[str, dict]]) -> None:
        """Operations that do not answer an inbox row (notices sent on a timer)."""
        with self.db.conn:
            _enqueue(self.db, operations, self.clock())

    def lanes_due(self) -> list[str]:
        """Lanes whose oldest unsent row may be tried now."""
        rows = self.db.execute(
            "select lane, min(next_try_at) from outbox where sent_at is null and failed is null "
            "group by lane").fetchall()
        now = self.clock()
        return [lane for lane, due in rows if due <= now]

    def head(self, lane: str) -> Outgoing | None:
        """The lane's oldest unsent row, if it may be tried now."""
        row = self.db.execute(
            "select id, lane, operation, attempts, next_try_at from outbox where lane = ? "
            "and sent_at is null and failed is null order by id limit 1", [lane]).fetchone()
        if row is None or row[4] > self.clock():
            return None
        return Outgoing(row[0], row[1], json.loads(row[2]), row[3])

    def sent(self, outgoing: Outgoing) -> None:
        """Marked sent; what it said is not kept (the conversation's messages are). The last
        reply to an erased newcomer takes the lane's rows, and so their user id, with it."""
        with self.db.conn:
            if outgoing.operation.get(LAST_FOR_LANE):
                self.db.execute("delete from outbox where lane = ? and id <= ?", [outgoing.lane, outgoing.id])
                return
            self.db.execute("update outbox set sent_at = ?, operation = json_object('do', json_extract(operation, "
                            "'$.do')) where id = ?", [self.clock(), outgoing.id])

    def retry_later(self, outgoing: Outgoing, delay: float) -> None:
        with self.db.conn:
            self.db.execute("update outbox set attempts = attempts + 1, next_try_at = ? where id = ?",
                            [self.clock() + delay, outgoing.id])

    def give_up(self, outgoing: Outgoing, reason: str) -> None:
        """A send the platform refuses for good (blocked, bad request): kept, marked failed."""
        with self.db.conn:
            self.db.execute("update outbox set failed = ? where id = ?", [reason[:200], outgoing.id])
