"""The data catalog as configuration: load and validate catalog/data_elements.yml and catalog/entries/*.yml.

An entry (政务信息资源目录 item) describes one dataset: resource code and name, provider department,
abstract, sharing class (无条件共享 / 有条件共享 / 不予共享) with its conditions or legal basis, sharing
method, open attribute, update cycle, and how its rows are placed in a street (for street offices).
Field grades come from the data elements (数据元) by column name, overridable per entry. Field types
and lineage are not written here: they are read from DuckDB, the dbt manifest and Dagster
(catalog/discover.py).

Everything is checked on load; a `CatalogError` lists every problem, each naming the file, the
dataset and the key.

    cat = load_catalog()
    cat.entries["master.person"].sharing_class          # '有条件共享'
    cat.grade_of("master.person", "id_number")          # FieldGrade(grade='L4', mask='id_number', ...)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BeforeValidator, Field, ValidationError, ValidationInfo, field_validator, model_validator

from connectors.spec import load_specs
from pipelines.yaml_models import StrictModel, error_lines
from sharing.masking import MASKS

# libyaml's safe loader when PyYAML has it (the same documents, ~10x faster than the pure-Python one:
# the catalog's YAML files are read at every delivery's catalog and publishing steps)
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

CATALOG_DIR = Path(__file__).resolve().parent
ELEMENTS_PATH = CATALOG_DIR / "data_elements.yml"
ENTRIES_DIR = CATALOG_DIR / "entries"

GRADES = ("L1", "L2", "L3", "L4")
UNCONDITIONAL, CONDITIONAL, NOT_SHARED = "无条件共享", "有条件共享", "不予共享"
SHARING_CLASSES = (UNCONDITIONAL, CONDITIONAL, NOT_SHARED)
OPEN_ATTRIBUTES = ("无条件开放", "有条件开放", "不予开放")
KINDS = ("table", "report")
DISTRICT = "district"  # street_scope: data not tied to a street
# The keys of an entry that take one value of a closed list.
_ONE_OF = {"kind": KINDS, "sharing_class": SHARING_CLASSES, "open_attribute": OPEN_ATTRIBUTES}

_DATASET_RE = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
_CODE_RE = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")
# A statement street_scope may not contain: it is SQL evaluated while publishing.
_SCOPE_FORBIDDEN = re.compile(
    r";|--|/\*|\b(attach|detach|copy|export|install|load|pragma|set|call|"
    r"insert|update|delete|drop|create|alter)\b",
    re.IGNORECASE,
)


class CatalogError(ValueError):
    """The catalog configuration is invalid. `errors` lists every problem found."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        lines = "\n".join(f"  - {e}" for e in self.errors)
        super().__init__(f"catalog: {len(self.errors)} problem(s):\n{lines}")


@dataclass(frozen=True)
class FieldGrade:
    grade: str
    mask: str | None
    label: str
    via: str  # where the grade came from: the element name, or 'entry' for an override

    @property
    def sensitive(self) -> bool:
        return self.grade in ("L3", "L4")


@dataclass
class Entry:
    dataset: str
    kind: str
    code: str
    name: str
    provider: str
    abstract: str
    sharing_class: str
    sharing_method: str
    open_attribute: str
    update_cycle: str
    conditions: str | None = None
    legal_basis: str | None = None
    street_scope: str | None = None
    fields: dict[str, FieldGrade] = field(default_factory=dict)
    declared_fields: list[str] = field(default_factory=list)
    location: str | None = None
    derived_from: list[str] = field(default_factory=list)
    asset_key: str | None = None
    source_file: str = ""

    @property
    def schema(self) -> str:
        return self.dataset.split(".", 1)[0]

    @property
    def table(self) -> str:
        return self.dataset.split(".", 1)[1]

    @property
    def shareable(self) -> bool:
        return self.sharing_class != NOT_SHARED


@dataclass
class Catalog:
    elements: dict[str, FieldGrade]
    same_as_base_suffixes: tuple[str, ...]
    qualifier_prefixes: tuple[str, ...]
    entries: dict[str, Entry]

    def element_for(self, column: str, _depth: int = 0) -> FieldGrade | None:
        """The data element a column name resolves to (see data_elements.yml for the rules)."""
        if column in self.elements:
            return self.elements[column]
        if _depth > 4:
            return None
        for suffix in self.same_as_base_suffixes:
            if column.endswith(suffix) and len(column) > len(suffix):
                found = self.element_for(column[: -len(suffix)], _depth + 1)
                if found:
                    return found
        for prefix in self.qualifier_prefixes:
            if column.startswith(prefix) and len(column) > len(prefix):
                found = self.element_for(column[len(prefix) :], _depth + 1)
                if found:
                    return found
        return None

    def grade_of(self, dataset: str, column: str) -> FieldGrade | None:
        entry = self.entries.get(dataset)
        if entry and column in entry.fields:
            return entry.fields[column]
        return self.element_for(column)

    def by_asset_key(self) -> dict[str, Entry]:
        return {e.asset_key: e for e in self.entries.values() if e.asset_key}


