"""Rasa-side speed-ups installed when the pipeline's components are imported (Rasa server only).

Rasa 3.6 validates every custom-action response with ``jsonschema.validate``, which checks the
(constant) response schema against its meta-schema and builds a new validator each time: under
load about half of the Rasa server's CPU. Here the validator is built and its schema checked once
per distinct schema; the response itself is still validated on every call with the same
``best_match`` error selection and message, so an invalid response is rejected exactly as before.

Imported for its side effect from ``nlu/components.py``; imports nothing from ``bot/``.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

from jsonschema import exceptions as jsonschema_exceptions
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

_INSTALLED_FLAG = "_aduan_cached_validator"
RASA_ORIGINAL = RemoteAction._validate_action_result  # as shipped (this module is imported before install)
_validators: dict[str, Any] = {}
_lock = threading.Lock()


def cached_validator(schema: dict[str, Any]) -> Any:
    """A validator for ``schema``, meta-schema-checked once (raises SchemaError like ``validate``)."""
    key = json.dumps(schema, sort_keys=True, default=repr)
    validator = _validators.get(key)
    if validator is None:
        cls = validator_for(schema)
        cls.check_schema(schema)
        validator = cls(schema)
        with _lock:
            _validators[key] = validator
    return validator


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """Same contract as ``RemoteAction._validate_action_result`` in Rasa 3.6, without re-checking the schema."""
    validator = cached_validator(self.action_response_format_spec())
    error = jsonschema_exceptions.best_match(validator.iter_errors(result))
    if error is not None:
        error.message += (
            f". Failed to validate Action server response from API, "
            f"make sure your response from the Action endpoint is valid. "
            f"For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


setattr(_validate_action_result, _INSTALLED_FLAG, True)


def install() -> None:
    """Replace Rasa's per-call schema check with the cached validator (idempotent).

    `ADUAN_RASA_SPEEDUPS=off` leaves Rasa as shipped, to measure the difference (`aduan bench`).
    """
    if os.environ.get("ADUAN_RASA_SPEEDUPS", "on").lower() in {"off", "0", "false"}:
        return
    if not getattr(RemoteAction._validate_action_result, _INSTALLED_FLAG, False):
        RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]


def installed() -> bool:
    return bool(getattr(RemoteAction._validate_action_result, _INSTALLED_FLAG, False))


install()
