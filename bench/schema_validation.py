"""Micro-benchmark of Rasa's action-result check, before and after nlu/speedups.py (runs in .venv-rasa).

    PYTHONPATH=. .venv-rasa/bin/python -m bench.schema_validation [--calls 500]

Times Rasa 3.6's own check (``jsonschema.validate``: meta-schema check + new validator per call)
against the cached validator on a typical complaint-form response. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import jsonschema
from rasa.core.actions.action import RemoteAction

from nlu import speedups

RESPONSE: dict[str, Any] = {
    "events": [
        {"event": "slot", "timestamp": None, "name": "location_text", "value": "jl. kenanga RT 02/RW 05"},
        {"event": "slot", "timestamp": None, "name": "requested_slot", "value": "photo"},
        {"event": "active_loop", "timestamp": None, "name": "complaint_form"},
    ],
    "responses": [{"text": "Ada foto pendukung?", "buttons": [{"title": "Lewati", "payload": "/skip"}]}],
}


def per_call_ms(check: Any, calls: int) -> float:
    check()  # warm caches and imports
    started = time.perf_counter()
    for _ in range(calls):
        check()
    return (time.perf_counter() - started) * 1000 / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=500)
    args = parser.parse_args()
    spec = RemoteAction.action_response_format_spec
    action = RemoteAction("action_submit_complaint", None)
    speedups.install()
    rasa_ms = per_call_ms(lambda: jsonschema.validate(RESPONSE, spec()), args.calls)
    cached_ms = per_call_ms(lambda: action._validate_action_result(RESPONSE), args.calls)
    print(
        json.dumps(
            {
                "calls": args.calls,
                "rasa_validate_ms": round(rasa_ms, 3),
                "cached_validate_ms": round(cached_ms, 3),
                "speedup": round(rasa_ms / cached_ms, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
