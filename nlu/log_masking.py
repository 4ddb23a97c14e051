"""Logging filter for the Rasa server: masks NIK and phone numbers in every record."""

from __future__ import annotations

import logging

from nlu.patterns import mask_text


class MaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = record.getMessage()
            record.args = None
        if isinstance(record.msg, str):
            record.msg = mask_text(record.msg)
        return True
