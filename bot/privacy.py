"""Erasing newcomers' data: one newcomer on request (`/forget`, `wegwijs forget`), and
everything past the retention period (`wegwijs purge`, hourly in `wegwijs serve`).

Every SQLite file we write has `secure_delete` on, so erased rows are overwritten, not just
unlinked. Before messages are purged, what the staff report needs is kept as counts per day,
channel, language, outcome and entry (no text, no ids).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.queues import lane
from bot.store import HANDOVER_OPEN_STATES, Conversation, Store, iso

DIALOGUE_EVENTS = "events"  # Rasa's SQLTrackerStore table; sender_id is the conversation id


def erase_conversation(store: Store, conversation: Conversation) -> dict[str, int]:
    """Everything stored about one newcomer in the store's file, in one transaction: the
    number of rows erased per table. (The dialogue state lives in its own file: erase_dialogue.)"""
    newcomer_lane = lane(conversation.channel, conversation.user_ref)
    deletions = [("messages", "conversation_id = ?", conversation.id),
                 ("handovers", "conversation_id = ?", conversation.id),
                 ("desk_threads", "conversation_id = ?", conversation.id),
                 ("inbox", "lane = ?", newcomer_lane), ("outbox", "lane = ?", newcomer_lane),
                 ("conversations", "id = ?", conversation.id)]
    with store.db.conn:
        counts = {table: store.db.execute(f"delete from {table} where {where}", [value]).rowcount
                  for table, where, value in deletions if store.db[table].exists()}
    _checkpoint(store.db.conn)
    return counts


def _checkpoint(connection) -> None:
    """Write the WAL back and empty it: the erased rows' old pages are in it until then."""
    connection.execute("pragma wal_checkpoint(truncate)")


def erase_dialogue(dialogue_db: Path, conversation_ids: list[int]) -> int:
    """Rasa's dialogue state of these conversations: the number of events erased."""
    if not dialogue_db.exists() or not conversation_ids:
        return 0
    import sqlite3

    connection = sqlite3.connect(dialogue_db)
    try:
        with connection:
            connection.execute("pragma secure_delete = on")
            placeholders = ", ".join("?" for _ in conversation_ids)
            erased = connection.execute(f"delete from {DIALOGUE_EVENTS} where sender_id in ({placeholders})",
                                        [str(i) for i in conversation_ids]).rowcount
        _checkpoint(connection)
        return erased
    except sqlite3.OperationalError:  # no dialogue stored yet
        return 0
    finally:
        connection.close()


def purge(store: Store, dialogue_db: Path, retention: dt.timedelta) -> dict[str, int]:
    """Erase what is older than `retention`: conversations nobody wrote in since (unless a
    handover is still open), older messages and closed handovers of the others, buttons not
    sent since, and handled inbox and outbox rows. Counts per day, channel, language, outcome
    and entry are kept. (A button pressed after its key was purged shows the menu.)"""
    cutoff = iso(store.clock() - retention)
    cutoff_epoch = (store.clock() - retention).timestamp()
    db = store.db
    open_states = ", ".join(f"'{state}'" for state in HANDOVER_OPEN_STATES)
    stale = [row[0] for row in db.execute(
        "select c.id from conversations c where c.created_at < ? "
        "and not exists (select 1 from messages m where m.conversation_id = c.id and m.at >= ?) "
        f"and not exists (select 1 from handovers h where h.conversation_id = c.id and h.status in ({open_states}))",
        [cutoff, cutoff]).fetchall()]
    with db.conn:
        _keep_counts(db, cutoff, open_states)
    counts = {"conversations": 0}
    for conversation_id in stale:
        erased = erase_conversation(store, store.conversation_with_id(conversation_id))
        for table, count in erased.items():
            counts[table] = counts.get(table, 0) + count
    with db.conn:
        for table, sql, value in (
                ("messages", "delete from messages where at < ? and conversation_id not in (select conversation_id "
                             f"from handovers where status in ({open_states}))", cutoff),
                ("handovers", "delete from handovers where status = 'closed' and closed_at < ?", cutoff),
                ("button_payloads", "delete from button_payloads where coalesce(at, '') < ?", cutoff),
                ("inbox", "delete from inbox where done_at < ?", cutoff_epoch),
                ("outbox", "delete from outbox where coalesce(sent_at, created_at) < ? "
                           "and (sent_at is not null or failed is not null)", cutoff_epoch)):
            if db[table].exists():  # no inbox or outbox in a store no channel has used
                counts[table] = counts.get(table, 0) + db.execute(sql, [value]).rowcount
    counts["dialogue events"] = erase_dialogue(dialogue_db, stale)
    return counts


def _keep_counts(db, cutoff: str, open_states: str) -> None:
    """Add the incoming messages about to be purged to the daily counts."""
    db.execute(
        "insert into daily_counts (day, channel, language, action, entry, messages) "
        "select substr(m.at, 1, 10), c.channel, coalesce(c.language, ''), coalesce(m.action, ''), "
        "coalesce(m.entry, ''), count(*) from messages m join conversations c on c.id = m.conversation_id "
        "where m.direction = 'in' and m.at < ? and m.conversation_id not in (select conversation_id "
        f"from handovers where status in ({open_states})) group by 1, 2, 3, 4, 5 "
        "on conflict (day, channel, language, action, entry) do update set messages = messages + excluded.messages",
        [cutoff])
