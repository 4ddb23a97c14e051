"""One PII mask for the logs of all three processes (Rasa server, action server, gateway).

Records are masked when they are created (a record factory), so every handler sees the masked
text, including handlers libraries add later (sanic's, uvicorn's); the filter does the same
for handlers configured from nlu/logging.yml. Tracebacks are masked too: the exception text is
formatted once, masked, and stored as `exc_text`, which formatters print instead of re-formatting.
Uncaught exceptions (sys/threading excepthooks) go through the same mask.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from typing import Any

from nlu.patterns import mask_text

_MARK = "_aduan_masked"
_FORMATTER = logging.Formatter()


def _mask_arg(value: Any) -> Any:
    """A log argument with personal data masked; its type kept when there was nothing to mask."""
    if value is None or isinstance(value, (bool, float)):
        # A float is never personal data, but its repr can have 16 digits after the point
        # ("waiting %.1fs" % 7.3660981234568145): masking it made the arg a str and broke the format.
        return value
    text = value if isinstance(value, str) else str(value)
    masked = mask_text(text)
    return value if masked == text else masked


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    """Mask message, arguments, traceback and stack of one record (idempotent).

    Arguments are masked one by one and keep their shape, so formatters that read `record.args`
    (uvicorn's access log) still work.
    """
    if getattr(record, _MARK, False):
        return record
    if isinstance(record.msg, str):
        record.msg = mask_text(record.msg)
    elif record.msg is not None:
        record.msg = _mask_arg(record.msg)
    if isinstance(record.args, dict):
        record.args = {key: _mask_arg(value) for key, value in record.args.items()}
    elif record.args:
        record.args = tuple(_mask_arg(value) for value in record.args)
    if record.exc_info and not record.exc_text:
        record.exc_text = _FORMATTER.formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = mask_text(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_text(record.stack_info)
    setattr(record, _MARK, True)
    return record


class MaskingFilter(logging.Filter):
    """Filter for handlers (nlu/logging.yml); creating one also installs the record factory."""

    def __init__(self, name: str = "") -> None:
        super().__init__(name)
        install_record_factory()
        install_excepthooks()

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        return True


def install_record_factory() -> None:
    previous = logging.getLogRecordFactory()
    if getattr(previous, _MARK, False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return mask_record(previous(*args, **kwargs))

    setattr(factory, _MARK, True)
    logging.setLogRecordFactory(factory)


def _masked_excepthook(exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
    sys.stderr.write(mask_text("".join(traceback.format_exception(exc_type, exc, tb))))


def _masked_thread_hook(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    _masked_excepthook(args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback)


def install_excepthooks() -> None:
    sys.excepthook = _masked_excepthook
    threading.excepthook = _masked_thread_hook


def install_log_masking() -> None:
    """Mask every log record, every root handler's output and uncaught tracebacks in this process."""
    install_record_factory()
    install_excepthooks()
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())
