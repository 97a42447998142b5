"""What a committee may correct and how a typed value is checked: quality/corrections.yml read into
field specifications, and `check_value` (an ID number passes GB 11643, a date parses, a count is a
non-negative integer, a vocabulary value is in its vocabulary …)."""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import field_validator, model_validator

from normalize.dates import parse_date
from normalize.id_number import id_check_ok, normalize_id
from normalize.phones import normalize_phone
from normalize.uscc import normalize_uscc
from normalize.vocabularies import vocabulary
from pipelines.yaml_models import StrictModel, load_yaml_model
from quality import worklist_format as wf

CONFIG_PATH = Path(__file__).resolve().parents[1] / "corrections.yml"
TYPES = {"id_number", "date", "count", "vocab", "phone", "uscc", "text"}
MAX_TEXT = 200
MASTER_TABLES = {
    "person": ("master.person", "person_id"),
    "household": ("master.household", "household_id"),
    "shop": ("master.shop", "shop_code"),
}


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    type: str
    values: tuple[str, ...] = ()
    column: str | None = None


class ConfigError(ValueError):
    pass


@dataclass
class FieldSpecs:
    by_entity: dict[str, dict[str, FieldSpec]]
    aliases: dict[str, str]

    def get(self, entity_type: str | None, field_name: str | None) -> FieldSpec:
        """The spec of a finding's field; unknown fields are free text kept for the department."""
        name = self.aliases.get(str(field_name), str(field_name))
        spec = self.by_entity.get(str(entity_type), {}).get(name)
        if spec:
            return spec
        for fields in self.by_entity.values():  # the same field on another entity type: its checks, no column
            if name in fields:
                s = fields[name]
                return FieldSpec(s.name, s.label, s.type, s.values, None)
        return FieldSpec(name, str(field_name), "text")


class FieldSetting(StrictModel):
    """One correctable field of quality/corrections.yml (fields.<entity_type>.<field>)."""

    label: str | None = None
    type: str
    values: list[str] | None = None  # a vocab field's values, when not a vocabulary of the seed
    vocabulary: str | None = None  # a vocab field's vocabulary (dbt_project/seeds/vocabularies.csv)
    column: str | None = None  # the master table column a correction overrides

    @field_validator("type")
    @classmethod
    def _known_type(cls, v: str) -> str:
        if v not in TYPES:
            raise ValueError(f"type must be one of {sorted(TYPES)}, not {v!r}")
        return v

    @field_validator("vocabulary")
    @classmethod
    def _known_vocabulary(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                vocabulary(v)
            except KeyError as e:
                raise ValueError(e.args[0]) from None
        return v

    @field_validator("column")
    @classmethod
    def _column_name(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[a-z_][a-z0-9_]*", v):
            raise ValueError(f"column {v!r} is not a column name")
        return v

    @model_validator(mode="after")
    def _vocab_has_values(self):
        if self.type == "vocab" and not (self.vocabulary or self.values):
            raise ValueError("a vocab field needs 'vocabulary' (or 'values')")
        return self

    def allowed(self) -> tuple[str, ...]:
        return vocabulary(self.vocabulary) if self.vocabulary else tuple(str(v) for v in self.values or ())


class CorrectionsFile(StrictModel):
    """quality/corrections.yml: the correctable fields per entity type, and other names for them."""

    fields: dict[str, dict[str, FieldSetting]]
    aliases: dict[str, str] = {}

    @model_validator(mode="after")
    def _columns_and_aliases(self):
        for entity, fields in self.fields.items():
            for name, s in fields.items():
                if s.column is not None and entity not in MASTER_TABLES:
                    raise ValueError(
                        f"fields.{entity}.{name}: column {s.column!r} is not a column of a master table "
                        f"(entity types with master tables: {sorted(MASTER_TABLES)})"
                    )
        known = {n for f in self.fields.values() for n in f}
        for alias, target in self.aliases.items():
            if target not in known:
                raise ValueError(f"alias {alias!r} points at unknown field {target!r}")
        return self


def load_field_specs(path: Path | str = CONFIG_PATH) -> FieldSpecs:
    """Read and validate quality/corrections.yml (clear errors naming the file and the key)."""
    path = Path(path)
    config = load_yaml_model(path, CorrectionsFile, ConfigError)
    by_entity = {
        entity: {name: FieldSpec(name, s.label or name, s.type, s.allowed(), s.column) for name, s in fields.items()}
        for entity, fields in config.fields.items()
    }
    return FieldSpecs(by_entity, dict(config.aliases))


@lru_cache(maxsize=1)
def default_specs() -> FieldSpecs:
    return load_field_specs()


# --- values ----------------------------------------------------------------------------------------


def check_value(spec: FieldSpec, raw: object) -> tuple[str | None, str | None]:
    """(normalised value, None) when `raw` is legal for the field, else (None, reason in Chinese)."""

    text = wf.cell_text(raw).strip()
    if not text:
        return None, "选择“更正”时必须填写正确值"
    t = spec.type
    if t == "id_number":
        n = normalize_id(text)
        if n is None:
            return None, "正确值不是18位（或15位）身份证号"
        if not id_check_ok(n):
            return None, "正确值的身份证号校验位不正确（GB 11643）"
        return n, None
    if t == "date":
        d = raw.date() if isinstance(raw, _dt.datetime) else raw if isinstance(raw, _dt.date) else parse_date(text)
        if d is None:
            return None, "正确值不是可识别的日期（例如 2026-11-05）"
        return d.isoformat(), None
    if t == "count":
        if isinstance(raw, float) and not raw.is_integer():
            return None, "正确值应为不小于0的整数"
        if not re.fullmatch(r"\d{1,6}", text):
            return None, "正确值应为不小于0的整数"
        return str(int(text)), None
    if t == "vocab":
        if text not in spec.values:
            return None, f"正确值应为以下之一：{'/'.join(spec.values)}"
        return text, None
    if t == "phone":
        p = normalize_phone(text)
        if p is None:
            return None, "正确值不是有效的手机号或上海固定电话"
        return p, None
    if t == "uscc":
        u = normalize_uscc(text)
        if u is None:
            return None, "正确值不是18位统一社会信用代码"
        return u, None
    if len(text) > MAX_TEXT:
        return None, f"正确值过长（超过{MAX_TEXT}字）"
    return text, None
