"""The international desk's opening hours: one file answers "open now? until when? next?".

Used both for the answer to "when is the desk open?" and for the handover message.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from bot.knowledge.problems import ProblemList, has_errors
from bot.knowledge.yaml_lines import Located

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_NAMES = {
    "en": WEEKDAYS,
    "nl": ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
}
MONTH_NAMES = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "nl": ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
           "september", "oktober", "november", "december"),
}
PERIOD = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")
LOOKAHEAD_DAYS = 60

Period = tuple[dt.time, dt.time | None]  # end None means midnight at the end of the day


@dataclass(frozen=True)
class DeskException:
    periods: tuple[Period, ...]  # empty: closed all day
    message: dict[str, str]


@dataclass(frozen=True)
class DeskHours:
    verified: bool = False
    weekly: dict[int, tuple[Period, ...]] = field(default_factory=dict)
    exceptions: dict[dt.date, DeskException] = field(default_factory=dict)
    location: dict[str, str] = field(default_factory=dict)

    @property
    def known(self) -> bool:
        return self.verified and any(self.weekly.values())

    def periods_on(self, day: dt.date) -> tuple[Period, ...]:
        if day in self.exceptions:
            return self.exceptions[day].periods
        return self.weekly.get(day.weekday(), ())

    def status(self, now: dt.datetime) -> "DeskStatus":
        """Open now and until when, or the next opening, for an aware `now`."""
        if not self.known:
            return DeskStatus(known=False)
        local = now.astimezone(AMSTERDAM)
        today = local.date()
        note = self.exceptions[today].message if today in self.exceptions else {}
        for offset in range(LOOKAHEAD_DAYS):
            day = today + dt.timedelta(days=offset)
            for start_time, end_time in self.periods_on(day):
                start = dt.datetime.combine(day, start_time, tzinfo=AMSTERDAM)
                end = (dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=AMSTERDAM)
                       if end_time is None else dt.datetime.combine(day, end_time, tzinfo=AMSTERDAM))
                if start <= now < end:
                    return DeskStatus(True, open_now=True, closes_at=end, note=note)
                if now < start:
                    return DeskStatus(True, open_now=False, next_opening=start, note=note)
        return DeskStatus(True, open_now=False, note=note)


@dataclass(frozen=True)
class DeskStatus:
    known: bool
    open_now: bool = False
    closes_at: dt.datetime | None = None
    next_opening: dt.datetime | None = None
    note: dict[str, str] = field(default_factory=dict)

    def describe(self, lang: str) -> str:
        """One or two sentences for the newcomer, in `lang` ("en" or "nl")."""
        lang = lang if lang in DAY_NAMES else "en"
        nl = lang == "nl"
        if not self.known:
            return ("De openingstijden van de international desk zijn nog niet bevestigd, dus ik kan "
                    "niet zeggen wanneer hij open is." if nl else
                    "The international desk's opening hours are not confirmed yet, so I can't tell "
                    "you when it is open.")
        if self.open_now:
            text = (f"De international desk is nu open, tot {_closing_clock(self.closes_at)}." if nl else
                    f"The international desk is open now, until {_closing_clock(self.closes_at)}.")
        elif self.next_opening:
            when = _when(self.next_opening, lang)
            text = (f"De international desk is nu gesloten en gaat weer open op {when}." if nl else
                    f"The international desk is closed now. It opens again on {when}.")
        else:
            text = ("De international desk is nu gesloten; er is nog geen nieuwe openingstijd bekend."
                    if nl else "The international desk is closed now; no next opening time is known yet.")
        note = self.note.get(lang)
        return f"{text} {note}" if note else text


def _closing_clock(moment: dt.datetime) -> str:
    local = moment.astimezone(AMSTERDAM)
    return "24:00" if local.time() == dt.time(0) else local.strftime("%H:%M")


def _when(moment: dt.datetime, lang: str) -> str:
    local = moment.astimezone(AMSTERDAM)
    day = DAY_NAMES[lang][local.weekday()]
    month = MONTH_NAMES[lang][local.month - 1]
    if lang == "en":
        day = day.capitalize()
    return f"{day} {local.day} {month} at {local:%H:%M}" if lang == "en" else f"{day} {local.day} {month} om {local:%H:%M}"


def _periods(node: Located, problems: ProblemList, where: str) -> tuple[Period, ...]:
    if node.value is None:
        return ()
    if not isinstance(node.value, list):
        problems.error(node.line, f"{where} must be a list of times like [\"09:00-12:00\"]")
        return ()
    periods = []
    for index, raw in enumerate(node.value):
        line = node.line_of(index)
        match = PERIOD.match(raw) if isinstance(raw, str) else None
        if not match:
            problems.error(line, f"{where}: '{raw}' must look like \"09:00-12:00\"")
            continue
        h1, m1, h2, m2 = map(int, match.groups())
        if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
            problems.error(line, f"{where}: '{raw}' is not a time of day")
            continue
        start, end = dt.time(h1, m1), (None if h2 == 24 else dt.time(h2, m2))
        if end is not None and end <= start:
            problems.error(line, f"{where}: '{raw}' ends before it starts (write 24:00 for midnight)")
            continue
        periods.append((start, end))
    return tuple(sorted(periods, key=lambda p: p[0]))


def _bilingual(node: Located, problems: ProblemList, where: str) -> dict[str, str]:
    if node.value is None:
        return {}
    if not isinstance(node.value, dict) or not all(
            isinstance(node.value.get(lang), str) and node.value[lang].strip() for lang in ("en", "nl")):
        problems.error(node.line, f"{where} needs an 'en' and an 'nl' text")
        return {}
    return {lang: node.value[lang].strip() for lang in ("en", "nl")}


def parse_desk_hours(doc: Located, problems: ProblemList) -> DeskHours | None:
    if not isinstance(doc.value, dict):
        problems.error(doc.line, "desk hours must have 'verified', 'weekly', 'exceptions' and 'location'")
        return None
    verified = doc.value.get("verified", False)
    if not isinstance(verified, bool):
        problems.error(doc.line_of("verified"), "verified must be true or false")
    weekly_node = doc.child("weekly")
    weekly: dict[int, tuple[Period, ...]] = {}
    if weekly_node.value is not None and not isinstance(weekly_node.value, dict):
        problems.error(weekly_node.line, "weekly must list days, like 'monday: [\"09:00-12:00\"]'")
    for day, child in weekly_node.children.items():
        if day not in WEEKDAYS:
            problems.error(weekly_node.line_of(day), f"'{day}' is not a day; use {', '.join(WEEKDAYS)}")
            continue
        weekly[WEEKDAYS.index(day)] = _periods(child, problems, day)
    if verified is True and not any(weekly.values()):
        problems.error(doc.line_of("verified"), "verified is true but no weekly hours are filled in")
    if verified is not True and any(weekly.values()):
        problems.unverified(weekly_node.line, "the weekly hours are filled in but not marked verified: true, so they are not shown")

    exceptions: dict[dt.date, DeskException] = {}
    exceptions_node = doc.child("exceptions")
    for index, item in exceptions_node.children.items():
        line = exceptions_node.line_of(index)
        day = item.value.get("date") if isinstance(item.value, dict) else None
        if not isinstance(day, dt.date):
            problems.error(line, "each exception needs a date written YYYY-MM-DD")
            continue
        closed = item.value.get("closed", False)
        periods = _periods(item.child("hours"), problems, f"exception {day}")
        if closed is not True and not periods:
            problems.error(line, f"exception {day}: say 'closed: true' or give 'hours'")
        if day in exceptions:
            problems.error(line, f"exception {day} is listed twice")
        message = _bilingual(item.child("message"), problems, f"exception {day} message")
        exceptions[day] = DeskException(() if closed is True else periods, message)

    location = _bilingual(doc.child("location"), problems, "location")
    if not location:
        problems.error(doc.line_of("location"), "location needs an 'en' and an 'nl' text")
    if has_errors(problems):
        return None
    if not verified:
        problems.unverified(doc.line_of("verified"), "the desk's opening hours are not confirmed (verified: false)")
    return DeskHours(verified is True, weekly, exceptions, location)
