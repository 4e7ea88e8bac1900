"""The decision layer: what it learns from labelled messages, how a decision becomes the
`match` slot, and the asking part of a long message."""

from __future__ import annotations

import numpy as np
import pytest

from bot.conversation.actions import match_for
from bot.conversation.asking import asking_part
from bot.conversation.decision import FEATURES, Evidence, LearnedDecision, choose, load_decision
from bot.conversation.decision_training import THRESHOLDS, fit, gather, label
from bot.conversation.dialogue_examples import DialogueExamples
from bot.knowledge.retrieval import Hit
from bot.settings import Settings

KNOWLEDGE_QUESTIONS = {
    "how do i register with a huisarts": ["gp-register"],
    "which documents do I need to sign up at a GP practice": ["gp-register"],
    "what number do I call for the police if it's not urgent": ["emergency-police-non-urgent"],
    "where can I learn dutch in amstelveen": ["dutch-taalhuis", "dutch-courses-nt2"],
    "is health insurance compulsory here": ["insurance-compulsory"],
    "how do I get a BSN number": ["registration-brp-bsn"],
    "my landlord keeps my deposit, what can I do": ["housing-deposit"],
    "I want to volunteer, where do I find work as a volunteer": ["volunteering-find"],
    "who has to do the inburgering exam": ["inburgering-who"],
    "where do I report discrimination": ["discrimination-report"],
    "advice about schools for my children": ["school-cil"],
    "how do I apply for zorgtoeslag": ["referral-allowances"],
}
OUT_OF_SCOPE = [
    "give me a recipe for pancakes",
    "who won the champions league final",
    "write a python script that sorts a list",
    "what's the weather tomorrow",
    "tell me a joke about cats",
    "which stocks should I buy",
    "what is the capital of australia",
    "recommend a good netflix series",
    "how many calories in a banana",
    "translate 'good morning' into japanese",
    "what's the best pizza topping",
    "solve x squared equals 16",
]
QUESTIONS = [*({"text": text, "entry": entries} for text, entries in KNOWLEDGE_QUESTIONS.items()),
             *({"text": text, "expect": "out_of_scope"} for text in OUT_OF_SCOPE)]


@pytest.fixture(scope="module")
def retriever(knowledge):
    return knowledge.retriever


@pytest.fixture(scope="module")
def knowledge(trained_model, embedder, shared_data_dir):
    from bot.knowledge.index import EmbeddingStore
    from bot.knowledge.live import INDEX_FILE, LiveKnowledge
    from tests.knowledge_fixtures import SHIPPED

    index = EmbeddingStore(shared_data_dir / INDEX_FILE, embedder, Settings.from_env().model)
    return LiveKnowledge(SHIPPED, index, embedder)


async def test_a_decision_is_fitted_with_a_threshold_chosen_out_of_fold_and_generalises(trained_model, knowledge):
    settings = Settings.from_env()
    dialogue = DialogueExamples.shared(settings.model, settings.cache_dir)
    # Two messages it is not fitted on, understood as in a conversation (one model load).
    unseen = [{"text": "how can I find a family doctor", "entry": ["gp-finding"]},
              {"text": "who will win the world cup", "expect": "out_of_scope"}]
    evidence, labels = await gather(trained_model, knowledge, dialogue, QUESTIONS + unseen)
    assert labels[-2:] == ["answer", "decline"]
    evidence, labels, new_evidence = evidence[:-2], labels[:-2], evidence[-2:]
    assert labels.count("answer") >= 10 and labels.count("decline") >= 10
    fitted = fit(evidence, labels)
    assert fitted.decision.answer_threshold in THRESHOLDS
    assert set(fitted.cross_validated) == {"right", "wrong answers", "answer threshold"}
    assert [fitted.decision.decide(e) for e in new_evidence] == ["answer", "decline"]


def test_the_fitted_decision_survives_a_round_trip_and_refuses_other_features(tmp_path, trained_model):
    decision = load_decision(trained_model)
    path = tmp_path / "decision.json"
    decision.save(path)
    again = LearnedDecision.load(path)
    features = np.linspace(-1, 1, len(FEATURES))
    assert np.allclose(again.probabilities(features), decision.probabilities(features))
    path.write_text(path.read_text().replace('"score"', '"another feature"'))
    with pytest.raises(ValueError, match="run `wegwijs train`"):
        LearnedDecision.load(path)


def test_an_answer_needs_its_threshold_else_the_next_best_decision():
    classes = ("answer", "clarify", "decline", "handover")
    assert choose(classes, np.array([0.8, 0.1, 0.05, 0.05]), 0.75) == "answer"
    assert choose(classes, np.array([0.7, 0.05, 0.2, 0.05]), 0.75) == "decline"
    assert choose(classes, np.array([0.6, 0.05, 0.1, 0.25]), 0.75) == "decline"  # not a volunteer
    assert choose(classes, np.array([0.6, 0.2, 0.1, 0.1]), 0.75) == "clarify"
    assert choose(classes, np.array([0.2, 0.1, 0.1, 0.6]), 0.75) == "handover"