def _text(v: Any) -> str | None:
    if v is None:
        return None
    s = " ".join(str(v).split())
    return s or None


# A text value: whitespace runs made one space; blank is absent.
Text = Annotated[str | None, BeforeValidator(_text)]
# A text value that must be there and not blank.
RequiredText = Annotated[str, BeforeValidator(lambda v: _text(v) or "")]


class ElementGrade(StrictModel):
    """A data element's (or an entry's field's) grade, and how it is masked for roles not granted it."""

    grade: Any = None
    mask: str | None = None
    label: Text = None

    @model_validator(mode="after")
    def _grade_and_mask(self):
        grade, mask = self.grade, self.mask
        problems = []
        if grade not in GRADES:
            problems.append(f"grade {grade!r} is not one of {', '.join(GRADES)}")
        if mask is not None and mask not in MASKS:
            problems.append(f"mask {mask!r} is not one of {', '.join(MASKS)}")
        if grade in ("L3", "L4") and mask is None:
            problems.append(
                f"a {grade} field must say how it is masked for roles not granted it (mask: one of {', '.join(MASKS)})"
            )
        if grade in ("L1", "L2") and mask is not None:
            problems.append(f"a {grade} field is shown as is; remove mask {mask!r} or raise the grade")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def field_grade(self, via: str) -> FieldGrade:
        return FieldGrade(self.grade, self.mask, self.label or "", via)


class ElementRules(StrictModel):
    same_as_base_suffixes: list[str] = []
    qualifier_prefixes: list[str] = []


class ElementsFile(StrictModel):
    """catalog/data_elements.yml."""

    rules: ElementRules = ElementRules()
    elements: dict[str, ElementGrade] = Field(min_length=1)


class EntryModel(StrictModel):
    """One dataset's entry (the file's `defaults` merged under it)."""

    kind: str = "table"
    code: RequiredText
    name: RequiredText
    provider: RequiredText
    abstract: RequiredText
    sharing_class: RequiredText
    sharing_method: RequiredText
    open_attribute: RequiredText
    update_cycle: RequiredText
    conditions: Text = None
    legal_basis: Text = None
    street_scope: Annotated[str | None, BeforeValidator(lambda v: None if v is None else str(v).strip())] = None
    fields: dict[str, ElementGrade] = {}
    declared_fields: list[str] = []
    location: Text = None
    derived_from: list[str] = []
    asset_key: Text = None

    @field_validator(
        "code", "name", "provider", "abstract", "sharing_class", "sharing_method", "open_attribute", "update_cycle"
    )
    @classmethod
    def _required(cls, v: str) -> str:
        if not v:
            raise ValueError("is required")
        return v

    @field_validator(*_ONE_OF)
    @classmethod
    def _one_of(cls, v: str, info: ValidationInfo) -> str:
        allowed = _ONE_OF[info.field_name]
        if v not in allowed:
            raise ValueError(f"{info.field_name} {v!r} is not one of {', '.join(allowed)}")
        return v

    @field_validator("code")
    @classmethod
    def _code(cls, v: str) -> str:
        if not _CODE_RE.match(v):
            raise ValueError(f"resource code {v!r} must look like CH-MD-001 (capitals, digits, dashes)")
        return v

    @staticmethod
    def whole_entry_problems(raw: dict) -> list[str]:
        """What the entry as a whole lacks (checked on the raw values, so that these are reported
        together with the problems of single keys)."""
        cls, scope, kind = _text(raw.get("sharing_class")), raw.get("street_scope"), raw.get("kind", "table")
        problems = []
        if cls == NOT_SHARED and not _text(raw.get("legal_basis")):
            problems.append("不予共享 requires a legal_basis")
        if cls == CONDITIONAL and not _text(raw.get("conditions")):
            problems.append("有条件共享 requires the sharing conditions")
        if scope is not None:
            scope = str(scope).strip()
            if cls == NOT_SHARED:
                problems.append("street_scope makes no sense for a dataset that is 不予共享")
            elif scope != DISTRICT and _SCOPE_FORBIDDEN.search(scope):
                problems.append("street_scope must be one SQL expression over the row t (no statements or comments)")
        if kind == "report" and not _text(raw.get("location")):
            problems.append("a report says where its files are (location)")
        return problems

    @model_validator(mode="after")
    def _whole_entry(self):
        problems = self.whole_entry_problems(self.model_dump())
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def entry(self, dataset: str, file_name: str) -> Entry:
        return Entry(
            dataset=dataset,
            kind=self.kind,
            code=self.code,
            name=self.name,
            provider=self.provider,
            abstract=self.abstract,
            sharing_class=self.sharing_class,
            sharing_method=self.sharing_method,
            open_attribute=self.open_attribute,
            update_cycle=self.update_cycle,
            conditions=self.conditions,
            legal_basis=self.legal_basis,
            street_scope=self.street_scope,
            fields={name: g.field_grade("entry") for name, g in self.fields.items()},
            declared_fields=[str(c) for c in self.declared_fields],
            location=self.location,
            derived_from=[str(d) for d in self.derived_from],
            asset_key=self.asset_key,
            source_file=file_name,
        )


