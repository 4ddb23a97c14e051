"""The complaint taxonomy loaded from data/categories.yml, the single source of category ids."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

import yaml

INTENT_PREFIX = "complaint_"
FALLBACK_ID = "lainnya"


@dataclass(frozen=True)
class Opd:
    id: str
    name: str


@dataclass(frozen=True)
class Category:
    id: str
    label: str
    description: str
    opd_id: str
    sla_days: int

    @property
    def intent(self) -> str:
        return INTENT_PREFIX + self.id


@dataclass(frozen=True)
class Taxonomy:
    categories: dict[str, Category]
    opds: dict[str, Opd]
    fallback: Category
    coordinator_opd: str
    cuti_bersama: tuple[date, ...] = field(default=())

    def get(self, category_id: str | None) -> Category:
        """The category, or the coordinator's fallback for unknown/unclear ids (never a silent guess)."""
        return self.categories.get(category_id or "", self.fallback)

    def opd_for(self, category_id: str | None) -> Opd:
        return self.opds[self.get(category_id).opd_id]

    def category_for_intent(self, intent: str | None) -> Category | None:
        if intent and intent.startswith(INTENT_PREFIX):
            return self.categories.get(intent.removeprefix(INTENT_PREFIX))
        return None


def parse_taxonomy(raw: dict) -> Taxonomy:
    opds = {o["id"]: Opd(o["id"], o["name"]) for o in raw["opds"]}

    def make(item: dict) -> Category:
        if item["opd"] not in opds:
            raise ValueError(f"category {item['id']!r} names unknown OPD {item['opd']!r}")
        return Category(item["id"], item["label"], item["description"], item["opd"], int(item["sla_days"]))

    categories = {c["id"]: make(c) for c in raw["categories"]}
    if len(categories) != len(raw["categories"]):
        raise ValueError("duplicate category id in categories.yml")
    return Taxonomy(
        categories=categories,
        opds=opds,
        fallback=make(raw["fallback_category"]),
        coordinator_opd=raw["coordinator_opd"],
        cuti_bersama=tuple(d if isinstance(d, date) else date.fromisoformat(d) for d in raw.get("cuti_bersama") or ()),
    )


@lru_cache(maxsize=4)
def load_taxonomy(path: Path | None = None) -> Taxonomy:
    if path is None:
        from bot.config import get_settings

        path = get_settings().data_dir / "categories.yml"
    with open(path, encoding="utf-8") as fh:
        return parse_taxonomy(yaml.safe_load(fh))