def _hits(retriever, *scored: tuple[str, float]) -> tuple[Hit, ...]:
    by_id = retriever.knowledge.by_id
    return tuple(Hit(by_id[entry_id], score, score, 0.0) for entry_id, score in scored)


def test_labels_follow_what_the_search_found(retriever):
    topics = {entry.id: entry.topic for entry in retriever.entries}
    hits = _hits(retriever, ("gp-finding", 0.93), ("school-cil", 0.92), ("housing-deposit", 0.9))
    assert label({"entry": ["gp-register"]}, hits, topics) == "answer"  # same topic
    assert label({"entry": ["school-leerplicht"]}, hits, topics) == "clarify"  # a runner-up's topic
    assert label({"entry": ["work-werkplein"]}, hits, topics) == "decline"  # not among the closest
    assert label({"expect": "handover"}, hits, topics) == "handover"
    assert label({"entry": ["crisis-113"]}, _hits(retriever, ("crisis-113", 0.9)) + hits, topics) == "answer"
    assert label({"entry": ["crisis-113"]}, hits + _hits(retriever, ("crisis-113", 0.8)), topics) == "decline"
    assert label({"expect": "smalltalk"}, hits, topics) is None


def test_same_topic_close_call_is_answered_with_the_close_runner_up_as_related(retriever):
    hits = _hits(retriever, ("gp-finding", 0.93), ("gp-register", 0.92), ("gp-costs", 0.80))
    match, best, offered = match_for("clarify", hits)
    assert (match, best.entry.id) == ("answer", "gp-finding")
    assert [hit.entry.id for hit in offered] == ["gp-register"]


def test_cross_topic_close_call_offers_one_option_per_topic(retriever):
    hits = _hits(retriever, ("school-cil", 0.93), ("dutch-taalhuis", 0.93), ("dutch-taalcoach", 0.92))
    match, _, offered = match_for("clarify", hits)
    assert match == "clarify" and [hit.entry.id for hit in offered] == ["school-cil", "dutch-taalhuis"]


def test_a_clarifying_question_needs_a_runner_up_about_something_else(retriever):
    hits = _hits(retriever, ("school-cil", 0.93), ("school-leerplicht", 0.93), ("dutch-taalhuis", 0.92))
    match, best, offered = match_for("clarify", hits)
    assert (match, best.entry.id, [hit.entry.id for hit in offered]) == (
        "answer", "school-cil", ["school-leerplicht"])


def test_a_safety_entry_is_never_a_clarifying_question(retriever):
    hits = _hits(retriever, ("urgent-huisartsenpost", 0.93), ("gp-passant", 0.93), ("school-cil", 0.9))
    assert [match_for(decision, hits)[0] for decision in ("clarify", "decline", "handover")] == [
        "safety", "none", "handover"]


def test_the_classifiers_safety_call_needs_a_close_safety_entry_among_the_three_closest(retriever):
    def heard(*scored, confidence=0.8):
        return Evidence("", _hits(retriever, *scored), "safety", confidence, "en", {}).heard_safety

    assert heard(("gp-passant", 0.93), ("urgent-huisartsenpost", 0.9), ("school-cil", 0.88))
    assert not heard(("gp-passant", 0.93), ("urgent-huisartsenpost", 0.84), ("school-cil", 0.83))
    assert not heard(("gp-passant", 0.93), ("school-cil", 0.92), ("gp-costs", 0.91), ("crisis-113", 0.9))
    # a sure call needs the safety entry among the three closest, however close
    assert heard(("gp-passant", 0.93), ("urgent-huisartsenpost", 0.84), ("school-cil", 0.83), confidence=0.95)
    assert not heard(("gp-passant", 0.93), ("school-cil", 0.92), ("gp-costs", 0.91), ("crisis-113", 0.9),
                     confidence=0.95)
    # an unsure call needs a safety entry closest of all ("no GP yet and an earache": gp-passant)
    assert not heard(("gp-passant", 0.93), ("urgent-huisartsenpost", 0.9), ("school-cil", 0.88), confidence=0.5)
    assert heard(("urgent-huisartsenpost", 0.93), ("gp-passant", 0.9), ("school-cil", 0.88), confidence=0.5)


def test_a_safety_decision_takes_the_closest_safety_entry(retriever):
    hits = _hits(retriever, ("gp-passant", 0.93), ("school-cil", 0.9), ("crisis-113", 0.89))
    match, best, _ = match_for("safety", hits)
    assert (match, best.entry.id) == ("safety", "crisis-113")


@pytest.mark.parametrize("text,part", [
    ("how do I find a GP?", "how do I find a GP?"),
    ("I was a nurse in Lagos for eight years. Can I find work here?", "Can I find work here?"),
    ("We arrived in May. My wife is pregnant and we have no GP yet. What should we do?",
     "My wife is pregnant and we have no GP yet. What should we do?"),
    ("我们上个月到的。孩子几岁必须上学？谢谢", "我们上个月到的。 孩子几岁必须上学？"),
    ("My kids went to school in Toronto, how do they start school here",
     "My kids went to school in Toronto, how do they start school here"),
])
def test_the_asking_part_of_a_message(text, part):
    assert asking_part(text) == part
