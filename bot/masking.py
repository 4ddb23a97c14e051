"""Masking of citizens' personal data (NIK, phone numbers) for logs and admin views."""

from __future__ import annotations

import logging

from nlu.log_masking import MaskingFilter
from nlu.patterns import mask_nik, mask_phone, mask_text

__all__ = ["MaskingFilter", "install_log_masking", "mask_nik", "mask_phone", "mask_text"]


def install_log_masking() -> None:
    """Attach the filter to every root handler (filters on a logger do not see child loggers' records)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())
