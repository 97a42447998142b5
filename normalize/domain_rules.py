"""normalize/domain_rules.yml: the domain rules with a number in them (who is elderly, when a meter
reads empty or lived in, what is a power drop), validated, and the dbt vars made from them. The file
is the one place these numbers are written; SQL reads them as dbt vars, Python from here."""

from __future__ import annotations

import functools
from pathlib import Path

from pydantic import Field, model_validator

from pipelines.yaml_models import StrictModel, load_yaml_model

DEFAULT_PATH = Path(__file__).with_name("domain_rules.yml")


class DomainRulesError(ValueError):
    pass


class ElectricityRules(StrictModel):
    empty_below_share: float = Field(gt=0, lt=1, description="share of the district's median dwelling")
    lived_in_from_share: float = Field(gt=0, le=1, description="share of the district's median dwelling")
    drop_ratio: float = Field(gt=0, lt=1, description="share of the dwelling's own earlier median")
    drop_min_history: int = Field(ge=1, description="earlier readings needed to speak of a drop")

    @model_validator(mode="after")
    def _empty_below_lived_in(self):
        if self.empty_below_share > self.lived_in_from_share:
            raise ValueError(
                f"needs empty_below_share <= lived_in_from_share (got {self.empty_below_share} "
                f"and {self.lived_in_from_share}): a meter cannot read empty and lived in at once"
            )
        return self


class DomainRules(StrictModel):
    elderly_min_age: int = Field(ge=40, le=100, description="elderly from this age (at the delivery month's end)")
    very_old_min_age: int = Field(ge=60, le=120, description="very old (高龄) from this age")
    working_age_from: int = Field(ge=14, le=30)
    working_age_to: int = Field(ge=40, le=80)
    electricity: ElectricityRules

    @model_validator(mode="after")
    def _ages_in_order(self):
        if not self.working_age_from < self.working_age_to < self.very_old_min_age:
            raise ValueError("needs working_age_from < working_age_to < very_old_min_age")
        if self.elderly_min_age > self.very_old_min_age:
            raise ValueError("needs elderly_min_age <= very_old_min_age")
        return self

    def dbt_vars(self) -> dict:
        """The dbt vars of the rules (passed with the delivery on every dbt run)."""
        e = self.electricity
        return {
            "elderly_min_age": self.elderly_min_age,
            "very_old_min_age": self.very_old_min_age,
            "working_age_from": self.working_age_from,
            "working_age_to": self.working_age_to,
            "meter_empty_below_share": e.empty_below_share,
            "meter_lived_in_from_share": e.lived_in_from_share,
            "power_drop_ratio": e.drop_ratio,
            "power_drop_min_history": e.drop_min_history,
        }

    def scenario_params(self) -> dict:
        """The rules a scenario's SQL may use as built-in parameters ($elderly_min_age …)."""
        return self.dbt_vars()


@functools.lru_cache(maxsize=4)
def load_domain_rules(path: Path | None = None) -> DomainRules:
    return load_yaml_model(Path(path or DEFAULT_PATH), DomainRules, DomainRulesError)
