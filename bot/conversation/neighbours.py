"""A second opinion on DIET's intent: the nearest training example in e5 space.

DIET weighs the e5 sentence vector together with character n-grams, and for a short message
in a language with few examples the n-grams can outvote it or leave DIET unsure: a request
for a person in Chinese became a knowledge question, a bare "agent" fell below the fallback
threshold. When a training example is very close to the message in e5 space (the same
request in other words or another language) and clearly closer than any example of DIET's
intent (or, when it is DIET's intent, of any other), its intent decides, with the similarity
as confidence. Like the safety gate, it compares similarities, not DIET's confidence. It
reads the vector MultilingualSentenceFeaturizer put on the message, so it comes after it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.conversation.featurizer import MultilingualSentenceFeaturizer
from bot.embedding import GroupedVectors

# e5 similarities (multilingual-e5-small, query prompt), calibrated on
# tests/data/eval_questions.yaml: paraphrases and translations of a training example mostly
# score above 0.92, messages of another intent rarely reach 0.90. The lead leaves close calls
# (a question that mentions a volunteer: question 0.93, request for a person 0.94) to DIET.
CLOSE_ENOUGH = 0.90
CLEAR_LEAD = 0.01
# A request for a person answered with an article is the costliest mistake (a volunteer
# answering a question is cheap), and in e5 space "can a volunteer take over" sits next to
# questions about volunteering: DIET's sure call for a person is never overruled.
KEPT_INTENT = "request_human"
SURE = 0.95
VECTORS_FILE = "examples.npz"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class NearestExampleClassifier(IntentClassifier, GraphComponent):
    @classmethod
    def required_components(cls) -> list[type]:
        return [MultilingualSentenceFeaturizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"close_enough": CLOSE_ENOUGH, "clear_lead": CLEAR_LEAD,
                "kept_intent": KEPT_INTENT, "sure": SURE}

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "NearestExampleClassifier":
        return cls(config, model_storage, resource)

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 vectors: np.ndarray | None = None, intents: np.ndarray | None = None):
        self.config = config
        self._storage = model_storage
        self._resource = resource
        self.examples = None if vectors is None else GroupedVectors(vectors, intents)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(TEXT) and _vector(m) is not None]
        vectors = np.vstack([_vector(m) for m in examples]).astype(np.float32)
        intents = np.array([m.get(INTENT) for m in examples])
        self.examples = GroupedVectors(vectors, intents)
        with self._storage.write_to(self._resource) as folder:
            np.savez(folder / VECTORS_FILE, vectors=vectors, intents=intents)
        return self._resource

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "NearestExampleClassifier":
        with model_storage.read_from(resource) as folder:
            stored = np.load(folder / VECTORS_FILE)
            return cls(config, model_storage, resource, stored["vectors"], stored["intents"])

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            vector = _vector(message)
            if vector is None or self.examples is None:
                continue
            diet = message.get(INTENT) or {}
            chosen = diet.get(INTENT_NAME_KEY)
            if chosen == self.config["kept_intent"] and diet.get(PREDICTED_CONFIDENCE_KEY, 0) >= self.config["sure"]:
                continue
            nearest = self.nearest(vector)
            intent = max(nearest, key=nearest.get)
            similarity = nearest.pop(intent)
            # Measured against DIET's intent to overrule it, against the runner-up to confirm it.
            rival = nearest.get(chosen, -1.0) if chosen != intent else max(nearest.values(), default=-1.0)
            if similarity >= self.config["close_enough"] and similarity - rival >= self.config["clear_lead"]:
                decided = {INTENT_NAME_KEY: intent, PREDICTED_CONFIDENCE_KEY: similarity}
                message.set(INTENT, decided, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [decided], add_to_output=True)
        return messages

    def nearest(self, vector: np.ndarray) -> dict[str, float]:
        """The similarity of each intent's closest example to `vector`."""
        return self.examples.closest_by_label(vector)


def _vector(message: Message) -> np.ndarray | None:
    """The e5 sentence vector on the message (the only dense sentence feature we add)."""
    _, sentence = message.get_dense_features(TEXT)
    return None if sentence is None else sentence.features.reshape(-1)
