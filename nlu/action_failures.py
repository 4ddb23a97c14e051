"""A custom action that fails makes the whole message fail, instead of being silently skipped.

Rasa 3.6 catches every error of a custom action ("Bot will continue, but the actions events are
lost"), answers with whatever was said before it, and saves the tracker: when the action server
is killed mid-call, the citizen's message is consumed and never answered (the reliability suite
found 17 such messages after one SIGKILL of the action server). Here the error is re-raised after
Rasa's own logging, so `handle_message` stops before the tracker is saved, the aduan channel
answers 500, and the gateway keeps the message and retries it once the action server is back.
A rejection (`ActionExecutionRejection`, a form's validation saying no) is still Rasa's to handle.

Installed when nlu/channel.py is imported (the Rasa server only); imports nothing from bot/.
"""

from __future__ import annotations

import contextvars
from typing import Any

from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.processor import MessageProcessor
from rasa.shared.exceptions import RasaException

_INSTALLED_FLAG = "_aduan_action_failures"
_failure: contextvars.ContextVar[BaseException | None] = contextvars.ContextVar("aduan_action_failure", default=None)


class CustomActionFailed(RasaException):
    """A custom action could not run (action server down, killed mid-call, or an error in the action)."""


_remote_run = RemoteAction.run
_run_action = MessageProcessor._run_action


async def _remote_run_noting_failure(self: RemoteAction, *args: Any, **kwargs: Any) -> Any:
    try:
        return await _remote_run(self, *args, **kwargs)
    except ActionExecutionRejection:
        raise
    except Exception as exc:
        _failure.set(exc)  # same task: the processor's _run_action below sees it after Rasa logged it
        raise


async def _run_action_failing_loudly(self: MessageProcessor, action: Any, *args: Any, **kwargs: Any) -> bool:
    token = _failure.set(None)
    try:
        result = await _run_action(self, action, *args, **kwargs)
        failure = _failure.get()
    finally:
        _failure.reset(token)
    if failure is not None:
        raise CustomActionFailed(f"custom action {action.name()!r} failed; the message is not handled") from failure
    return result


def install() -> None:
    """Idempotent; `ADUAN_RASA_SKIP_FAILED_ACTIONS=on` keeps Rasa's stock behaviour."""
    import os

    if os.environ.get("ADUAN_RASA_SKIP_FAILED_ACTIONS", "off").lower() in {"on", "1", "true"}:
        return
    if not getattr(MessageProcessor._run_action, _INSTALLED_FLAG, False):
        setattr(_run_action_failing_loudly, _INSTALLED_FLAG, True)
        RemoteAction.run = _remote_run_noting_failure  # type: ignore[method-assign]
        MessageProcessor._run_action = _run_action_failing_loudly  # type: ignore[method-assign]


def installed() -> bool:
    return bool(getattr(MessageProcessor._run_action, _INSTALLED_FLAG, False))


install()
