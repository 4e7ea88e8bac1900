"""Knowledge entries: one YAML file each, English and Dutch side by side, validated by line."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from bot.knowledge.problems import ProblemList, has_errors
from bot.knowledge.topics import SAFETY_TOPICS, TOPICS
from bot.knowledge.yaml_lines import Located

ANSWER_LANGUAGES = ("en", "nl")
MAX_ANSWER_CHARS = 700
PLACEHOLDERS = {"desk_status"}
ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")
REQUIRED = ("id", "topic", "owner", "last_reviewed", "review_by", "sources", "en", "nl")
KNOWN_FIELDS = set(REQUIRED) | {"links", "unverified", "other_questions", "triggers"}


@dataclass(frozen=True)
class LocalText:
    title: str
    answer: str
    questions: tuple[str, ...]


@dataclass(frozen=True)
class Entry:
    id: str
    topic: str
    owner: str
    last_reviewed: dt.date
    review_by: dt.date
    sources: tuple[str, ...]
    links: tuple[str, ...]
    unverified: tuple[str, ...]
    texts: dict[str, LocalText]  # "en" and "nl"
    other_questions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    triggers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    path: Path = Path()

    @property
    def is_safety(self) -> bool:
        return self.topic in SAFETY_TOPICS

    def questions_by_language(self) -> dict[str, tuple[str, ...]]:
        questions = {lang: text.questions for lang, text in self.texts.items()}
        questions.update(self.other_questions)
        return questions


# Letters that Unicode does not decompose into a base letter and an accent, as newcomers
# type them on a keyboard without them: Polish "zgłosić kradzież" is typed "zglosic kradziez".
UNDECOMPOSED = str.maketrans({"ł": "l", "đ": "d", "ø": "o", "ı": "i", "ħ": "h", "ŧ": "t",
                              "ß": "ss", "æ": "ae", "œ": "oe"})


def normalise(text: str) -> str:
    """Lower case without accents, for matching triggers whatever the keyboard."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(UNDECOMPOSED))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def is_url(value: object) -> bool:
    if not isinstance(value, str) or any(ch.isspace() for ch in value):
        return False
    parsed = urlparse(value)
    return parsed.scheme in ("http", "https") and "." in parsed.netloc


def _text(doc: Located, key: str, problems: ProblemList, where: str) -> str | None:
    value = doc.value.get(key) if isinstance(doc.value, dict) else None
    if value is None:
        problems.error(doc.line, f"{where}{key} is missing")
        return None
    if not isinstance(value, str) or not value.strip():
        problems.error(doc.line_of(key), f"{where}{key} must be some text, not left empty")
        return None
    return value.strip()


def _string_list(node: Located, problems: ProblemList, what: str, allow_empty: bool) -> tuple:
    if node.value is None and allow_empty:
        return ()
    if not isinstance(node.value, list) or (not node.value and not allow_empty):
        problems.error(node.line, f"{what} must be a list with at least one item (lines starting with '- ')")
        return ()
    items = []
    for index, item in enumerate(node.value):
        if not isinstance(item, str) or not item.strip():
            problems.error(node.line_of(index), f"{what}: item {index + 1} must be text, not empty")
        else:
            items.append(item.strip())
    return tuple(items)


def _urls(doc: Located, key: str, problems: ProblemList, required: bool) -> tuple[str, ...]:
    node = doc.child(key)
    urls = _string_list(node, problems, key, allow_empty=not required)
    for index, url in enumerate(urls):
        if not is_url(url):
            problems.error(node.line_of(index),
                           f"{key}: '{url}' is not a web address (it must start with https:// or http://)")
    return urls


def _date(doc: Located, key: str, problems: ProblemList) -> dt.date | None:
    value = doc.value.get(key)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if value is not None:
        problems.error(doc.line_of(key), f"{key} must be a date written YYYY-MM-DD, like 2026-11-22 (found '{value}')")
    return None


def _local_text(doc: Located, lang: str, problems: ProblemList) -> LocalText | None:
    section = doc.child(lang)
    if not isinstance(section.value, dict):
        problems.error(section.line, f"'{lang}' must contain title, answer and questions")
        return None
    title = _text(section, "title", problems, f"{lang}.")
    answer = _text(section, "answer", problems, f"{lang}.")
    questions = _string_list(section.child("questions"), problems, f"{lang}.questions", allow_empty=False)
    if answer is not None:
        if len(answer) > MAX_ANSWER_CHARS:
            problems.error(section.line_of("answer"),
                           f"{lang}.answer is {len(answer)} characters; keep it under {MAX_ANSWER_CHARS} (it is read on a phone)")
        for name in re.findall(r"\{([^{}]*)\}", answer):
            if name not in PLACEHOLDERS:
                problems.error(section.line_of("answer"),
                               f"{lang}.answer uses {{{name}}}, but the only placeholder is {{desk_status}}")
    if title is None or answer is None or not questions:
        return None
    return LocalText(title, answer, questions)


