"""Rasa GraphComponents wrapping the pure normalizer and entity extractor.

Runs inside the Rasa server (.venv-rasa); imports nothing from bot/.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

import nlu.speedups  # noqa: F401  (side effect: Rasa's action-result schema checked once, not per call)
from nlu.extract import DEFAULT_CITY, extract, load_gazetteer
from nlu.normalize import DEFAULT_DICTIONARY, load_dictionary, normalize

ORIGINAL_TEXT = "original_text"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=False)
class IndonesianNormalizer(GraphComponent):
    """Rewrites the message text to standard Indonesian before tokenization (training and inference)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"dictionary": str(DEFAULT_DICTIONARY)}

    def __init__(self, config: dict[str, Any]) -> None:
        self._dictionary = load_dictionary(config.get("dictionary") or str(DEFAULT_DICTIONARY))

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> IndonesianNormalizer:
        return cls(config)

    def _normalize(self, message: Message) -> None:
        text = message.get(TEXT)
        if not text or text.startswith("/"):  # leave button payloads ("/intent{...}") alone
            return
        message.set(ORIGINAL_TEXT, text)
        message.set(TEXT, normalize(text, self._dictionary))

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for example in training_data.training_examples:
            self._normalize(example)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._normalize(message)
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class IndonesianEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Ticket code, NIK, phone, RT/RW and city places by exact pattern and lookup."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"city": str(DEFAULT_CITY)}

    def __init__(self, config: dict[str, Any]) -> None:
        self._gazetteer = load_gazetteer(config.get("city") or str(DEFAULT_CITY))

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> IndonesianEntityExtractor:
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text: str | None = message.get(ORIGINAL_TEXT) or message.get(TEXT)
            if not text or text.startswith("/"):
                continue
            found = [e.as_rasa(self.name) for e in extract(text, self._gazetteer)]
            if not found:
                continue
            existing = message.get(ENTITIES, [])
            known = {(e.get("entity"), e.get("value")) for e in existing}
            fresh = [e for e in found if (e["entity"], e["value"]) not in known]
            message.set(ENTITIES, existing + fresh, add_to_output=True)
        return messages
