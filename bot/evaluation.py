"""Evaluations over the question set in tests/data/ (printed figures, not pass/fail tests)."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from bot.knowledge.retrieval import Retriever
from bot.knowledge.topics import SAFETY_TOPICS
from bot.settings import PROJECT_ROOT

DEFAULT_QUESTIONS = PROJECT_ROOT / "tests" / "data" / "eval_questions.yaml"


@dataclass
class Score:
    questions: int = 0
    top1: int = 0
    top3: int = 0

    def line(self, name: str) -> str:
        return (f"{name:<8} {self.questions:>5} {100 * self.top1 / self.questions:>7.1f} "
                f"{100 * self.top3 / self.questions:>7.1f}")


def load_questions(path: Path = DEFAULT_QUESTIONS) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def evaluate_retrieval(retriever: Retriever, questions: list[dict]) -> dict[str, Score]:
    """Top-1 and top-3 entry accuracy per language, over the knowledge questions."""
    scores: dict[str, Score] = defaultdict(Score)
    for question in questions:
        if "entry" not in question:
            continue
        found = [hit.entry.id for hit in retriever.search(question["text"], limit=3)]
        for key in (question["lang"], "all"):
            score = scores[key]
            score.questions += 1
            score.top1 += found[0] in question["entry"]
            score.top3 += bool(set(found) & set(question["entry"]))
    return dict(scores)


def format_retrieval(scores: dict[str, Score]) -> str:
    order = ["en", "nl"] + sorted(set(scores) - {"en", "nl", "all"}) + ["all"]
    lines = [f"{'language':<8} {'n':>5} {'top-1 %':>7} {'top-3 %':>7}"]
    lines += [scores[lang].line(lang) for lang in order if lang in scores]
    return "\n".join(lines)


@dataclass
class Rate:
    hits: int = 0
    total: int = 0

    def add(self, hit: bool) -> None:
        self.hits += hit
        self.total += 1

    def cell(self) -> str:
        return f"{100 * self.hits / self.total:5.1f} ({self.total:>3})" if self.total else f"{'-':>11}"


@dataclass
class ConversationScores:
    """Per language: what the full pipeline did with each first message."""

    direct: Rate = field(default_factory=Rate)  # knowledge question -> answered with the right topic
    clarify: Rate = field(default_factory=Rate)  # knowledge question -> a clarifying question
    declined: Rate = field(default_factory=Rate)  # knowledge question -> declined or handed over
    wrong: Rate = field(default_factory=Rate)  # knowledge or out-of-scope message -> a wrong answer
    safety: Rate = field(default_factory=Rate)  # safety question -> action safety
    handover: Rate = field(default_factory=Rate)  # explicit request for a human -> handover
    out_of_scope: Rate = field(default_factory=Rate)  # unrelated -> declined (fallback)
    smalltalk: Rate = field(default_factory=Rate)  # greeting, thanks, bye, bot? -> smalltalk
    latencies: list[float] = field(default_factory=list)

    METRICS = ("direct", "clarify", "declined", "wrong", "safety", "handover", "out_of_scope", "smalltalk")
    # What went wrong instead of a direct answer: a miss of "direct" already lists them.
    FAILURES = frozenset({"clarify", "declined", "wrong"})


ANSWERED = ("answer", "safety")


def judge_turn(question: dict, turn, topics: dict[str, str]) -> dict[str, bool]:
    """What each metric that applies to a labelled question makes of its turn: metric -> hit."""
    if "entry" in question:
        expected_topics = {topics[entry_id] for entry_id in question["entry"]}
        right = turn.topic in expected_topics
        verdicts = {
            "direct": turn.action in ANSWERED and right,
            "clarify": turn.action == "clarify",
            "declined": turn.action not in (*ANSWERED, "clarify"),
            "wrong": turn.action in ANSWERED and not right,
        }
        if expected_topics <= SAFETY_TOPICS:
            verdicts["safety"] = turn.action == "safety"
        return verdicts
    if question["expect"] == "out_of_scope":
        return {"out_of_scope": turn.action == "fallback", "wrong": turn.action in ANSWERED}
    expected_action = {"handover": "handover", "smalltalk": "smalltalk"}
    return {question["expect"]: turn.action == expected_action[question["expect"]]}


@dataclass
class Miss:
    metric: str
    question: dict
    action: str
    topic: str | None


@dataclass
class ConversationRun:
    scores: dict[str, ConversationScores]  # per language, and "all"
    misses: list[Miss]


def _language_keys(question: dict) -> tuple[str, ...]:
    group = () if question["lang"] in ("en", "nl") else ("other",)
    return (question["lang"], *group, "all")


def _score(questions: list[dict], turns: list, topics: dict[str, str]) -> ConversationRun:
    scores: dict[str, ConversationScores] = defaultdict(ConversationScores)
    misses = []
    for question, turn in zip(questions, turns):
        verdicts = judge_turn(question, turn, topics)
        for key in _language_keys(question):
            scores[key].latencies.append(turn.latency_ms)
            for metric, hit in verdicts.items():
                getattr(scores[key], metric).add(hit)
        misses += [Miss(metric, question, turn.action, turn.topic) for metric, hit in verdicts.items()
                   if not hit and metric not in ConversationScores.FAILURES]
    return ConversationRun(dict(scores), misses)


async def evaluate_conversation(engine, questions: list[dict]) -> ConversationRun:
    """Each question as the first message of a fresh conversation, through the whole engine."""
    topics = {entry.id: entry.topic for entry in engine.knowledge.retriever.entries}
    await engine.handle("eval", "warm-up", "hello")  # first-call costs are not a message's latency
    turns = [await engine.handle("eval", f"q{number}", question["text"])
             for number, question in enumerate(questions)]
    return _score(questions, turns, topics)


@dataclass(frozen=True)
class RetrieverTurn:
    action: str
    topic: str
    latency_ms: float


def evaluate_plain_retriever(retriever: Retriever, questions: list[dict]) -> ConversationRun:
    """The plain retriever as a peer: every message answered with its best entry."""
    topics = {entry.id: entry.topic for entry in retriever.entries}
    turns = []
    for question in questions:
        started = time.perf_counter()
        best = retriever.search(question["text"], limit=1)[0].entry
        turns.append(RetrieverTurn("safety" if best.is_safety else "answer", best.topic,
                                   (time.perf_counter() - started) * 1000))
    return _score(questions, turns, topics)


def format_misses(misses: list[Miss]) -> str:
    """One line per missed question, grouped by metric: what was expected and what happened."""
    lines = []
    for metric in ConversationScores.METRICS:
        for miss in (m for m in misses if m.metric == metric):
            expected = ", ".join(miss.question.get("entry", [])) or miss.question["expect"]
            got = f"{miss.action} {miss.topic}" if miss.topic else miss.action
            lines.append(f"{metric:<12} {miss.question['lang']:<3} {miss.question['text']!r}: "
                         f"expected {expected}, got {got}")
    return "\n".join(lines)


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def format_conversation(runs: dict[str, ConversationRun], by_language: bool = False) -> str:
    """One block per metric: rows English, Dutch, the other languages (each of them too with
    `by_language`) and all; a column per pipeline (percent, (n))."""
    runs = {name: run.scores for name, run in runs.items()}
    names = list(runs)
    languages = sorted({lang for run in runs.values() for lang in run} - {"en", "nl", "other", "all"})
    order = ["en", "nl", *(languages if by_language else []), "other", "all"]
    header = f"{'':<10}" + "".join(f"{name:>14}" for name in names)
    lines = []
    for metric in ConversationScores.METRICS:
        lines += ["", f"{METRIC_TITLES[metric]} (%, n)", header]
        for lang in order:
            cells = [getattr(runs[name][lang], metric).cell() if lang in runs[name] else f"{'-':>11}"
                     for name in names]
            if any(cell.strip() != "-" for cell in cells):
                lines.append(f"{lang:<10}" + "".join(f"{cell:>14}" for cell in cells))
    lines += ["", "latency per message, warm process (ms)", header]
    for q in (50, 95):
        lines.append(f"{'p' + str(q):<10}" + "".join(
            f"{_percentile(runs[name]['all'].latencies, q):>14.1f}" for name in names))
    return "\n".join(lines).lstrip("\n")


METRIC_TITLES = {
    "direct": "answered directly with the right topic, knowledge questions (the headline)",
    "clarify": "a clarifying question instead, knowledge questions",
    "declined": "declined or handed over instead, knowledge questions",
    "wrong": "WRONG ANSWERS: another topic's entry, or an out-of-scope message answered",
    "safety": "safety recall",
    "handover": "handover recall, explicit requests for a human",
    "out_of_scope": "out of scope declined",
    "smalltalk": "small talk recognised",
}
