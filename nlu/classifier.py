"""Linear intent classifier: TF-IDF word and character n-grams of the normalized text, linear SVM.

Chosen over DIET by measurement (reports/nlu.md, reports/nlu_sweep.md): on short, informal,
typo-rich Indonesian it generalises better to unseen phrasings and trains in seconds, which
keeps retraining after every trainer review cheap.

The confidence is calibrated at training time: a softmax over the SVM scores whose temperature
is fitted (lowest log-loss) on out-of-fold scores of the training data, so a 0.6 means right
about 60% of the time and the FallbackClassifier threshold and the category-confirmation
buttons act on real uncertainty. scikit-learn's CalibratedClassifierCV (sigmoid / isotonic per
intent) is available as `calibration: sigmoid|isotonic`; by cross-validation it was worse
calibrated and slower here (reports/nlu_sweep.md). Retrieval intents (`faq/<topic>`) arrive here
as their base intent `faq`, like any intent.
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
from scipy.optimize import minimize_scalar
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline, make_pipeline, make_union
from sklearn.svm import LinearSVC

MODEL_FILE = "linear_intent.joblib"


def build_model(config: dict[str, Any], labels: list[str] | None = None) -> Pipeline:
    """Features and classifier; calibrated when every intent has enough examples for the folds."""
    svm = LinearSVC(C=config["C"], class_weight=config["class_weight"], random_state=config["random_seed"])
    classifier: Any = svm
    folds = config["calibration_folds"]
    if config["calibration"] in ("sigmoid", "isotonic") and labels is not None and folds >= 2:
        smallest = min(np.unique(labels, return_counts=True)[1])
        folds = min(folds, int(smallest))
        if folds >= 2:  # a tiny intent (fewer than 2 examples) cannot be calibrated: plain softmax then
            classifier = CalibratedClassifierCV(
                svm,
                method=config["calibration"],
                cv=StratifiedKFold(n_splits=folds, shuffle=True, random_state=config["random_seed"]),
                ensemble=config["calibration_ensemble"],
            )
    return make_pipeline(
        make_union(
            TfidfVectorizer(ngram_range=(1, config["word_max_ngram"]), sublinear_tf=True),
            TfidfVectorizer(
                analyzer="char_wb", ngram_range=(config["char_min_ngram"], config["char_max_ngram"]), sublinear_tf=True
            ),
        ),
        classifier,
    )


def one_vs_rest(calibrated: CalibratedClassifierCV, features: Any) -> np.ndarray:
    """Each intent's own calibrated probability ("is it this intent?"), averaged over the folds' models.

    scikit-learn's predict_proba divides these by their sum; with ~30 intents the many small
    probabilities of the other intents add up and every confidence comes out too low (measured:
    expected calibration error 0.21 normalised against 0.03 here). The top intent's own calibrated
    probability is what the fallback threshold and the confirmation buttons need.
    """
    total = np.zeros((features.shape[0], len(calibrated.classes_)))
    for member in calibrated.calibrated_classifiers_:
        scores = np.atleast_2d(member.base_estimator.decision_function(features))
        if scores.shape[1] == 1:  # binary case: one score column for the positive class
            scores = np.hstack([-scores, scores])
        columns = np.searchsorted(calibrated.classes_, member.base_estimator.classes_)
        for column, calibrator in zip(columns, member.calibrators, strict=False):
            total[:, column] += np.clip(calibrator.predict(scores[:, column]), 0.0, 1.0)
    return total / len(calibrated.calibrated_classifiers_)


def probabilities(model: Pipeline, texts: list[str], temperature: float, normalized: bool = False) -> np.ndarray:
    """Calibrated probabilities when the model has them, else a softmax over the SVM scores."""
    final = model[-1]
    if isinstance(final, CalibratedClassifierCV):
        if normalized:
            return np.atleast_2d(model.predict_proba(texts))
        return one_vs_rest(final, model[:-1].transform(texts))
    return softmax(np.atleast_2d(model.decision_function(texts)), temperature)


def fit_temperature(config: dict[str, Any], texts: list[str], labels: np.ndarray) -> float:
    """Softmax temperature with the lowest log-loss on out-of-fold SVM scores of the training data."""
    classes, counts = np.unique(labels, return_counts=True)
    folds = min(config["calibration_folds"], int(counts.min()))
    if folds < 2 or len(classes) < 3:  # too little data to hold some out: keep the configured temperature
        return float(config["temperature"])
    plain = build_model({**config, "calibration": ""})
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=config["random_seed"])
    scores = cross_val_predict(plain, texts, labels, cv=splitter, method="decision_function")
    target = np.searchsorted(classes, labels)

    def log_loss(temperature: float) -> float:
        probs = softmax(scores, temperature)[np.arange(len(target)), target]
        return float(-np.mean(np.log(probs + 1e-12)))

    return float(minimize_scalar(log_loss, bounds=(0.01, 2.0), method="bounded").x)


def load_stored(model_storage: ModelStorage, resource: Resource, name: str) -> Any | None:
    """What a component saved with joblib at training time, or None when nothing was trained."""
    try:
        with model_storage.read_from(resource) as directory:
            return joblib.load(directory / name)
    except (ValueError, FileNotFoundError):
        return None


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
            "class_weight": None,
            # "temperature": softmax temperature fitted on out-of-fold scores at training time;
            # "sigmoid" / "isotonic": scikit-learn's CalibratedClassifierCV; "": the fixed temperature below
            "calibration": "temperature",
            "calibration_folds": 5,
            "calibration_ensemble": True,
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
        temperature: float | None = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.model = model
        self.temperature = self.config["temperature"] if temperature is None else temperature

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
        texts = [m.get(TEXT) for m in examples]
        labels = np.asarray([m.get(INTENT) for m in examples])  # an array: sklearn 1.1's fold check needs one
        if self.config["calibration"] == "temperature":
            self.temperature = fit_temperature(self.config, texts, labels)
        model = build_model(self.config, list(labels))
        model.fit(texts, labels)
        self.model = model
        with self._model_storage.write_to(self._resource) as directory:
            joblib.dump({"model": model, "temperature": self.temperature}, directory / MODEL_FILE)
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
        stored = load_stored(model_storage, resource, MODEL_FILE)
        if stored is None:
            return cls(config, model_storage, resource)  # no intents were trained (e.g. an empty NLU set)
        if isinstance(stored, dict):
            return cls(config, model_storage, resource, stored["model"], stored["temperature"])
        return cls(config, model_storage, resource, stored)  # a model from before the fitted temperature

    def process(self, messages: list[Message]) -> list[Message]:
        if self.model is None:
            return messages
        texts = [m.get(TEXT) or "" for m in messages]
        probs_all = probabilities(self.model, texts, self.temperature)
        classes = self.model.classes_
        for message, probs in zip(messages, probs_all, strict=True):
            order = np.argsort(-probs)[: self.config["ranking_length"]]
            ranking = [{"name": str(classes[i]), "confidence": float(probs[i])} for i in order]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
