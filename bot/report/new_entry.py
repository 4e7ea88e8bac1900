"""Start a knowledge entry from a group of unanswered messages (`wegwijs kb new --from-group N`).

The file has the format of every entry, its questions are the group's messages, and every text
still to be written says "TO FILL IN". It is written to knowledge/drafts/, which the assistant
does not load: `wegwijs kb check` lists it as a draft, and once it is completed and moved to
knowledge/entries/, checks it like every entry (a `sources` line that is not a web address yet
is an error) and the running assistant picks it up."""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from pathlib import Path

from bot.knowledge.topics import SAFETY_TOPICS
from bot.report.groups import Group

TO_FILL_IN = "TO FILL IN"
DRAFTS_FOLDER = "drafts"  # beside entries/: not loaded until moved there
MAX_SLUG_WORDS = 6


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    words = [w for w in re.findall(r"[a-z0-9]+", ascii_text)][:MAX_SLUG_WORDS]
    return "-".join(words) or "question"


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted string


def _list(items: list[str], indent: str) -> str:
    return "".join(f"{indent}- {_quoted(item)}\n" for item in items)


def new_entry_from_group(group: Group, knowledge_dir: Path, today: dt.date | None = None) -> Path:
    """Write knowledge/drafts/new-<slug>.yaml for the group and return its path (never overwrites)."""
    today = today or dt.date.today()
    folder = knowledge_dir / DRAFTS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    slug = f"new-{_slug(group.examples[0] if group.examples else '')}"
    entry_id, number = slug, 2
    while (folder / f"{entry_id}.yaml").exists():
        entry_id, number = f"{slug}-{number}", number + 1
    topic = group.nearest_topic if group.nearest_topic and group.nearest_topic not in SAFETY_TOPICS else "referral"

    by_language: dict[str, list[str]] = {}
    for language, text in group.questions or [("en", text) for text in group.examples]:
        language = language if re.fullmatch(r"[a-z]{2,3}", language) else "en"  # "unknown": with English
        by_language.setdefault(language, []).append(text)
    english = by_language.pop("en", []) or [f"{TO_FILL_IN}: how a newcomer asks this in English"]
    dutch = by_language.pop("nl", []) or [f"{TO_FILL_IN}: hoe een nieuwkomer dit in het Nederlands vraagt"]
    other = by_language

    nearest = (f"# Closest existing entry: {group.nearest_entry} (similarity {group.nearest_score:.2f}).\n"
               if group.nearest_entry else "")
    text = (
        f"# Started by `wegwijs report` from group {group.number} ({group.size} messages nobody answered).\n"
        f"{nearest}"
        f"# Replace every '{TO_FILL_IN}' and check the topic; `wegwijs kb check` reports this file until then.\n"
        f"id: {entry_id}\n"
        f"topic: {topic}\n"
        f"owner: {_quoted(TO_FILL_IN + ': who keeps this entry correct')}\n"
        f"last_reviewed: {today.isoformat()}\n"
        f"review_by: {(today + dt.timedelta(days=182)).isoformat()}\n"
        "sources:\n"
        f"  - {_quoted(TO_FILL_IN + ': a web page (https://...) that backs the facts')}\n"
        "links: []\n"
        "unverified: []\n"
        "en:\n"
        f"  title: {_quoted(TO_FILL_IN + ': a short title')}\n"
        f"  answer: {_quoted(TO_FILL_IN + ': the answer in English (at most 700 characters)')}\n"
        "  questions:\n" + _list(english, "    ") +
        "nl:\n"
        f"  title: {_quoted(TO_FILL_IN + ': een korte titel')}\n"
        f"  answer: {_quoted(TO_FILL_IN + ': het antwoord in het Nederlands (hoogstens 700 tekens)')}\n"
        "  questions:\n" + _list(dutch, "    ")
    )
    if other:
        text += "other_questions:\n" + "".join(f"  {lang}:\n" + _list(texts, "    ") for lang, texts in other.items())
    path = folder / f"{entry_id}.yaml"
    path.write_text(text, encoding="utf-8")
    return path
