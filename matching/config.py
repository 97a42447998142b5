"""matching/matching.yml: the matching thresholds and survivorship, validated, and the dbt vars made
from them (the file is the one place these settings are written)."""

from __future__ import annotations

import functools
from pathlib import Path

from pydantic import AnyHttpUrl, Field, field_validator, model_validator

from normalize.domain_rules import load_domain_rules
from normalize.version import normalizers_version
from pipelines.yaml_models import StrictModel, load_yaml_model

DEFAULT_PATH = Path(__file__).with_name("matching.yml")


class MatchingConfigError(ValueError):
    pass


class PersonMatching(StrictModel):
    accept: float = Field(gt=0, lt=1, description="link at or above this match probability (< 1)")
    review_floor: float = Field(gt=0, lt=1)
    source_rank: list[str] = Field(min_length=1)
    residence_trust: dict[str, int]
    residence_min_confidence: float = Field(gt=0.5, lt=1)
    residence_min_combination_cases: int = Field(ge=1)
    residence_combination_bound_z: float = Field(gt=0)
    meter_min_confidence: float = Field(gt=0.5, lt=1)
    birth_conflict_cap: float = Field(gt=0, lt=1)
    rare_name_max_records: int = Field(ge=1)
    u_sample_records: int = Field(ge=100)
    labelled_pairs_sample: int = Field(ge=1000)

    @model_validator(mode="after")
    def _floor_below_accept(self):
        if self.review_floor > self.accept:
            raise ValueError(
                f"needs review_floor <= accept (got review_floor {self.review_floor}, accept {self.accept})"
            )
        if self.birth_conflict_cap >= self.accept:
            raise ValueError(
                f"needs birth_conflict_cap < accept (got {self.birth_conflict_cap}, accept {self.accept}): "
                "namesakes with other birth dates must not link on their own"
            )
        return self

    @field_validator("source_rank")
    @classmethod
    def _distinct(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("a source is listed twice")
        return v


class AddressMatching(StrictModel):
    fuzzy_road_min_score: int = Field(ge=50, le=100, description="rapidfuzz ratio of two road names, 0-100")


class ShopMatching(StrictModel):
    page_base_url: AnyHttpUrl


class MatchingConfig(StrictModel):
    person: PersonMatching
    address: AddressMatching
    shop: ShopMatching

    @property
    def shop_page_base_url(self) -> str:
        return str(self.shop.page_base_url)

    def dbt_vars(self) -> dict:
        """The dbt vars of the matching models (passed with the delivery on every dbt run)."""
        p = self.person
        return {
            "person_accept": p.accept,
            "person_review_floor": p.review_floor,
            "source_rank": {source: rank for rank, source in enumerate(p.source_rank, 1)},
            "residence_trust": dict(p.residence_trust),
            "residence_min_confidence": p.residence_min_confidence,
            "residence_min_combination_cases": p.residence_min_combination_cases,
            "residence_combination_bound_z": p.residence_combination_bound_z,
            "meter_min_confidence": p.meter_min_confidence,
            "person_birth_conflict_cap": p.birth_conflict_cap,
            "rare_name_max_records": p.rare_name_max_records,
            "u_sample_records": p.u_sample_records,
            "labelled_pairs_sample": p.labelled_pairs_sample,
            "fuzzy_road_min_score": self.address.fuzzy_road_min_score,
        }


@functools.lru_cache(maxsize=4)
def load_matching_config(path: Path | None = None) -> MatchingConfig:
    return load_yaml_model(Path(path or DEFAULT_PATH), MatchingConfig, MatchingConfigError)


def dbt_vars(delivery: str | None = None) -> dict:
    """Every dbt var of a run: the delivery, the matching settings, the domain rules
    (normalize/domain_rules.yml: the elderly age, the meter shares) and the normalisers' fingerprint
    (normalize/version.py: staging reuses last delivery's normalised values made by the same code)."""
    return (
        ({"delivery": delivery} if delivery else {})
        | load_matching_config().dbt_vars()
        | load_domain_rules().dbt_vars()
        | {"normalizers": normalizers_version()}
    )
