"""Linear intent classifier: TF-IDF word and character n-grams of the normalized text, linear SVM.

Chosen over DIET by measurement (reports/nlu.md, reports/nlu_sweep.md): on short, informal,
typo-rich Indonesian it generalises better to unseen phrasings and trains in seconds, which
keeps retraining after every trainer review cheap. Confidence is a softmax over the SVM's
decision scores, so the FallbackClassifier threshold and the category confirmation work as usual.
"""

from __future__ import annotations

from typing import Any

import joblib
import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline, make_pipeline, make_union
from sklearn.svm import LinearSVC

MODEL_FILE = "linear_intent.joblib"


def build_model(config: dict[str, Any]) -> Pipeline:
    return make_pipeline(
        make_union(
            TfidfVectorizer(ngram_range=(1, config["word_max_ngram"]), sublinear_tf=True),
            TfidfVectorizer(
                analyzer="char_wb", ngram_range=(config["char_min_ngram"], config["char_max_ngram"]), sublinear_tf=True
            ),
        ),
        LinearSVC(C=config["C"], random_state=config["random_seed"]),
    )


def softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    z = scores / temperature
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "word_max_ngram": 2,
            "char_min_ngram": 2,
            "char_max_ngram": 5,
            "C": 1.0,
            "temperature": 0.1,
            "ranking_length": 10,
            "random_seed": 42,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Pipeline | None = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.model = model

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LinearIntentClassifier:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(TEXT)]
        model = build_model(self.config)
        model.fit([m.get(TEXT) for m in examples], [m.get(INTENT) for m in examples])
        self.model = model
        with self._model_storage.write_to(self._resource) as directory:
            joblib.dump(model, directory / MODEL_FILE)
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearIntentClassifier:
        try:
            with model_storage.read_from(resource) as directory:
                model = joblib.load(directory / MODEL_FILE)
        except (ValueError, FileNotFoundError):
            model = None  # no intents were trained (e.g. an empty NLU set)
        return cls(config, model_storage, resource, model)

    def process(self, messages: list[Message]) -> list[Message]:
        if self.model is None:
            return messages
        texts = [m.get(TEXT) or "" for m in messages]
        scores = np.atleast_2d(self.model.decision_function(texts))
        probabilities = softmax(scores, self.config["temperature"])
        classes = self.model.classes_
        for message, probs in zip(messages, probabilities, strict=True):
            order = np.argsort(-probs)[: self.config["ranking_length"]]
            ranking = [{"name": str(classes[i]), "confidence": float(probs[i])} for i in order]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
