"""FAQ answer selector: the same linear model as the intent classifier, over the `faq/<topic>` examples.

Rasa's ResponseSelector is a TensorFlow network over sparse n-gram counts: on this FAQ (~100
examples, ~10 topics) it weighed 246 MB in the model archive, about half of the Rasa server's
memory, and a good part of its load time (reports/bench.md), for a choice among ten answers. This
component fills the same `response_selector` output (what `utter_faq` and actions/questions.py
read) from TF-IDF + linear SVM with the calibrated (fitted-temperature) confidence of
nlu/classifier.py, trained only on the retrieval intent's examples.

Runs inside the Rasa server (.venv-rasa); imports nothing from bot/.
"""

from __future__ import annotations

from typing import Any

import joblib
import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import (
    RESPONSE_SELECTOR_PREDICTION_KEY,
    RESPONSE_SELECTOR_PROPERTY_NAME,
    RESPONSE_SELECTOR_RANKING_KEY,
    RESPONSE_SELECTOR_RESPONSES_KEY,
    RESPONSE_SELECTOR_RETRIEVAL_INTENTS,
    RESPONSE_SELECTOR_UTTER_ACTION_KEY,
)
from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.classifier import LinearIntentClassifier, build_model, fit_temperature, load_stored, probabilities

MODEL_FILE = "faq_selector.joblib"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class LinearResponseSelector(GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**LinearIntentClassifier.get_default_config(), "retrieval_intent": "faq", "ranking_length": 5}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        stored: dict[str, Any] | None = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        stored = stored or {}
        self.model = stored.get("model")
        self.temperature = float(stored.get("temperature", self.config["temperature"]))
        self.single = stored.get("single")  # one topic only: nothing to choose
        self.responses: dict[str, list[dict[str, Any]]] = stored.get("responses", {})
        self.retrieval_intents: list[str] = stored.get("retrieval_intents", [])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LinearResponseSelector:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        intent = self.config["retrieval_intent"]
        examples = [m for m in training_data.intent_examples if m.get(INTENT) == intent and m.get(TEXT)]
        texts = [m.get(TEXT) for m in examples]
        labels = np.asarray([m.get(INTENT_RESPONSE_KEY) or m.get_full_intent() for m in examples])
        stored: dict[str, Any] = {
            "responses": {k: v for k, v in training_data.responses.items() if k.startswith(f"utter_{intent}/")},
            "retrieval_intents": sorted(training_data.retrieval_intents),
        }
        topics = sorted(set(labels.tolist()))
        if len(topics) == 1:
            stored["single"] = topics[0]
        elif topics:
            stored["temperature"] = fit_temperature(self.config, texts, labels)
            model = build_model(self.config, list(labels))
            model.fit(texts, labels)
            stored["model"] = model
        with self._model_storage.write_to(self._resource) as directory:
            joblib.dump(stored, directory / MODEL_FILE)
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearResponseSelector:
        return cls(config, model_storage, resource, load_stored(model_storage, resource, MODEL_FILE))

    def _ranking(self, texts: list[str]) -> list[list[tuple[str, float]]]:
        if self.single:
            return [[(self.single, 1.0)] for _ in texts]
        if self.model is None:
            return [[] for _ in texts]
        probs_all = probabilities(self.model, texts, self.temperature)
        classes = self.model.classes_
        out = []
        for probs in probs_all:
            order = np.argsort(-probs)[: self.config["ranking_length"]]
            out.append([(str(classes[i]), float(probs[i])) for i in order])
        return out

    def process(self, messages: list[Message]) -> list[Message]:
        intent = self.config["retrieval_intent"]
        rankings = self._ranking([m.get(TEXT) or "" for m in messages])
        for message, ranking in zip(messages, rankings, strict=True):
            if not ranking:
                continue
            key, confidence = ranking[0]
            utter = f"utter_{key}"
            properties = message.get(RESPONSE_SELECTOR_PROPERTY_NAME) or {}
            properties[RESPONSE_SELECTOR_RETRIEVAL_INTENTS] = self.retrieval_intents
            properties[intent] = {
                RESPONSE_SELECTOR_PREDICTION_KEY: {
                    RESPONSE_SELECTOR_RESPONSES_KEY: self.responses.get(utter, []),
                    PREDICTED_CONFIDENCE_KEY: confidence,
                    INTENT_RESPONSE_KEY: key,
                    RESPONSE_SELECTOR_UTTER_ACTION_KEY: utter,
                },
                RESPONSE_SELECTOR_RANKING_KEY: [
                    {PREDICTED_CONFIDENCE_KEY: c, INTENT_RESPONSE_KEY: k} for k, c in ranking
                ],
            }
            message.set(RESPONSE_SELECTOR_PROPERTY_NAME, properties, add_to_output=True)
        return messages
