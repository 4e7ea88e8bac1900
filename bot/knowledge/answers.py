"""An entry's answer as the newcomer reads it: placeholders filled in, links underneath."""

from __future__ import annotations

import datetime as dt

from bot.knowledge.desk_hours import DeskHours
from bot.knowledge.entries import Entry


def render_answer(entry: Entry, lang: str, desk_hours: DeskHours, now: dt.datetime) -> str:
    """The answer in `lang` (English when the entry has no such language), with its links."""
    text = entry.texts.get(lang) or entry.texts["en"]
    status = desk_hours.status(now).describe(lang if lang in entry.texts else "en")
    answer = text.answer.replace("{desk_status}", status)
    return "\n".join([answer, *entry.links])
