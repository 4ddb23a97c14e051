"""Masking of citizens' personal data (NIK, phone numbers) for logs, admin views and storage.

The rules live in nlu/patterns.py and nlu/log_masking.py (importable from both environments), so
the Rasa server, the action server and the gateway mask with one definition.
"""

from __future__ import annotations

from nlu.log_masking import MaskingFilter, install_log_masking, mask_record
from nlu.patterns import find_phone, mask_at_rest, mask_nik, mask_nik_at_rest, mask_phone, mask_text, wants_callback

__all__ = [
    "MaskingFilter",
    "find_phone",
    "install_log_masking",
    "mask_at_rest",
    "mask_nik",
    "mask_nik_at_rest",
    "mask_phone",
    "mask_record",
    "mask_text",
    "wants_callback",
]
