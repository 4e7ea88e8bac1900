"""Fitting the decision layer (bot/conversation/decision.py) on labelled messages.

The labelled messages are the question sets in tests/data/ that we have developed on; the
locked set (tests/data/locked_questions.yaml) is never read here. Each message goes through
the same understanding as in a conversation (Rasa's NLU, the search over the knowledge
base); its label says what would have been right, given what the search found:

- a knowledge question: `answer` when the best entry has a right topic; `clarify` when only a
  runner-up has and the two closest are about different things (else a clarifying question
  is not asked); `decline` otherwise (a wrong answer is worse). A safety message that gets
  this far is labelled the same way: answering a safety entry gives its safety answer. (A
  class of its own had three examples in the development sets, and gave a question about a
  hairdresser the crisis line.)
- out of scope: `decline`; a request for a person: `handover`.

Messages that the safety gate or the classifier's safety call answer, that Rasa routes
elsewhere (small talk, a sure request for a person) or that ask about a place abroad
(declined whatever the decision) never reach the regression and are left out.

The answer threshold is chosen on cross-validated (out-of-fold) probabilities: the lowest
that keeps wrong answers within WRONG_ANSWER_BUDGET, so that as many questions as possible
are answered directly while a wrong answer, the worst outcome, stays rare.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.preprocessing import StandardScaler

from bot.conversation.asking import asking_part
from bot.conversation import decision as decision_layer
from bot.conversation.actions import Knowledge
from bot.conversation.decision import DECISIONS, Evidence, LearnedDecision, choose, runner_up_elsewhere
from bot.conversation.dialogue_examples import DialogueExamples
from bot.conversation.elsewhere import place_asked_about
from bot.evaluation import load_questions
from bot.settings import PROJECT_ROOT
from bot.store import Store

QUESTION_SETS = PROJECT_ROOT / "tests" / "data"
LOCKED_SET = QUESTION_SETS / "locked_questions.yaml"
# The answer threshold is the lowest that keeps wrong answers (an entry of another topic, an
# answer where none was right, a safety answer nobody needed) within this share of the
# messages that reach the decision, out of fold. A budget rather than costs per outcome: with
# costs the chosen threshold jumped between 0.30 and 0.88 as a few messages changed. Not the
# 2% issue 12 allows on new messages: around 2% the wrong answers barely change with the
# threshold, so it moved between 0.30 and 0.51 as one set or another was left out of the fit
# (at 0.30 no close call was clarified); at 1.5% it stays between 0.58 and 0.65. 1.2%, not
# 1.5%, because the first runs of locked sets 11 and 12 came out 0.7-0.8 points above the
# development sets (2.2 and 2.3%). Fitted on all development sets but one former locked set and
# applied to it, for each (4,820 messages): 1.5% decides 96.7% right with 1.49% wrong answers,
# 1.2% 96.4% and 1.16% (one wrong answer fewer for each message clarified or declined instead),
# 1.0% 95.7% and 0.98% (two for one: not taken).
WRONG_ANSWER_BUDGET = 0.012
THRESHOLDS = np.round(np.arange(0.30, 0.96, 0.01), 2)
FOLDS = 5
REPEATS = 5
REGULARISATION = 1.0


def development_sets() -> list[Path]:
    """Every question set in tests/data/ except the locked one."""
    return sorted(path for path in QUESTION_SETS.glob("*.yaml") if path != LOCKED_SET)


def data_hash() -> str:
    """Changes with the development sets and the code of the decision layer (its features,
    labels and fitting): then the decision is refitted."""
    digest = hashlib.sha256()
    for path in [*development_sets(), Path(__file__), Path(decision_layer.__file__)]:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def decision_path(rasa_model: Path) -> Path:
    """Where the decision fitted for `rasa_model` and the current development sets lives."""
    return rasa_model.with_name(f"{rasa_model.name.removesuffix('.tar.gz')}.decision-{data_hash()}.json")


class _EvidenceRecorder:
    """A decision that notes what it is asked about, and declines. Put in the engine, it lets
    the engine itself say which messages reach the decision (past the commands, the safety
    gate and the rules) and what is known of them then."""

    def __init__(self) -> None:
        self.asked: list[Evidence] = []

    def decide(self, evidence: Evidence) -> str:
        self.asked.append(evidence)
        return "decline"


async def gather(rasa_model: Path, knowledge: Knowledge, dialogue: DialogueExamples,
                 questions: list[dict]) -> tuple[list[Evidence], list[str]]:
    """The evidence and the label of each message that reaches the decision, each as the first
    message of a fresh conversation through the engine."""
    from bot.conversation.engine import Engine

    recorder = _EvidenceRecorder()
    engine = Engine(rasa_model, knowledge, Store(None), dialogue, recorder)
    topics = {entry.id: entry.topic for entry in knowledge.retriever.entries}
    evidence, labels = [], []
    for number, question in enumerate(questions):
        recorder.asked.clear()
        await engine.handle("training", f"q{number}", question["text"])
        if not recorder.asked:
            continue
        found = recorder.asked[-1]
        truth = label(question, found.hits, topics)
        if truth and not place_asked_about(asking_part(found.text), found.best.entry):  # declined anyway
            evidence.append(found)
            labels.append(truth)
    return evidence, labels


def label(question: dict, hits: tuple, topics: dict[str, str]) -> str | None:
    """What would have been right for this message, given the ranked entries."""
    if "entry" in question:
        expected = {topics[entry_id] for entry_id in question["entry"] if entry_id in topics}
        if hits[0].entry.topic in expected:
            return "answer"
        right_below = any(hit.entry.topic in expected for hit in hits[1:3])
        return "clarify" if runner_up_elsewhere(hits) and right_below else "decline"
    return {"out_of_scope": "decline", "handover": "handover"}.get(question["expect"])


@dataclass
class Fit:
    decision: LearnedDecision
    labels: dict[str, int]  # label -> messages
    cross_validated: dict[str, float]  # outcome -> share of messages, out-of-fold


def fit(evidence: list[Evidence], labels: list[str]) -> Fit:
    features = np.vstack([e.features() for e in evidence])
    y = np.array(labels)
    classes = tuple(name for name in DECISIONS if name in set(labels))
    scaler = StandardScaler().fit(features)
    scaled = scaler.transform(features)
    model = LogisticRegression(C=REGULARISATION, max_iter=5000)
    # Out-of-fold probabilities for several shuffles of the folds: one shuffle is noisy.
    order = [list(np.unique(y)).index(name) for name in classes]
    repeats = [cross_val_predict(model, scaled, y, method="predict_proba",
                                 cv=StratifiedKFold(FOLDS, shuffle=True, random_state=seed))[:, order]
               for seed in range(REPEATS)]

    def wrong_answers(threshold: float) -> float:
        return float(np.mean([_outcomes(classes, p, y, threshold)["wrong answers"] for p in repeats]))

    threshold = next((t for t in THRESHOLDS if wrong_answers(t) <= WRONG_ANSWER_BUDGET), THRESHOLDS[-1])
    model.fit(scaled, y)
    coef, intercept = model.coef_, model.intercept_
    if len(model.classes_) == 2:  # one row of logits for the second class: the first's are 0
        coef, intercept = np.vstack([np.zeros_like(coef), coef]), np.concatenate([[0.0], intercept])
    coef_order = [list(model.classes_).index(name) for name in classes]
    decision = LearnedDecision(classes, scaler.mean_, scaler.scale_, coef[coef_order],
                               intercept[coef_order], float(threshold))
    outcomes = [_outcomes(classes, p, y, threshold) for p in repeats]
    return Fit(decision, {name: int((y == name).sum()) for name in classes},
               {name: float(np.mean([o[name] for o in outcomes])) for name in outcomes[0]})


def train_decision(rasa_model: Path, knowledge: Knowledge, dialogue: DialogueExamples) -> tuple[Path, Fit]:
    """Fit the decision for `rasa_model` and save it at `decision_path`; returns (its file, the
    fit). Callers look for that file first: the arguments take the models to build."""
    target = decision_path(rasa_model)
    questions = [question for path in development_sets() for question in load_questions(path)]
    evidence, labels = asyncio.run(gather(rasa_model, knowledge, dialogue, questions))
    result = fit(evidence, labels)
    result.decision.save(target)
    for outdated in target.parent.glob("*.decision-*.json"):
        if outdated != target:
            outdated.unlink()
    return target, result


def _decisions(classes, probabilities: np.ndarray, threshold: float) -> list[str]:
    return [choose(classes, row, threshold) for row in probabilities]


def _outcomes(classes, probabilities, y, threshold) -> dict[str, float]:
    made = np.array(_decisions(classes, probabilities, threshold))
    wrong = (made == "answer") & (y != "answer")
    return {"right": float(np.mean(made == y)), "wrong answers": float(np.mean(wrong)),
            "answer threshold": float(threshold)}
