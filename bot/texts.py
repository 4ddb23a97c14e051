"""User-facing texts from data/messages.yml, so wording lives in one reviewed file, not in code."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import yaml

from bot.config import get_settings


@lru_cache(maxsize=1)
def _messages() -> dict[str, str]:
    with open(get_settings().data_dir / "messages.yml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def render(key: str, **values: Any) -> str:
    return _messages()[key].format(**values)
