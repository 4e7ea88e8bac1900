"""A Rasa NLU component that adds the multilingual-e5 sentence embedding to every message.

It emits a sentence-level feature only; DIET gets its sequence-level features from the
CountVectorsFeaturizer next to it (config.yml). The model is the one in the settings
(`WEGWIJS_MODEL`), shared with retrieval in the same process, so it is not saved in the
trained Rasa model: the model folder is verified at set-up instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.constants import INTENT_MESSAGE_PREFIX
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.embedding import Embedder
from bot.settings import Settings


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class MultilingualSentenceFeaturizer(DenseFeaturizer, GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return DenseFeaturizer.get_default_config()

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Nothing to validate: the only setting is the shared alias of DenseFeaturizer."""

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "MultilingualSentenceFeaturizer":
        return cls(config, execution_context.node_name)

    def __init__(self, config: dict[str, Any], name: str):
        super().__init__(name, config)
        self.embedder = Embedder.shared(Settings.from_env().model)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            # A button or the safety gate's payload ("/safety{...}") names its intent, which
            # Rasa's RegexMessageHandler sets after the pipeline: embedding it (~45 ms) would be
            # thrown away, so it gets an empty vector.
            vector = (np.zeros(self.embedder.dimensions, dtype=np.float32)
                      if text.startswith(INTENT_MESSAGE_PREFIX) else self.embedder.query(text))
            self.add_features_to_message(None, vector.reshape(1, -1), TEXT, message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        examples = [m for m in training_data.training_examples if m.get(TEXT)]
        vectors = self.embedder.queries([m.get(TEXT) for m in examples])
        for message, vector in zip(examples, vectors):
            self.add_features_to_message(None, vector.reshape(1, -1), TEXT, message)
        return training_data
