"""Which waiting newcomers are told something, and what: bot/desk/patience.py over a real
SQLite store and desk hours."""

from __future__ import annotations

import datetime as dt

from bot.desk.patience import notices_due
from bot.knowledge.desk_hours import DeskHours
from bot.store import Store
from tests.conversation_fixtures import TUESDAY_MORNING, TUESDAY_NIGHT
from tests.telegram_fixtures import MovableClock

PATIENCE = dt.timedelta(minutes=10)
TUESDAY_MORNINGS = DeskHours(verified=True, weekly={1: ((dt.time(9), dt.time(12)),)})


def waiting_handover(store: Store, user: str) -> int:
    conversation = store.conversation("telegram", user)
    return store.open_handover(conversation.id, "en", "gp", "huisarts?", None).id


def test_the_desk_open_and_no_reply_within_patience_means_taking_longer():
    clock = MovableClock(TUESDAY_MORNING)
    store = Store(None, clock)
    handover = waiting_handover(store, "1")
    clock.advance(minutes=9)
    assert notices_due(store, TUESDAY_MORNINGS, PATIENCE) == []
    clock.advance(minutes=2)
    [notice] = notices_due(store, TUESDAY_MORNINGS, PATIENCE)
    assert (notice.handover.id, notice.response, notice.desk) == (
        handover, "utter_handover_taking_longer", None)


def test_the_desk_closed_means_saying_when_volunteers_are_back():
    clock = MovableClock(TUESDAY_NIGHT)
    store = Store(None, clock)
    waiting_handover(store, "1")
    clock.advance(minutes=11)
    [notice] = notices_due(store, TUESDAY_MORNINGS, PATIENCE)
    assert notice.response == "utter_handover_volunteers_away"
    assert notice.desk.next_opening == dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.timezone.utc)


def test_unknown_hours_mean_taking_longer():
    clock = MovableClock(TUESDAY_NIGHT)
    store = Store(None, clock)
    waiting_handover(store, "1")
    clock.advance(minutes=11)
    [notice] = notices_due(store, DeskHours(), PATIENCE)
    assert notice.response == "utter_handover_taking_longer"


def test_a_volunteer_reply_or_an_earlier_notice_means_no_notice():
    clock = MovableClock(TUESDAY_MORNING)
    store = Store(None, clock)
    answered, notified, closed = (waiting_handover(store, user) for user in "123")
    store.record_desk_reply(answered, "Anna")
    store.record_notice(notified)
    store.close_handover(closed)
    clock.advance(minutes=30)
    assert notices_due(store, TUESDAY_MORNINGS, PATIENCE) == []
