"""Evaluations over the question set in tests/data/ (printed figures, not pass/fail tests)."""

from __future__ import annotations

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

    topic: Rate = field(default_factory=Rate)  # knowledge question -> the right topic (answer/safety/clarify)
    direct: Rate = field(default_factory=Rate)  # knowledge question -> answered without clarifying
    safety: Rate = field(default_factory=Rate)  # safety question -> action safety
    handover: Rate = field(default_factory=Rate)  # explicit request for a human -> handover
    out_of_scope: Rate = field(default_factory=Rate)  # unrelated -> declined (fallback)
    smalltalk: Rate = field(default_factory=Rate)  # greeting, thanks, bye, bot? -> smalltalk
    latencies: list[float] = field(default_factory=list)

    METRICS = ("topic", "direct", "safety", "handover", "out_of_scope", "smalltalk")


def judge_turn(question: dict, turn, topics: dict[str, str]) -> dict[str, bool]:
    """What each metric that applies to a labelled question makes of its turn: metric -> hit."""
    if "entry" in question:
        expected_topics = {topics[entry_id] for entry_id in question["entry"]}
        verdicts = {
            "topic": turn.action in ("answer", "safety", "clarify") and turn.topic in expected_topics,
            "direct": turn.action in ("answer", "safety") and turn.topic in expected_topics,
        }
        if expected_topics <= SAFETY_TOPICS:
            verdicts["safety"] = turn.action == "safety"
        return verdicts
    expected_action = {"handover": "handover", "out_of_scope": "fallback", "smalltalk": "smalltalk"}
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


async def evaluate_conversation(engine, questions: list[dict]) -> ConversationRun:
    """Each question as the first message of a fresh conversation, through the whole engine."""
    topics = {entry.id: entry.topic for entry in engine.knowledge.retriever.entries}
    await engine.handle("eval", "warm-up", "hello")  # first-call costs are not a message's latency
    scores: dict[str, ConversationScores] = defaultdict(ConversationScores)
    misses = []
    for number, question in enumerate(questions):
        turn = await engine.handle("eval", f"q{number}", question["text"])
        verdicts = judge_turn(question, turn, topics)
        for key in (question["lang"], "all"):
            scores[key].latencies.append(turn.latency_ms)
            for metric, hit in verdicts.items():
                getattr(scores[key], metric).add(hit)
        misses += [Miss(metric, question, turn.action, turn.topic)
                   for metric, hit in verdicts.items() if not hit]
    return ConversationRun(dict(scores), misses)


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


def format_conversation(runs: dict[str, ConversationRun]) -> str:
    """One block per metric: a row per language, a column per pipeline (percent, (n))."""
    runs = {name: run.scores for name, run in runs.items()}
    names = list(runs)
    languages = sorted({lang for run in runs.values() for lang in run} - {"en", "nl", "all"})
    order = ["en", "nl", *languages, "all"]
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
    "topic": "answer-topic accuracy, knowledge questions",
    "direct": "answered directly with the right topic (no clarifying question)",
    "safety": "safety recall",
    "handover": "handover recall, explicit requests for a human",
    "out_of_scope": "out of scope correctly declined",
    "smalltalk": "small talk recognised",
}
