"""The nearest-example second opinion, trained, stored and loaded as Rasa does it, on vectors
of the real multilingual model."""

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.conversation.featurizer import MultilingualSentenceFeaturizer
from bot.conversation.neighbours import NearestExampleClassifier

EXAMPLES = {
    "request_human": ["I want to talk to a real person", "connect me with a volunteer"],
    "ask_question": ["how do I register with a GP", "where can I learn Dutch"],
    "out_of_scope": ["what will the weather be like tomorrow"],
}


@pytest.fixture(scope="module")
def featurizer(embedder):
    return MultilingualSentenceFeaturizer(MultilingualSentenceFeaturizer.get_default_config(), "e5")


@pytest.fixture(scope="module")
def classifier(featurizer, tmp_path_factory):
    """Trained on EXAMPLES, then loaded back from the model storage."""
    storage = LocalModelStorage(tmp_path_factory.mktemp("storage"))
    resource = Resource("neighbours")
    context = ExecutionContext(GraphSchema({}), "test")
    config = NearestExampleClassifier.get_default_config()
    data = TrainingData([Message({TEXT: text, INTENT: intent})
                         for intent, texts in EXAMPLES.items() for text in texts])
    featurizer.process_training_data(data)
    NearestExampleClassifier.create(config, storage, resource, context).train(data)
    return NearestExampleClassifier.load(config, storage, resource, context)


def classify(featurizer, classifier, text: str, diet_intent: str, confidence: float = 0.9) -> Message:
    message = Message({TEXT: text})
    featurizer.process([message])
    message.set(INTENT, {"name": diet_intent, "confidence": confidence})
    message.set(INTENT_RANKING_KEY, [{"name": diet_intent, "confidence": confidence},
                                     {"name": "greet", "confidence": confidence - 0.01}])
    return classifier.process([message])[0]


@pytest.mark.parametrize("text,intent", [
    ("Ich möchte mit einem echten Menschen sprechen", "request_human"),  # another language
    ("what's the weather going to be tomorrow?", "out_of_scope"),
])
def test_a_close_example_of_another_intent_overrules_diet(featurizer, classifier, text, intent):
    message = classify(featurizer, classifier, text, diet_intent="ask_question")
    assert message.get(INTENT)["name"] == intent
    assert [r["name"] for r in message.get(INTENT_RANKING_KEY)] == [intent]  # no ambiguity fallback


def test_a_close_example_of_diets_own_intent_lifts_an_unsure_prediction(featurizer, classifier):
    """Otherwise the FallbackClassifier would drop it for its low, ambiguous confidence."""
    message = classify(featurizer, classifier, "please connect me with a volunteer", "request_human", 0.3)
    assert message.get(INTENT)["name"] == "request_human" and message.get(INTENT)["confidence"] > 0.9
    assert len(message.get(INTENT_RANKING_KEY)) == 1


def test_diet_keeps_its_intent_when_no_example_is_close(featurizer, classifier):
    message = classify(featurizer, classifier, "my bicycle has a flat tyre", diet_intent="ask_question")
    assert message.get(INTENT) == {"name": "ask_question", "confidence": 0.9}


def test_diets_sure_request_for_a_person_stands_against_a_closer_question(featurizer, classifier):
    """A question example ("where can I learn Dutch") is the closest to this message, yet a
    request for a person that DIET is sure of is never turned into a question."""
    text = "where can I learn Dutch"
    assert classify(featurizer, classifier, text, "request_human", 0.5).get(INTENT)["name"] == "ask_question"
    message = classify(featurizer, classifier, text, "request_human", 0.99)
    assert message.get(INTENT) == {"name": "request_human", "confidence": 0.99}
