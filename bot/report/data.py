"""The figures of the staff report, read from the conversation store. No user ids, and every
text that leaves this module is masked (numbers, e-mail addresses, postcodes, names)."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np

from bot.knowledge.base import KnowledgeBase
from bot.store import Store

ANSWERED = ("answer", "safety")
QUESTION_ACTIONS = ("answer", "safety", "clarify", "fallback", "handover")
NO_TOPIC = "(no entry)"
UNKNOWN_LANGUAGE = "unknown"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_POSTCODE = re.compile(r"\b\d{4}\s?[A-Za-z]{2}\b")
_PHONE = re.compile(r"(?:\+|\b00)?\d[\d\s().\-/]{6,}\d")
_DIGITS = re.compile(r"\d{4,}")
_NAME = re.compile(r"((?i:my name is|i am called|ik heet|mijn naam is)\s+)"
                   r"([A-ZÀ-ÖØ-Þ][\w'’-]*(?:\s+(?:(?:van|de|der|den|te|ten|von|da|di|el|al|bin)\s+)*[A-ZÀ-ÖØ-Þ][\w'’-]*)*)")


def mask(text: str) -> str:
    """The text without what could identify a person: names after "my name is"/"ik heet",
    e-mail addresses, postcodes, phone numbers and any run of 4 or more digits."""
    text = _NAME.sub(lambda m: m.group(1) + "[name]", text)
    text = _EMAIL.sub("[e-mail]", text)
    text = _PHONE.sub(lambda m: "[phone]" if sum(c.isdigit() for c in m.group()) >= 8 else m.group(), text)
    text = _POSTCODE.sub("[postcode]", text)
    return _DIGITS.sub("####", text)


@dataclass(frozen=True)
class Unanswered:
    day: str  # YYYY-MM-DD (UTC)
    language: str
    text: str  # masked
    reason: str  # fallback | clarify | handover | not helpful
    entry: str | None = None  # the entry answered, when the newcomer said it did not help


@dataclass(frozen=True)
class EntryFeedback:
    entry: str
    title: str
    yes: int
    no: int


@dataclass(frozen=True)
class ReplyTimes:
    handovers: int
    replied: int
    median_minutes: float | None
    p90_minutes: float | None


@dataclass
class ReportData:
    since: str | None
    until: str | None
    generated_at: str
    messages: int = 0
    conversations: int = 0
    conversations_without_volunteer: int = 0
    questions: int = 0  # messages the assistant tried to answer (answer, clarify, fallback, handover, safety)
    questions_answered: int = 0
    messages_per_day: dict[str, int] = field(default_factory=dict)
    topic_per_day: dict[str, dict[str, int]] = field(default_factory=dict)
    per_topic: dict[str, int] = field(default_factory=dict)
    per_language: dict[str, int] = field(default_factory=dict)
    per_action: dict[str, int] = field(default_factory=dict)
    handovers_per_day: dict[str, int] = field(default_factory=dict)
    reply_times: dict[str, ReplyTimes] = field(default_factory=dict)  # desk open | desk closed | hours not confirmed
    feedback: list[EntryFeedback] = field(default_factory=list)  # worst first
    unanswered: list[Unanswered] = field(default_factory=list)
    overdue: list[dict] = field(default_factory=list)  # id, title, review_by
    unverified: list[dict] = field(default_factory=list)  # id, title, statements
    never_answered: list[dict] = field(default_factory=list)  # id, title, topic
    desk_hours: dict = field(default_factory=dict)  # verified, known, open_now

    @property
    def share_answered(self) -> float | None:
        return self.questions_answered / self.questions if self.questions else None

    @property
    def share_without_volunteer(self) -> float | None:
        return self.conversations_without_volunteer / self.conversations if self.conversations else None


def _in_period(day: str, since: dt.date | None, until: dt.date | None) -> bool:
    return (since is None or day >= since.isoformat()) and (until is None or day <= until.isoformat())


def _language(row: dict) -> str:
    return row["language"] or row["chosen_language"] or UNKNOWN_LANGUAGE


def collect(store: Store, knowledge: KnowledgeBase, since: dt.date | None = None,
            until: dt.date | None = None, today: dt.date | None = None) -> ReportData:
    """Everything the report shows for the days `since`..`until` (inclusive, UTC days)."""
    today = today or store.clock().date()
    data = ReportData(since and since.isoformat(), until and until.isoformat(), store.now())
    inside = lambda day: _in_period(day, since, until)  # noqa: E731

    # Incoming messages with their conversation's language; user_ref is never read.
    rows = [dict(zip(("id", "conversation_id", "text", "action", "entry", "at", "language", "chosen_language"), r))
            for r in store.db.execute(
                "select m.id, m.conversation_id, m.text, m.action, m.entry, m.at, c.language, c.chosen_language "
                "from messages m join conversations c on c.id = m.conversation_id "
                "where m.direction = 'in' order by m.conversation_id, m.id")]
    counted = [(r["at"][:10], _language(r), r["action"] or "", r["entry"] or "", 1) for r in rows if inside(r["at"][:10])]
    counted += [(r["day"], r["language"] or UNKNOWN_LANGUAGE, r["action"] or "", r["entry"] or "", r["messages"])
                for r in store.db["daily_counts"].rows if inside(r["day"])]

    per_day, per_topic, per_language, per_action = Counter(), Counter(), Counter(), Counter()
    topic_per_day: dict[str, Counter] = defaultdict(Counter)
    answered_entries: set[str] = set()
    for day, language, action, entry, count in counted:
        topic = knowledge.by_id[entry].topic if entry in knowledge.by_id else (NO_TOPIC if not entry else "(removed entry)")
        per_day[day] += count
        per_topic[topic] += count
        per_language[language] += count
        per_action[action or "unknown"] += count
        topic_per_day[day][topic] += count
        if action in QUESTION_ACTIONS:
            data.questions += count
            data.questions_answered += count if action in ANSWERED else 0
        if action in ANSWERED and entry:
            answered_entries.add(entry)
    data.messages = sum(per_day.values())
    data.messages_per_day = dict(sorted(per_day.items()))
    data.topic_per_day = {day: dict(topic_per_day[day]) for day in sorted(topic_per_day)}
    data.per_topic = dict(per_topic.most_common())
    data.per_language = dict(per_language.most_common())
    data.per_action = dict(per_action.most_common())

    # Conversations, unanswered messages and "did this help?" (per conversation, in order).
    by_conversation: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        by_conversation[row["conversation_id"]].append(row)
    handovers = [h for h in store.db["handovers"].rows if inside(h["opened_at"][:10])]
    with_handover = {h["conversation_id"] for h in handovers}
    feedback: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for conversation_id, messages in by_conversation.items():
        if not any(inside(m["at"][:10]) for m in messages):
            continue
        data.conversations += 1
        data.conversations_without_volunteer += conversation_id not in with_handover
        for index, message in enumerate(messages):
            if not inside(message["at"][:10]):
                continue
            following = messages[index + 1] if index + 1 < len(messages) else None
            text, action = (message["text"] or "").strip(), message["action"]
            if text in ("/affirm", "/deny") and index > 0:
                previous = messages[index - 1]
                if previous["action"] == "answer" and previous["entry"]:
                    feedback[previous["entry"]][text == "/deny"] += 1
            if text.startswith("/") or not text:
                continue  # a button or command: not something the newcomer wrote
            reason = None
            if action == "fallback":
                reason = "fallback"
            elif action == "handover":
                reason = "handover"
            elif action == "clarify" and not (following and following["action"] in ANSWERED):
                reason = "clarify"
            elif action == "answer" and following and (following["text"] or "").strip() == "/deny":
                reason = "not helpful"
            if reason:
                data.unanswered.append(Unanswered(
                    message["at"][:10], _language(message), mask(text), reason,
                    message["entry"] if reason == "not helpful" else None))

    def title(entry_id: str) -> str:
        entry = knowledge.by_id.get(entry_id)
        return entry.texts["en"].title if entry else entry_id

    data.feedback = sorted(
        (EntryFeedback(entry, title(entry), yes, no) for entry, (yes, no) in feedback.items()),
        key=lambda f: (f.yes / (f.yes + f.no), -f.no, f.entry))

    # Handovers and the time to a volunteer's first reply, inside and outside desk hours.
    data.handovers_per_day = dict(sorted(Counter(h["opened_at"][:10] for h in handovers).items()))
    minutes: dict[str, list[float]] = defaultdict(list)
    totals: Counter = Counter()
    for handover in handovers:
        opened = dt.datetime.fromisoformat(handover["opened_at"])
        status = knowledge.desk_hours.status(opened) if knowledge.desk_hours else None
        bucket = ("hours not confirmed" if not (status and status.known)
                  else "desk open" if status.open_now else "desk closed")
        totals[bucket] += 1
        if handover["first_reply_at"]:
            waited = dt.datetime.fromisoformat(handover["first_reply_at"]) - opened
            minutes[bucket].append(waited.total_seconds() / 60)
    for bucket in totals:
        values = np.array(minutes[bucket]) if minutes[bucket] else None
        data.reply_times[bucket] = ReplyTimes(
            totals[bucket], len(minutes[bucket]),
            round(float(np.median(values)), 1) if values is not None else None,
            round(float(np.percentile(values, 90)), 1) if values is not None else None)

    # Knowledge health.
    for entry in sorted(knowledge.entries, key=lambda e: e.id):
        if entry.review_by < today:
            data.overdue.append({"id": entry.id, "title": title(entry.id), "review_by": entry.review_by.isoformat()})
        if entry.unverified:
            data.unverified.append({"id": entry.id, "title": title(entry.id), "statements": list(entry.unverified)})
        if entry.id not in answered_entries:
            data.never_answered.append({"id": entry.id, "title": title(entry.id), "topic": entry.topic})
    desk = knowledge.desk_hours
    data.desk_hours = {"verified": bool(desk and desk.verified), "known": bool(desk and desk.known),
                       "open_now": bool(desk and desk.status(store.clock()).open_now)}
    return data
