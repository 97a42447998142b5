"""Load and validate matching/matching.yml."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

DEFAULT_PATH = Path(__file__).with_name("matching.yml")


class MatchingConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Thresholds:
    accept: float
    review_floor: float
    trust: dict[str, list[str]]


@dataclass(frozen=True)
class MatchingConfig:
    person: Thresholds
    shop_page_base_url: str


def _thresholds(section: str, raw: dict, path: Path) -> Thresholds:
    if not isinstance(raw, dict):
        raise MatchingConfigError(f"{path}: '{section}' must be a mapping")
    try:
        accept, floor = float(raw["accept"]), float(raw["review_floor"])
    except KeyError as e:
        raise MatchingConfigError(f"{path}: '{section}' needs key {e}") from None
    except (TypeError, ValueError):
        raise MatchingConfigError(f"{path}: '{section}.accept' and '.review_floor' must be numbers") from None
    if not 0 < floor <= accept < 1:
        raise MatchingConfigError(f"{path}: '{section}' needs 0 < review_floor <= accept < 1 (got {floor}, {accept})")
    trust = raw.get("trust") or {}
    if not isinstance(trust, dict) or not all(isinstance(v, list) for v in trust.values()):
        raise MatchingConfigError(f"{path}: '{section}.trust' must map a field to a list of sources")
    return Thresholds(accept, floor, {k: list(v) for k, v in trust.items()})


@lru_cache(maxsize=4)
def load_matching_config(path: Path | None = None) -> MatchingConfig:
    path = Path(path or DEFAULT_PATH)
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if "person" not in raw:
        raise MatchingConfigError(f"{path}: missing section 'person'")
    shop = raw.get("shop") or {}
    base = shop.get("page_base_url")
    if not isinstance(base, str) or not base.startswith(("http://", "https://")):
        raise MatchingConfigError(f"{path}: 'shop.page_base_url' must be an http(s) URL (got {base!r})")
    return MatchingConfig(person=_thresholds("person", raw["person"], path), shop_page_base_url=base)
