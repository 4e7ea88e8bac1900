"""What to do with a message after the search: answer the best entry, give the safety answer,
ask to clarify, decline, or hand over to a volunteer.

The choice is learned from labelled messages (bot/conversation/decision_training.py), not set
by hand: a logistic regression over what the turn knows (the scores of the ranked entries and
their margins, whether the closest entries share a topic, the intent classifier's call, the
closest dialogue examples of nlu/, the language, the length). Its answer threshold is chosen
on cross-validated predictions, so on messages it was not fitted on.

Safety is not left to a learned threshold (DESIGN.md, principle 4): the safety gate
(bot/conversation/safety.py) comes first, and when the intent classifier calls a message
safety and a safety entry is among the three closest and close enough, that entry answers
(`heard_safety`), whatever the regression says. What both miss can still get the safety
answer here: when the regression answers and the best entry is a safety entry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.conversation.dialogue_examples import DialogueExamples
from bot.conversation.training import ModelNotTrained
from bot.knowledge.retrieval import Hit, Retriever

DECISIONS = ("answer", "safety", "clarify", "decline", "handover")
SEARCH_DEPTH = 10  # entries ranked per message: enough to find the best one of another topic
# The dense similarity a safety entry needs for the classifier's safety call to count. On the
# development sets the safety messages that only this call caught reached their entry at
# 0.871 or more; below 0.865 the call went to "weather in london this weekend" and a question
# about mobile providers.
HEARD_SAFETY_SIMILARITY = 0.865
# A call this sure needs a safety entry among the three closest at any similarity: on the
# development sets such calls reached three more safety messages ("very strong gas smell in
# our stairwell": 0.96, the emergency entry closest at 0.856) and no other message.
SURE_SAFETY_CONFIDENCE = 0.9
# A call less sure than this counts only when a safety entry is also the closest entry. On the
# development sets the calls below it with an ordinary entry closest were all ordinary
# questions (an earache with no GP yet, the cost of a GP visit, a deposit kept back: 0.40 to
# 0.69); the safety messages among such calls came at 0.80 or more.
UNSURE_SAFETY_CONFIDENCE = 0.75
DIALOGUE_GROUPS = {  # closest example of nlu/ per group of intents
    "out_of_scope": ("out_of_scope",),
    "person": ("request_human",),
    "smalltalk": ("greet", "goodbye", "thanks", "bot_challenge", "affirm", "deny"),
}
INTENTS = ("ask_question", "out_of_scope", "nlu_fallback", "request_human", "safety")
FEATURES = (
    "score", "dense", "lexical", "margin", "margin_other_topic", "second_same_topic",
    "third_same_topic", "referral", "safety_score", "safety_margin",
    *(f"intent_{name}" for name in INTENTS), "intent_confidence",
    "english", "dutch", "other_language", "words", "question_mark",
    *(f"closer_{group}" for group in DIALOGUE_GROUPS),
    "dense_other_language", "dense_out_of_scope",
)


@dataclass(frozen=True)
class Evidence:
    """What is known about one message when the decision is made."""

    text: str
    hits: tuple[Hit, ...]  # the entries, best first
    intent: str
    intent_confidence: float
    language: str  # the language written in (the conversation's, when it could not be told)
    dialogue: dict[str, float]  # DIALOGUE_GROUPS -> similarity of its closest example

    @classmethod
    def gather(cls, text: str, parse: dict, language: str, retriever: Retriever,
               dialogue: DialogueExamples) -> "Evidence":
        """`parse` is Rasa's NLU result for the message (intent name and confidence)."""
        intent = parse.get("intent") or {}
        closest = dialogue.closest_by_intent(text)  # one search for the three groups
        return cls(text, tuple(retriever.search(text, limit=SEARCH_DEPTH)),
                   intent.get("name") or "nlu_fallback", float(intent.get("confidence") or 0.0),
                   language, {group: max((closest[name] for name in intents if name in closest), default=-1.0)
                              for group, intents in DIALOGUE_GROUPS.items()})

    @property
    def best(self) -> Hit:
        return self.hits[0]

    @property
    def best_safety(self) -> Hit | None:
        """The closest safety entry among the ranked ones."""
        return next((hit for hit in self.hits if hit.entry.is_safety), None)

    @property
    def heard_safety(self) -> bool:
        """The classifier called it safety, and a safety entry is among the three closest and
        close enough, or at all when the call is sure (with none, it is an ordinary question:
        DIET once gave a freelancer asking for support the crisis line). An unsure call also
        needs the closest entry to be a safety entry."""
        if self.intent != "safety" or (self.intent_confidence < UNSURE_SAFETY_CONFIDENCE
                                       and not self.best.entry.is_safety):
            return False
        needed = 0.0 if self.intent_confidence >= SURE_SAFETY_CONFIDENCE else HEARD_SAFETY_SIMILARITY
        return any(hit.entry.is_safety and hit.dense >= needed for hit in self.hits[:3])

    def features(self) -> np.ndarray:
        best = self.best
        # A small knowledge base may have fewer entries, or one topic only: a missing runner-up
        # counts as a tie (a close call, the cautious reading), a missing safety entry as 0.
        second, third = (self.hits[1:3] + (None, None))[:2]
        other_topic = next((hit for hit in self.hits if hit.entry.topic != best.entry.topic), None)
        other_language = self.language not in ("en", "nl")
        safety_score = self.best_safety.score if self.best_safety else 0.0
        values = [
            best.score, best.dense, best.lexical, best.score - _score(second, best),
            best.score - _score(other_topic, best), _same_topic(best, second), _same_topic(best, third),
            best.entry.topic == "referral", safety_score, best.score - safety_score,
            *(self.intent == name for name in INTENTS), self.intent_confidence,
            self.language == "en", self.language == "nl", other_language,
            np.log1p(len(self.text.split())), "?" in self.text or "？" in self.text,
            *(self.dialogue[group] - best.dense for group in DIALOGUE_GROUPS),
            best.dense * other_language, best.dense * (self.intent == "out_of_scope"),
        ]
        return np.array(values, dtype=np.float64)