def _per_language_lists(doc: Located, key: str, problems: ProblemList) -> dict[str, tuple[str, ...]]:
    node = doc.child(key)
    if node.value is None:
        return {}
    if not isinstance(node.value, dict):
        problems.error(node.line, f"{key} must list phrases per language code, e.g. 'tr:'")
        return {}
    result = {}
    for lang, child in node.children.items():
        if lang is False:  # YAML reads an unquoted `no:` as false
            problems.error(node.line_of(lang), f"{key}: write Norwegian as 'nb' ('no' reads as false)")
            continue
        if not isinstance(lang, str) or not LANGUAGE_CODE.match(lang):
            problems.error(node.line_of(lang), f"{key}: '{lang}' is not a language code like 'tr' or 'hi'")
            continue
        result[lang] = _string_list(child, problems, f"{key}.{lang}", allow_empty=False)
    return result


def _warn_repeated_triggers(node: Located, triggers: dict[str, tuple[str, ...]], problems: ProblemList) -> None:
    """A phrase that is another of its language once capitals and accents are ignored: the
    gate matches the two as one (see `normalise`), so the copy only makes the list longer."""
    for lang, phrases in triggers.items():
        first: dict[str, str] = {}
        for index, phrase in enumerate(phrases):
            key = normalise(phrase)
            if key in first:
                problems.warning(node.child(lang).line_of(index),
                                 f"triggers.{lang}: '{phrase}' is '{first[key]}' again once capitals and accents are ignored: keep one")
            else:
                first[key] = phrase


def parse_entry(doc: Located, problems: ProblemList, today: dt.date) -> Entry | None:
    """Validate one parsed file; every problem goes into `problems` with its line."""
    if not isinstance(doc.value, dict):
        problems.error(doc.line, "the file must be a list of fields such as 'id: ...' and 'topic: ...'")
        return None
    fields = doc.value
    for key in REQUIRED:
        if key not in fields:
            problems.error(1, f"'{key}' is missing")
    for key in fields:
        if key not in KNOWN_FIELDS:
            problems.warning(doc.line_of(key), f"unknown field '{key}' is ignored (spelling?)")

    entry_id = fields.get("id")
    if "id" in fields and not (isinstance(entry_id, str) and ID_PATTERN.match(entry_id)):
        problems.error(doc.line_of("id"), f"id '{entry_id}' may only use lower-case letters, digits and dashes")
    topic = fields.get("topic")
    if "topic" in fields and topic not in TOPICS:
        problems.error(doc.line_of("topic"), f"topic '{topic}' is not in the topic list: {', '.join(TOPICS)}")
    owner = _text(doc, "owner", problems, "") if "owner" in fields else None

    last_reviewed = _date(doc, "last_reviewed", problems)
    review_by = _date(doc, "review_by", problems)
    if last_reviewed and review_by and review_by < last_reviewed:
        problems.error(doc.line_of("review_by"), "review_by is before last_reviewed")
    if review_by and review_by < today:
        problems.warning(doc.line_of("review_by"), f"review overdue since {review_by.isoformat()}: check the facts and update the dates")

    sources = _urls(doc, "sources", problems, required="sources" in fields)
    links = _urls(doc, "links", problems, required=False)
    unverified_node = doc.child("unverified")
    unverified = _string_list(unverified_node, problems, "unverified", allow_empty=True)
    for index, statement in enumerate(unverified):
        problems.unverified(unverified_node.line_of(index), statement)

    texts = {lang: _local_text(doc, lang, problems) for lang in ANSWER_LANGUAGES if lang in fields}
    other_questions = _per_language_lists(doc, "other_questions", problems)
    triggers = _per_language_lists(doc, "triggers", problems)
    if topic in SAFETY_TOPICS and not triggers:
        problems.error(doc.line_of("topic"), f"a {topic} entry needs 'triggers' (phrases that must always reach it)")
    if triggers and topic not in SAFETY_TOPICS:
        problems.error(doc.line_of("triggers"), "only emergency, urgent_medical and crisis_support entries may have triggers")
    _warn_repeated_triggers(doc.child("triggers"), triggers, problems)

    if has_errors(problems):
        return None
    return Entry(
        id=entry_id, topic=topic, owner=owner, last_reviewed=last_reviewed, review_by=review_by,
        sources=sources, links=links, unverified=unverified, texts=texts,
        other_questions=other_questions,
        triggers={lang: tuple(normalise(t) for t in phrases) for lang, phrases in triggers.items()},
        path=problems.path,
    )
