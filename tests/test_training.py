"""Training inputs: knowledge questions become NLU examples; the fingerprint follows the data."""

import yaml

from bot.conversation.training import fingerprint, knowledge_nlu, training_examples, write_stock_config
from bot.knowledge.base import load_knowledge
from tests.knowledge_fixtures import VALID_ENTRY, copy_shipped, write_folder


def test_knowledge_questions_become_ask_question_and_safety_examples(tmp_path):
    folder = copy_shipped(tmp_path / "kb", ["gp-register", "crisis-113"])
    knowledge = load_knowledge(folder).knowledge
    data = {block["intent"]: block["examples"] for block in yaml.safe_load(knowledge_nlu(knowledge))["nlu"]}
    assert "- How do I register with a GP?\n" in data["ask_question"]
    assert "- How do I register with a GP?" not in data["safety"]
    crisis = knowledge.by_id["crisis-113"]
    assert all(f"- {q}\n" in data["safety"] for q in crisis.texts["nl"].questions)


def test_fingerprint_changes_with_the_knowledge_questions(tmp_path):
    before = fingerprint(load_knowledge(write_folder(tmp_path / "a", {"gp.yaml": VALID_ENTRY})).knowledge)
    edited = VALID_ENTRY.replace("- how do I register with a GP", "- how do I sign up with a doctor")
    after = fingerprint(load_knowledge(write_folder(tmp_path / "b", {"gp.yaml": edited})).knowledge)
    same = fingerprint(load_knowledge(write_folder(tmp_path / "c", {"gp.yaml": VALID_ENTRY})).knowledge)
    assert before != after and before == same


def test_stock_config_is_ours_without_our_components(tmp_path):
    stock = yaml.safe_load(write_stock_config(tmp_path).read_text())
    names = [component["name"] for component in stock["pipeline"]]
    assert "DIETClassifier" in names and not any(name.startswith("bot.") for name in names)



def test_dialogue_examples_leave_the_evaluation_questions_out(tmp_path):
    """The hand-written NLU data shares no text with tests/data/eval_questions.yaml."""
    from bot.evaluation import load_questions

    entry = VALID_ENTRY.replace("hoe schrijf ik me in bij een huisarts", "inschrijven huisarts test")
    knowledge = load_knowledge(write_folder(tmp_path / "kb", {"gp.yaml": entry})).knowledge
    examples = training_examples(knowledge)
    assert "how do i register with a gp" in examples  # the knowledge questions are in there
    assert [q["text"] for q in load_questions() if q["text"].strip().casefold() in examples] == []