def runner_up_elsewhere(hits: tuple[Hit, ...]) -> bool:
    """The second closest entry is about another topic than the best: only then is a
    clarifying question worth asking."""
    return len(hits) > 1 and hits[1].entry.topic != hits[0].entry.topic


def _score(hit: Hit | None, missing: Hit) -> float:
    return (hit or missing).score


def _same_topic(best: Hit, other: Hit | None) -> bool:
    return other is not None and other.entry.topic == best.entry.topic


@dataclass(frozen=True)
class LearnedDecision:
    """A fitted logistic regression (standardised features) and its answer threshold."""

    classes: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # classes x features
    intercept: np.ndarray
    answer_threshold: float

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        logits = self.coef @ ((features - self.mean) / self.scale) + self.intercept
        exp = np.exp(logits - logits.max())
        return exp / exp.sum()

    def decide(self, evidence: Evidence) -> str:
        return choose(self.classes, self.probabilities(evidence.features()), self.answer_threshold)

    def save(self, path: Path) -> None:
        fields = {"features": FEATURES, "classes": self.classes, "mean": self.mean.tolist(),
                  "scale": self.scale.tolist(), "coef": self.coef.tolist(),
                  "intercept": self.intercept.tolist(), "answer_threshold": self.answer_threshold}
        path.write_text(json.dumps(fields, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> "LearnedDecision":
        fields = json.loads(path.read_text(encoding="utf-8"))
        if tuple(fields.pop("features")) != FEATURES:
            raise ValueError(f"{path} was trained on other features: run `wegwijs train`")
        return cls(tuple(fields["classes"]), *(np.array(fields[name]) for name in
                                               ("mean", "scale", "coef", "intercept")),
                   fields["answer_threshold"])


def load_decision(rasa_model: Path) -> LearnedDecision:
    """The newest decision fitted for `rasa_model` (`wegwijs train` fits it)."""
    fitted = sorted(rasa_model.parent.glob(f"{rasa_model.name.removesuffix('.tar.gz')}.decision-*.json"),
                    key=lambda path: path.stat().st_mtime)
    if not fitted:
        raise ModelNotTrained(f"no decision layer fitted for {rasa_model.name}: run `wegwijs train`")
    return LearnedDecision.load(fitted[-1])


def choose(classes: tuple[str, ...], probabilities: np.ndarray, answer_threshold: float) -> str:
    """The most probable decision. An answer needs its threshold; short of it, the message
    gets a clarifying question or a decline, whichever is likelier (a volunteer is called only
    when a request for one is the likeliest reading)."""
    ranked = [classes[i] for i in np.argsort(-probabilities)]
    if ranked[0] == "answer" and probabilities[classes.index("answer")] < answer_threshold:
        return next(name for name in ranked if name in ("clarify", "decline"))
    return ranked[0]


class IntentDecision:
    """Rasa's own call, for the stock pipeline of `wegwijs eval`: a question is answered from
    the best entry, an emergency from the closest safety entry, out of scope declined, a
    request for a person handed over."""

    def decide(self, evidence: Evidence) -> str:
        return {"out_of_scope": "decline", "request_human": "handover",
                "safety": "safety"}.get(evidence.intent, "answer")
