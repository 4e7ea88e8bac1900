"""Desk hours: open now? until when? next opening? Across a week, exceptions, midnight, DST."""

import datetime as dt

import pytest

from bot.knowledge.desk_hours import AMSTERDAM, DeskHours, parse_desk_hours
from bot.knowledge.problems import ProblemList
from bot.knowledge.yaml_lines import load_located

SCHEDULE = """\
verified: true
weekly:
  monday: ["09:00-12:00", "13:00-16:00"]
  wednesday: ["09:00-12:00"]
  friday: ["20:00-24:00"]
  sunday: ["01:00-04:00"]
exceptions:
  - date: 2026-12-23
    closed: true
    message: {en: Closed for the holidays., nl: Gesloten vanwege de feestdagen.}
  - date: 2026-12-30
    hours: ["10:00-11:00"]
    message: {en: Short hours today., nl: Vandaag korter open.}
location: {en: the public hall, nl: de publiekshal}
"""


def desk(text: str = SCHEDULE) -> DeskHours:
    problems = ProblemList("desk-hours.yaml")
    hours = parse_desk_hours(load_located(text), problems)
    assert [p for p in problems if p.severity == "error"] == []
    return hours


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=AMSTERDAM)


@pytest.mark.parametrize("now, open_now, boundary", [
    ("2026-11-23 08:59", False, "2026-11-23 09:00"),  # Monday before opening
    ("2026-11-23 09:00", True, "2026-11-23 12:00"),   # opening minute
    ("2026-11-23 12:30", False, "2026-11-23 13:00"),  # lunch break
    ("2026-11-23 15:59", True, "2026-11-23 16:00"),
    ("2026-11-23 16:00", False, "2026-11-25 09:00"),  # closing minute -> Wednesday
    ("2026-11-24 10:00", False, "2026-11-25 09:00"),  # Tuesday has no hours
    ("2026-11-25 11:00", True, "2026-11-25 12:00"),
    ("2026-11-26 10:00", False, "2026-11-27 20:00"),  # Thursday -> Friday evening
    ("2026-11-27 23:59", True, "2026-11-28 00:00"),   # open until midnight
    ("2026-11-28 00:00", False, "2026-11-29 01:00"),  # midnight: closed, Sunday night next
    ("2026-11-29 02:00", True, "2026-11-29 04:00"),
])
def test_status_across_a_week(now, open_now, boundary):
    status = desk().status(at(now))
    assert status.known and status.open_now is open_now
    assert (status.closes_at if open_now else status.next_opening) == at(boundary)


def test_closed_exception_day_says_why_and_when_it_reopens():
    status = desk().status(at("2026-12-23 10:00"))  # a Wednesday, closed by exception
    assert not status.open_now and status.next_opening == at("2026-12-25 20:00")
    assert status.describe("en") == ("The international desk is closed now. It opens again on "
                                     "Friday 25 December at 20:00. Closed for the holidays.")
    assert status.describe("nl").endswith("vrijdag 25 december om 20:00. Gesloten vanwege de feestdagen.")


def test_exception_with_other_hours_replaces_the_weekly_hours():
    hours = desk()
    assert hours.status(at("2026-12-30 09:30")).next_opening == at("2026-12-30 10:00")
    status = hours.status(at("2026-12-30 10:30"))
    assert status.open_now and status.describe("en") == (
        "The international desk is open now, until 11:00. Short hours today.")


def test_midnight_closing_is_written_24_00():
    assert desk().status(at("2026-11-27 21:00")).describe("nl") == "De international desk is nu open, tot 24:00."


def test_spring_dst_switch():
    # 29 March 2026: 02:00 CET becomes 03:00 CEST. The Sunday 01:00-04:00 period lasts 2 hours.
    hours = desk()
    status = hours.status(at("2026-03-29 01:30"))
    assert status.open_now and status.closes_at == at("2026-03-29 04:00")
    # 01:30 CET is 00:30 UTC; 04:00 CEST is 02:00 UTC: an hour and a half, not two and a half.
    assert status.closes_at - dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.timezone.utc) == dt.timedelta(hours=1, minutes=30)
    # Saturday evening before the switch: the next opening is Sunday 01:00 CET (00:00 UTC).
    assert hours.status(at("2026-03-28 18:00")).next_opening.astimezone(dt.timezone.utc) == \
        dt.datetime(2026, 3, 29, 0, 0, tzinfo=dt.timezone.utc)
    # Monday after the switch opens at 09:00 summer time, which is 07:00 UTC.
    assert hours.status(at("2026-03-29 05:00")).next_opening.astimezone(dt.timezone.utc) == \
        dt.datetime(2026, 3, 30, 7, 0, tzinfo=dt.timezone.utc)


def test_autumn_dst_switch():
    # 25 October 2026: 03:00 CEST becomes 02:00 CET; the Sunday period lasts 4 real hours.
    status = desk().status(dt.datetime(2026, 10, 24, 23, 30, tzinfo=dt.timezone.utc))  # 01:30 CEST
    assert status.open_now
    assert status.closes_at.astimezone(dt.timezone.utc) == dt.datetime(2026, 10, 25, 3, 0, tzinfo=dt.timezone.utc)


def test_a_time_given_in_another_zone_is_read_in_amsterdam_time():
    new_york = dt.timezone(dt.timedelta(hours=-5))
    status = desk().status(dt.datetime(2026, 11, 23, 4, 30, tzinfo=new_york))  # 10:30 in Amsterdam
    assert status.open_now and status.closes_at == at("2026-11-23 12:00")


def test_unverified_hours_are_not_used_and_the_answer_says_so():
    hours = desk(SCHEDULE.replace("verified: true", "verified: false"))
    status = hours.status(at("2026-11-23 10:00"))
    assert not status.known
    assert "not confirmed" in status.describe("en") and "niet bevestigd" in status.describe("nl")


def test_shipped_desk_hours_are_honestly_unknown():
    from bot.knowledge.base import load_knowledge
    from tests.knowledge_fixtures import SHIPPED

    hours = load_knowledge(SHIPPED, today=dt.date(2026, 11, 22)).knowledge.desk_hours
    assert not hours.status(at("2026-11-23 10:00")).known
