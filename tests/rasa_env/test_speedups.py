"""nlu/speedups.py inside the real Rasa 3.6: same verdicts and errors as Rasa's own check, schema checked once."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction

import nlu.components  # noqa: F401  (the pipeline's first module installs the speed-up)
from nlu import speedups

SPEC = RemoteAction.action_response_format_spec()

VALID: list[dict[str, Any]] = [
    {},
    {"events": [], "responses": []},
    {
        "events": [
            {"event": "slot", "name": "location_text", "value": "jl. kenanga RT 02"},
            {"event": "active_loop", "name": "complaint_form"},
            {"event": "slot", "name": "requested_slot", "value": None},
        ],
        "responses": [{"text": "Di mana lokasinya?", "buttons": [{"title": "Lewati", "payload": "/skip"}]}],
    },
    {"events": [{"event": "followup", "name": "action_submit_complaint"}], "responses": [{"response": "utter_ok"}]},
    {"events": [{"event": "active_loop", "name": 7}]},  # Rasa's schema lets this through, so must we
]

INVALID: list[Any] = [
    [],
    "not an object",
    {"events": "slot"},
    {"events": [{"name": "x"}]},  # no event type
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"event": "slot"}]},  # slot without a name
    {"events": [{"event": "slot", "name": 5, "value": "x"}]},
    {"responses": "halo"},
    {"responses": ["halo"]},
    {"events": [], "responses": [1, 2]},
]


def rasa_reference(result: Any) -> None:
    """Rasa 3.6's own `_validate_action_result` (jsonschema.validate checks the schema every call)."""
    assert not getattr(speedups.RASA_ORIGINAL, "_aduan_cached_validator", False)
    speedups.RASA_ORIGINAL(RemoteAction("action_submit_complaint", None), result)


def test_installed_from_the_pipeline_components() -> None:
    assert speedups.installed()
    assert RemoteAction._validate_action_result is speedups._validate_action_result


@pytest.mark.parametrize("result", VALID)
def test_valid_results_pass(result: dict[str, Any]) -> None:
    rasa_reference(result)
    assert RemoteAction("action_submit_complaint", None)._validate_action_result(result) is True


@pytest.mark.parametrize("result", INVALID)
def test_invalid_results_are_rejected_with_the_same_error(result: Any) -> None:
    with pytest.raises(jsonschema.ValidationError) as expected:
        rasa_reference(result)
    with pytest.raises(jsonschema.ValidationError) as ours:
        RemoteAction("action_submit_complaint", None)._validate_action_result(result)
    assert ours.value.message == expected.value.message
    assert "Failed to validate Action server response from API" in ours.value.message
    assert list(ours.value.path) == list(expected.value.path)
    assert ours.value.validator == expected.value.validator


def test_schema_is_checked_once_not_per_response(monkeypatch: pytest.MonkeyPatch) -> None:
    speedups._validators.clear()
    cls = validator_for(SPEC)
    calls = []
    original = cls.check_schema.__func__

    def counting(klass: type, schema: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        calls.append(1)
        original(klass, schema, *args, **kwargs)

    monkeypatch.setattr(cls, "check_schema", classmethod(counting))
    action = RemoteAction("action_submit_complaint", None)
    for _ in range(20):
        action._validate_action_result(VALID[2])
        with pytest.raises(jsonschema.ValidationError):
            action._validate_action_result(INVALID[3])
    assert len(calls) == 1


def test_an_invalid_schema_is_still_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    speedups._validators.clear()
    monkeypatch.setattr(RemoteAction, "action_response_format_spec", staticmethod(lambda: {"type": 12}))
    with pytest.raises(jsonschema.SchemaError):
        RemoteAction("action_x", None)._validate_action_result({})
    assert not speedups._validators


def test_off_switch_leaves_rasa_as_shipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(RemoteAction, "_validate_action_result", speedups.RASA_ORIGINAL)
    monkeypatch.setenv("ADUAN_RASA_SPEEDUPS", "off")
    speedups.install()
    assert not speedups.installed()
    monkeypatch.setenv("ADUAN_RASA_SPEEDUPS", "on")
    speedups.install()
    assert speedups.installed()