class EntryFile(StrictModel):
    """One catalog/entries/*.yml: defaults for its datasets, and the datasets."""

    defaults: dict[str, Any] = {}
    datasets: dict[str, dict[str, Any]] = {}


def _validated(model, raw: Any, where: str, errors: list[str]):
    """`model` from `raw`, or None with one line per problem in `errors` (`where: key: problem`)."""
    try:
        return model.model_validate(raw if raw is not None else {})
    except ValidationError as e:
        # a problem of the whole entry (e.g. 不予共享 without a legal_basis) is named by the entry alone
        lines = [line.replace(": (top level): ", ": ", 1) for line in error_lines(e, where)]
        if model is EntryModel and isinstance(raw, dict) and all(err["loc"] for err in e.errors()):
            # a key was wrong, so pydantic did not check the entry as a whole: check it here
            lines += [f"{where}: {problem}" for problem in EntryModel.whole_entry_problems(raw)]
        errors.extend(lines)
        return None


def _read_yaml(path: Path, errors: list[str]) -> Any:
    try:
        with open(path, encoding="utf-8") as f:
            return yaml.load(f, Loader=_YAML_LOADER) or {}
    except yaml.YAMLError as e:
        errors.append(f"{path.name}: not valid YAML: {e}")
    except OSError as e:
        errors.append(f"{path}: cannot be read: {e}")
    return {}


def load_elements(path: Path = ELEMENTS_PATH, errors: list[str] | None = None):
    own = errors is None
    errors = [] if errors is None else errors
    doc = _validated(ElementsFile, _read_yaml(path, errors), path.name, errors)
    elements: dict[str, FieldGrade] = {}
    suffixes: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()
    if doc is not None:
        elements = {str(name): g.field_grade(str(name)) for name, g in doc.elements.items()}
        suffixes = tuple(doc.rules.same_as_base_suffixes)
        prefixes = tuple(doc.rules.qualifier_prefixes)
    if own and errors:
        raise CatalogError(errors)
    return elements, suffixes, prefixes


def load_catalog(entries_dir: Path = ENTRIES_DIR, elements_path: Path = ELEMENTS_PATH, source_specs=None) -> Catalog:
    """Load and validate the catalog. Raw entries default provider/abstract from the source specs."""
    errors: list[str] = []
    elements, suffixes, prefixes = load_elements(elements_path, errors)
    if source_specs is None:
        source_specs = load_specs()
    spec_by_name = {**getattr(source_specs, "reference", {}), **source_specs.sources}

    entries: dict[str, Entry] = {}
    codes: dict[str, str] = {}
    files = sorted(Path(entries_dir).glob("*.yml")) + sorted(Path(entries_dir).glob("*.yaml"))
    if not files:
        errors.append(f"{entries_dir}: no catalog entry files (*.yml)")
    for path in files:
        doc = _validated(EntryFile, _read_yaml(path, errors), path.name, errors)
        if doc is None:
            continue
        for dataset, raw in doc.datasets.items():
            where = f"{path.name}: {dataset}"
            if not _DATASET_RE.match(str(dataset)):
                errors.append(f"{where}: a dataset is named schema.table in lower case")
                continue
            if dataset in entries:
                errors.append(f"{where}: described twice (also in {entries[dataset].source_file})")
                continue
            merged = {**doc.defaults, **raw}
            schema, table = dataset.split(".", 1)
            spec = spec_by_name.get(table) if schema == "raw" else None
            if spec is not None:
                merged.setdefault("provider", getattr(spec, "department", None))
                merged.setdefault("abstract", getattr(spec, "description", None))
            model = _validated(EntryModel, merged, where, errors)
            if model is None:
                continue
            entry = model.entry(dataset, path.name)
            if entry.code in codes:
                errors.append(f"{where}: resource code {entry.code} already used by {codes[entry.code]}")
            codes[entry.code] = dataset
            entries[dataset] = entry
    for e in entries.values():
        for upstream in e.derived_from:
            if upstream not in entries:
                errors.append(f"{e.source_file}: {e.dataset}: derived_from {upstream} has no catalog entry")
    if errors:
        raise CatalogError(errors)
    return Catalog(elements, suffixes, prefixes, entries)
