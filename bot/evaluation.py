"""Evaluations over the question set in tests/data/ (printed figures, not pass/fail tests)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.knowledge.retrieval import Retriever
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
